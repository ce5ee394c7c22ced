// Cross-entropy forward + backward, float32, batch 128, 10 and 1024 classes: the composition
// nll_loss(log_softmax(x, 1)) (Engine) against nn's fused cross_entropy (Plain: one record,
// one pass over the logits each way). Issue 10 asks to keep the fused loss only where this
// bench shows it faster; ratio = composed / fused.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "nn/nn.h"

namespace {

using namespace xgrad;

template <bool kComposed>
void cross_entropy_step(benchmark::State& state) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t kBatch = 128;
    Tensor x = uniform({kBatch, classes}, -2, 2, 1, f32, /*requires_grad=*/true);
    std::vector<std::int64_t> target(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) target[i] = static_cast<std::int64_t>(i * 7 % classes);
    for (auto _ : state) {
        Tensor loss =
            kComposed ? nn::nll_loss(log_softmax(x, 1), target) : nn::cross_entropy(x, target);
        loss.backward();
        benchmark::DoNotOptimize(x.node());
        x.zero_grad();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch * classes));
}

void BM_LossEngineCrossEntropy(benchmark::State& state) { cross_entropy_step<true>(state); }
void BM_LossPlainCrossEntropy(benchmark::State& state) { cross_entropy_step<false>(state); }

BENCHMARK(BM_LossEngineCrossEntropy)->Arg(10)->Arg(1024);
BENCHMARK(BM_LossPlainCrossEntropy)->Arg(10)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
