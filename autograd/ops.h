#pragma once
// Every differentiable function, grouped by family. Binary element-wise ops broadcast as NumPy
// does; operands must share a dtype (mixing float32 and float64 throws: convert with to()).
// A scalar operand (`2 * x`, `x + 1`) takes the tensor's dtype.
//
// Every op's last argument is a defaulted CallSite, and every operator's first tensor operand
// a TensorArg: both capture the caller's file and line for anomaly mode
// (autograd/debug/anomaly.h) and are never written by users. They cost a few instructions
// when anomaly mode is off.
//
// Every op's backward rule is itself written in these ops (autograd/op.h), so every gradient
// can be differentiated again: grad(..., create_graph=true) in autograd/functional.h.

#include <cstddef>
#include <optional>
#include <vector>

#include "autograd/call_site.h"
#include "autograd/tensor.h"

namespace xgrad {

// ---- Element-wise, binary (broadcasting) ----
/// a + b. d/da = grad, d/db = grad (summed over broadcast axes by the engine).
Tensor add(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a - b. d/da = grad, d/db = -grad.
Tensor sub(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a * b. d/da = grad * b, d/db = grad * a.
Tensor mul(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a / b (IEEE: x/0 is inf or nan, no exception). d/da = grad / b, d/db = -grad * a / b^2.
Tensor div(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());

// ---- Element-wise, unary ----
/// -a.
Tensor neg(const Tensor& a, const CallSite& site = CallSite::current());
/// a^p for a scalar exponent p. d/da = p a^(p-1).
Tensor pow(const Tensor& a, double p, const CallSite& site = CallSite::current());
/// e^a. d/da = e^a.
Tensor exp(const Tensor& a, const CallSite& site = CallSite::current());
/// Natural log (IEEE: log(0) = -inf, log(<0) = nan, no exception). d/da = 1/a.
Tensor log(const Tensor& a, const CallSite& site = CallSite::current());
/// Square root. d/da = 1 / (2 sqrt(a)).
Tensor sqrt(const Tensor& a, const CallSite& site = CallSite::current());
/// |a|. d/da = sign(a); NOTE: abs'(0) := 0, as PyTorch.
Tensor abs(const Tensor& a, const CallSite& site = CallSite::current());
/// a^2. d/da = 2a.
Tensor square(const Tensor& a, const CallSite& site = CallSite::current());
/// max(a, min) element-wise (NaN propagates). d/da = [a >= min], as PyTorch.
Tensor clamp_min(const Tensor& a, double min, const CallSite& site = CallSite::current());
/// min(a, max) element-wise (NaN propagates). d/da = [a <= max], as PyTorch.
Tensor clamp_max(const Tensor& a, double max, const CallSite& site = CallSite::current());
/// a clamped to [min, max]; either bound may be left out (not both).
/// NOTE: recorded as clamp_min then clamp_max (two nodes); PyTorch records one clamp node.
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max = std::nullopt,
             const CallSite& site = CallSite::current());
/// Differentiable dtype conversion; the gradient converts back.
Tensor to(const Tensor& a, DType dtype, const CallSite& site = CallSite::current());

// ---- Activations ----
/// 1 / (1 + e^-a), stable for large |a|. d/da = s (1 - s).
Tensor sigmoid(const Tensor& a, const CallSite& site = CallSite::current());
/// tanh(a). d/da = 1 - tanh(a)^2.
Tensor tanh(const Tensor& a, const CallSite& site = CallSite::current());
/// max(a, 0) (NaN propagates). NOTE: relu'(0) := 0, as PyTorch.
Tensor relu(const Tensor& a, const CallSite& site = CallSite::current());
/// The course's sign activation: 1 if a >= 0 else -1. Its gradient is 0 everywhere.
Tensor step(const Tensor& a, const CallSite& site = CallSite::current());
/// softmax along `axis` (negative counts from the end), stable for logits of 1e4.
/// d/da = s * (grad - sum(grad * s, axis)).
Tensor softmax(const Tensor& a, int axis = -1, const CallSite& site = CallSite::current());
/// log(softmax(a)) computed as a - logsumexp(a), stable. d/da = grad - softmax * sum(grad, axis).
Tensor log_softmax(const Tensor& a, int axis = -1, const CallSite& site = CallSite::current());

// ---- Reductions ----
/// Sum of all elements, a 0-D tensor. d/da = grad broadcast.
Tensor sum(const Tensor& a, const CallSite& site = CallSite::current());
/// Sum along `axes` (negative counts from the end); reduced axes kept as size 1 if keepdims.
Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdims = false,
           const CallSite& site = CallSite::current());
/// Mean of all elements. d/da = grad / n.
Tensor mean(const Tensor& a, const CallSite& site = CallSite::current());
/// Mean along `axes`.
Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdims = false,
            const CallSite& site = CallSite::current());
/// Maximum along one axis. The gradient goes to the first maximal element of each slice.
/// Throws std::invalid_argument on an empty axis. NaN propagates (NaN is the maximum).
Tensor max(const Tensor& a, int axis, bool keepdims = false,
           const CallSite& site = CallSite::current());
/// Sum of a list of same-shape tensors in one node (n inputs, one output).
Tensor add_n(const std::vector<Tensor>& terms, const CallSite& site = CallSite::current());

// ---- Linear algebra and shape ----
/// Matrix product through BLAS. (m,k)·(k,n) -> (m,n); (m,k)·(k) -> (m); (k)·(k) -> ().
/// d/dA = grad · B^T, d/dB = A^T · grad.
Tensor matmul(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// 2-D transpose (m,n) -> (n,m); a 1-D or 0-D tensor is returned unchanged.
Tensor transpose(const Tensor& a, const CallSite& site = CallSite::current());
/// Same elements, new shape (same count). d/da = grad reshaped back.
Tensor reshape(const Tensor& a, Shape shape, const CallSite& site = CallSite::current());

// ---- Operators: tensors and scalars mix ----
Tensor operator+(const TensorArg& a, const Tensor& b);
Tensor operator-(const TensorArg& a, const Tensor& b);
Tensor operator*(const TensorArg& a, const Tensor& b);
Tensor operator/(const TensorArg& a, const Tensor& b);
Tensor operator-(const TensorArg& a);
Tensor operator+(const TensorArg& a, double b);
Tensor operator+(double a, const TensorArg& b);
Tensor operator-(const TensorArg& a, double b);
Tensor operator-(double a, const TensorArg& b);
Tensor operator*(const TensorArg& a, double b);
Tensor operator*(double a, const TensorArg& b);
Tensor operator/(const TensorArg& a, double b);
Tensor operator/(double a, const TensorArg& b);

}  // namespace xgrad
