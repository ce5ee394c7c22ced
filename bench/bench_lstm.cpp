// LSTM forward+backward through xgrad::nn (one input-projection GEMM, then the recurrent_scan
// record: one GEMM per step for all gates, the mirror loop in backward) against the same
// algorithm written by hand on raw cblas_sgemm with preallocated buffers. Issue 11: batch 32,
// hidden 128, input 128, 32 steps, float32, one thread, within 1.25x.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nn/nn.h"

namespace {

using namespace xgrad;

constexpr std::size_t kT = 32, kN = 32, kIn = 128, kH = 128, kG = 4 * kH;

// Multiply-adds of the GEMMs: forward x W_ih^T and h W_hh^T; backward dX, dW_ih, dh, dW_hh;
// times 2 flops each.
std::int64_t flops() { return static_cast<std::int64_t>(2 * 3 * kT * kN * kG * (kIn + kH)); }

void BM_LstmEngineFwdBwd(benchmark::State& state) {
    nn::manual_seed(1);
    nn::LSTM lstm(nn::LSTMOptions(kIn, kH));
    Tensor x = uniform({kT, kN, kIn}, -1, 1, 2, f32, /*requires_grad=*/true);
    const Tensor seed = uniform({kT, kN, kH}, -1, 1, 3);
    for (auto _ : state) {
        lstm.zero_grad();
        x.zero_grad();
        auto [out, hc] = lstm.forward(x);
        out.backward(seed);
        benchmark::DoNotOptimize(x.grad().value().raw());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

// The same LSTM by hand: XP = X W_ih^T (one GEMM); per step pre = h W_hh^T (one GEMM), the
// gates i, f, g, o, c = f c + i g, h = o tanh(c). Backward: per step the gate gradients dA and
// dh = dA W_hh (one GEMM); then dW_hh = dA[1:]^T H[:-1], dW_ih = dA^T X, dX = dA W_ih, db = sum
// of dA (h0 = c0 = 0, so their terms are skipped).
void BM_LstmBlasFwdBwd(benchmark::State& state) {
    auto vec = [](Shape s, double lo, double hi, std::uint64_t seed) {
        const std::vector<double> v = uniform(std::move(s), lo, hi, seed).to_vector();
        return std::vector<float>(v.begin(), v.end());
    };
    const float k = 1.f / std::sqrt(float(kH));
    const std::vector<float> x = vec({kT, kN, kIn}, -1, 1, 2), g = vec({kT, kN, kH}, -1, 1, 3);
    const std::vector<float> wih = vec({kG, kIn}, -k, k, 4), whh = vec({kG, kH}, -k, k, 5);
    const std::vector<float> b = vec({kG}, -k, k, 6);
    std::vector<float> xp(kT * kN * kG), pre(kN * kG), gates(kT * kN * kG);
    std::vector<float> hs(kT * kN * kH), cs(kT * kN * kH), zero(kN * kH, 0.f);
    std::vector<float> da(kT * kN * kG), dh(kN * kH), dc(kN * kH), dwih(kG * kIn), dwhh(kG * kH);
    std::vector<float> db(kG), dx(kT * kN * kIn);
    const int TN = int(kT * kN), N = int(kN), G = int(kG), In = int(kIn), H = int(kH);
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TN, G, In, 1.f, x.data(), In,
                    wih.data(), In, 0.f, xp.data(), G);
        for (std::size_t t = 0; t < kT; ++t) {
            const float* hp = t == 0 ? zero.data() : hs.data() + (t - 1) * kN * kH;
            const float* cp = t == 0 ? zero.data() : cs.data() + (t - 1) * kN * kH;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, G, H, 1.f, hp, H, whh.data(), H,
                        0.f, pre.data(), G);
            for (std::size_t n = 0; n < kN; ++n) {
                const float* a = xp.data() + (t * kN + n) * kG;
                const float* p = pre.data() + n * kG;
                float* sv = gates.data() + (t * kN + n) * kG;
                float* c = cs.data() + (t * kN + n) * kH;
                float* h = hs.data() + (t * kN + n) * kH;
                for (std::size_t j = 0; j < kH; ++j) {
                    const float i = sigmoid(a[j] + p[j] + b[j]);
                    const float f = sigmoid(a[kH + j] + p[kH + j] + b[kH + j]);
                    const float gg = std::tanh(a[2 * kH + j] + p[2 * kH + j] + b[2 * kH + j]);
                    const float o = sigmoid(a[3 * kH + j] + p[3 * kH + j] + b[3 * kH + j]);
                    c[j] = f * cp[n * kH + j] + i * gg;
                    h[j] = o * std::tanh(c[j]);
                    sv[j] = i;
                    sv[kH + j] = f;
                    sv[2 * kH + j] = gg;
                    sv[3 * kH + j] = o;
                }
            }
        }
        std::fill(dh.begin(), dh.end(), 0.f);
        std::fill(dc.begin(), dc.end(), 0.f);
        for (std::size_t t = kT; t-- > 0;) {
            const float* cp = t == 0 ? zero.data() : cs.data() + (t - 1) * kN * kH;
            for (std::size_t n = 0; n < kN; ++n) {
                const float* sv = gates.data() + (t * kN + n) * kG;
                const float* c = cs.data() + (t * kN + n) * kH;
                const float* gh = g.data() + (t * kN + n) * kH;
                float* d = da.data() + (t * kN + n) * kG;
                for (std::size_t j = 0; j < kH; ++j) {
                    const float i = sv[j], f = sv[kH + j], gg = sv[2 * kH + j], o = sv[3 * kH + j];
                    const float dht = dh[n * kH + j] + gh[j];
                    const float tc = std::tanh(c[j]);
                    const float dct = dc[n * kH + j] + dht * o * (1.f - tc * tc);
                    d[j] = dct * gg * i * (1.f - i);
                    d[kH + j] = dct * cp[n * kH + j] * f * (1.f - f);
                    d[2 * kH + j] = dct * i * (1.f - gg * gg);
                    d[3 * kH + j] = dht * tc * o * (1.f - o);
                    dc[n * kH + j] = dct * f;
                }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, G, 1.f,
                        da.data() + t * kN * kG, G, whh.data(), H, 0.f, dh.data(), H);
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, TN - N, 1.f, da.data() + kN * kG,
                    G, hs.data(), H, 0.f, dwhh.data(), H);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, In, TN, 1.f, da.data(), G, x.data(),
                    In, 0.f, dwih.data(), In);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, TN, In, G, 1.f, da.data(), G,
                    wih.data(), In, 0.f, dx.data(), In);
        std::fill(db.begin(), db.end(), 0.f);
        for (std::size_t r = 0; r < kT * kN; ++r)
            for (std::size_t j = 0; j < kG; ++j) db[j] += da[r * kG + j];
        benchmark::DoNotOptimize(dx.data());
        benchmark::DoNotOptimize(dwih.data());
        benchmark::DoNotOptimize(dwhh.data());
        benchmark::DoNotOptimize(db.data());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

BENCHMARK(BM_LstmEngineFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LstmBlasFwdBwd)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
