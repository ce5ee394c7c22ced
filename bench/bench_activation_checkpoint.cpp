// Activation checkpointing's trade: a 32-layer, 1024-wide ReLU MLP at batch 256 (float32), one
// forward + backward, with nn::checkpoint_sequential every 4 layers (BM_CheckpointEngine) and
// without (BM_CheckpointPlain, the baseline: the same engine step recording every activation).
// Time ratio from bench/ratios.py; heap from the tracked operator new (alloc_tracker.h), over
// one step measured in a fresh thread (so the engine's per-thread buffer cache starts empty and
// counts as the memory it is), the parameters (128 MiB) excluded:
//   saved_MiB      held after the forward: what the graph keeps for backward (the activations)
//   peak_MiB       the step's peak: the 128 MiB of gradients, backward's temporaries and the
//                  buffer cache included
//   peak_over_grads_MiB  peak_MiB - 128 MiB of gradients

#include <benchmark/benchmark.h>

#include <memory>
#include <thread>

#include "bench/alloc_tracker.h"
#include "nn/nn.h"

namespace {

using namespace xgrad;

constexpr std::size_t kLayers = 32, kWidth = 1024, kBatch = 256, kEvery = 4;

std::shared_ptr<nn::Sequential> deep_mlp() {
    nn::manual_seed(1);
    auto net = std::make_shared<nn::Sequential>();
    for (std::size_t i = 0; i < kLayers; ++i) {
        net->push_back(nn::Linear(kWidth, kWidth));
        net->push_back(nn::ReLU());
    }
    return net;
}

// One step; `saved` gets the tracked heap in use after the forward.
void step(nn::Sequential& net, const Tensor& x, bool checkpointed, long long* saved = nullptr) {
    if (saved == nullptr) net.zero_grad();
    // Segments of kEvery layers: each layer is a Linear and a ReLU.
    const Tensor y =
        checkpointed ? nn::checkpoint_sequential(net, kLayers / kEvery, x) : net.forward(x);
    const Tensor loss = sum(y);
    if (saved != nullptr) *saved = bench::g_tracker.live;
    loss.backward();
}

void run(benchmark::State& state, bool checkpointed) {
    auto net = deep_mlp();
    const Tensor x = uniform({kBatch, kWidth}, -1, 1, /*seed=*/2);
    step(*net, x, checkpointed);  // gradients exist from here on
    long long peak = 0, saved = 0;
    net->zero_grad();  // frees the gradients: the step allocates them again, counted
    std::thread measure([&] {
        bench::g_tracker.start();
        step(*net, x, checkpointed, &saved);
        bench::g_tracker.stop();
        peak = bench::g_tracker.peak;
    });
    measure.join();
    for (auto _ : state) {
        step(*net, x, checkpointed);
        benchmark::ClobberMemory();
    }
    const double mib = 1024.0 * 1024.0;
    state.counters["saved_MiB"] = static_cast<double>(saved) / mib;
    state.counters["peak_MiB"] = static_cast<double>(peak) / mib;
    double grads = 0;
    for (const Tensor& p : net->parameters()) grads += static_cast<double>(p.value().nbytes());
    state.counters["peak_over_grads_MiB"] = (static_cast<double>(peak) - grads) / mib;
}

void BM_CheckpointEngine(benchmark::State& state) { run(state, true); }
void BM_CheckpointPlain(benchmark::State& state) { run(state, false); }
BENCHMARK(BM_CheckpointEngine)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_CheckpointPlain)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
