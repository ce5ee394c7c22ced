#include "nn/loss.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/op.h"

namespace xgrad::nn {

namespace {

using Indices = std::vector<std::int64_t>;

// The shortest text that reads back as v in `dtype` ("1.5", "1e+20", a float32 1e20 included),
// for messages.
std::string shortest_text(double v, DType dtype) {
    char buf[64];
    const auto r = dtype == f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                                : std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

[[noreturn]] void fail(const char* loss, const std::string& what) {
    throw std::invalid_argument(std::string(loss) + ": " + what);
}

void check_defined(const char* loss, const Tensor& t, const char* role) {
    if (!t.defined()) fail(loss, std::string("undefined ") + role);
}

// Element-wise losses: input and target of one shape and dtype (no broadcasting).
void check_pair(const char* loss, const Tensor& input, const Tensor& target) {
    check_defined(loss, input, "input");
    check_defined(loss, target, "target");
    if (input.shape() != target.shape()) {
        fail(loss, "input and target shapes differ (got input " + input.shape().str() +
                       " and target " + target.shape().str() + "; losses do not broadcast)");
    }
    if (input.dtype() != target.dtype()) {
        fail(loss, std::string("input and target dtypes differ (got ") + dtype_name(input.dtype()) +
                       " and " + dtype_name(target.dtype()) + ")");
    }
}

void check_target_constant(const char* loss, const Tensor& target) {
    if (target.requires_grad()) {
        fail(loss,
             "target requires grad, but this fused loss gives its target no gradient "
             "(pass target.detach())");
    }
}

// Class losses: input (N, C) with N > 0 and C > 0, and N indices in [0, C).
void check_classes(const char* loss, const char* role, const Tensor& input, const Indices& target) {
    check_defined(loss, input, role);
    if (input.ndim() != 2) {
        fail(loss, std::string(role) + " must be 2-D (N, C) (got " + input.shape().str() + ")");
    }
    const std::size_t n = input.shape()[0], c = input.shape()[1];
    if (n == 0 || c == 0) fail(loss, std::string("empty ") + role + " " + input.shape().str());
    if (target.size() != n) {
        fail(loss, std::string("batch sizes differ (got ") + role + " " + input.shape().str() +
                       " and " + std::to_string(target.size()) + " targets)");
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (target[i] < 0 || static_cast<std::size_t>(target[i]) >= c) {
            fail(loss, "target " + std::to_string(target[i]) + " at position " + std::to_string(i) +
                           " is out of range for " + role + " " + input.shape().str() +
                           " (expected a class in [0, " + std::to_string(c) + "))");
        }
    }
}

// Class indices from a 1-D tensor of integral values.
Indices indices_of(const char* loss, const Tensor& target) {
    check_defined(loss, target, "target");
    check_target_constant(loss, target);
    if (target.ndim() != 1) {
        fail(loss, "target must be 1-D (N) class indices (got " + target.shape().str() + ")");
    }
    Indices out(target.numel());
    const std::vector<double> v = target.to_vector();
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!(std::floor(v[i]) == v[i])) {
            fail(loss, "target " + shortest_text(v[i], target.dtype()) + " at position " +
                           std::to_string(i) +
                           " is not a class index (expected an integral value)");
        }
        // An integral value too large for int64 (1e20) is a class index out of range, not a
        // non-integral one; check_classes then names the range for smaller ones.
        if (std::abs(v[i]) > 9e15) {
            fail(loss, "target " + shortest_text(v[i], target.dtype()) + " at position " +
                           std::to_string(i) +
                           " is out of range (expected a class index in [0, number of classes))");
        }
        out[i] = static_cast<std::int64_t>(v[i]);
    }
    return out;
}

// A fused loss is one record: its value from per-item losses (computed in double) reduced as
// asked, and one rule: dL/dx = local(x) * s, where local(x) = d(item)/dx is written in xgrad
// ops (so the loss has a second derivative) and s spreads dL/d(item) over the items: g for
// sum, g / k for mean, g laid out as the items for none.
struct FusedParams {
    Reduction reduction;
    std::size_t items;
    Shape scale_shape;  // how dL/d(items) broadcasts against the input
    Tensor target;      // the target values
    Tensor (*local)(const FusedParams& p, const Tensor& x);
};

TensorGrads fused_rule(const OpContext& ctx, const Tensor& grad) {
    const FusedParams& p = ctx.params<FusedParams>();
    Tensor scale;
    switch (p.reduction) {
        case Reduction::kNone:
            scale = reshape(grad, p.scale_shape);
            break;
        case Reduction::kSum:
            scale = grad;
            break;
        case Reduction::kMean:
            scale = grad / static_cast<double>(p.items);
            break;
    }
    return TensorGrads(p.local(p, ctx.input(0)) * scale);
}

constexpr OpDef fused_def(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &fused_rule;
    d.destroy_params = destroy_params_of<FusedParams>();
    return d;
}
const OpDef kBinaryCrossEntropy = fused_def("binary_cross_entropy");
const OpDef kBinaryCrossEntropyWithLogits = fused_def("binary_cross_entropy_with_logits");

Tensor fused(const OpDef& def, const Tensor& input, const std::vector<double>& items,
             Shape item_shape, Reduction reduction, FusedParams params) {
    Array value;
    if (reduction == Reduction::kNone) {
        value = Array::from_values(input.dtype(), std::move(item_shape), items);
    } else {
        double s = 0;
        for (double l : items) s += l;
        if (reduction == Reduction::kMean) s /= static_cast<double>(items.size());
        value = Array::scalar(input.dtype(), s);
    }
    params.reduction = reduction;
    params.items = items.size();
    return record(def, std::move(value), {&input}, std::move(params));
}

// The target classes as an (N, 1) int64 column, for gather: a constant.
Tensor class_column(const Indices& classes) {
    return Tensor(Array::from_vector(classes, Shape{classes.size(), 1}));
}

FusedParams pair_params(const Tensor& input, const Tensor& target,
                        Tensor (*local)(const FusedParams&, const Tensor&)) {
    FusedParams p{};
    p.scale_shape = input.shape();
    p.target = target;
    p.local = local;
    return p;
}

Tensor reduce(const Tensor& items, Reduction reduction) {
    switch (reduction) {
        case Reduction::kNone:
            return items;
        case Reduction::kSum:
            return sum(items);
        case Reduction::kMean:
            break;
    }
    return mean(items);
}

}  // namespace

// ---- Squared errors: composites, the engine differentiates them. ----

Tensor half_squared_error(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_pair("half_squared_error", input, target);
    // 1/2 (y - yhat)^2; d/dyhat = yhat - y
    return reduce(square(input - target) * 0.5, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
    check_pair("mse_loss", input, target);
    return reduce(square(input - target), reduction);
}

Tensor hinge_loss(const Tensor& scores, const Tensor& target, Reduction reduction, double margin) {
    check_pair("hinge_loss", scores, target);
    const std::vector<double> y = target.to_vector();
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (y[i] != 1.0 && y[i] != -1.0) {
            fail("hinge_loss", "target " + std::to_string(y[i]) + " at position " +
                                   std::to_string(i) + " is not a label in {-1, +1}");
        }
    }
    // max(0, margin - y s); NOTE: at the kink the gradient is 0, as relu'(0) := 0.
    return reduce(relu(margin - target * scores), reduction);
}

// ---- Binary cross-entropies: fused. ----
// NOTE: kept fused for their gradients at the edges, which no composition of our ops gives:
// PyTorch's BCE gradient (p - y) / max(p (1 - p), 1e-12) is finite at p = 0 and 1, where the
// composed log's 1/p times clamp_min's zero mask is NaN; with logits, the stable composition
// relu(x) - x y + log1p(e^-|x|) has kinks at 0 whose subgradient 0 gives -y, not
// sigmoid(0) - y = 1/2 - y (and softplus's threshold loses 1e-10 above 20).

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, Reduction reduction) {
    constexpr const char* kLoss = "binary_cross_entropy";
    check_pair(kLoss, input, target);
    check_target_constant(kLoss, target);
    const std::vector<double> p = input.to_vector(), y = target.to_vector();
    std::vector<double> items(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
            fail(kLoss, "input " + std::to_string(p[i]) + " at position " + std::to_string(i) +
                            " is not a probability in [0, 1] (for logits use "
                            "binary_cross_entropy_with_logits)");
        }
        // NOTE: logs clamped at -100 (PyTorch's choice): p = 0 with y = 0 gives 0, not 0 * -inf.
        const double lp = std::max(std::log(p[i]), -100.0);
        const double lq = std::max(std::log1p(-p[i]), -100.0);
        items[i] = -(y[i] * lp + (1.0 - y[i]) * lq);
    }
    // d/dp = (p - y) / (p (1 - p)), the denominator kept >= 1e-12 (PyTorch's EPSILON)
    auto local = [](const FusedParams& fp, const Tensor& in) {
        return (in - fp.target) / clamp_min(in * (1 - in), 1e-12);
    };
    return fused(kBinaryCrossEntropy, input, items, input.shape(), reduction,
                 pair_params(input, target, local));
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
    constexpr const char* kLoss = "binary_cross_entropy_with_logits";
    check_pair(kLoss, logits, target);
    check_target_constant(kLoss, target);
    const std::vector<double> x = logits.to_vector(), y = target.to_vector();
    std::vector<double> items(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        // -[y log s(x) + (1-y) log(1-s(x))] = max(x, 0) - x y + log(1 + e^-|x|): no overflow.
        items[i] = std::max(x[i], 0.0) - x[i] * y[i] + std::log1p(std::exp(-std::abs(x[i])));
    }
    // d/dx = sigmoid(x) - y
    auto local = [](const FusedParams& fp, const Tensor& in) { return sigmoid(in) - fp.target; };
    return fused(kBinaryCrossEntropyWithLogits, logits, items, logits.shape(), reduction,
                 pair_params(logits, target, local));
}

// ---- Class losses: compositions of ops, one row per example. ----
// NOTE: were fused records. bench_loss (forward + backward, float32, batch 128, composed /
// fused CPU time): cross_entropy 0.92x, nll_loss 0.37x, multi_margin_loss 0.37x at 1024
// classes; 1.32x, 1.09x, 0.99-1.13x at 10 classes, where the fused records were faster by a few
// microseconds of per-node overhead. Compositions at every size: one code path, and gradients
// of any order are those of the ops.

namespace {
// Per-row -logp[i, t_i]: (N).
Tensor nll_items(const Tensor& log_probs, const Indices& target) {
    return -squeeze(gather(log_probs, 1, class_column(target)), 1);
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Indices& target, Reduction reduction) {
    check_classes("cross_entropy", "logits", logits, target);
    // logsumexp(x_i) - x_i[t_i] = -log_softmax(x_i)[t_i]; d/dx_ij = softmax(x_i)_j - [j == t_i]
    return reduce(nll_items(log_softmax(logits, 1), target), reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
    return cross_entropy(logits, indices_of("cross_entropy", target), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Indices& target, Reduction reduction) {
    check_classes("nll_loss", "log_probs", log_probs, target);
    // d/dlogp_ij = -[j == t_i] (gather's rule scatters the gradient into zeros)
    return reduce(nll_items(log_probs, target), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
    return nll_loss(log_probs, indices_of("nll_loss", target), reduction);
}

Tensor multi_margin_loss(const Tensor& scores, const Indices& target, Reduction reduction,
                         double margin) {
    constexpr const char* kLoss = "multi_margin_loss";
    check_classes(kLoss, "scores", scores, target);
    if (!std::isfinite(margin))
        fail(kLoss, "margin must be finite (got " + std::to_string(margin) + ")");
    const std::size_t n = scores.shape()[0], c = scores.shape()[1];
    // h_ij = max(0, margin - x_it + x_ij) for j != t_i (NaN propagates, as relu and PyTorch's
    // clamp_min); the j = t_i term is masked out. d/dx_ij = 1/C for each violating j != t_i,
    // d/dx_it = -(number violating) / C. NOTE: a term exactly at the kink counts as not
    // violating (gradient 0, as relu).
    const Tensor xt = gather(scores, 1, class_column(target));
    Array at_target(DType::Bool, Shape{n, c});
    for (std::size_t i = 0; i < n; ++i) {
        at_target.set(i * c + static_cast<std::size_t>(target[i]), 1.0);
    }
    const Tensor h = masked_fill(relu((margin - xt) + scores), Tensor(std::move(at_target)), 0.0);
    return reduce(sum(h, {1}) / static_cast<double>(c), reduction);
}

Tensor multi_margin_loss(const Tensor& scores, const Tensor& target, Reduction reduction,
                         double margin) {
    return multi_margin_loss(scores, indices_of("multi_margin_loss", target), reduction, margin);
}

}  // namespace xgrad::nn
