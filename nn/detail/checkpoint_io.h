#pragma once
// Internal to xgrad::nn: the records of a checkpoint and their all-or-nothing restore, shared by
// save_checkpoint/load_checkpoint and nn::fit's resumable checkpoints. Not installed.

#include <string>

#include "nn/module.h"
#include "nn/optim/optimizer.h"
#include "nn/serialize.h"

namespace xgrad::nn::detail {

/// The prefix of nn::fit's own records.
inline const std::string kFit = "fit.";

/// The model's parameters, buffers and extra states, and the optimizer's state, as named
/// records (nn/checkpoint.h lists the names).
io::NamedTensors checkpoint_records(const Module& model, const optim::Optimizer* optimizer);

/// Checks `file` against the model, the optimizer (when given) and `extra` (targets for records
/// the file must hold, e.g. fit's; with `extra` empty, the file's "fit." records are ignored),
/// and copies everything or, on any mismatch, nothing: the std::runtime_error starts with
/// `context` and lists every mismatch.
void restore_checkpoint(const io::NamedTensors& file, const std::string& context, Module& model,
                        optim::Optimizer* optimizer, const io::NamedTensors& extra);

}  // namespace xgrad::nn::detail
