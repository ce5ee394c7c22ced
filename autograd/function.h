#pragma once
// Custom differentiable functions: add an op without touching the engine.

#include <functional>
#include <string>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/tensor.h"

namespace xgrad {

/// Computes the output value from the inputs; runs with grad recording off.
using CustomForward = std::function<Tensor(const std::vector<Tensor>& inputs)>;
/// Returns dL/d(input i) for every input (an undefined Tensor for "no gradient"), given the
/// inputs, the output and dL/d(output). Runs with grad recording off. A gradient may have a
/// shape that broadcasts to its input's: the engine sums it back, as for built-in ops.
using CustomBackward = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs,
                                                         const Tensor& output, const Tensor& grad)>;

/// Applies a user-defined op. Example, a cube with its derivative:
///   Tensor y = custom_op("cube", {x},
///       [](auto& in) { return in[0] * in[0] * in[0]; },
///       [](auto& in, auto&, const Tensor& g) {
///           return std::vector<Tensor>{g * 3.0 * in[0] * in[0]}; });  // (x^3)' = 3x^2
Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, const CallSite& site = CallSite::current());

}  // namespace xgrad
