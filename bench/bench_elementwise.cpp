// A binary op forward + backward at 10^6 float32 elements, on 1 and 2 threads (the second
// argument): z = a * b, then dz/da = g * b and dz/db = g * a with a seed g of ones.
// Baseline: the same three loops written by hand on preallocated buffers, one thread (at both
// arguments, so /1 gives the engine's overhead and /2 the speedup over the hand loop).
// Issue 10: within 1.25x of the hand loop at one thread; >= 1.7x faster at 2 threads than at 1
// on an idle machine.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "autograd/autograd.h"

namespace {

using namespace xgrad;

void BM_ElementwiseEngineMulFwdBwd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int before = num_threads();
    set_num_threads(static_cast<int>(state.range(1)));
    Tensor a = uniform({n}, -1, 1, 1, f32, /*requires_grad=*/true);
    Tensor b = uniform({n}, -1, 1, 2, f32, true);
    Tensor seed = ones({n});
    for (auto _ : state) {
        Tensor z = a * b;
        z.backward(seed);
        benchmark::DoNotOptimize(a.node());
        a.zero_grad();
        b.zero_grad();
    }
    set_num_threads(before);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ElementwiseHandMulFwdBwd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<float> a(n), b(n), g(n, 1.0f), z(n), ga(n), gb(n);
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = float(i % 17) * 0.1f - 0.8f;
        b[i] = float(i % 13) * 0.1f - 0.6f;
    }
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) z[i] = a[i] * b[i];
        for (std::size_t i = 0; i < n; ++i) ga[i] = g[i] * b[i];
        for (std::size_t i = 0; i < n; ++i) gb[i] = g[i] * a[i];
        benchmark::DoNotOptimize(z.data());
        benchmark::DoNotOptimize(ga.data());
        benchmark::DoNotOptimize(gb.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

// Real time: at 2 threads the second thread's CPU time is not the caller's.
BENCHMARK(BM_ElementwiseEngineMulFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseHandMulFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();

}  // namespace
