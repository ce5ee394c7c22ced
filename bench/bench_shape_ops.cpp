// The N-d ops through the engine (Tensors, graph, backward), one thread, each next to a
// baseline in this binary (bench/ratios.py pairs BM_<Area>Engine<rest> with BM_<Area>Hand/Blas):
// - permute(x, dims).contiguous() of a (64,128,256) float32 tensor, for every dims but the
//   identity (the benchmark's arguments), against a memcpy of the same 8 MB into a fresh
//   buffer (issue 10: within 2x); the baseline takes the same arguments so that ratios.py pairs
//   each permutation with its own run of the memcpy;
// - bmm of 32 batches of 64x64 @ 64x64 float32, forward + backward through Tensor::backward,
//   against a loop of raw cblas_sgemm calls (C = AB, dA = G B^T, dB = A^T G; issue 10: 1.15x);
// - attention softmax(q k^T / sqrt(d)) v at (B,H,T,D) = (8,4,128,32), forward + backward,
//   against the same arithmetic on raw BLAS with hand-written softmax loops (issue 10: 1.3x);
// - reshape of a 10^6-element float32 tensor, forward + backward from a seed, against what a
//   hand-written one must do: nothing forward (a shape is relabelled), and the gradient copied
//   into a buffer of the input's own (the seed is the caller's). The view shares the input's
//   buffer, so the engine's cost is that one copy plus the graph.

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "autograd/autograd.h"
#include "bench/raw_attention.h"

namespace {

using namespace xgrad;

void BM_ShapeOpsEnginePermuteContiguous(benchmark::State& state) {
    const Tensor x = uniform({64, 128, 256}, -1, 1, 1);
    const std::vector<std::int64_t> dims = {state.range(0), state.range(1), state.range(2)};
    for (auto _ : state) {
        Tensor p = contiguous(permute(x, dims));
        benchmark::DoNotOptimize(p.value().raw());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.value().nbytes()));
}
void BM_ShapeOpsHandPermuteContiguous(benchmark::State& state) {
    const Array a = uniform({64, 128, 256}, -1, 1, 1).value();
    for (auto _ : state) {
        Array p = Array::empty(f32, a.shape());
        std::memcpy(p.raw(), a.raw(), a.nbytes());
        benchmark::DoNotOptimize(p.raw());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(a.nbytes()));
}

constexpr std::size_t kReshapeN = 1000;

void BM_ShapeOpsEngineReshapeFwdBwd(benchmark::State& state) {
    Tensor x = uniform({kReshapeN * kReshapeN}, -1, 1, 1, f32, true);
    const Tensor g = uniform({kReshapeN, kReshapeN}, -1, 1, 2);
    for (auto _ : state) {
        Tensor y = reshape(x, Shape{kReshapeN, kReshapeN});
        y.backward(g);
        benchmark::DoNotOptimize(x.grad().value().raw());
        x.zero_grad();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.value().nbytes()));
}
void BM_ShapeOpsHandReshapeFwdBwd(benchmark::State& state) {
    const Array x = uniform({kReshapeN * kReshapeN}, -1, 1, 1).value();
    const Array g = uniform({kReshapeN, kReshapeN}, -1, 1, 2).value();
    for (auto _ : state) {
        Array grad = Array::empty(f32, x.shape());  // dL/dx = g, laid out as x
        std::memcpy(grad.raw(), g.raw(), g.nbytes());
        benchmark::DoNotOptimize(grad.raw());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.nbytes()));
}

constexpr std::size_t kB = 32, kN = 64;

void BM_ShapeOpsEngineBmmFwdBwd(benchmark::State& state) {
    Tensor a = uniform({kB, kN, kN}, -1, 1, 1, f32, true);
    Tensor b = uniform({kB, kN, kN}, -1, 1, 2, f32, true);
    const Tensor g = uniform({kB, kN, kN}, -1, 1, 3);
    for (auto _ : state) {
        Tensor c = bmm(a, b);
        c.backward(g);
        benchmark::DoNotOptimize(a.grad().value().raw());
        a.zero_grad();
        b.zero_grad();
    }
    state.SetItemsProcessed(state.iterations() * 6 * kB * kN * kN * kN);
}

void sgemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float beta,
           float* c) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0f, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}

void BM_ShapeOpsBlasBmmFwdBwd(benchmark::State& state) {
    const Array a = uniform({kB, kN, kN}, -1, 1, 1).value(),
                b = uniform({kB, kN, kN}, -1, 1, 2).value(),
                g = uniform({kB, kN, kN}, -1, 1, 3).value();
    const float *A = a.data<float>(), *B = b.data<float>(), *G = g.data<float>();
    const int n = static_cast<int>(kN);
    for (auto _ : state) {
        // Fresh outputs each step, as the engine allocates its results.
        std::vector<float> c(kB * kN * kN), ga(kB * kN * kN), gb(kB * kN * kN);
        for (std::size_t i = 0; i < kB; ++i) {
            const std::size_t o = i * kN * kN;
            sgemm(false, false, n, n, n, A + o, B + o, 0, c.data() + o);  // C = A B
            sgemm(false, true, n, n, n, G + o, B + o, 0, ga.data() + o);  // dA = G B^T
            sgemm(true, false, n, n, n, A + o, G + o, 0, gb.data() + o);  // dB = A^T G
        }
        benchmark::DoNotOptimize(c.data());
        benchmark::DoNotOptimize(ga.data());
        benchmark::DoNotOptimize(gb.data());
    }
    state.SetItemsProcessed(state.iterations() * 6 * kB * kN * kN * kN);
}

constexpr std::size_t kBatch = 8, kHeads = 4, kT = 128, kD = 32;

void BM_ShapeOpsEngineAttentionFwdBwd(benchmark::State& state) {
    const Shape s{kBatch, kHeads, kT, kD};
    Tensor q = uniform(s, -1, 1, 1, f32, true), k = uniform(s, -1, 1, 2, f32, true),
           v = uniform(s, -1, 1, 3, f32, true);
    const Tensor g = uniform(s, -1, 1, 4);
    const double scale = 1.0 / std::sqrt(static_cast<double>(kD));
    for (auto _ : state) {
        // q (B,H,T,D) @ k^T (B,H,D,T) -> scores (B,H,T,T); softmax over keys; @ v -> (B,H,T,D)
        Tensor o = matmul(softmax(matmul(q, transpose(k, -2, -1)) * scale, -1), v);
        o.backward(g);
        benchmark::DoNotOptimize(q.grad().value().raw());
        q.zero_grad();
        k.zero_grad();
        v.zero_grad();
    }
    state.SetItemsProcessed(state.iterations() * 12 * kBatch * kHeads * kT * kT * kD);
}

// The same on raw BLAS (bench/raw_attention.h).
void BM_ShapeOpsBlasAttentionFwdBwd(benchmark::State& state) {
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
    state.SetItemsProcessed(state.iterations() * 12 * kBatch * kHeads * kT * kT * kD);
}

void permutations(benchmark::internal::Benchmark* b) {
    for (const std::vector<std::int64_t>& dims : std::vector<std::vector<std::int64_t>>{
             {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}) {
        b->Args(dims);
    }
    b->ArgNames({"", "", ""})->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_ShapeOpsEnginePermuteContiguous)->Apply(permutations);
BENCHMARK(BM_ShapeOpsHandPermuteContiguous)->Apply(permutations);
BENCHMARK(BM_ShapeOpsEngineReshapeFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShapeOpsHandReshapeFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShapeOpsEngineBmmFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShapeOpsBlasBmmFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShapeOpsEngineAttentionFwdBwd)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ShapeOpsBlasAttentionFwdBwd)->Unit(benchmark::kMillisecond);

}  // namespace
