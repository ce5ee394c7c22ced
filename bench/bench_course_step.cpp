// The course's two-weight sigmoid net (seeds 000/002), one SGD step on float64 scalars:
//   z1 = x w1,  a1 = s(z1),  z2 = a1 w2,  a2 = s(z2),  loss = 1/2 (a2 - y)^2,
//   backward, w <- w - lr dloss/dw, zero_grad.
// Issue 13 targets: <= 300 ns per step, <= 100 ns replayed (autograd/capture.h). Baseline: the
// same step written out by hand.

#include <benchmark/benchmark.h>

#include <cmath>

#include "autograd/autograd.h"

namespace {

using namespace xgrad;

constexpr double kX = 1.5, kY = 0.5, kW1 = 0.8, kW2 = -0.4, kLr = 0.1;

// One step through the engine, as a user writes it with the public API; returns the loss.
double engine_step(const Tensor& x, const Tensor& y, Tensor& w1, Tensor& w2) {
    Tensor a1 = sigmoid(x * w1);
    Tensor a2 = sigmoid(a1 * w2);
    Tensor loss = 0.5 * square(a2 - y);
    loss.backward();
    for (Tensor* w : {&w1, &w2}) {
        const double g = w->grad().item();
        w->mutable_value().data<double>()[0] -= kLr * g;
        w->zero_grad();
    }
    return loss.item();
}

double sigmoid_ref(double v) {
    return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
}

// The same step by hand; returns the loss.
double hand_step(double x, double y, double& w1, double& w2) {
    const double a1 = sigmoid_ref(x * w1);
    const double a2 = sigmoid_ref(a1 * w2);
    const double loss = 0.5 * (a2 - y) * (a2 - y);
    // Chain rule, parts 4 and 6 of the course: delta2 = (a2 - y) a2 (1 - a2).
    const double d2 = (a2 - y) * a2 * (1 - a2);
    const double g2 = d2 * a1;
    const double g1 = d2 * w2 * a1 * (1 - a1) * x;
    w1 -= kLr * g1;
    w2 -= kLr * g2;
    return loss;
}

void BM_CourseStepEngine(benchmark::State& state) {
    Tensor x = scalar(kX, f64), y = scalar(kY, f64);
    Tensor w1 = scalar(kW1, f64, /*requires_grad=*/true), w2 = scalar(kW2, f64, true);
    for (auto _ : state) benchmark::DoNotOptimize(engine_step(x, y, w1, w2));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CourseStepEngine);

// The step captured once (autograd/capture.h) and replayed: the scalar tape.
void BM_CourseStepEngineReplay(benchmark::State& state) {
    Tensor w1 = scalar(kW1, f64, true), w2 = scalar(kW2, f64, true);
    Capture step(
        [&](const std::vector<Tensor>& in) {
            Tensor a2 = sigmoid(sigmoid(in[0] * w1) * w2);
            return 0.5 * square(a2 - in[1]);
        },
        {scalar(kX, f64), scalar(kY, f64)});
    for (auto _ : state) {
        step.replay({kX, kY});  // the inputs as doubles: no Array built
        // The update as nn::optim::SGD makes it: the gradient in place under its lock
        // (Tensor::grad() would build a tensor for it), then forgotten.
        for (Tensor* w : {&w1, &w2}) {
            GradRef g = w->mutable_grad();
            w->mutable_value().data<double>()[0] -= kLr * g.data<double>()[0];
            g.reset();
        }
        benchmark::DoNotOptimize(step.output_value());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CourseStepEngineReplay);

void BM_CourseStepHand(benchmark::State& state) {
    double x = kX, y = kY, w1 = kW1, w2 = kW2;
    for (auto _ : state) {
        benchmark::DoNotOptimize(x);  // keep the inputs opaque: no constant folding
        benchmark::DoNotOptimize(y);
        benchmark::DoNotOptimize(hand_step(x, y, w1, w2));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CourseStepHand);

// The same hand-written step, named for bench/ratios.py's pairing with the replay.
void BM_CourseStepHandReplay(benchmark::State& state) { BM_CourseStepHand(state); }
BENCHMARK(BM_CourseStepHandReplay);

// The two agree after `steps` steps (checked once, not timed).
void BM_CourseStepCheck(benchmark::State& state) {
    double diff = 0;
    for (auto _ : state) {
        Tensor x = scalar(kX, f64), y = scalar(kY, f64);
        Tensor w1 = scalar(kW1, f64, true), w2 = scalar(kW2, f64, true);
        double h1 = kW1, h2 = kW2;
        for (int i = 0; i < 100; ++i) {
            engine_step(x, y, w1, w2);
            hand_step(kX, kY, h1, h2);
        }
        diff = std::max(std::abs(w1.item() - h1), std::abs(w2.item() - h2));
    }
    if (diff > 1e-12) state.SkipWithError("engine and hand step disagree on the weights");
    state.counters["abs_diff"] = diff;
}
BENCHMARK(BM_CourseStepCheck)->Iterations(1);

}  // namespace
