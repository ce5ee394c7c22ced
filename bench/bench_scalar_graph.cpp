// Scalar graph, forward + backward: y <- sigmoid(a * y + b) repeated, with shared float64 leaves
// a and b; three nodes (mul, add, sigmoid) per step, at 10^4, 10^5 and 10^6 nodes. Issue 13
// targets: the dynamic path <= 30 ns and <= 64 bytes per node, a replay (autograd/capture.h)
// <= 15 ns per node. Baselines: a hand-written struct-of-arrays tape of the same computation
// with a reverse loop, built each time; for the replay, the same tape re-evaluated in place.

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/op.h"
#include "bench/alloc_tracker.h"

namespace {

using namespace xgrad;

constexpr double kA = 0.9, kB = 0.1, kY0 = 0.5;
constexpr std::int64_t kOpsPerStep = 3;

// Time per node as a counter: seconds per iteration / nodes (printed as e.g. "350ns").
void set_per_node(benchmark::State& state, std::int64_t nodes) {
    state.SetItemsProcessed(state.iterations() * nodes);
    state.counters["time_per_node"] = benchmark::Counter(
        static_cast<double>(nodes),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// ---- Engine ----

// Builds the chain, backpropagates, clears the leaf gradients; returns dL/da.
double engine_step(Tensor& a, Tensor& b, const Tensor& y0, std::int64_t steps) {
    Tensor y = y0;
    for (std::int64_t i = 0; i < steps; ++i) y = sigmoid(a * y + b);
    y.backward();  // without retain_graph the graph is freed here, node by node
    const double g = a.grad().item();
    a.zero_grad();
    b.zero_grad();
    return g;
}

void BM_ScalarGraphEngine(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep;
    Tensor a = scalar(kA, f64, /*requires_grad=*/true), b = scalar(kB, f64, true);
    Tensor y0 = scalar(kY0, f64);
    for (auto _ : state) benchmark::DoNotOptimize(engine_step(a, b, y0, steps));
    set_per_node(state, steps * kOpsPerStep);
}
BENCHMARK(BM_ScalarGraphEngine)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// The same graph captured once, then replayed per iteration: forward, backward, the leaf
// gradient read, zero_grad (the scalar tape: no node, no allocation).
Capture capture_chain(const Tensor& a, const Tensor& b, std::int64_t steps) {
    return Capture(
        [&a, &b, steps](const std::vector<Tensor>& in) {
            Tensor y = in[0];
            for (std::int64_t i = 0; i < steps; ++i) y = sigmoid(a * y + b);
            return y;
        },
        {scalar(kY0, f64)});
}

void BM_ScalarGraphEngineReplay(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep;
    Tensor a = scalar(kA, f64, true), b = scalar(kB, f64, true);
    Capture cap = capture_chain(a, b, steps);
    const std::vector<Array> y0{Array::scalar(f64, kY0)};
    for (auto _ : state) {
        cap.replay(y0);
        benchmark::DoNotOptimize(a.grad().item());
        a.zero_grad();
        b.zero_grad();
    }
    set_per_node(state, steps * kOpsPerStep);
}
BENCHMARK(BM_ScalarGraphEngineReplay)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// Heap per node: after building (mallinfo2, and the tracked count) and at the peak of
// forward + backward (tracked operator new/delete; glibc chunk sizes). Counters, not timings.
// Each measurement runs in a fresh thread, whose cache of freed nodes starts empty: every node
// is then a new allocation (a reused cached node would not show in the heap growth).
// NOTE: not named BM_ScalarGraphEngine...: its time has no baseline (bench/ratios.py pairs the
// Engine benchmarks' times with their baselines, and checks that each has one).
void BM_ScalarGraphNodeMemory(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep, nodes = steps * kOpsPerStep;
    Tensor a = scalar(kA, f64, true), b = scalar(kB, f64, true);
    Tensor y0 = scalar(kY0, f64);
    long long built = 0, built_tracked = 0, peak = 0;
    for (auto _ : state) {
        std::thread([&] {
            const long long before = bench::heap_in_use();
            bench::g_tracker.start();
            {
                Tensor y = y0;
                for (std::int64_t i = 0; i < steps; ++i) y = sigmoid(a * y + b);
                built = bench::heap_in_use() - before;
                built_tracked = bench::g_tracker.live;
                y.backward();
            }
            bench::g_tracker.stop();
            peak = bench::g_tracker.peak;
        }).join();
        a.zero_grad();
        b.zero_grad();
    }
    const auto per_node = [nodes](long long bytes) {
        return static_cast<double>(bytes) / static_cast<double>(nodes);
    };
    state.counters["built_B_per_node"] = per_node(built);
    state.counters["built_tracked_B_per_node"] = per_node(built_tracked);
    state.counters["peak_B_per_node"] = per_node(peak);
    state.counters["sizeof_Node"] = static_cast<double>(sizeof(Node));
}
BENCHMARK(BM_ScalarGraphNodeMemory)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// ---- Baseline: a hand-written tape ----

// Struct-of-arrays tape: op code, input indices, forward value; gradients in a parallel array.
struct HandTape {
    enum Op : std::uint8_t { kLeaf, kMul, kAdd, kSigmoid };
    std::vector<std::uint8_t> op;
    std::vector<std::int32_t> in0, in1;
    std::vector<double> value, grad;

    void clear() {
        op.clear();
        in0.clear();
        in1.clear();
        value.clear();
    }
    std::int32_t push(Op o, std::int32_t i0, std::int32_t i1, double v) {
        op.push_back(o);
        in0.push_back(i0);
        in1.push_back(i1);
        value.push_back(v);
        return static_cast<std::int32_t>(value.size() - 1);
    }
    std::int32_t leaf(double v) { return push(kLeaf, -1, -1, v); }
    std::int32_t mul(std::int32_t x, std::int32_t y) {
        return push(kMul, x, y, value[x] * value[y]);
    }
    std::int32_t add(std::int32_t x, std::int32_t y) {
        return push(kAdd, x, y, value[x] + value[y]);
    }
    std::int32_t sigmoid(std::int32_t x) {
        const double v = value[x];
        // Same two-branch form as the engine's sigmoid.
        const double s = v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
        return push(kSigmoid, x, -1, s);
    }
    // Re-evaluates the recorded ops in place (the replay baseline: no push_back).
    void forward() {
        for (std::size_t k = 0; k < op.size(); ++k) {
            const double x = in0[k] >= 0 ? value[in0[k]] : 0, y = in1[k] >= 0 ? value[in1[k]] : 0;
            switch (op[k]) {
                case kMul:
                    value[k] = x * y;
                    break;
                case kAdd:
                    value[k] = x + y;
                    break;
                case kSigmoid:
                    value[k] = x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
                    break;
                default:
                    break;
            }
        }
    }
    void backward(std::int32_t root) {
        grad.assign(value.size(), 0.0);
        grad[root] = 1.0;
        for (std::int32_t k = root; k >= 0; --k) {
            const double g = grad[k];
            switch (op[k]) {
                case kMul:
                    grad[in0[k]] += g * value[in1[k]];
                    grad[in1[k]] += g * value[in0[k]];
                    break;
                case kAdd:
                    grad[in0[k]] += g;
                    grad[in1[k]] += g;
                    break;
                case kSigmoid:
                    grad[in0[k]] += g * value[k] * (1 - value[k]);
                    break;
                default:
                    break;
            }
        }
    }
};

void BM_ScalarGraphHandTape(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep;
    HandTape t;
    for (auto _ : state) {
        t.clear();
        const std::int32_t a = t.leaf(kA), b = t.leaf(kB);
        std::int32_t y = t.leaf(kY0);
        for (std::int64_t i = 0; i < steps; ++i) y = t.sigmoid(t.add(t.mul(a, y), b));
        t.backward(y);
        benchmark::DoNotOptimize(t.grad[a]);
    }
    set_per_node(state, steps * kOpsPerStep);
}
BENCHMARK(BM_ScalarGraphHandTape)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

void BM_ScalarGraphHandTapeReplay(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep;
    HandTape t;
    const std::int32_t a = t.leaf(kA), b = t.leaf(kB);
    const std::int32_t y0 = t.leaf(kY0);
    std::int32_t y = y0;
    for (std::int64_t i = 0; i < steps; ++i) y = t.sigmoid(t.add(t.mul(a, y), b));
    for (auto _ : state) {
        t.value[static_cast<std::size_t>(y0)] = kY0;
        t.forward();
        t.backward(y);
        benchmark::DoNotOptimize(t.grad[a]);
    }
    set_per_node(state, steps * kOpsPerStep);
}
BENCHMARK(BM_ScalarGraphHandTapeReplay)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// The two agree on dL/da (checked once, not timed): the baseline computes the same thing.
void BM_ScalarGraphCheck(benchmark::State& state) {
    const std::int64_t steps = state.range(0) / kOpsPerStep;
    Tensor a = scalar(kA, f64, true), b = scalar(kB, f64, true), y0 = scalar(kY0, f64);
    HandTape t;
    double diff = 0;
    for (auto _ : state) {
        const double ge = engine_step(a, b, y0, steps);
        t.clear();
        const std::int32_t ta = t.leaf(kA), tb = t.leaf(kB);
        std::int32_t y = t.leaf(kY0);
        for (std::int64_t i = 0; i < steps; ++i) y = t.sigmoid(t.add(t.mul(ta, y), tb));
        t.backward(y);
        diff = std::abs(ge - t.grad[ta]) / std::max(1.0, std::abs(t.grad[ta]));
        Capture cap = capture_chain(a, b, steps);
        cap.replay({Array::scalar(f64, kY0)});
        const double gr = a.grad().item();
        a.zero_grad();
        b.zero_grad();
        if (gr != ge) diff = 1;  // a replay gives the dynamic path's bits
    }
    if (diff > 1e-12) state.SkipWithError("engine and hand tape disagree on dL/da");
    state.counters["rel_diff"] = diff;
}
BENCHMARK(BM_ScalarGraphCheck)->Arg(100'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
