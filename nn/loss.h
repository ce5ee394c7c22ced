#pragma once
// Loss functions, built from the engine's ops (squared errors, hinges, cross-entropy as
// nll_loss(log_softmax), NLL as a gather), so the engine differentiates them to any order.
// The binary cross-entropies are fused custom ops with a closed-form backward, computed in
// double: their PyTorch gradients at p = 0, 1 and x = 0 are not those of a composition (see
// nn/loss.cpp). A fused loss is kept only where bench_loss shows it faster or a composition
// would change the result.
//
// Shapes are never broadcast: input and target must match exactly, and class losses take logits
// (N, C) with N class indices in [0, C). Any mismatch throws std::invalid_argument naming the
// loss and the shapes, e.g. "cross_entropy: batch sizes differ (got logits (4,3) and 5 targets)".
// Fused losses give no gradient to their target; a target that requires grad is refused (class
// targets are indices, which have none).

#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn {

/// How per-item losses become the result: kNone keeps them (shape of the input for element-wise
/// losses, (N) for class losses); kMean averages (over elements, or over the N rows); kSum adds.
enum class Reduction { kNone, kMean, kSum };

/// The notes' squared error 1/2 (y - yhat)^2, summed by default as C = 1/2 sum_i (y_i - a_i)^2.
/// d/dyhat = yhat - y. Shapes: input and target equal.
Tensor half_squared_error(const Tensor& input, const Tensor& target,
                          Reduction reduction = Reduction::kSum);
/// (yhat - y)^2, averaged over all elements by default. d/dyhat = 2 (yhat - y) / n.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::kMean);

/// -[y log p + (1 - y) log(1 - p)] for probabilities p in [0, 1] (logs clamped at -100, as
/// PyTorch, so p = 0 or 1 gives a finite loss). d/dp = (p - y) / max(p (1 - p), 1e-12).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            Reduction reduction = Reduction::kMean);
/// binary_cross_entropy(sigmoid(x), y) computed stably as max(x, 0) - x y + log(1 + e^-|x|)
/// (no overflow for |x| = 1e4). d/dx = sigmoid(x) - y.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::kMean);

/// Softmax cross-entropy over class indices: per row logsumexp(x_i) - x_i[t_i], composed as
/// nll_loss(log_softmax(logits, 1), target). logits (N, C), target N indices in [0, C).
/// d/dx_i = softmax(x_i) - onehot(t_i).
Tensor cross_entropy(const Tensor& logits, const std::vector<std::int64_t>& target,
                     Reduction reduction = Reduction::kMean);
/// The same with the indices in a 1-D tensor of N integral values.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::kMean);

/// Negative log-likelihood of log-probabilities (N, C) (e.g. from log_softmax): per row
/// -logp[i, t_i] (a gather). d/dlogp_i = -onehot(t_i).
Tensor nll_loss(const Tensor& log_probs, const std::vector<std::int64_t>& target,
                Reduction reduction = Reduction::kMean);
/// The same with the indices in a 1-D tensor of N integral values.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::kMean);

/// Binary hinge max(0, margin - y s) for scores s and labels y in {-1, +1} (the perceptron's
/// labels). d/ds = -y where the margin is violated, else 0 (0 at the kink, as relu).
Tensor hinge_loss(const Tensor& scores, const Tensor& target,
                  Reduction reduction = Reduction::kMean, double margin = 1.0);

/// Multiclass hinge, as PyTorch's multi_margin_loss: per row
/// sum_{j != t} max(0, margin - x_t + x_j) / C (gather, relu, masked_fill, sum). scores (N, C),
/// target N indices in [0, C).
/// d/dx_j = 1/C for each violating j != t, d/dx_t = -(number of violating j) / C.
Tensor multi_margin_loss(const Tensor& scores, const std::vector<std::int64_t>& target,
                         Reduction reduction = Reduction::kMean, double margin = 1.0);
/// The same with the indices in a 1-D tensor of N integral values.
Tensor multi_margin_loss(const Tensor& scores, const Tensor& target,
                         Reduction reduction = Reduction::kMean, double margin = 1.0);

}  // namespace xgrad::nn
