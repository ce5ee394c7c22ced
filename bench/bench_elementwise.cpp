// A binary op forward + backward at 10^6 float32 elements, on 1 and 2 threads (the second
// argument): z = a * b, then dz/da = g * b and dz/db = g * a with a seed g of ones.
// Baseline: the same three loops written by hand on preallocated buffers, one thread (at both
// arguments, so /1 gives the engine's overhead and /2 the speedup over the hand loop).
// Issue 10: within 1.25x of the hand loop at one thread; >= 1.7x faster at 2 threads than at 1
// on an idle machine.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/parallel.h"
#include "bench/huge_pages.h"
#include "bench/interleaved.h"

namespace {

using namespace xgrad;

void engine_mul(benchmark::State& state, WaitPolicy policy) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int before = num_threads();
    const WaitPolicy policy_before = wait_policy();
    set_num_threads(static_cast<int>(state.range(1)));
    set_wait_policy(policy);
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
    set_wait_policy(policy_before);
    set_num_threads(before);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_ElementwiseEngineMulFwdBwd(benchmark::State& state) {
    engine_mul(state, WaitPolicy::kPassive);
}
// The same under WaitPolicy::kActive (autograd/threads.h): the pool polls before sleeping.
void BM_ElementwiseEngineMulFwdBwdActive(benchmark::State& state) {
    engine_mul(state, WaitPolicy::kActive);
}

void BM_ElementwiseHandMulFwdBwd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    // The engine's inputs: with a short repeating pattern the branch predictor would learn
    // the comparisons (maximum) that random data makes it miss.
    const std::vector<float> va = uniform({n}, -1, 1, 1, f32).value().to_vector<float>();
    ::bench::Buffer<float> a(va.begin(), va.end());
    const std::vector<float> vb = uniform({n}, -1, 1, 2, f32).value().to_vector<float>();
    ::bench::Buffer<float> b(vb.begin(), vb.end());
    ::bench::Buffer<float> g(n, 1.0f), z(n), ga(n), gb(n);
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

// The baseline of BM_ElementwiseEngineMulFwdBwdActive (ratios.py pairs by name): the same loops.
void BM_ElementwiseHandMulFwdBwdActive(benchmark::State& state) {
    BM_ElementwiseHandMulFwdBwd(state);
}

// The ceiling for 2 threads on this machine: the hand loops above, on one thread and split in
// halves between the caller and a second thread that spins on an atomic between steps (the
// fastest hand-off there is; the engine's pool sleeps instead), alternating call by call
// (bench/interleaved.h: "engine" is the 1-thread step, "hand" the 2-thread one, so `ratio` is
// the speedup). The spinning thread keeps its vCPU awake in both. The arrays are on 2 MB pages,
// as the engine's are. What the memory system allows the engine's 2-thread ratio to reach.
void BM_ElementwiseHandMulFwdBwdSpeedupCeiling(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<Array> bufs;  // a, b, g, z, ga, gb
    for (int k = 0; k < 6; ++k) bufs.push_back(uniform({n}, -1, 1, k + 1, f32).value());
    float *a = bufs[0].data<float>(), *b = bufs[1].data<float>(), *g = bufs[2].data<float>();
    float *z = bufs[3].data<float>(), *ga = bufs[4].data<float>(), *gb = bufs[5].data<float>();
    const auto step = [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) z[i] = a[i] * b[i];
        for (std::size_t i = lo; i < hi; ++i) ga[i] = g[i] * b[i];
        for (std::size_t i = lo; i < hi; ++i) gb[i] = g[i] * a[i];
        benchmark::ClobberMemory();
    };
    std::atomic<std::int64_t> posted{0}, finished{0};
    std::atomic<bool> stop{false};
    std::thread helper([&] {
        std::int64_t seen = 0;
        while (!stop.load(std::memory_order_acquire)) {
            if (posted.load(std::memory_order_acquire) == seen) continue;
            ++seen;
            step(n / 2, n);
            finished.store(seen, std::memory_order_release);
        }
    });
    std::int64_t k = 0;
    xgrad::bench::interleaved(
        state, [&] { step(0, n); },
        [&] {
            posted.store(++k, std::memory_order_release);
            step(0, n / 2);
            while (finished.load(std::memory_order_acquire) != k) {
            }
        });
    stop.store(true, std::memory_order_release);
    helper.join();
}

// Unary ops, forward + backward at 10^6 float32 elements: y = f(x), then dx = g * f'(x) with a
// seed of ones. The hand loops do the same arithmetic in float on preallocated buffers.
template <Tensor (*F)(const Tensor&)>
void engine_unary(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int before = num_threads();
    set_num_threads(static_cast<int>(state.range(1)));
    Tensor x = uniform({n}, -3, 3, 1, f32, /*requires_grad=*/true);
    Tensor seed = ones({n});
    for (auto _ : state) {
        Tensor y = F(x);
        y.backward(seed);
        benchmark::DoNotOptimize(x.node());
        x.zero_grad();
    }
    set_num_threads(before);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class Fwd, class Bwd>
void hand_unary(benchmark::State& state, Fwd fwd, Bwd bwd) {
    const auto n = static_cast<std::size_t>(state.range(0));
    // The engine's inputs: sinf, erff and leaky_relu's select branch on the value, and a
    // repeating pattern of 61 values (as this loop had) lets the predictor learn them.
    const std::vector<float> vx = uniform({n}, -3, 3, 1, f32).value().to_vector<float>();
    ::bench::Buffer<float> x(vx.begin(), vx.end());
    ::bench::Buffer<float> y(n), g(n, 1.0f), gx(n);
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) y[i] = fwd(x[i]);
        for (std::size_t i = 0; i < n; ++i) gx[i] = bwd(g[i], x[i], y[i]);
        benchmark::DoNotOptimize(y.data());
        benchmark::DoNotOptimize(gx.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

Tensor gelu_none(const Tensor& x) { return gelu(x); }
Tensor gelu_tanh(const Tensor& x) { return gelu(x, "tanh"); }
Tensor silu_op(const Tensor& x) { return silu(x); }
Tensor sin_op(const Tensor& x) { return sin(x); }
Tensor leaky_relu_op(const Tensor& x) { return leaky_relu(x); }

void BM_ElementwiseEngineGeluFwdBwd(benchmark::State& state) { engine_unary<gelu_none>(state); }
void BM_ElementwiseHandGeluFwdBwd(benchmark::State& state) {
    hand_unary(
        state, [](float v) { return v * 0.5f * (1.0f + std::erf(v * float(M_SQRT1_2))); },
        [](float g, float v, float) {
            const float cdf = 0.5f * (1.0f + std::erf(v * float(M_SQRT1_2)));
            const float pdf = std::exp(-0.5f * v * v) * float(0.5 * M_2_SQRTPI * M_SQRT1_2);
            return g * (cdf + v * pdf);
        });
}
void BM_ElementwiseEngineGeluTanhFwdBwd(benchmark::State& state) { engine_unary<gelu_tanh>(state); }
void BM_ElementwiseHandGeluTanhFwdBwd(benchmark::State& state) {
    constexpr float kB = float(M_SQRT2 * M_2_SQRTPI * 0.5), kK = 0.044715f;
    hand_unary(
        state, [](float v) { return 0.5f * v * (1.0f + std::tanh(kB * (v + kK * v * v * v))); },
        [](float g, float v, float) {
            const float t = std::tanh(kB * (v + kK * v * v * v));
            const float du = kB * (1.0f + 3 * kK * v * v);
            return g * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
        });
}
void BM_ElementwiseEngineSiluFwdBwd(benchmark::State& state) { engine_unary<silu_op>(state); }
void BM_ElementwiseHandSiluFwdBwd(benchmark::State& state) {
    const auto sig = [](float v) {
        if (v >= 0) return 1.0f / (1.0f + std::exp(-v));
        const float e = std::exp(v);
        return e / (1.0f + e);
    };
    hand_unary(
        state, [sig](float v) { return v * sig(v); },
        [sig](float g, float v, float) {
            const float s = sig(v);
            return g * s * (1.0f + v * (1.0f - s));
        });
}
void BM_ElementwiseEngineSinFwdBwd(benchmark::State& state) { engine_unary<sin_op>(state); }
void BM_ElementwiseHandSinFwdBwd(benchmark::State& state) {
    hand_unary(
        state, [](float v) { return std::sin(v); },
        [](float g, float v, float) { return g * std::cos(v); });
}
void BM_ElementwiseEngineLeakyReluFwdBwd(benchmark::State& state) {
    engine_unary<leaky_relu_op>(state);
}
void BM_ElementwiseHandLeakyReluFwdBwd(benchmark::State& state) {
    hand_unary(
        state,
        [](float v) {
            const float s = v * 0.01f;  // then a select, as the engine's kernel
            return v > 0 ? v : s;
        },
        [](float g, float v, float) { return g * ((v > 0 ? 1.0f : 0.0f) * 0.99f + 0.01f); });
}

// z = maximum(a, b); dz/da and dz/db with ties halved, as the engine's rule.
void BM_ElementwiseEngineMaximumFwdBwd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int before = num_threads();
    set_num_threads(static_cast<int>(state.range(1)));
    Tensor a = uniform({n}, -1, 1, 1, f32, /*requires_grad=*/true);
    Tensor b = uniform({n}, -1, 1, 2, f32, true);
    Tensor seed = ones({n});
    for (auto _ : state) {
        Tensor z = maximum(a, b);
        z.backward(seed);
        benchmark::DoNotOptimize(a.node());
        a.zero_grad();
        b.zero_grad();
    }
    set_num_threads(before);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_ElementwiseHandMaximumFwdBwd(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    // The engine's inputs: with a short repeating pattern the branch predictor would learn
    // the comparisons (maximum) that random data makes it miss.
    const std::vector<float> va = uniform({n}, -1, 1, 1, f32).value().to_vector<float>();
    ::bench::Buffer<float> a(va.begin(), va.end());
    const std::vector<float> vb = uniform({n}, -1, 1, 2, f32).value().to_vector<float>();
    ::bench::Buffer<float> b(vb.begin(), vb.end());
    ::bench::Buffer<float> g(n, 1.0f), z(n), ga(n), gb(n);
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) z[i] = a[i] > b[i] ? a[i] : b[i];
        for (std::size_t i = 0; i < n; ++i) {
            ga[i] = g[i] * (a[i] == b[i] ? 0.5f : (a[i] < b[i] ? 0.0f : 1.0f));
        }
        for (std::size_t i = 0; i < n; ++i) {
            gb[i] = g[i] * (a[i] == b[i] ? 0.5f : (a[i] > b[i] ? 0.0f : 1.0f));
        }
        benchmark::DoNotOptimize(z.data());
        benchmark::DoNotOptimize(ga.data());
        benchmark::DoNotOptimize(gb.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

// What a parallel region loses at 2 threads: how long the sleeping worker takes to run its first
// chunk of z = a * b (10^6 float32, 31 chunks), from the call. Counters: the 10th and 50th
// percentile of that delay over the iterations, and the share of regions the caller finished
// alone. About 10 us of serial work separates the regions, as between an op and the next.
void BM_ParallelWorkerJoin(benchmark::State& state) {
    const std::size_t n = 1000000;
    const int before = num_threads();
    set_num_threads(2);
    ::bench::Buffer<float> a(n, 1.0f), b(n, 2.0f), z(n);
    std::vector<double> joins;
    std::int64_t alone = 0;
    using Clock = std::chrono::steady_clock;
    for (auto _ : state) {
        const std::thread::id caller = std::this_thread::get_id();
        std::atomic<std::int64_t> first_ns{-1};
        const Clock::time_point t0 = Clock::now();
        parallel_for(0, n, kParallelGrain, [&](std::size_t lo, std::size_t hi) {
            if (std::this_thread::get_id() != caller && first_ns.load() < 0) {
                first_ns.store(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
                        .count());
            }
            for (std::size_t i = lo; i < hi; ++i) z[i] = a[i] * b[i];
        });
        benchmark::DoNotOptimize(z.data());
        if (first_ns.load() < 0) {
            ++alone;
        } else {
            joins.push_back(static_cast<double>(first_ns.load()) / 1000.0);
        }
        const Clock::time_point gap = Clock::now() + std::chrono::microseconds(10);
        while (Clock::now() < gap) {
        }
    }
    set_num_threads(before);
    std::sort(joins.begin(), joins.end());
    const auto pct = [&](double q) {
        return joins.empty() ? 0.0 : joins[static_cast<std::size_t>(q * double(joins.size() - 1))];
    };
    state.counters["join_us_p10"] = pct(0.1);
    state.counters["join_us_p50"] = pct(0.5);
    state.counters["caller_alone"] =
        static_cast<double>(alone) /
        static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}
BENCHMARK(BM_ParallelWorkerJoin)->UseRealTime();

// Real time: at 2 threads the second thread's CPU time is not the caller's.
BENCHMARK(BM_ElementwiseEngineMulFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineMulFwdBwdActive)
    ->Args({1000000, 1})
    ->Args({1000000, 2})
    ->UseRealTime();
BENCHMARK(BM_ElementwiseHandMulFwdBwdActive)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseHandMulFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseHandMulFwdBwdSpeedupCeiling)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_ElementwiseEngineMaximumFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseHandMaximumFwdBwd)->Args({1000000, 1})->Args({1000000, 2})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineGeluFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseHandGeluFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineGeluTanhFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseHandGeluTanhFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineSiluFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseHandSiluFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineSinFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseHandSinFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseEngineLeakyReluFwdBwd)->Args({1000000, 1})->UseRealTime();
BENCHMARK(BM_ElementwiseHandLeakyReluFwdBwd)->Args({1000000, 1})->UseRealTime();

}  // namespace
