// The N-d kernels (autograd/kernels/nd.h) against plain baselines, one thread:
// - permute(...).contiguous() of a (64,128,256) float32 array, against a memcpy of the same
//   8 MB (issue 10: within 2x of a plain copy), every permutation but the identity interleaved;
// - batched matmul, 32 batches of 64x64 @ 64x64 float32, forward and forward+backward (the
//   kernels matmul, matmul_backward_a, matmul_backward_b), against a loop of raw cblas_sgemm
//   calls on preallocated buffers (issue 10: within 1.15x).

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstring>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/op.h"
#include "bench/interleaved.h"

namespace {

using namespace xgrad;

const Shape kCube{64, 128, 256};

void permute_bench(benchmark::State& state, std::vector<std::int64_t> dims) {
    const Array a = uniform(kCube, -1, 1, 1).value();
    for (auto _ : state) {
        Array p = kernels::permute(a, dims);
        benchmark::DoNotOptimize(p.raw());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(a.nbytes()));
}
void BM_CopyEnginePermute021(benchmark::State& state) { permute_bench(state, {0, 2, 1}); }
void BM_CopyEnginePermute201(benchmark::State& state) { permute_bench(state, {2, 0, 1}); }
void BM_CopyEnginePermute210(benchmark::State& state) { permute_bench(state, {2, 1, 0}); }

// The plain copy every permute is compared with: the same bytes into a fresh array.
void memcpy_bench(benchmark::State& state) {
    const Array a = uniform(kCube, -1, 1, 1).value();
    for (auto _ : state) {
        Array p = Array::empty(f32, kCube);
        std::memcpy(p.raw(), a.raw(), a.nbytes());
        benchmark::DoNotOptimize(p.raw());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(a.nbytes()));
}
void BM_CopyHandPermute021(benchmark::State& state) { memcpy_bench(state); }
void BM_CopyHandPermute201(benchmark::State& state) { memcpy_bench(state); }
void BM_CopyHandPermute210(benchmark::State& state) { memcpy_bench(state); }

// A permute and the memcpy alternating copy by copy (bench/interleaved.h; issue 10: within 2x).
void interleaved_bench(benchmark::State& state, std::vector<std::int64_t> dims) {
    const Array a = uniform(kCube, -1, 1, 1).value();
    bench::interleaved(
        state,
        [&] {
            Array p = kernels::permute(a, dims);
            benchmark::DoNotOptimize(p.raw());
        },
        [&] {
            Array p = Array::empty(f32, kCube);
            std::memcpy(p.raw(), a.raw(), a.nbytes());
            benchmark::DoNotOptimize(p.raw());
        });
}
void BM_CopyInterleavedPermute021(benchmark::State& state) { interleaved_bench(state, {0, 2, 1}); }
void BM_CopyInterleavedPermute201(benchmark::State& state) { interleaved_bench(state, {2, 0, 1}); }
void BM_CopyInterleavedPermute210(benchmark::State& state) { interleaved_bench(state, {2, 1, 0}); }
void BM_CopyInterleavedPermute102(benchmark::State& state) { interleaved_bench(state, {1, 0, 2}); }
void BM_CopyInterleavedPermute120(benchmark::State& state) { interleaved_bench(state, {1, 2, 0}); }

constexpr std::size_t kB = 32, kN = 64;

void BM_BmmEngineFwd(benchmark::State& state) {
    const Array a = uniform({kB, kN, kN}, -1, 1, 1).value(),
                b = uniform({kB, kN, kN}, -1, 1, 2).value();
    for (auto _ : state) {
        Array c = kernels::matmul(a, b);
        benchmark::DoNotOptimize(c.raw());
    }
    state.SetItemsProcessed(state.iterations() * 2 * kB * kN * kN * kN);
}

void BM_BmmEngineFwdBwd(benchmark::State& state) {
    const Array a = uniform({kB, kN, kN}, -1, 1, 1).value(),
                b = uniform({kB, kN, kN}, -1, 1, 2).value();
    const Array g = uniform({kB, kN, kN}, -1, 1, 3).value();
    for (auto _ : state) {
        Array c = kernels::matmul(a, b);
        Array ga = kernels::matmul_backward_a(g, a, b);
        Array gb = kernels::matmul_backward_b(g, a, b);
        benchmark::DoNotOptimize(c.raw());
        benchmark::DoNotOptimize(ga.raw());
        benchmark::DoNotOptimize(gb.raw());
    }
    state.SetItemsProcessed(state.iterations() * 6 * kB * kN * kN * kN);
}

void sgemm(bool ta, bool tb, const float* a, const float* b, float* c) {
    const int n = static_cast<int>(kN);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, n,
                n, 1.0f, a, n, b, n, 0.0f, c, n);
}

void BM_BmmBlasFwd(benchmark::State& state) {
    const Array a = uniform({kB, kN, kN}, -1, 1, 1).value(),
                b = uniform({kB, kN, kN}, -1, 1, 2).value();
    std::vector<float> c(kB * kN * kN);
    const float *A = a.data<float>(), *B = b.data<float>();
    for (auto _ : state) {
        for (std::size_t i = 0; i < kB; ++i)
            sgemm(false, false, A + i * kN * kN, B + i * kN * kN, c.data() + i * kN * kN);
        benchmark::DoNotOptimize(c.data());
    }
    state.SetItemsProcessed(state.iterations() * 2 * kB * kN * kN * kN);
}

void BM_BmmBlasFwdBwd(benchmark::State& state) {
    const Array a = uniform({kB, kN, kN}, -1, 1, 1).value(),
                b = uniform({kB, kN, kN}, -1, 1, 2).value();
    const Array g = uniform({kB, kN, kN}, -1, 1, 3).value();
    std::vector<float> c(kB * kN * kN), ga(kB * kN * kN), gb(kB * kN * kN);
    const float *A = a.data<float>(), *B = b.data<float>(), *G = g.data<float>();
    for (auto _ : state) {
        for (std::size_t i = 0; i < kB; ++i) {
            const std::size_t o = i * kN * kN;
            sgemm(false, false, A + o, B + o, c.data() + o);  // C = A B
            sgemm(false, true, G + o, B + o, ga.data() + o);  // dA = G B^T
            sgemm(true, false, A + o, G + o, gb.data() + o);  // dB = A^T G
        }
        benchmark::DoNotOptimize(c.data());
        benchmark::DoNotOptimize(ga.data());
        benchmark::DoNotOptimize(gb.data());
    }
    state.SetItemsProcessed(state.iterations() * 6 * kB * kN * kN * kN);
}

BENCHMARK(BM_CopyEnginePermute021);
BENCHMARK(BM_CopyHandPermute021);
BENCHMARK(BM_CopyEnginePermute201);
BENCHMARK(BM_CopyHandPermute201);
BENCHMARK(BM_CopyEnginePermute210);
BENCHMARK(BM_CopyHandPermute210);
BENCHMARK(BM_CopyInterleavedPermute021);
BENCHMARK(BM_CopyInterleavedPermute201);
BENCHMARK(BM_CopyInterleavedPermute210);
BENCHMARK(BM_CopyInterleavedPermute102);
BENCHMARK(BM_CopyInterleavedPermute120);
BENCHMARK(BM_BmmEngineFwd);
BENCHMARK(BM_BmmBlasFwd);
BENCHMARK(BM_BmmEngineFwdBwd);
BENCHMARK(BM_BmmBlasFwdBwd);

}  // namespace
