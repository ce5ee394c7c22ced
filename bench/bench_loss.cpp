// Class losses forward + backward, float32, batch 128, 10 and 1024 classes: nn's losses, which
// are compositions of ops (Engine), against the fused records nn had before (Plain: one record,
// one pass over the input each way, a closed-form rule), kept here as the baseline with the
// default mean reduction. Issue 10 asks to keep a fused loss only where this bench shows it
// faster; ratio = composed / fused.
// - cross_entropy = nll_loss(log_softmax(x, 1)), nll_loss = -gather(logp, 1, t), mean;
// - multi_margin_loss = sum_{j != t} relu(margin - x_t + x_j) / C (a masked_fill), mean.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "autograd/op.h"
#include "nn/nn.h"

namespace {

using namespace xgrad;
using Indices = std::vector<std::int64_t>;

// ---- The fused baselines: the loss computed in one loop, the rule local(x) / N ----
struct FusedParams {
    Indices classes;
    double margin;
    Tensor (*local)(const FusedParams& p, const Tensor& x);
};
TensorGrads fused_rule(const OpContext& ctx, const Tensor& grad) {
    const FusedParams& p = ctx.params<FusedParams>();
    return TensorGrads(p.local(p, ctx.input(0)) * (grad / static_cast<double>(p.classes.size())));
}
const OpDef kFused = [] {
    OpDef d{};
    d.name = "fused_loss";
    d.backward = &fused_rule;
    d.destroy_params = destroy_params_of<FusedParams>();
    return d;
}();
Tensor fused_mean(const Tensor& x, const std::vector<double>& items, FusedParams p) {
    double s = 0;
    for (double l : items) s += l;
    return record(kFused, Array::scalar(x.dtype(), s / double(items.size())), {&x}, std::move(p));
}
Tensor one_hot(const Indices& classes, const Tensor& x) {
    const std::size_t c = x.shape()[1];
    Array h(x.dtype(), x.shape());
    for (std::size_t i = 0; i < classes.size(); ++i) {
        h.set(i * c + static_cast<std::size_t>(classes[i]), 1.0);
    }
    return Tensor(std::move(h));
}

Tensor fused_cross_entropy(const Tensor& logits, const Indices& target) {
    const std::size_t n = logits.shape()[0], c = logits.shape()[1];
    std::vector<double> items(n);
    const float* x = logits.value().data<float>();
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = x + i * c;
        const float m = *std::max_element(row, row + c);
        double s = 0;
        for (std::size_t j = 0; j < c; ++j) s += std::exp(row[j] - m);
        items[i] = double(m) + std::log(s) - double(row[target[i]]);
    }
    auto local = [](const FusedParams& p, const Tensor& in) {
        return softmax(in, 1) - one_hot(p.classes, in);
    };
    return fused_mean(logits, items, FusedParams{target, 0, local});
}

Tensor fused_nll_loss(const Tensor& log_probs, const Indices& target) {
    const std::size_t n = log_probs.shape()[0], c = log_probs.shape()[1];
    std::vector<double> items(n);
    for (std::size_t i = 0; i < n; ++i) {
        items[i] = -log_probs.value().at(i * c + static_cast<std::size_t>(target[i]));
    }
    auto local = [](const FusedParams& p, const Tensor& in) { return -one_hot(p.classes, in); };
    return fused_mean(log_probs, items, FusedParams{target, 0, local});
}

Tensor fused_multi_margin_loss(const Tensor& scores, const Indices& target, double margin) {
    const std::size_t n = scores.shape()[0], c = scores.shape()[1];
    const std::vector<double> v = scores.to_vector();
    std::vector<double> items(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double xt = v[i * c + static_cast<std::size_t>(target[i])];
        double s = 0;
        for (std::size_t j = 0; j < c; ++j) {
            if (j != static_cast<std::size_t>(target[i])) {
                const double h = margin - xt + v[i * c + j];
                s += h > 0 || std::isnan(h) ? h : 0.0;
            }
        }
        items[i] = s / double(c);
    }
    auto local = [](const FusedParams& p, const Tensor& in) {
        const std::size_t rows = in.shape()[0], cols = in.shape()[1];
        Array d(in.dtype(), in.shape());
        const Array& xs = in.value();
        for (std::size_t i = 0; i < rows; ++i) {
            const std::size_t t = static_cast<std::size_t>(p.classes[i]);
            const double xt = xs.at(i * cols + t), w = 1.0 / double(cols);
            double total = 0;
            for (std::size_t j = 0; j < cols; ++j) {
                if (j != t && p.margin - xt + xs.at(i * cols + j) > 0) {
                    d.set(i * cols + j, w);
                    total += w;
                }
            }
            d.set(i * cols + t, -total);
        }
        return Tensor(std::move(d));
    };
    return fused_mean(scores, items, FusedParams{target, margin, local});
}

// ---- The steps ----
enum class Loss { kCrossEntropy, kNll, kMultiMargin };

template <Loss kLoss, bool kComposed>
void loss_step(benchmark::State& state) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t kBatch = 128;
    // nll reads log-probabilities: logits shifted below 0.
    Tensor x = kLoss == Loss::kNll
                   ? uniform({kBatch, classes}, -4, -0.1, 1, f32, /*requires_grad=*/true)
                   : uniform({kBatch, classes}, -2, 2, 1, f32, /*requires_grad=*/true);
    Indices target(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) target[i] = static_cast<std::int64_t>(i * 7 % classes);
    for (auto _ : state) {
        Tensor loss;
        if constexpr (kLoss == Loss::kCrossEntropy) {
            loss = kComposed ? nn::cross_entropy(x, target) : fused_cross_entropy(x, target);
        } else if constexpr (kLoss == Loss::kNll) {
            loss = kComposed ? nn::nll_loss(x, target) : fused_nll_loss(x, target);
        } else {
            loss = kComposed ? nn::multi_margin_loss(x, target)
                             : fused_multi_margin_loss(x, target, 1.0);
        }
        loss.backward();
        benchmark::DoNotOptimize(x.node());
        x.zero_grad();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch * classes));
}

void BM_LossEngineCrossEntropy(benchmark::State& s) { loss_step<Loss::kCrossEntropy, true>(s); }
void BM_LossPlainCrossEntropy(benchmark::State& s) { loss_step<Loss::kCrossEntropy, false>(s); }
void BM_LossEngineNllLoss(benchmark::State& s) { loss_step<Loss::kNll, true>(s); }
void BM_LossPlainNllLoss(benchmark::State& s) { loss_step<Loss::kNll, false>(s); }
void BM_LossEngineMultiMargin(benchmark::State& s) { loss_step<Loss::kMultiMargin, true>(s); }
void BM_LossPlainMultiMargin(benchmark::State& s) { loss_step<Loss::kMultiMargin, false>(s); }

BENCHMARK(BM_LossEngineCrossEntropy)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossPlainCrossEntropy)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossEngineNllLoss)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossPlainNllLoss)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossEngineMultiMargin)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossPlainMultiMargin)->Arg(10)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
