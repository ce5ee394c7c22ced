#pragma once
// Custom differentiable functions: add an op without touching the engine.

#include <functional>
#include <string>
#include <vector>

#include "autograd/call_site.h"
#include "autograd/tensor.h"

namespace xgrad {

/// Computes the output value from the inputs; runs with grad recording off.
using CustomForward = std::function<Tensor(const std::vector<Tensor>& inputs)>;
/// Returns dL/d(input i) for every input (an undefined Tensor for "no gradient"), given the
/// inputs, the output and dL/d(output). A gradient may have a shape that broadcasts to its
/// input's: the engine sums it back, as for built-in ops. `backward` runs with grad recording
/// off; a `differentiable_backward` (written in xgrad ops) runs recorded when a backward with
/// create_graph reaches the op, so its gradients can be differentiated again.
using CustomBackward = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs,
                                                         const Tensor& output, const Tensor& grad)>;

/// Applies a user-defined op. Example, a cube with its derivative:
///   Tensor y = custom_op("cube", {x},
///       [](auto& in) { return in[0] * in[0] * in[0]; },
///       [](auto& in, auto&, const Tensor& g) {
///           return std::vector<Tensor>{g * 3.0 * in[0] * in[0]}; });  // (x^3)' = 3x^2
/// Without a differentiable backward, a backward with create_graph that reaches the op throws
/// std::logic_error ("custom op 'cube' has no double backward; ...").
Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, const CallSite& site = CallSite::current());
/// The same with a backward that is also used, recorded, under create_graph (pass the same
/// function twice when `backward` is written in xgrad ops).
Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, CustomBackward differentiable_backward,
                 const CallSite& site = CallSite::current());

}  // namespace xgrad
