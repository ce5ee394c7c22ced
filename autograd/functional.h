#pragma once
// Gradients as values: torch::autograd::grad, and torch.autograd.functional's vjp, jvp, hvp,
// jacobian and hessian. With create_graph the results are recorded, so they can be
// differentiated again, to any order.

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad {

/// The gradients of `outputs` with respect to each of `inputs` (leaves or not), seeded with
/// `grad_outputs` (one per output, of its shape and dtype; empty or undefined entries mean 1 for
/// one-element outputs), as torch::autograd::grad. The leaves' grad() is left untouched.
/// retain_graph defaults to create_graph. An input the outputs do not depend on is an error
/// naming its index, unless allow_unused (its gradient is then an undefined Tensor).
/// Example (a second derivative):
///   Tensor x = scalar(2, f64, true), y = x * x * x;
///   Tensor dy = grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];  // 3x^2 = 12
///   Tensor d2y = grad({dy}, {x})[0];                                          // 6x = 12
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

/// A function of tensors to a tensor, as the helpers below take it.
using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

/// f(inputs) and the vector-Jacobian product v^T J (one per input). v: of f's output shape;
/// undefined means 1 for a one-element output.
std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f,
                                           const std::vector<Tensor>& inputs, const Tensor& v = {},
                                           bool create_graph = false);
/// f(inputs) and the Jacobian-vector product J v (v: one tensor per input, of its shape),
/// computed by the double-vjp trick: two reverse passes.
std::pair<Tensor, Tensor> jvp(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& v, bool create_graph = false);
/// f(inputs) (one element) and the Hessian-vector product H v, one per input.
std::pair<Tensor, std::vector<Tensor>> hvp(const TensorFunction& f,
                                           const std::vector<Tensor>& inputs,
                                           const std::vector<Tensor>& v, bool create_graph = false);
/// d f / d input_i for each input, of shape f's shape followed by input i's shape.
std::vector<Tensor> jacobian(const TensorFunction& f, const std::vector<Tensor>& inputs,
                             bool create_graph = false);
/// H[i][j] = d^2 f / d input_i d input_j for a one-element f, of shape input i's shape followed
/// by input j's shape.
std::vector<std::vector<Tensor>> hessian(const TensorFunction& f, const std::vector<Tensor>& inputs,
                                         bool create_graph = false);

}  // namespace xgrad
