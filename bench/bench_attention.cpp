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

void sgemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

// S = scale Q K^T, P = softmax(S), O = P V; backward dV = P^T G, dP = G V^T,
// dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q. Buffers allocated per
// iteration, as the engine's are.
void BM_AttentionBlasSdpaFwdBwd(benchmark::State& state) {
    const Shape s{kBatch, kHeads, kT, kD};
    const Array qa = uniform(s, -1, 1, 1).value(), ka = uniform(s, -1, 1, 2).value(),
                va = uniform(s, -1, 1, 3).value(), ga = uniform(s, -1, 1, 4).value();
    const float *Q = qa.data<float>(), *K = ka.data<float>(), *V = va.data<float>(),
                *G = ga.data<float>();
    const float scale = 1.0f / std::sqrt(static_cast<float>(kD));
    const std::size_t nb = kBatch * kHeads, tt = kT * kT, td = kT * kD;
    const int T = static_cast<int>(kT), D = static_cast<int>(kD);
    for (auto _ : state) {
        std::vector<float> P(nb * tt), O(nb * td), dP(nb * tt), dQ(nb * td), dK(nb * td),
            dV(nb * td);
        for (std::size_t b = 0; b < nb; ++b) {
            float* p = P.data() + b * tt;
            const float *q = Q + b * td, *k = K + b * td, *v = V + b * td, *g = G + b * td;
            sgemm(false, true, T, T, D, q, k, p);  // S = Q K^T
            for (std::size_t i = 0; i < kT; ++i) {
                float* row = p + i * kT;
                float mx = -INFINITY;
                for (std::size_t j = 0; j < kT; ++j) mx = std::max(mx, row[j] * scale);
                float z = 0;
                for (std::size_t j = 0; j < kT; ++j) z += (row[j] = std::exp(row[j] * scale - mx));
                for (std::size_t j = 0; j < kT; ++j) row[j] /= z;
            }
            sgemm(false, false, T, D, T, p, v, O.data() + b * td);  // O = P V
            sgemm(true, false, T, D, T, p, g, dV.data() + b * td);  // dV = P^T G
            float* dp = dP.data() + b * tt;
            sgemm(false, true, T, T, D, g, v, dp);  // dP = G V^T
            for (std::size_t i = 0; i < kT; ++i) {
                float* dr = dp + i * kT;
                const float* pr = p + i * kT;
                float dot = 0;
                for (std::size_t j = 0; j < kT; ++j) dot += dr[j] * pr[j];
                for (std::size_t j = 0; j < kT; ++j) dr[j] = scale * pr[j] * (dr[j] - dot);
            }
            sgemm(false, false, T, D, T, dp, k, dQ.data() + b * td);  // dQ = dS K
            sgemm(true, false, T, D, T, dp, q, dK.data() + b * td);   // dK = dS^T Q
        }
        benchmark::DoNotOptimize(O.data());
        benchmark::DoNotOptimize(dQ.data());
        benchmark::DoNotOptimize(dK.data());
        benchmark::DoNotOptimize(dV.data());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

BENCHMARK(BM_AttentionEngineSdpaFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AttentionBlasSdpaFwdBwd)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
