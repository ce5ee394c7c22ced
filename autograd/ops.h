#pragma once
// Every differentiable function, grouped by family. Binary element-wise ops broadcast as NumPy
// does; operands must share a dtype (mixing float32 and float64 throws: convert with to()).
// A scalar operand (`2 * x`, `x + 1`) takes the tensor's dtype.

#include <cstddef>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad {

// ---- Element-wise, binary (broadcasting) ----
/// a + b. d/da = grad, d/db = grad (summed over broadcast axes by the engine).
Tensor add(const Tensor& a, const Tensor& b);
/// a - b. d/da = grad, d/db = -grad.
Tensor sub(const Tensor& a, const Tensor& b);
/// a * b. d/da = grad * b, d/db = grad * a.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b (IEEE: x/0 is inf or nan, no exception). d/da = grad / b, d/db = -grad * a / b^2.
Tensor div(const Tensor& a, const Tensor& b);

// ---- Element-wise, unary ----
/// -a.
Tensor neg(const Tensor& a);
/// a^p for a scalar exponent p. d/da = p a^(p-1).
Tensor pow(const Tensor& a, double p);
/// e^a. d/da = e^a.
Tensor exp(const Tensor& a);
/// Natural log (IEEE: log(0) = -inf, log(<0) = nan, no exception). d/da = 1/a.
Tensor log(const Tensor& a);
/// Square root. d/da = 1 / (2 sqrt(a)).
Tensor sqrt(const Tensor& a);
/// |a|. d/da = sign(a); NOTE: abs'(0) := 0, as PyTorch.
Tensor abs(const Tensor& a);
/// a^2. d/da = 2a.
Tensor square(const Tensor& a);
/// Differentiable dtype conversion; the gradient converts back.
Tensor to(const Tensor& a, DType dtype);

// ---- Activations ----
/// 1 / (1 + e^-a), stable for large |a|. d/da = s (1 - s).
Tensor sigmoid(const Tensor& a);
/// tanh(a). d/da = 1 - tanh(a)^2.
Tensor tanh(const Tensor& a);
/// max(a, 0) (NaN propagates). NOTE: relu'(0) := 0, as PyTorch.
Tensor relu(const Tensor& a);
/// The course's sign activation: 1 if a >= 0 else -1. Its gradient is 0 everywhere.
Tensor step(const Tensor& a);
/// softmax along `axis` (negative counts from the end), stable for logits of 1e4.
/// d/da = s * (grad - sum(grad * s, axis)).
Tensor softmax(const Tensor& a, int axis = -1);
/// log(softmax(a)) computed as a - logsumexp(a), stable. d/da = grad - softmax * sum(grad, axis).
Tensor log_softmax(const Tensor& a, int axis = -1);

// ---- Reductions ----
/// Sum of all elements, a 0-D tensor. d/da = grad broadcast.
Tensor sum(const Tensor& a);
/// Sum along `axes` (negative counts from the end); reduced axes kept as size 1 if keepdims.
Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdims = false);
/// Mean of all elements. d/da = grad / n.
Tensor mean(const Tensor& a);
/// Mean along `axes`.
Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdims = false);
/// Maximum along one axis. The gradient goes to the first maximal element of each slice.
/// Throws std::invalid_argument on an empty axis. NaN propagates (NaN is the maximum).
Tensor max(const Tensor& a, int axis, bool keepdims = false);
/// Sum of a list of same-shape tensors in one node (n inputs, one output).
Tensor add_n(const std::vector<Tensor>& terms);

// ---- Linear algebra and shape ----
/// Matrix product through BLAS. (m,k)·(k,n) -> (m,n); (m,k)·(k) -> (m); (k)·(k) -> ().
/// d/dA = grad · B^T, d/dB = A^T · grad.
Tensor matmul(const Tensor& a, const Tensor& b);
/// 2-D transpose (m,n) -> (n,m); a 1-D or 0-D tensor is returned unchanged.
Tensor transpose(const Tensor& a);
/// Same elements, new shape (same count). d/da = grad reshaped back.
Tensor reshape(const Tensor& a, Shape shape);

// ---- Operators: tensors and scalars mix ----
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(const Tensor& a, double b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(const Tensor& a, double b);
Tensor operator/(double a, const Tensor& b);

}  // namespace xgrad
