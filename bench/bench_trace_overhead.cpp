// The cost of the debugging hooks when they are off: scalar-graph forward+backward and the
// engine's backward loop alone, in ns per node, next to a hand-written scalar loop.
//
// The same file builds against the commit before the hooks (the trace/anomaly benchmarks are
// behind __has_include), so "hooks compiled in but off" can be compared with "no hooks" by
// running both binaries; README and the commit message give the measured numbers.

#include <benchmark/benchmark.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "autograd/autograd.h"

#if __has_include("autograd/debug/trace.h")
#define XGRAD_HAS_DEBUG_HOOKS 1
#endif

namespace {

using namespace xgrad;

// A chain of `steps` neurons y = tanh(y * w + b): 3 op nodes per step, 2 constants.
struct Chain {
    Tensor x, w, b, y;
};

Chain build(std::int64_t steps) {
    Chain c{scalar(0.3, f64, true), scalar(0.9, f64, true), scalar(0.1, f64, true), {}};
    c.y = c.x;
    for (std::int64_t i = 0; i < steps; ++i) c.y = tanh(c.y * c.w + c.b);
    return c;
}

void BM_ScalarGraphForwardBackward(benchmark::State& state) {
    const std::int64_t steps = state.range(0);
    for (auto _ : state) {
        Chain c = build(steps);
        c.y.backward();
        benchmark::DoNotOptimize(c.w.grad().item());
    }
    state.SetItemsProcessed(state.iterations() * steps * 3);  // op nodes
}
BENCHMARK(BM_ScalarGraphForwardBackward)->Arg(1000)->Arg(100000);

// The engine loop alone: the graph is built once and backpropagated with retain_graph.
void BM_ScalarGraphBackwardOnly(benchmark::State& state) {
    const std::int64_t steps = state.range(0);
    Chain c = build(steps);
    for (auto _ : state) {
        c.y.backward(/*retain_graph=*/true);
        benchmark::DoNotOptimize(c.w.has_grad());
    }
    state.SetItemsProcessed(state.iterations() * steps * 3);
}
BENCHMARK(BM_ScalarGraphBackwardOnly)->Arg(1000)->Arg(100000);

// Baseline: the same chain and its derivative dy/dw written by hand with doubles.
void BM_ScalarChainHandWritten(benchmark::State& state) {
    const std::int64_t steps = state.range(0);
    std::vector<double> ys(static_cast<std::size_t>(steps) + 1);
    for (auto _ : state) {
        const double w = 0.9, b = 0.1;
        ys[0] = 0.3;
        for (std::int64_t i = 0; i < steps; ++i) {
            ys[std::size_t(i) + 1] = std::tanh(ys[std::size_t(i)] * w + b);
        }
        double g = 1, dw = 0;
        for (std::int64_t i = steps; i-- > 0;) {
            const double t = ys[std::size_t(i) + 1], dz = g * (1 - t * t);  // tanh' = 1 - t^2
            dw += dz * ys[std::size_t(i)];
            g = dz * w;
        }
        benchmark::DoNotOptimize(dw);
    }
    state.SetItemsProcessed(state.iterations() * steps * 3);
}
BENCHMARK(BM_ScalarChainHandWritten)->Arg(1000)->Arg(100000);

#ifdef XGRAD_HAS_DEBUG_HOOKS
// For contrast: what the trace and anomaly mode cost when they are on.
void BM_ScalarGraphBackwardTraceOn(benchmark::State& state) {
    const std::int64_t steps = state.range(0);
    Chain c = build(steps);
    std::ostream null_stream(nullptr);
    BackwardTraceGuard trace(null_stream);
    for (auto _ : state) c.y.backward(/*retain_graph=*/true);
    state.SetItemsProcessed(state.iterations() * steps * 3);
}
BENCHMARK(BM_ScalarGraphBackwardTraceOn)->Arg(1000);

void BM_ScalarGraphForwardBackwardAnomalyOn(benchmark::State& state) {
    const std::int64_t steps = state.range(0);
    DetectAnomalyGuard anomaly;
    for (auto _ : state) {
        Chain c = build(steps);
        c.y.backward();
    }
    state.SetItemsProcessed(state.iterations() * steps * 3);
}
BENCHMARK(BM_ScalarGraphForwardBackwardAnomalyOn)->Arg(1000);
#endif

}  // namespace

BENCHMARK_MAIN();
