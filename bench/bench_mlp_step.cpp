// One training step (forward, loss, backward, SGD update) of a 784-128-10 MLP with ReLU and
// softmax cross-entropy, float32, through xgrad::nn, next to the same step written by hand on raw
// BLAS (cblas_sgemm for the five products, plain loops for bias, ReLU, softmax-CE and SGD). The
// ratio of the two is nn's and the engine's overhead. Run with OPENBLAS_NUM_THREADS=1 (the README's
// `bash cmake/run.sh bench` sets it).

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "autograd/capture.h"
#include "bench/interleaved.h"
#include "nn/nn.h"

namespace {

using namespace xgrad;

constexpr std::size_t kIn = 784, kHidden = 128, kOut = 10;
constexpr float kLr = 0.01f;

std::vector<std::int64_t> labels(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::vector<std::int64_t> y(n);
    for (auto& v : y) v = static_cast<std::int64_t>(gen() % kOut);
    return y;
}

// The 784-128-10 ReLU net, with the same initial weights for every benchmark.
std::shared_ptr<nn::Sequential> make_net() {
    nn::manual_seed(3);
    return std::make_shared<nn::Sequential>(nn::Linear(kIn, kHidden), nn::ReLU(),
                                            nn::Linear(kHidden, kOut));
}

void BM_MlpStepEngine(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Tensor x = uniform(Shape{n, kIn}, 0, 1, /*seed=*/1);
    const std::vector<std::int64_t> y = labels(n, 2);
    auto net = make_net();
    nn::optim::SGD opt(net->parameters(), nn::optim::SGDOptions(kLr));
    for (auto _ : state) {
        opt.zero_grad();
        Tensor loss = nn::cross_entropy(net->forward(x), y);
        loss.backward();
        opt.step();
        benchmark::DoNotOptimize(loss.item());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// The same step captured once (autograd/capture.h) and replayed on the batch each iteration:
// no graph built, the forward recomputed into the kept values, the engine's backward through
// the kept graph. Paired with BM_MlpStepBlasReplay, the same raw-BLAS step under that name.
// The captured step, its net and optimizer, on a batch of n rows.
struct ReplayedStep {
    Tensor x;
    std::vector<std::int64_t> y;
    std::shared_ptr<nn::Sequential> net = make_net();
    nn::optim::SGD opt{net->parameters(), nn::optim::SGDOptions(kLr)};
    Capture step;
    std::vector<Array> batch;

    explicit ReplayedStep(std::size_t n)
        : x(uniform(Shape{n, kIn}, 0, 1, /*seed=*/1)),
          y(labels(n, 2)),
          step(
              [this](const std::vector<Tensor>& in) {
                  return nn::cross_entropy(net->forward(in[0]), y);
              },
              {x}),
          batch{x.value()} {}
    void operator()() {
        opt.zero_grad();
        step.replay(batch);
        opt.step();
        benchmark::DoNotOptimize(step.output().item());
    }
};

void BM_MlpStepEngineReplay(benchmark::State& state) {
    ReplayedStep replayed(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) replayed();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * state.range(0)));
}

// The same network and step by hand: buffers allocated once, weights (in, out) row-major.
struct RawMlp {
    std::size_t n;
    std::vector<float> w1, b1, w2, b2;          // parameters
    std::vector<float> h, logits, dlogits, dh;  // activations and their gradients
    std::vector<float> dw1, db1, dw2, db2;      // parameter gradients

    explicit RawMlp(std::size_t batch)
        : n(batch),
          w1(kIn * kHidden),
          b1(kHidden),
          w2(kHidden * kOut),
          b2(kOut),
          h(batch * kHidden),
          logits(batch * kOut),
          dlogits(batch * kOut),
          dh(batch * kHidden),
          dw1(kIn * kHidden),
          db1(kHidden),
          dw2(kHidden * kOut),
          db2(kOut) {
        std::mt19937_64 gen(3);
        auto fill = [&gen](std::vector<float>& v, float bound) {
            for (float& e : v) e = bound * (2 * static_cast<float>(gen() >> 40) * 0x1.0p-24f - 1);
        };
        fill(w1, 1 / std::sqrt(float(kIn)));
        fill(b1, 1 / std::sqrt(float(kIn)));
        fill(w2, 1 / std::sqrt(float(kHidden)));
        fill(b2, 1 / std::sqrt(float(kHidden)));
    }

    // rows of out (n, cols) = bias, then out += a (n, k) · w (k, cols)
    static void affine(const float* a, const float* w, const float* bias, float* out,
                       std::size_t rows, std::size_t k, std::size_t cols) {
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] = bias[j];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(cols), int(k), 1.f, a,
                    int(k), w, int(cols), 1.f, out, int(cols));
    }

    static void column_sums(const float* g, float* out, std::size_t rows, std::size_t cols) {
        for (std::size_t j = 0; j < cols; ++j) out[j] = 0;
        for (std::size_t i = 0; i < rows; ++i) {
            for (std::size_t j = 0; j < cols; ++j) out[j] += g[i * cols + j];
        }
    }

    static void sgd(std::vector<float>& w, const std::vector<float>& g) {
        for (std::size_t k = 0; k < w.size(); ++k) w[k] -= kLr * g[k];
    }

    float step(const float* x, const std::vector<std::int64_t>& y) {
        // forward: h = relu(x W1 + b1)  (n, 128);  logits = h W2 + b2  (n, 10)
        affine(x, w1.data(), b1.data(), h.data(), n, kIn, kHidden);
        for (float& v : h) v = v > 0 ? v : 0;
        affine(h.data(), w2.data(), b2.data(), logits.data(), n, kHidden, kOut);
        // softmax cross-entropy, mean over rows; dlogits = (softmax - onehot) / n
        double loss = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const float* z = &logits[i * kOut];
            float* d = &dlogits[i * kOut];
            float m = z[0];
            for (std::size_t j = 1; j < kOut; ++j) m = std::max(m, z[j]);
            float s = 0;
            for (std::size_t j = 0; j < kOut; ++j) s += (d[j] = std::exp(z[j] - m));
            loss += std::log(s) + m - z[y[i]];
            for (std::size_t j = 0; j < kOut; ++j) d[j] /= s * float(n);
            d[y[i]] -= 1.f / float(n);
        }
        // backward: dW2 = h^T dlogits, db2 = colsum, dh = dlogits W2^T masked by relu
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kHidden), int(kOut), int(n), 1.f,
                    h.data(), int(kHidden), dlogits.data(), int(kOut), 0.f, dw2.data(), int(kOut));
        column_sums(dlogits.data(), db2.data(), n, kOut);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(n), int(kHidden), int(kOut), 1.f,
                    dlogits.data(), int(kOut), w2.data(), int(kOut), 0.f, dh.data(), int(kHidden));
        for (std::size_t k = 0; k < dh.size(); ++k) dh[k] = h[k] > 0 ? dh[k] : 0;
        // dW1 = x^T dh, db1 = colsum
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kIn), int(kHidden), int(n), 1.f, x,
                    int(kIn), dh.data(), int(kHidden), 0.f, dw1.data(), int(kHidden));
        column_sums(dh.data(), db1.data(), n, kHidden);
        sgd(w1, dw1);
        sgd(b1, db1);
        sgd(w2, dw2);
        sgd(b2, db2);
        return static_cast<float>(loss / double(n));
    }
};

void BM_MlpStepBlas(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Tensor x = uniform(Shape{n, kIn}, 0, 1, /*seed=*/1);
    const std::vector<std::int64_t> y = labels(n, 2);
    RawMlp mlp(n);
    for (auto _ : state) benchmark::DoNotOptimize(mlp.step(x.value().data<float>(), y));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// The replayed step and the raw-BLAS step alternating step by step (bench/interleaved.h):
// counters engine_us, hand_us and ratio (the issue 13 bar: <= 1.03).
void BM_MlpStepInterleavedReplay(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    ReplayedStep replayed(n);
    RawMlp mlp(n);
    bench::interleaved(state, replayed, [&] {
        benchmark::DoNotOptimize(mlp.step(replayed.x.value().data<float>(), replayed.y));
    });
}

BENCHMARK(BM_MlpStepEngine)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpStepBlas)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpStepEngineReplay)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpStepBlas)
    ->Name("BM_MlpStepBlasReplay")
    ->Arg(64)
    ->Arg(256)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpStepInterleavedReplay)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
