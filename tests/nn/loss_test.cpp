#include "nn/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::grad_ok;
using xgrad::testing::rand64;
using Values = std::vector<double>;
constexpr Reduction kReductions[] = {Reduction::kNone, Reduction::kMean, Reduction::kSum};

Tensor t64(const Values& v, Shape s) { return tensor(v, std::move(s), f64); }

// Checks the none/sum/mean results agree: sum = sum(none), mean = sum(none) / n.
template <class F>
void expect_reductions_agree(F loss) {
    const Values items = loss(Reduction::kNone).to_vector();
    double s = 0;
    for (double v : items) s += v;
    EXPECT_NEAR(loss(Reduction::kSum).item(), s, 1e-12);
    EXPECT_NEAR(loss(Reduction::kMean).item(), s / double(items.size()), 1e-12);
}

// ---- Values against hand computations ----

TEST(Loss, HalfSquaredErrorSumsByDefaultAsTheNotes) {
    Tensor yhat = t64({1, 2}, {2}), y = t64({0, 4}, {2});
    EXPECT_EQ(half_squared_error(yhat, y).item(), 2.5);  // (1 + 4) / 2
    EXPECT_EQ(half_squared_error(yhat, y, Reduction::kMean).item(), 1.25);
    EXPECT_EQ(half_squared_error(yhat, y, Reduction::kNone).to_vector(), (Values{0.5, 2}));
}

TEST(Loss, MseAveragesSquaredErrors) {
    Tensor yhat = t64({1, 2, 3, 4}, {2, 2}), y = t64({0, 4, 3, 5}, {2, 2});
    EXPECT_EQ(mse_loss(yhat, y).item(), 1.5);  // (1 + 4 + 0 + 1) / 4
    EXPECT_EQ(mse_loss(yhat, y, Reduction::kSum).item(), 6.0);
}

TEST(Loss, BinaryCrossEntropyOfProbabilities) {
    Tensor p = t64({0.25, 0.9}, {2}), y = t64({0, 1}, {2});
    EXPECT_NEAR(binary_cross_entropy(p, y).item(), -(std::log(0.75) + std::log(0.9)) / 2, 1e-15);
    // soft targets: -(0.3 log 0.25 + 0.7 log 0.75)
    EXPECT_NEAR(binary_cross_entropy(t64({0.25}, {1}), t64({0.3}, {1})).item(),
                -(0.3 * std::log(0.25) + 0.7 * std::log(0.75)), 1e-15);
}

TEST(Loss, BinaryCrossEntropyClampsItsLogsAtMinus100) {
    Tensor p = t64({0, 1, 0, 1}, {4}), y = t64({0, 1, 1, 0}, {4});
    EXPECT_EQ(binary_cross_entropy(p, y, Reduction::kNone).to_vector(), (Values{0, 0, 100, 100}));
}

TEST(Loss, BinaryCrossEntropyWithLogitsEqualsBceOfSigmoidAndIsStable) {
    Tensor x = t64({-3, -0.5, 0, 2}, {4}), y = t64({0, 1, 1, 0.25}, {4});
    const Values a = binary_cross_entropy_with_logits(x, y, Reduction::kNone).to_vector();
    const Values b = binary_cross_entropy(sigmoid(x), y, Reduction::kNone).to_vector();
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(a[i], b[i], 1e-14);
    // |x| = 1e4: exp(1e4) overflows, the fused form does not
    Tensor big = t64({1e4, -1e4, 1e4, -1e4}, {4}), yb = t64({0, 0, 1, 1}, {4});
    EXPECT_EQ(binary_cross_entropy_with_logits(big, yb, Reduction::kNone).to_vector(),
              (Values{1e4, 0, 0, 1e4}));
    Tensor xg = tensor({1e4, -1e4}, Shape{2}, f32, true);
    binary_cross_entropy_with_logits(xg, tensor({0, 0}, Shape{2}), Reduction::kSum).backward();
    EXPECT_EQ(xg.grad().to_vector(), (Values{1, 0}));  // sigmoid(x) - y
}

TEST(Loss, CrossEntropyIsLogSumExpMinusTheTargetLogit) {
    Tensor x = t64({1, 2, 3, 1, 1, 1}, {2, 3});
    const double l0 = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3, l1 = std::log(3.0);
    const Values items = cross_entropy(x, {2, 0}, Reduction::kNone).to_vector();
    EXPECT_NEAR(items[0], l0, 1e-15);
    EXPECT_NEAR(items[1], l1, 1e-15);
    EXPECT_NEAR(cross_entropy(x, {2, 0}).item(), (l0 + l1) / 2, 1e-15);
    // the same indices given as a tensor
    EXPECT_EQ(cross_entropy(x, t64({2, 0}, {2})).item(), cross_entropy(x, {2, 0}).item());
}

TEST(Loss, CrossEntropyIsStableForHugeLogits) {
    Tensor x = tensor({1e4, 0, -1e4, 1e4}, Shape{2, 2}, f32, true);
    Tensor l = cross_entropy(x, {0, 0}, Reduction::kNone);
    EXPECT_EQ(l.to_vector(), (Values{0, 2e4}));
    sum(l).backward();
    EXPECT_EQ(x.grad().to_vector(), (Values{0, 0, -1, 1}));  // softmax - onehot
}

TEST(Loss, CrossEntropyGradientIsSoftmaxMinusOneHotOverN) {
    Tensor x = tensor({0.5, -1, 2, 0, 0, 0}, Shape{2, 3}, f64, true);
    cross_entropy(x, {1, 2}).backward();
    const Values p = softmax(x.detach()).to_vector(), g = x.grad().to_vector();
    const Values onehot = {0, 1, 0, 0, 0, 1};
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(g[i], (p[i] - onehot[i]) / 2, 1e-15);
}

TEST(Loss, NllOfLogSoftmaxEqualsCrossEntropy) {
    Tensor x = rand64({4, 5}, 8);
    const std::vector<std::int64_t> t = {4, 0, 2, 2};
    for (Reduction r : kReductions) {
        const Values a = nll_loss(log_softmax(x), t, r).to_vector();
        const Values b = cross_entropy(x, t, r).to_vector();
        for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-14);
    }
    EXPECT_EQ(nll_loss(t64({-1, -2, -3, -4}, {2, 2}), {1, 0}, Reduction::kNone).to_vector(),
              (Values{2, 3}));
}

TEST(Loss, HingeIsMaxOfZeroAndMarginMinusYS) {
    Tensor s = t64({2, 0.5, -1, -2}, {4}), y = t64({1, 1, 1, -1}, {4});
    EXPECT_EQ(hinge_loss(s, y, Reduction::kNone).to_vector(), (Values{0, 0.5, 2, 0}));
    EXPECT_EQ(hinge_loss(s, y, Reduction::kSum, /*margin=*/2).item(), 0 + 1.5 + 3 + 0);
}

TEST(Loss, MultiMarginIsPyTorchsMulticlassHinge) {
    // row 0, target 0: max(0, 1 - 1 + 2) + max(0, 1 - 1 + 3) = 5, over C = 3
    // row 1, target 2: max(0, 1 - 3 + 0) + max(0, 1 - 3 + 2.5) = 0.5, over 3
    Tensor s = t64({1, 2, 3, 0, 2.5, 3}, {2, 3});
    const Values items = multi_margin_loss(s, {0, 2}, Reduction::kNone).to_vector();
    EXPECT_NEAR(items[0], 5.0 / 3, 1e-15);
    EXPECT_NEAR(items[1], 0.5 / 3, 1e-15);
    EXPECT_NEAR(multi_margin_loss(s, {0, 2}, Reduction::kMean, /*margin=*/0).item(),
                (1.0 + 2.0) / 3 / 2, 1e-15);
}

TEST(Loss, ReductionsAgreeForEveryLoss) {
    Tensor a = rand64({3, 4}, 1, 0.1, 0.9), b = rand64({3, 4}, 2, 0.1, 0.9);
    const std::vector<std::int64_t> t = {3, 0, 1};
    expect_reductions_agree([&](Reduction r) { return half_squared_error(a, b, r); });
    expect_reductions_agree([&](Reduction r) { return mse_loss(a, b, r); });
    expect_reductions_agree([&](Reduction r) { return binary_cross_entropy(a, b.detach(), r); });
    expect_reductions_agree(
        [&](Reduction r) { return binary_cross_entropy_with_logits(a, b.detach(), r); });
    expect_reductions_agree([&](Reduction r) { return cross_entropy(a, t, r); });
    expect_reductions_agree([&](Reduction r) { return nll_loss(a, t, r); });
    expect_reductions_agree([&](Reduction r) { return multi_margin_loss(a, t, r); });
    expect_reductions_agree([&](Reduction r) { return hinge_loss(a, ones(Shape{3, 4}, f64), r); });
}

TEST(Loss, Float32MatchesFloat64) {
    Tensor x = rand64({8, 10}, 3, -3, 3);
    const std::vector<std::int64_t> t = {0, 1, 2, 3, 4, 5, 6, 7};
    EXPECT_NEAR(cross_entropy(to(x, f32), t).item(), cross_entropy(x, t).item(), 1e-6);
    EXPECT_EQ(cross_entropy(to(x, f32), t).dtype(), f32);
}

// ---- Gradients against finite differences, in every reduction ----

TEST(LossGradcheck, SquaredErrorsAndHinge) {
    Tensor y = rand64({3, 2}, 12);
    for (Reduction r : kReductions) {
        EXPECT_TRUE(grad_ok(
            [r](const std::vector<Tensor>& in) { return half_squared_error(in[0], in[1], r); },
            {rand64({3, 2}, 11), y}));
        EXPECT_TRUE(
            grad_ok([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); },
                    {rand64({3, 2}, 13), y}));
        // scores 0.1 away from the kink at y s = 1
        Tensor s = t64({2, 0.5, -1.2, 0.3, 1.4, -0.2}, {3, 2}).set_requires_grad();
        Tensor lab = t64({1, 1, -1, -1, 1, 1}, {3, 2});
        EXPECT_TRUE(grad_ok(
            [r, lab](const std::vector<Tensor>& in) { return hinge_loss(in[0], lab, r); }, {s}));
    }
}

TEST(LossGradcheck, BinaryCrossEntropies) {
    Tensor y = uniform({4, 3}, 0, 1, 21, f64);
    for (Reduction r : kReductions) {
        EXPECT_TRUE(grad_ok(
            [r, y](const std::vector<Tensor>& in) { return binary_cross_entropy(in[0], y, r); },
            {rand64({4, 3}, 22, 0.05, 0.95)}));
        EXPECT_TRUE(grad_ok(
            [r, y](const std::vector<Tensor>& in) {
                return binary_cross_entropy_with_logits(in[0], y, r);
            },
            {rand64({4, 3}, 23, -4, 4)}));
    }
}

TEST(LossGradcheck, ClassLosses) {
    const std::vector<std::int64_t> t = {2, 0, 4, 4, 1};
    for (Reduction r : kReductions) {
        EXPECT_TRUE(
            grad_ok([r, t](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, r); },
                    {rand64({5, 5}, 31, -3, 3)}));
        EXPECT_TRUE(grad_ok([r, t](const std::vector<Tensor>& in) { return nll_loss(in[0], t, r); },
                            {rand64({5, 5}, 32, -3, 0)}));
        // multi_margin: scores on a grid of 0.3 steps keep every margin term off its kink
        Tensor s = t64({0.3,  1.2, -0.9, 0.6,  2.1, 1.5, -0.3, 0.9,  0.0, -1.2, 2.4,  0.3, 1.8,
                        -0.6, 0.9, 0.6,  -2.1, 1.5, 0.3, 2.7,  -0.9, 1.2, 0.6,  -1.5, 0.0},
                       {5, 5})
                       .set_requires_grad();
        EXPECT_TRUE(grad_ok(
            [r, t](const std::vector<Tensor>& in) { return multi_margin_loss(in[0], t, r, 1.05); },
            {s}));
    }
}

TEST(LossGradcheck, CrossEntropyBehindALinearLayer) {
    // the loss as used: logits = x W + b, gradients reach W and b through the fused backward
    const std::vector<std::int64_t> t = {1, 0, 2};
    EXPECT_TRUE(grad_ok(
        [t](const std::vector<Tensor>& in) {
            return cross_entropy(matmul(in[0], in[1]) + in[2], t);
        },
        {rand64({3, 4}, 41), rand64({4, 3}, 42), rand64({3}, 43)}));
}

// Double backward through every loss: the fused rules are written in ops, the rest are ops.
::testing::AssertionResult gradgrad_ok(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                       const std::vector<Tensor>& inputs) {
    const GradcheckResult r = gradgradcheck(f, inputs);
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.message;
}

TEST(LossGradgradcheck, EveryLossHasASecondDerivative) {
    const Tensor y = uniform({4, 3}, 0, 1, 41, f64);
    const std::vector<std::int64_t> t = {2, 0, 1, 1};
    for (Reduction r : kReductions) {
        EXPECT_TRUE(gradgrad_ok(
            [r, y](const std::vector<Tensor>& in) { return binary_cross_entropy(in[0], y, r); },
            {rand64({4, 3}, 42, 0.05, 0.95)}));
        EXPECT_TRUE(gradgrad_ok(
            [r, y](const std::vector<Tensor>& in) {
                return binary_cross_entropy_with_logits(in[0], y, r);
            },
            {rand64({4, 3}, 43, -3, 3)}));
        EXPECT_TRUE(gradgrad_ok(
            [r, t](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, r); },
            {rand64({4, 3}, 44, -2, 2)}));
        // nll and multi-margin are linear pieces: second derivative 0 (checked, not skipped).
        EXPECT_TRUE(gradgrad_ok(
            [r, t](const std::vector<Tensor>& in) { return nll_loss(in[0] * in[0], t, r); },
            {rand64({4, 3}, 45, -2, 0)}));
        EXPECT_TRUE(gradgrad_ok(
            [r, y](const std::vector<Tensor>& in) { return mse_loss(in[0] * in[0], y, r); },
            {rand64({4, 3}, 46)}));
        EXPECT_TRUE(gradgrad_ok(
            [r, y](const std::vector<Tensor>& in) {
                return half_squared_error(in[0] * in[0], y, r);
            },
            {rand64({4, 3}, 47)}));
        // hinge and multi-margin through a square, so the second derivative is not only 0;
        // scores on a 0.3 grid keep every term off its kink.
        const Tensor pm = t64({1, -1, 1, -1, -1, 1, 1, 1, -1, 1, -1, -1}, {4, 3});
        const Tensor s =
            t64({0.3, 1.2, -0.9, 0.6, 2.1, 1.5, -0.3, 0.9, 0.0, -1.2, 2.4, 0.3}, {4, 3})
                .set_requires_grad();
        EXPECT_TRUE(gradgrad_ok(
            [r, pm](const std::vector<Tensor>& in) {
                return hinge_loss(in[0] * in[0], pm, r, 1.05);
            },
            {s}));
        EXPECT_TRUE(gradgrad_ok(
            [r, t](const std::vector<Tensor>& in) {
                return multi_margin_loss(in[0] * in[0], t, r, 1.05);
            },
            {s}));
    }
}

TEST(LossGradgradcheck, CrossEntropyHessianIsSoftmaxJacobianOverN) {
    // d2 L / dx_ij dx_ik = (s_ij [j == k] - s_ij s_ik) / N for the mean reduction.
    Tensor x = t64({0.2, -0.4, 1.0, 0.5, 0.0, -1.5}, {2, 3}).set_requires_grad();
    const std::vector<std::int64_t> t = {1, 2};
    Tensor g = grad({cross_entropy(x, t)}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    // Row 0, column 0 of the Hessian: d g_00 / dx.
    Array e(f64, Shape{2, 3});
    e.set(0, 1.0);
    const Tensor h = grad({g}, {x}, {Tensor(std::move(e))})[0];
    const double m = std::max({0.2, -0.4, 1.0});
    const double z = std::exp(0.2 - m) + std::exp(-0.4 - m) + std::exp(1.0 - m);
    const double s0 = std::exp(0.2 - m) / z, s1 = std::exp(-0.4 - m) / z;
    EXPECT_NEAR(h.value().at(0), (s0 - s0 * s0) / 2, 1e-12);
    EXPECT_NEAR(h.value().at(1), -s0 * s1 / 2, 1e-12);
    EXPECT_NEAR(h.value().at(3), 0.0, 1e-15);  // other rows do not interact
}

}  // namespace
}  // namespace xgrad::nn
