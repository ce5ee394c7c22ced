#pragma once
// Activation checkpointing, as torch.utils.checkpoint: trade compute for memory. A checkpointed
// function's forward records no graph (only its inputs and output are kept); backward runs it
// again with the graph on and backpropagates through that.
//
// Rules (NOTE: where PyTorch warns, these are errors):
//  - Something the function's output depends on must require grad: an input, or a parameter
//    passed among the inputs (checkpoint(module, x) passes the module's). Otherwise backward
//    never reaches the function and its parameters would silently get no gradient.
//  - The recomputed output must depend on the inputs that require grad.
//  - The function must compute the same thing twice. Dropout replays its masks (its generator
//    is rewound for the recomputation and put back after); a module with other state (running
//    statistics) must skip updating it while checkpoint_recomputing() is true, so the state is
//    updated once per forward, not twice.

#include <cstddef>
#include <functional>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"
#include "nn/sequential.h"

namespace xgrad::nn {

/// The function checkpoint() runs: tensors in, one tensor out.
using CheckpointFunction = std::function<Tensor(const std::vector<Tensor>& inputs)>;

/// fn(inputs) without recording its graph; backward recomputes it (same Dropout masks) and
/// backpropagates through the recomputation: gradients for the inputs and for every parameter
/// fn uses, bit-identical to calling fn directly. Throws std::invalid_argument when no input
/// requires grad; backward throws std::logic_error when the recomputed output does not depend
/// on the inputs that require grad.
/// Example:
///   Tensor h = nn::checkpoint([&](const std::vector<Tensor>& in) {
///       return block->forward(in[0]); }, {x, w});   // w: a parameter block uses
Tensor checkpoint(const CheckpointFunction& fn, const std::vector<Tensor>& inputs);

/// module.forward(input) checkpointed; the module's parameters count as inputs, so the input
/// may be data that requires no grad.
Tensor checkpoint(Module& module, const Tensor& input);

/// The modules of `seq` in `segments` consecutive runs of about equal length (the first ones one
/// longer), each but the last checkpointed, as torch.utils.checkpoint.checkpoint_sequential
/// (the last runs as usual: its backward comes first, so recomputing it would only cost time;
/// with segments = 1 nothing is checkpointed). Throws std::invalid_argument unless
/// 1 <= segments <= seq.size().
/// Example:
///   Tensor y = nn::checkpoint_sequential(*net, /*segments=*/8, x);
Tensor checkpoint_sequential(Sequential& seq, std::size_t segments, const Tensor& input);

/// True while a checkpointed function is being recomputed on this thread: a module with
/// running statistics updates them only when this is false.
bool checkpoint_recomputing();

}  // namespace xgrad::nn
