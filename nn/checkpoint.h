#pragma once
// Checkpoints: a model's parameters and, optionally, its optimizer's state in one xgrad tensor
// file (nn/serialize.h: versioned, checksummed, saved atomically).
//
// Record names: "model.<parameter>" for each of model.named_parameters(), "model.<buffer>" for
// each of model.named_buffers(), "model.<module path>._extra_state" for each module with extra
// state (Dropout's generator; "model._extra_state" for the root), and with an optimizer
// "optimizer" (a float64 scalar: how many parameters the optimizer updates) followed by
// "optimizer.<parameter>.<buffer>" for each entry of its state() (e.g.
// "optimizer.0.weight.exp_avg"). Any reader of the format can read a checkpoint.
//
// nn::fit's checkpoints add "fit.*" records (the epoch and step, the optimizer's lr, callback and
// scheduler state, manual_seed's stream, the metrics so far): see nn/fit.h. load_checkpoint
// ignores them, so a fit checkpoint also loads for inference.
//
// NOTE: a checkpoint holds tensors only: the optimizer's type and hyperparameters stay with the
// caller.

#include <string>

#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace xgrad::nn {

/// Writes `model`'s parameters, buffers and extra state and, when `optimizer` is given, its state
/// to `path`, atomically. Throws std::runtime_error when the file cannot be written. Example:
///   save_checkpoint("out/epoch3.xgt", *net, &adam);
void save_checkpoint(const std::string& path, const Module& model,
                     const optim::Optimizer* optimizer = nullptr);

/// Reads a checkpoint into `model` and, when `optimizer` is given, into its state (replaced as
/// a whole: see Optimizer::load_state). Every name, shape and dtype is checked first; when
/// anything differs nothing is changed, and the std::runtime_error lists every mismatch
/// ("load_checkpoint: <path>: 2 mismatches, nothing was changed:\n  \"model.0.weight\": shape
/// differs (got (784,64) in the file, expected (784,128))\n  ..."). Without an optimizer, the
/// file's optimizer state is ignored; with one, a file saved without an optimizer is refused.
/// Example:
///   auto net = make_net();                     // the same architecture, any initial values
///   load_checkpoint("out/epoch3.xgt", *net);   // for inference
void load_checkpoint(const std::string& path, Module& model, optim::Optimizer* optimizer = nullptr);

}  // namespace xgrad::nn
