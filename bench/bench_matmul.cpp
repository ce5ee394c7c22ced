// matmul + sum, forward and backward: L = sum(A B) with A, B (n, n) leaves, then dL/dA and
// dL/dB. Issue 2 bar: within 1.1x of raw BLAS at n >= 512, float32 and float64.
// Baseline: the same four steps as raw CBLAS calls on preallocated buffers:
//   C = A B,  L = sum(C) (a dot with the ones matrix),  dA = G B^T,  dB = A^T G  (G = ones).

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "autograd/autograd.h"

namespace {

using namespace xgrad;

constexpr std::uint64_t kSeed = 7;

template <class T>
constexpr DType dtype_of = sizeof(T) == 4 ? f32 : f64;

// Three n^3 products of 2 n^3 flops each: items/s is FLOP/s.
void set_flops(benchmark::State& state, std::int64_t n) {
    state.SetItemsProcessed(state.iterations() * 6 * n * n * n);
}

template <class T>
void BM_MatmulSumEngine(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Tensor a = uniform({n, n}, -1, 1, kSeed, dtype_of<T>, /*requires_grad=*/true);
    Tensor b = uniform({n, n}, -1, 1, kSeed + 1, dtype_of<T>, true);
    for (auto _ : state) {
        Tensor loss = sum(matmul(a, b));
        loss.backward();
        benchmark::DoNotOptimize(a.node());
        a.zero_grad();
        b.zero_grad();
    }
    set_flops(state, state.range(0));
}

// C (m,n) = op(A) op(B), row-major, through the dtype's CBLAS gemm.
void gemm(bool ta, bool tb, int n, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, n,
                n, 1.0f, a, n, b, n, 0.0f, c, n);
}
void gemm(bool ta, bool tb, int n, const double* a, const double* b, double* c) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, n, n,
                n, 1.0, a, n, b, n, 0.0, c, n);
}
float dot(int n, const float* x, const float* y) { return cblas_sdot(n, x, 1, y, 1); }
double dot(int n, const double* x, const double* y) { return cblas_ddot(n, x, 1, y, 1); }

// A 64-byte aligned buffer, as the engine's arrays are (alignment changes BLAS's copy speed).
template <class T>
struct Buffer {
    explicit Buffer(std::size_t n, T fill = T(0))
        : p(static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64)))) {
        std::fill(p, p + n, fill);
    }
    ~Buffer() { ::operator delete(p, std::align_val_t(64)); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    T* data() { return p; }
    T* p;
};

template <class T>
void BM_MatmulSumBlas(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    const Tensor ta = uniform({nn}, -1, 1, kSeed, dtype_of<T>);
    const Tensor tb = uniform({nn}, -1, 1, kSeed + 1, dtype_of<T>);
    Buffer<T> a(nn), b(nn), c(nn), g(nn, T(1)), da(nn), db(nn);
    std::copy(ta.value().data<T>(), ta.value().data<T>() + nn, a.data());
    std::copy(tb.value().data<T>(), tb.value().data<T>() + nn, b.data());
    for (auto _ : state) {
        gemm(false, false, n, a.data(), b.data(), c.data());                      // C = A B
        benchmark::DoNotOptimize(dot(static_cast<int>(nn), c.data(), g.data()));  // sum(C)
        gemm(false, true, n, g.data(), b.data(), da.data());                      // dA = G B^T
        gemm(true, false, n, a.data(), g.data(), db.data());                      // dB = A^T G
        benchmark::ClobberMemory();
    }
    set_flops(state, state.range(0));
}

#define XGRAD_MATMUL_BENCH(fn, T) \
    BENCHMARK_TEMPLATE(fn, T)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond)
XGRAD_MATMUL_BENCH(BM_MatmulSumEngine, float);
XGRAD_MATMUL_BENCH(BM_MatmulSumBlas, float);
XGRAD_MATMUL_BENCH(BM_MatmulSumEngine, double);
XGRAD_MATMUL_BENCH(BM_MatmulSumBlas, double);

}  // namespace
