// Attention through nn::functional::scaled_dot_product_attention (matmul, softmax, matmul,
// recorded as ops), forward + backward, against the same arithmetic on raw cblas_sgemm with
// hand-written softmax loops in this binary. Issue 10's target: (B, H, T, D) = (8, 4, 128, 32),
// float32, one thread, within 1.3x. (bench_shape_ops measures the same product written with
// the engine's ops directly.)

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bench/raw_attention.h"
#include "nn/nn.h"

namespace {

using namespace xgrad;

constexpr std::size_t kBatch = 8, kHeads = 4, kT = 128, kD = 32;

// Multiply-adds: 2 products forward, 4 backward, 2 flops each.
std::int64_t flops() { return static_cast<std::int64_t>(12 * kBatch * kHeads * kT * kT * kD); }

void BM_AttentionEngineSdpaFwdBwd(benchmark::State& state) {
    const Shape s{kBatch, kHeads, kT, kD};
    Tensor q = uniform(s, -1, 1, 1, f32, true), k = uniform(s, -1, 1, 2, f32, true),
           v = uniform(s, -1, 1, 3, f32, true);
    const Tensor g = uniform(s, -1, 1, 4);
    for (auto _ : state) {
        Tensor o = nn::functional::scaled_dot_product_attention(q, k, v);
        o.backward(g);
        benchmark::DoNotOptimize(q.grad().value().raw());
        q.zero_grad();
        k.zero_grad();
        v.zero_grad();
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

// The same arithmetic on raw BLAS (bench/raw_attention.h).
void BM_AttentionBlasSdpaFwdBwd(benchmark::State& state) {
    const Shape s{kBatch, kHeads, kT, kD};
    const Array qa = uniform(s, -1, 1, 1).value(), ka = uniform(s, -1, 1, 2).value(),
                va = uniform(s, -1, 1, 3).value(), ga = uniform(s, -1, 1, 4).value();
    const float *Q = qa.data<float>(), *K = ka.data<float>(), *V = va.data<float>(),
                *G = ga.data<float>();
    for (auto _ : state) {
        const bench::RawAttention r = bench::raw_attention(Q, K, V, G, kBatch * kHeads, kT, kD);
        benchmark::DoNotOptimize(r.O.data());
        benchmark::DoNotOptimize(r.dQ.data());
        benchmark::DoNotOptimize(r.dK.data());
        benchmark::DoNotOptimize(r.dV.data());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

BENCHMARK(BM_AttentionEngineSdpaFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AttentionBlasSdpaFwdBwd)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
