// Conv2d forward+backward through xgrad::nn (im2col, one gemm per sample, col2im, all recorded
// as ops) against the same im2col + GEMM written by hand on raw cblas_sgemm with preallocated
// buffers. Issue 11: N=64, C=16->32, 14x14, k=3, pad 1, float32, one thread, within 1.2x.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "bench/huge_pages.h"
#include "nn/nn.h"

namespace {

using namespace xgrad;

constexpr std::size_t kN = 64, kC = 16, kO = 32, kH = 14, kW = 14, kK = 3, kPad = 1;
constexpr std::size_t kL = kH * kW;          // stride 1, pad 1: the output is 14x14 too
constexpr std::size_t kRows = kC * kK * kK;  // 144

// Multiply-adds of forward (1) and backward (dW and dX: 2), times 2 flops each.
std::int64_t flops() { return static_cast<std::int64_t>(3 * 2 * kN * kO * kRows * kL); }

void BM_ConvEngineFwdBwd(benchmark::State& state) {
    nn::manual_seed(1);
    nn::Conv2d conv(nn::Conv2dOptions(kC, kO, kK).padding(kPad));
    Tensor x = uniform({kN, kC, kH, kW}, -1, 1, 2, f32, /*requires_grad=*/true);
    const Tensor seed = uniform({kN, kO, kH, kW}, -1, 1, 3);
    for (auto _ : state) {
        conv.zero_grad();
        x.zero_grad();
        Tensor y = conv.forward(x);
        y.backward(seed);
        benchmark::DoNotOptimize(x.grad().value().raw());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

// The same algorithm by hand: cols[n] = im2col(x[n]) (144, 196); y[n] = W (32, 144) cols[n] + b;
// dW = sum_n G[n] cols[n]^T; db = sum of G; dcols = W^T G[n]; dx[n] = col2im(dcols).
void im2col(const float* x, float* cols) {
    for (std::size_t c = 0; c < kC; ++c)
        for (std::size_t i = 0; i < kK; ++i)
            for (std::size_t j = 0; j < kK; ++j) {
                float* dst = cols + ((c * kK + i) * kK + j) * kL;
                for (std::size_t oy = 0; oy < kH; ++oy) {
                    const long iy = long(oy + i) - long(kPad);
                    for (std::size_t ox = 0; ox < kW; ++ox) {
                        const long ix = long(ox + j) - long(kPad);
                        dst[oy * kW + ox] =
                            iy >= 0 && iy < long(kH) && ix >= 0 && ix < long(kW)
                                ? x[(c * kH + std::size_t(iy)) * kW + std::size_t(ix)]
                                : 0.f;
                    }
                }
            }
}

void col2im(const float* cols, float* x) {
    std::fill(x, x + kC * kH * kW, 0.f);
    for (std::size_t c = 0; c < kC; ++c)
        for (std::size_t i = 0; i < kK; ++i)
            for (std::size_t j = 0; j < kK; ++j) {
                const float* src = cols + ((c * kK + i) * kK + j) * kL;
                for (std::size_t oy = 0; oy < kH; ++oy) {
                    const long iy = long(oy + i) - long(kPad);
                    if (iy < 0 || iy >= long(kH)) continue;
                    for (std::size_t ox = 0; ox < kW; ++ox) {
                        const long ix = long(ox + j) - long(kPad);
                        if (ix >= 0 && ix < long(kW)) {
                            x[(c * kH + std::size_t(iy)) * kW + std::size_t(ix)] +=
                                src[oy * kW + ox];
                        }
                    }
                }
            }
}

void BM_ConvHandFwdBwd(benchmark::State& state) {
    const std::vector<double> xs = uniform({kN, kC, kH, kW}, -1, 1, 2).to_vector();
    const std::vector<double> gs = uniform({kN, kO, kH, kW}, -1, 1, 3).to_vector();
    const std::vector<double> ws = uniform({kO, kRows}, -0.1, 0.1, 4).to_vector();
    ::bench::Buffer<float> x(xs.begin(), xs.end()), g(gs.begin(), gs.end()),
        w(ws.begin(), ws.end());
    ::bench::Buffer<float> b(kO, 0.1f), y(kN * kO * kL), cols(kN * kRows * kL), dcols(kRows * kL);
    ::bench::Buffer<float> dw(kO * kRows), db(kO), dx(x.size());
    const int O = int(kO), R = int(kRows), L = int(kL);
    for (auto _ : state) {
        for (std::size_t n = 0; n < kN; ++n) {
            float* cn = cols.data() + n * kRows * kL;
            im2col(x.data() + n * kC * kH * kW, cn);
            float* yn = y.data() + n * kO * kL;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, L, R, 1.f, w.data(), R, cn, L,
                        0.f, yn, L);
            for (std::size_t o = 0; o < kO; ++o)
                for (std::size_t l = 0; l < kL; ++l) yn[o * kL + l] += b[o];
        }
        std::fill(dw.begin(), dw.end(), 0.f);
        std::fill(db.begin(), db.end(), 0.f);
        for (std::size_t n = 0; n < kN; ++n) {
            const float* gn = g.data() + n * kO * kL;
            const float* cn = cols.data() + n * kRows * kL;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, R, L, 1.f, gn, L, cn, L, 1.f,
                        dw.data(), R);
            for (std::size_t o = 0; o < kO; ++o)
                for (std::size_t l = 0; l < kL; ++l) db[o] += gn[o * kL + l];
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, L, O, 1.f, w.data(), R, gn, L,
                        0.f, dcols.data(), L);
            col2im(dcols.data(), dx.data() + n * kC * kH * kW);
        }
        benchmark::DoNotOptimize(dx.data());
        benchmark::DoNotOptimize(dw.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.SetItemsProcessed(state.iterations() * flops());
}

BENCHMARK(BM_ConvEngineFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ConvHandFwdBwd)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
