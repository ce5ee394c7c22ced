// BatchNorm1d/2d, LayerNorm, GroupNorm, Dropout2d: forward against plain loops, running
// statistics after several steps, train vs eval, gradcheck in float64, buffers in checkpoints,
// parameter counts as PyTorch's, every error message.

#include "nn/normalization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>

#include "autograd/functional.h"
#include "autograd/gradcheck.h"
#include "autograd/threads.h"
#include "nn/checkpoint.h"
#include "nn/dropout.h"
#include "nn/init.h"
#include "nn/sequential.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"
#include "tests/support/value_check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::TempDir;

std::string print(const Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

std::size_t count_parameters(const Module& m) {
    std::size_t n = 0;
    for (const Tensor& p : m.parameters()) n += p.numel();
    return n;
}

// Per channel c of x (N, C, S): mean and biased variance over n and s.
void channel_stats(const std::vector<double>& x, std::size_t N, std::size_t C, std::size_t S,
                   std::size_t c, double& mean, double& var) {
    mean = 0;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t s = 0; s < S; ++s) mean += x[(n * C + c) * S + s];
    mean /= double(N * S);
    var = 0;
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t s = 0; s < S; ++s) var += std::pow(x[(n * C + c) * S + s] - mean, 2);
    var /= double(N * S);
}

TEST(BatchNorm2d, TrainingNormalisesWithBatchStatisticsAndMovesTheRunningOnes) {
    BatchNorm2d bn(BatchNormOptions(3).momentum(0.25).dtype(f64));
    init::copy_(bn.weight(), {1.5, -2, 0.5});
    init::copy_(bn.bias(), {0.1, 0.2, -0.3});
    std::vector<double> rm(3, 0.0), rv(3, 1.0);
    for (int step = 0; step < 4; ++step) {
        Tensor x = uniform({4, 3, 2, 5}, -1, 2, 100 + std::uint64_t(step), f64);
        Tensor y = bn.forward(x);
        const auto xv = x.to_vector(), yv = y.to_vector();
        for (std::size_t c = 0; c < 3; ++c) {
            double m, v;
            channel_stats(xv, 4, 3, 10, c, m, v);
            for (std::size_t n = 0; n < 4; ++n)
                for (std::size_t s = 0; s < 10; ++s) {
                    const std::size_t i = (n * 3 + c) * 10 + s;
                    const double want =
                        (xv[i] - m) / std::sqrt(v + 1e-5) * bn.weight().at({c}) + bn.bias().at({c});
                    EXPECT_NEAR(yv[i], want, 1e-12);
                }
            // PyTorch: running_var takes the unbiased variance, n / (n - 1) with n = 40.
            rm[c] = 0.75 * rm[c] + 0.25 * m;
            rv[c] = 0.75 * rv[c] + 0.25 * v * 40.0 / 39.0;
        }
    }
    for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_NEAR(bn.running_mean().at({c}), rm[c], 1e-12);
        EXPECT_NEAR(bn.running_var().at({c}), rv[c], 1e-12);
    }
    EXPECT_EQ(bn.num_batches_tracked().item(), 4.0);
    EXPECT_EQ(bn.num_batches_tracked().dtype(), DType::Int64);
    // Eval: the running statistics, and they no longer move.
    bn.eval();
    Tensor x = uniform({2, 3, 2, 2}, -1, 1, 7, f64);
    Tensor y = bn.forward(x);
    for (std::size_t c = 0; c < 3; ++c) {
        const double want =
            (x.at({1, c, 1, 0}) - rm[c]) / std::sqrt(rv[c] + 1e-5) * bn.weight().at({c}) +
            bn.bias().at({c});
        EXPECT_NEAR(y.at({1, c, 1, 0}), want, 1e-12);
    }
    EXPECT_NEAR(bn.running_mean().at({0}), rm[0], 1e-12);
    EXPECT_EQ(bn.num_batches_tracked().item(), 4.0);
}

TEST(BatchNorm1d, CumulativeMomentumAndNoRunningStats) {
    // momentum None: the running mean is the plain average of the batch means.
    BatchNorm1d bn(BatchNormOptions(2).momentum(std::nullopt).dtype(f64));
    double sum0 = 0;
    for (int step = 0; step < 3; ++step) {
        Tensor x = uniform({5, 2}, -1, 1, 200 + std::uint64_t(step), f64);
        bn.forward(x);
        double m = 0;
        for (std::size_t n = 0; n < 5; ++n) m += x.at({n, 0});
        sum0 += m / 5;
    }
    EXPECT_NEAR(bn.running_mean().at({0}), sum0 / 3, 1e-12);
    BatchNorm1d plain(BatchNormOptions(2).track_running_stats(false).affine(false).dtype(f64));
    EXPECT_TRUE(plain.named_buffers().empty());
    EXPECT_TRUE(plain.parameters().empty());
    plain.eval();  // without running statistics, eval still uses the batch's
    Tensor y = plain.forward(tensor({1, 2, 3, 4}, Shape{2, 2}, f64));
    EXPECT_NEAR(y.at({0, 0}), -1.0 / std::sqrt(1 + 1e-5), 1e-12);
}

TEST(BatchNorm, GradcheckInTrainingAndEval) {
    BatchNorm2d bn(BatchNormOptions(2).dtype(f64));
    auto f = [&](const std::vector<Tensor>& in) { return bn.forward(in[0]); };
    Tensor x = uniform({3, 2, 2, 3}, -1, 1, 9, f64, true);
    auto r = gradcheck(f, {x});
    EXPECT_TRUE(r.ok) << r.message;
    auto r2 = gradgradcheck(f, {x});
    EXPECT_TRUE(r2.ok) << r2.message;
    bn.eval();
    auto r3 = gradcheck(f, {x});
    EXPECT_TRUE(r3.ok) << r3.message;
    BatchNorm1d bn1(BatchNormOptions(3).dtype(f64));
    auto r4 = gradcheck([&](const std::vector<Tensor>& in) { return bn1.forward(in[0]); },
                        {uniform({4, 3, 2}, -1, 1, 10, f64, true)});
    EXPECT_TRUE(r4.ok) << r4.message;
}

TEST(BatchNorm, ParametersBuffersPrintoutAndErrors) {
    BatchNorm2d bn(BatchNormOptions(16));
    EXPECT_EQ(count_parameters(bn), 32u);  // PyTorch: weight 16 + bias 16
    const auto buffers = bn.named_buffers();
    ASSERT_EQ(buffers.size(), 3u);
    EXPECT_EQ(buffers[0].first, "running_mean");
    EXPECT_EQ(buffers[1].first, "running_var");
    EXPECT_EQ(buffers[2].first, "num_batches_tracked");
    EXPECT_EQ(print(bn),
              "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
    BatchNorm1d bn1(BatchNormOptions(3));
    EXPECT_THROW_MSG(bn1.forward(ones({1, 3})), std::invalid_argument,
                     "BatchNorm1d: expected more than 1 value per channel when training", "(1,3)");
    bn1.eval();
    EXPECT_EQ(bn1.forward(ones({1, 3})).shape(), (Shape{1, 3}));  // fine in eval mode
    EXPECT_THROW_MSG(bn.forward(ones({2, 16, 4})), std::invalid_argument, "BatchNorm2d",
                     "expected 4-D (N, C, H, W) input", "(2,16,4)");
    EXPECT_THROW_MSG(bn.forward(ones({2, 8, 4, 4})), std::invalid_argument, "BatchNorm2d",
                     "expected 16 channels in dim 1", "(2,8,4,4)");
    EXPECT_THROW_MSG(bn.forward(ones({2, 16, 4, 4}, f64)), std::invalid_argument,
                     "BatchNorm2d: input dtype float64 differs from the layer's float32");
}

TEST(BatchNorm, RunningStatisticsSurviveACheckpointAndTo) {
    TempDir dir;
    Sequential a(BatchNorm1d(BatchNormOptions(2)));
    a.forward(uniform({6, 2}, -1, 1, 11));
    a.forward(uniform({6, 2}, -1, 1, 12));
    save_checkpoint(dir.file("bn.xgt"), a);
    Sequential b(BatchNorm1d(BatchNormOptions(2)));
    load_checkpoint(dir.file("bn.xgt"), b);
    const auto ab = a.named_buffers(), bb = b.named_buffers();
    ASSERT_EQ(bb.size(), 3u);
    EXPECT_EQ(bb[0].first, "0.running_mean");
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(bb[i].second.to_vector(), ab[i].second.to_vector());
    EXPECT_EQ(bb[2].second.item(), 2.0);
    a.eval();
    b.eval();
    Tensor x = uniform({3, 2}, -1, 1, 13);
    EXPECT_EQ(a.forward(x).to_vector(), b.forward(x).to_vector());
    b.to(f64);
    EXPECT_EQ(b.named_buffers()[0].second.dtype(), f64);
    EXPECT_EQ(b.named_buffers()[2].second.dtype(), DType::Int64);
    EXPECT_EQ(b.forward(to(x, f64)).dtype(), f64);
}

TEST(LayerNorm, MatchesLoopsAndGradchecks) {
    LayerNorm ln(LayerNormOptions({2, 3}).dtype(f64));
    init::copy_(ln.weight(), {1, 2, 3, -1, 0.5, 2});
    Tensor x = uniform({4, 2, 3}, -1, 1, 14, f64, true);
    Tensor y = ln.forward(x);
    const auto xv = x.to_vector(), yv = y.to_vector();
    for (std::size_t n = 0; n < 4; ++n) {
        double m = 0, v = 0;
        for (std::size_t i = 0; i < 6; ++i) m += xv[n * 6 + i] / 6;
        for (std::size_t i = 0; i < 6; ++i) v += std::pow(xv[n * 6 + i] - m, 2) / 6;
        for (std::size_t i = 0; i < 6; ++i) {
            EXPECT_NEAR(yv[n * 6 + i],
                        (xv[n * 6 + i] - m) / std::sqrt(v + 1e-5) * ln.weight().at({i / 3, i % 3}),
                        1e-12);
        }
    }
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return ln.forward(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_EQ(count_parameters(LayerNorm(LayerNormOptions({64}))), 128u);
    EXPECT_EQ(print(LayerNorm(LayerNormOptions({64}))),
              "LayerNorm((64,), eps=1e-05, elementwise_affine=true)");
    EXPECT_THROW_MSG(LayerNorm(LayerNormOptions({64})).forward(ones({2, 32})),
                     std::invalid_argument, "LayerNorm: given normalized_shape=(64,)", "(2,32)");
}

TEST(GroupNorm, MatchesLoopsAndGradchecks) {
    GroupNorm gn(GroupNormOptions(2, 4).dtype(f64));
    Tensor x = uniform({2, 4, 3}, -1, 1, 15, f64, true);
    Tensor y = gn.forward(x);
    const auto xv = x.to_vector(), yv = y.to_vector();
    for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t g = 0; g < 2; ++g) {
            // group g: channels 2g, 2g + 1, all 3 positions: 6 contiguous values
            const std::size_t base = (n * 4 + g * 2) * 3;
            double m = 0, v = 0;
            for (std::size_t i = 0; i < 6; ++i) m += xv[base + i] / 6;
            for (std::size_t i = 0; i < 6; ++i) v += std::pow(xv[base + i] - m, 2) / 6;
            for (std::size_t i = 0; i < 6; ++i) {
                EXPECT_NEAR(yv[base + i], (xv[base + i] - m) / std::sqrt(v + 1e-5), 1e-12);
            }
        }
    auto r = gradcheck([&](const std::vector<Tensor>& in) { return gn.forward(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_EQ(count_parameters(gn), 8u);
    EXPECT_EQ(print(gn), "GroupNorm(2, 4, eps=1e-05, affine=true)");
    EXPECT_THROW_MSG(GroupNorm(GroupNormOptions(3, 4)), std::invalid_argument,
                     "GroupNorm: num_channels must be divisible by num_groups");
    EXPECT_THROW_MSG(gn.forward(ones({2, 3, 3}, f64)), std::invalid_argument,
                     "GroupNorm: expected input (N, 4, *)", "(2,3,3)");
}

namespace F = functional;

// The fused normalisation op through each functional form, with and without weight and bias,
// each with its inputs: x (2, 3, 4), weight and bias (3), or (3, 4) for layer_norm over (3, 4).
struct NormForm {
    std::function<Tensor(const std::vector<Tensor>&)> f;
    std::vector<Tensor> inputs;
};
std::vector<NormForm> norm_forms() {
    auto x = [] { return uniform({2, 3, 4}, -1, 1, 21, f64, true); };
    auto w = [](Shape s) { return uniform(std::move(s), 0.5, 1.5, 22, f64, true); };
    auto b = [](Shape s) { return uniform(std::move(s), -1, 1, 23, f64, true); };
    return {
        {[](const std::vector<Tensor>& in) {
             return F::batch_norm(
                 in[0], Tensor(), Tensor(),
                 F::BatchNormFuncOptions().weight(in[1]).bias(in[2]).training(true));
         },
         {x(), w({3}), b({3})}},
        {[](const std::vector<Tensor>& in) {
             return F::batch_norm(in[0], Tensor(), Tensor(),
                                  F::BatchNormFuncOptions().weight(in[1]).training(true));
         },
         {x(), w({3})}},
        {[](const std::vector<Tensor>& in) {
             return F::layer_norm(in[0], F::LayerNormFuncOptions({3, 4}).weight(in[1]).bias(in[2]));
         },
         {x(), w({3, 4}), b({3, 4})}},
        {[](const std::vector<Tensor>& in) {
             return F::layer_norm(in[0], F::LayerNormFuncOptions({4}).eps(1e-3));
         },
         {x()}},
        {[](const std::vector<Tensor>& in) {
             return F::group_norm(in[0], F::GroupNormFuncOptions(1).weight(in[1]).bias(in[2]));
         },
         {x(), w({3}), b({3})}},
    };
}

TEST(NormFunctional, GradcheckAndGradgradcheckInEveryInput) {
    for (const NormForm& form : norm_forms()) {
        auto r = gradcheck(form.f, form.inputs);
        EXPECT_TRUE(r.ok) << r.message;
        EXPECT_TRUE(xgrad::testing::gradgrad_ok(form.f, form.inputs));
    }
}

// The fast backward (raw loops) and the recorded rule (ops, used with create_graph) are two
// writings of one derivative: they must agree, for a seed that is not all ones.
TEST(NormFunctional, FastBackwardEqualsTheRecordedRule) {
    std::size_t k = 0;
    for (const NormForm& form : norm_forms()) {
        const std::vector<Tensor>& in = form.inputs;
        const Tensor y = form.f(in);
        const Tensor seed = uniform(y.shape(), -1, 1, 30 + k++, f64);
        const std::vector<Tensor> fast = grad({y}, in, {seed}, true, /*create_graph=*/false);
        const std::vector<Tensor> rule = grad({y}, in, {seed}, true, /*create_graph=*/true);
        for (std::size_t i = 0; i < in.size(); ++i) {
            ASSERT_EQ(fast[i].defined(), rule[i].defined()) << "form " << k << " input " << i;
            if (fast[i].defined()) {
                EXPECT_TRUE(xgrad::testing::near(fast[i], rule[i].to_vector(), 1e-12))
                    << "form " << k << " input " << i;
            }
        }
    }
}

// Float32 on a size that splits into parallel chunks, with a row length that is not a multiple of
// the 8 summation lanes: within float rounding of float64, and the same bits on 1 and 2 threads.
TEST(NormFunctional, Float32MatchesFloat64AndIsTheSameOnAnyThreadCount) {
    const Tensor x64 = uniform({16, 4, 30, 30}, -2, 3, 41, f64, true);
    const Tensor w64 = uniform({4}, 0.5, 1.5, 42, f64, true);
    const Tensor b64 = uniform({4}, -1, 1, 43, f64, true);
    const Tensor g64 = uniform({16, 4, 30, 30}, -1, 1, 44, f64);
    auto run = [&](DType dt) {
        Tensor x = to(x64.detach(), dt), w = to(w64.detach(), dt), b = to(b64.detach(), dt);
        x.set_requires_grad();
        w.set_requires_grad();
        b.set_requires_grad();
        const Tensor y = F::batch_norm(x, Tensor(), Tensor(),
                                       F::BatchNormFuncOptions().weight(w).bias(b).training(true));
        std::vector<Tensor> out = grad({y}, {x, w, b}, {to(g64, dt)});
        out.insert(out.begin(), y);
        return out;
    };
    const std::vector<Tensor> ref = run(f64);
    set_num_threads(1);
    const std::vector<Tensor> one = run(f32);
    set_num_threads(2);
    const std::vector<Tensor> two = run(f32);
    set_num_threads(1);
    for (std::size_t i = 0; i < ref.size(); ++i) {
        EXPECT_EQ(one[i].to_vector(), two[i].to_vector()) << "output " << i;
        // dw and dbeta sum 14400 terms each.
        EXPECT_TRUE(xgrad::testing::near(one[i], ref[i].to_vector(), i < 2 ? 2e-5 : 2e-3))
            << "output " << i;
    }
}

TEST(NormFunctional, BatchNormMovesTheRunningStatisticsInPlaceAndRejectsBadInput) {
    const std::vector<double> v{1, 2, 4, 8, 3, -1, 0, 5};  // (N=2, C=2, 2)
    Tensor rm = zeros({2}, f64), rv = ones({2}, f64);
    F::batch_norm(tensor(v, Shape{2, 2, 2}, f64), rm, rv,
                  F::BatchNormFuncOptions().training(true).momentum(0.25));
    for (std::size_t c = 0; c < 2; ++c) {
        double mean = 0, var = 0;
        channel_stats(v, 2, 2, 2, c, mean, var);
        EXPECT_NEAR(rm.at({c}), 0.75 * 0 + 0.25 * mean, 1e-15);
        EXPECT_NEAR(rv.at({c}), 0.75 * 1 + 0.25 * var * 4.0 / 3.0, 1e-15);
    }
    // Eval with the running statistics: (x - rm) / sqrt(rv + eps).
    Tensor y = F::batch_norm(tensor(v, Shape{2, 2, 2}, f64), rm, rv);
    EXPECT_NEAR(y.at({0, 1, 0}), (4 - rm.at({1})) / std::sqrt(rv.at({1}) + 1e-5), 1e-14);
    const Tensor x = ones({2, 2, 2}, f64);
    EXPECT_THROW_MSG(F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().weight(ones({3}, f64))),
                     std::invalid_argument,
                     "batch_norm: weight of shape (3) does not fit input (2,2,2) (expected (2))");
    EXPECT_THROW_MSG(F::batch_norm(x, Tensor(), Tensor()), std::invalid_argument,
                     "batch_norm: running_mean and running_var are needed when not training");
    EXPECT_THROW_MSG(
        F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().training(true).momentum(std::nullopt)),
        std::invalid_argument,
        "batch_norm: momentum must be set to update the running statistics (got None)");
    EXPECT_THROW_MSG(F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().bias(ones({2}))),
                     std::invalid_argument,
                     "batch_norm: bias dtype float32 differs from the input's float64");
    EXPECT_THROW_MSG(F::batch_norm(ones({1, 2}, f64), Tensor(), Tensor(),
                                   F::BatchNormFuncOptions().training(true)),
                     std::invalid_argument,
                     "batch_norm: expected more than 1 value per channel when training (got "
                     "input size (1,2))");
    EXPECT_THROW_MSG(F::layer_norm(x, F::LayerNormFuncOptions({3})), std::invalid_argument,
                     "layer_norm: given normalized_shape=(3,), expected input with shape (*, 3,) "
                     "(got (2,2,2))");
    EXPECT_THROW_MSG(F::group_norm(x, F::GroupNormFuncOptions(3)), std::invalid_argument,
                     "group_norm: expected input (N, C, *) with C divisible by num_groups=3 (got "
                     "(2,2,2))");
}

TEST(Dropout2d, ZeroesWholeChannelsAndScalesTheRest) {
    Dropout2d drop(0.5, /*seed=*/3);
    Tensor x = ones({4, 8, 3, 3}, f64, true);
    Tensor y = drop.forward(x);
    std::size_t dropped = 0;
    for (std::size_t n = 0; n < 4; ++n)
        for (std::size_t c = 0; c < 8; ++c) {
            const double v = y.at({n, c, 0, 0});
            EXPECT_TRUE(v == 0.0 || v == 2.0);
            for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(y.at({n, c, i / 3, i % 3}), v);
            dropped += v == 0.0;
        }
    EXPECT_GT(dropped, 4u);
    EXPECT_LT(dropped, 28u);
    sum(y).backward();
    EXPECT_EQ(x.grad().to_vector(), y.to_vector());  // d/dx = the mask
    drop.eval();
    EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());
    EXPECT_EQ(print(drop), "Dropout2d(p=0.5)");
    EXPECT_THROW_MSG(drop.forward(ones({2, 3})), std::invalid_argument, "Dropout2d", "(2,3)");
    EXPECT_THROW_MSG(Dropout2d(1.5), std::invalid_argument, "Dropout2d: p must be in [0, 1]");
}

}  // namespace
}  // namespace xgrad::nn
