#pragma once
// Gradient clipping, applied between backward() and an optimizer's step().

#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn {

/// Scales every gradient by min(1, max_norm / (norm + 1e-6)), where norm is the L2 norm of all
/// the gradients together, and returns that norm (before clipping). Parameters without a
/// gradient are skipped. Throws std::invalid_argument for a NaN or negative max_norm.
/// Example:
///   loss.backward();
///   nn::clip_grad_norm_(net->parameters(), /*max_norm=*/1.0);
///   opt.step();
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

/// Clamps every gradient element to [-clip_value, clip_value] (NaN stays NaN). Throws
/// std::invalid_argument for a NaN or negative clip_value.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace xgrad::nn
