// Whole training steps of the example models, for bench/torch_compare.py, which times the same
// models in PyTorch and prints xgrad's time over PyTorch's (one thread each):
//   BM_ModelCnnStep          the demo's CNN of examples/fashion_mnist.h (LeNet-5's layout at 16
//                            and 32 channels, BatchNorm), batch 128 of (1, 28, 28) float32,
//                            cross-entropy, Adam
//   BM_ModelTransformerStep  the character Transformer of examples/char_lm.h (2 pre-norm layers,
//                            4 heads, d_model 64, causal, context 16), 64 windows, Adam
// Random inputs with fixed seeds: the time of a step does not depend on the values.
// No baseline in this binary: the baseline is PyTorch, outside it.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "autograd/threads.h"
#include "examples/char_lm.h"
#include "examples/fashion_mnist.h"

namespace {

using namespace xgrad;

void BM_ModelCnnStep(benchmark::State& state) {
    auto net = examples::fashion_cnn(1, /*batch_norm=*/true, 16, 32);
    nn::optim::Adam adam(net->parameters(), nn::optim::AdamOptions(1e-3));
    const Tensor x = uniform({128, 784}, 0, 1, /*seed=*/2);
    std::vector<std::int64_t> y(128);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>(i % 10);
    for (auto _ : state) {
        adam.zero_grad();
        nn::cross_entropy(net->forward(x), y).backward();
        adam.step();
    }
}
BENCHMARK(BM_ModelCnnStep)->Unit(benchmark::kMillisecond);

void BM_ModelTransformerStep(benchmark::State& state) {
    nn::manual_seed(1);
    examples::CharTransformer model(16);
    nn::optim::Adam adam(model.parameters(), nn::optim::AdamOptions(1e-3));
    std::mt19937_64 g(3);
    std::vector<std::int64_t> tokens(64 * 16), targets(64 * 16), keep(64 * 16);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        tokens[i] = static_cast<std::int64_t>(g() % 27);
        targets[i] = static_cast<std::int64_t>(g() % 27);
        keep[i] = static_cast<std::int64_t>(i);
    }
    examples::CharBatch b;
    b.tokens = tensor(tokens, Shape{64, 16});
    b.keep = tensor(keep, Shape{keep.size()});
    b.targets = tensor(targets, Shape{targets.size()});
    for (auto _ : state) {
        adam.zero_grad();
        examples::char_loss(model, b).backward();
        adam.step();
    }
}
BENCHMARK(BM_ModelTransformerStep)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    xgrad::set_num_threads(1);  // the comparison is one thread against one thread
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
