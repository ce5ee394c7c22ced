#pragma once
// An engine and its baseline alternating call by call in one benchmark loop, each call timed,
// which side goes first alternating (the second finds the first's data in cache). On this
// shared VM the machine's speed drifts between repetitions, and the ratio of two separate
// benchmarks moves with it (bench_mlp_step's separate replay ratios: 1.01-1.15 from run to
// run; interleaved: 1.06-1.09). Counters: each side's mean in us and their ratio.

#include <benchmark/benchmark.h>

#include <chrono>

namespace xgrad::bench {

template <class Engine, class Hand>
void interleaved(benchmark::State& state, Engine&& engine, Hand&& hand) {
    using Clock = std::chrono::steady_clock;
    double engine_s = 0, hand_s = 0;
    bool engine_first = true;
    for (auto _ : state) {
        const auto t0 = Clock::now();
        engine_first ? engine() : hand();
        const auto t1 = Clock::now();
        engine_first ? hand() : engine();
        const auto t2 = Clock::now();
        const double first = std::chrono::duration<double>(t1 - t0).count();
        const double second = std::chrono::duration<double>(t2 - t1).count();
        engine_s += engine_first ? first : second;
        hand_s += engine_first ? second : first;
        engine_first = !engine_first;
    }
    const auto it = static_cast<double>(state.iterations());
    state.counters["engine_us"] = engine_s / it * 1e6;
    state.counters["hand_us"] = hand_s / it * 1e6;
    state.counters["ratio"] = engine_s / hand_s;
}

}  // namespace xgrad::bench
