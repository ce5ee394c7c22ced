#include "nn/optim/sgd.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "nn/nn.h"
#include "tests/support/check.h"

namespace xgrad::nn::optim {
namespace {

using Values = std::vector<double>;

// Accumulates gradient c into p: d/dp sum(c * p) = c.
void set_grad(Tensor& p, const Values& c) {
    p.zero_grad();
    sum(p * tensor(c, p.shape(), p.dtype())).backward();
}

void expect_near(const Values& a, const Values& b, double tol = 1e-15) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << "element " << i;
}

TEST(SGD, PlainStepSubtractsLrTimesGradient) {
    Tensor p = tensor({1, 2}, Shape{2}, f64, true);
    SGD opt({p}, SGDOptions(0.5));
    set_grad(p, {3, -4});
    opt.step();
    EXPECT_EQ(p.to_vector(), (Values{1 - 1.5, 2 + 2}));
    EXPECT_TRUE(opt.state().empty());  // no momentum, no state
}

TEST(SGD, MomentumKeepsAVelocity) {
    Tensor p = tensor({1}, Shape{1}, f64, true);
    SGD opt({p}, SGDOptions(0.1).momentum(0.9));
    set_grad(p, {2});
    opt.step();  // b = 2, p = 1 - 0.2
    EXPECT_NEAR(p.item(), 0.8, 1e-15);
    set_grad(p, {1});
    opt.step();  // b = 0.9 * 2 + 1 = 2.8, p = 0.8 - 0.28
    EXPECT_NEAR(p.item(), 0.52, 1e-15);
    ASSERT_EQ(opt.state().size(), 1u);
    EXPECT_EQ(opt.state()[0].first, "0.momentum_buffer");
    EXPECT_NEAR(opt.state()[0].second.item(), 2.8, 1e-15);
}

TEST(SGD, DampeningScalesNewGradientsAfterTheFirst) {
    Tensor p = tensor({0}, Shape{1}, f64, true);
    SGD opt({p}, SGDOptions(1).momentum(0.5).dampening(0.5));
    set_grad(p, {2});
    opt.step();  // b = 2 (the first step is not dampened)
    set_grad(p, {2});
    opt.step();  // b = 0.5 * 2 + 0.5 * 2 = 2
    EXPECT_NEAR(p.item(), -4, 1e-15);
}

TEST(SGD, NesterovLooksAhead) {
    Tensor p = tensor({0}, Shape{1}, f64, true);
    SGD opt({p}, SGDOptions(1).momentum(0.5).nesterov(true));
    set_grad(p, {2});
    opt.step();  // b = 2, d = 2 + 0.5 * 2 = 3
    EXPECT_NEAR(p.item(), -3, 1e-15);
    set_grad(p, {1});
    opt.step();  // b = 0.5 * 2 + 1 = 2, d = 1 + 0.5 * 2 = 2
    EXPECT_NEAR(p.item(), -5, 1e-15);
}

TEST(SGD, WeightDecayAddsAnL2Gradient) {
    Tensor p = tensor({2, -4}, Shape{2}, f64, true);
    SGD opt({p}, SGDOptions(0.1).weight_decay(0.5));
    set_grad(p, {1, 1});
    opt.step();  // d = g + 0.5 p = (2, -1)
    expect_near(p.to_vector(), {1.8, -3.9});
}

TEST(SGD, NoWeightDecayLeavesAnInfiniteWeightInfinite) {
    // As torch.optim.SGD: weight_decay 0 adds no 0 * w term (0 * inf is NaN), with and without
    // momentum.
    for (const double mu : {0.0, 0.9}) {
        Tensor p = tensor({INFINITY, 1}, Shape{2}, f64, true);
        SGD opt({p}, SGDOptions(0.1).momentum(mu));
        set_grad(p, {1, 1});
        opt.step();
        EXPECT_EQ(p.to_vector(), (Values{INFINITY, 1 - 0.1})) << "momentum " << mu;
    }
}

TEST(SGD, SkipsParametersWithoutAGradient) {
    Tensor used = tensor({1}, Shape{1}, f64, true), unused = tensor({5}, Shape{1}, f64, true);
    SGD opt(std::vector<Tensor>{used, unused}, SGDOptions(1).momentum(0.9).weight_decay(0.1));
    set_grad(used, {1});
    opt.step();
    EXPECT_EQ(unused.item(), 5.0);  // untouched, even by weight decay
    ASSERT_EQ(opt.state().size(), 1u);
    EXPECT_EQ(opt.state()[0].first, "0.momentum_buffer");  // no state for the unused one
}

TEST(SGD, Float32ParametersStepInFloat32) {
    Tensor p = tensor({1, 2}, Shape{2}, f32, true);
    SGD opt({p}, SGDOptions(0.25).momentum(0.5));
    set_grad(p, {1, 1});
    opt.step();
    EXPECT_EQ(p.dtype(), f32);
    EXPECT_EQ(p.to_vector(), (Values{0.75, 1.75}));
    EXPECT_EQ(opt.state()[0].second.dtype(), f32);
}

TEST(SGD, StateIsNamedAfterNamedParameters) {
    auto net = std::make_shared<Sequential>(Linear(2, 2), ReLU(), Linear(2, 1, false));
    SGD opt(net->named_parameters(), SGDOptions(0.1).momentum(0.9));
    sum(net->forward(ones(Shape{3, 2}))).backward();
    opt.step();
    std::vector<std::string> names;
    for (const auto& s : opt.state()) names.push_back(s.first);
    EXPECT_EQ(names, (std::vector<std::string>{"0.weight.momentum_buffer", "0.bias.momentum_buffer",
                                               "2.weight.momentum_buffer"}));
}

TEST(SGD, LoadedStateContinuesTheSameTrajectory) {
    Tensor a = tensor({1, 1}, Shape{2}, f64, true), b = tensor({1, 1}, Shape{2}, f64, true);
    SGD oa({a}, SGDOptions(0.1).momentum(0.9));
    set_grad(a, {1, 2});
    oa.step();
    // b reaches a's parameters and state by copying them, then both take the same step
    init::copy_(b, a);
    SGD ob({b}, SGDOptions(0.1).momentum(0.9));
    std::vector<NamedTensor> saved;
    for (const auto& [name, t] : oa.state()) saved.emplace_back(name, t.detach());
    ob.load_state(saved);
    set_grad(a, {-1, 3});
    set_grad(b, {-1, 3});
    oa.step();
    ob.step();
    EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(SGD, LoadStateRefusesWhatDoesNotFit) {
    Tensor p = zeros(Shape{2}, f64, true);
    SGD opt({p}, SGDOptions(0.1).momentum(0.9));
    EXPECT_THROW_MSG(opt.load_state({{"0.velocity", zeros(Shape{2}, f64)}}), std::invalid_argument,
                     "SGD", "unknown state entry \"0.velocity\"");
    EXPECT_THROW_MSG(opt.load_state({{"3.momentum_buffer", zeros(Shape{2}, f64)}}),
                     std::invalid_argument, "unknown");
    EXPECT_THROW_MSG(opt.load_state({{"0.momentum_buffer", zeros(Shape{3}, f64)}}),
                     std::invalid_argument, "shape (3) float64", "expected (2) float64");
    EXPECT_THROW_MSG(opt.load_state({{"0.momentum_buffer", zeros(Shape{2}, f32)}}),
                     std::invalid_argument, "float32");
    EXPECT_TRUE(opt.state().empty());
}

TEST(SGD, HyperparametersAreValidated) {
    Tensor p = zeros(Shape{1}, f32, true);
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(NAN)), std::invalid_argument, "SGD", "learning rate",
                     "nan");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(-0.1)), std::invalid_argument, "learning rate", "-0.1");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(INFINITY)), std::invalid_argument, "learning rate");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(0.1).momentum(-1)), std::invalid_argument, "momentum");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(0.1).momentum(1.5)), std::invalid_argument, "momentum");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(0.1).weight_decay(-1)), std::invalid_argument,
                     "weight_decay");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(0.1).nesterov(true)), std::invalid_argument,
                     "nesterov needs momentum > 0");
    EXPECT_THROW_MSG(SGD({p}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                     std::invalid_argument, "dampening 0");
    SGD opt({p}, SGDOptions(0.1));
    EXPECT_THROW_MSG(opt.set_lr(NAN), std::invalid_argument, "learning rate");
    EXPECT_EQ(opt.lr(), 0.1);
    EXPECT_THROW_MSG(SGD(std::vector<Tensor>{Tensor()}, SGDOptions(0.1)), std::invalid_argument,
                     "undefined");
}

TEST(SGD, ZeroGradForgetsEveryGradient) {
    Tensor p = ones(Shape{2}, f32, true);
    SGD opt({p}, SGDOptions(0.1));
    sum(p).backward();
    opt.zero_grad();
    EXPECT_FALSE(p.has_grad());
}

TEST(SGD, FitsALinearRegression) {
    // y = 3 x - 1 from 16 points; full-batch SGD with momentum reaches it
    std::vector<double> xs, ys;
    for (int i = 0; i < 16; ++i) {
        xs.push_back(i / 8.0 - 1);
        ys.push_back(3 * xs.back() - 1);
    }
    Tensor x = tensor(xs, Shape{16, 1}, f64), y = tensor(ys, Shape{16, 1}, f64);
    Linear fc(1, 1, true, f64);
    SGD opt(fc.parameters(), SGDOptions(0.1).momentum(0.9));
    for (int step = 0; step < 300; ++step) {
        opt.zero_grad();
        mse_loss(fc.forward(x), y).backward();
        opt.step();
    }
    EXPECT_NEAR(fc.weight().item(), 3, 1e-6);
    EXPECT_NEAR(fc.bias().item(), -1, 1e-6);
}

}  // namespace
}  // namespace xgrad::nn::optim
