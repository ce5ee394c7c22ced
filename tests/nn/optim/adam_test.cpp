#include "nn/optim/adam.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn::optim {
namespace {

using Values = std::vector<double>;

void set_grad(Tensor& p, const Values& c) {
    p.zero_grad();
    sum(p * tensor(c, p.shape(), p.dtype())).backward();
}

// Adam written out from the paper (Kingma & Ba, Algorithm 1), with L2 or decoupled decay.
struct ReferenceAdam {
    ReferenceAdam(double lr_, double b1_, double b2_, double eps_, double wd_, bool decoupled_)
        : lr(lr_), b1(b1_), b2(b2_), eps(eps_), wd(wd_), decoupled(decoupled_) {}
    double lr, b1, b2, eps, wd;
    bool decoupled;
    Values m, v;
    int t = 0;
    void step(Values& p, const Values& g) {
        if (m.empty()) m.assign(p.size(), 0), v.assign(p.size(), 0);
        ++t;
        for (std::size_t i = 0; i < p.size(); ++i) {
            double d = g[i];
            if (decoupled) {
                p[i] -= lr * wd * p[i];
            } else {
                d += wd * p[i];
            }
            m[i] = b1 * m[i] + (1 - b1) * d;
            v[i] = b2 * v[i] + (1 - b2) * d * d;
            const double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
            p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
        }
    }
};

const std::vector<Values> kGrads = {{0.5, -2, 1e-3}, {0.25, 1, -1e-3}, {-1, 3, 0}, {2, 0.5, 1}};

void expect_matches_reference(Optimizer& opt, Tensor& p, ReferenceAdam ref) {
    Values q = p.to_vector();
    for (const Values& g : kGrads) {
        set_grad(p, g);
        opt.step();
        ref.step(q, g);
        const Values got = p.to_vector();
        for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(got[i], q[i], 1e-14);
    }
}

TEST(Adam, FirstStepMovesEachWeightByAboutLr) {
    Tensor p = tensor({1, 1}, Shape{2}, f64, true);
    Adam opt({p}, AdamOptions(0.1));
    set_grad(p, {4, -0.01});
    opt.step();  // mhat = g, vhat = g^2: the step is lr g / (|g| + eps)
    EXPECT_NEAR(p.at({0}), 0.9, 1e-8);
    EXPECT_NEAR(p.at({1}), 1.1, 1e-6);
}

TEST(Adam, MatchesThePapersAlgorithm) {
    Tensor p = tensor({1, -2, 0.5}, Shape{3}, f64, true);
    Adam opt({p}, AdamOptions(0.01).betas(0.8, 0.99).eps(1e-6));
    expect_matches_reference(opt, p, {0.01, 0.8, 0.99, 1e-6, 0, false});
}

TEST(Adam, WeightDecayIsAnL2Gradient) {
    Tensor p = tensor({1, -2, 0.5}, Shape{3}, f64, true);
    Adam opt({p}, AdamOptions(0.01).weight_decay(0.1));
    expect_matches_reference(opt, p, {0.01, 0.9, 0.999, 1e-8, 0.1, false});
}

TEST(AdamW, DecaysWeightsDecoupledFromTheGradient) {
    Tensor p = tensor({1, -2, 0.5}, Shape{3}, f64, true);
    AdamW opt({p}, AdamWOptions(0.01));
    EXPECT_EQ(opt.options().weight_decay(), 1e-2);  // AdamW's default
    EXPECT_EQ(opt.name(), "AdamW");
    expect_matches_reference(opt, p, {0.01, 0.9, 0.999, 1e-8, 1e-2, true});
}

TEST(Adam, AnInfiniteWeightStaysInfiniteWithoutAnL2Term) {
    // As torch.optim.Adam/AdamW: no g + 0 * w (0 * inf is NaN) when weight_decay is 0 or
    // decoupled; the finite weight moves by about lr.
    Tensor p = tensor({INFINITY, 1}, Shape{2}, f64, true),
           q = tensor({INFINITY, 1}, Shape{2}, f64, true);
    Adam adam({p}, AdamOptions(0.1));
    AdamW adamw({q}, AdamWOptions(0.1));
    set_grad(p, {1, 1});
    set_grad(q, {1, 1});
    adam.step();
    adamw.step();
    EXPECT_EQ(p.to_vector()[0], INFINITY);
    EXPECT_EQ(q.to_vector()[0], INFINITY);
    EXPECT_NEAR(p.to_vector()[1], 1 - 0.1, 1e-7);
    EXPECT_NEAR(q.to_vector()[1], (1 - 0.1 * 1e-2) - 0.1, 1e-7);
}

TEST(Adam, StateIsCreatedAtTheFirstStepAndCountsSteps) {
    Tensor p = tensor({1, 2}, Shape{2}, f32, true), q = tensor({3}, Shape{1}, f32, true);
    Adam opt(std::vector<NamedTensor>{{"w", p}, {"b", q}}, AdamOptions(1e-3));
    EXPECT_TRUE(opt.state().empty());
    set_grad(p, {1, 1});
    opt.step();
    opt.step();  // the same gradient again: it accumulates until zero_grad
    std::vector<std::string> names;
    for (const auto& s : opt.state()) names.push_back(s.first);
    EXPECT_EQ(names, (std::vector<std::string>{"w.step", "w.exp_avg", "w.exp_avg_sq"}));
    EXPECT_EQ(opt.state()[0].second.item(), 2.0);
    EXPECT_EQ(opt.state()[0].second.dtype(), f64);
    EXPECT_EQ(opt.state()[1].second.dtype(), f32);
    EXPECT_EQ(q.item(), 3.0);  // no gradient: skipped
}

TEST(Adam, LoadedStateResumesBiasCorrection) {
    Tensor a = tensor({1, -1}, Shape{2}, f64, true), b = tensor({1, -1}, Shape{2}, f64, true);
    Adam oa({a}, AdamOptions(0.1)), ob({b}, AdamOptions(0.1));
    set_grad(a, {1, 2});
    oa.step();
    init::copy_(b, a);
    std::vector<NamedTensor> saved;
    for (const auto& [name, t] : oa.state()) saved.emplace_back(name, t.detach());
    ob.load_state(saved);
    set_grad(a, {0.5, -1});
    set_grad(b, {0.5, -1});
    oa.step();
    ob.step();
    EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(Adam, LoadStateReplacesTheWholeState) {
    Tensor p = tensor({1, 2}, Shape{2}, f32, true), q = tensor({3}, Shape{1}, f32, true);
    Adam opt(std::vector<NamedTensor>{{"w", p}, {"b", q}}, AdamOptions(1e-3));
    set_grad(p, {1, 1});
    set_grad(q, {1});
    opt.step();
    std::vector<NamedTensor> only_w;
    for (const auto& [name, t] : opt.state()) {
        if (name.rfind("w.", 0) == 0) only_w.emplace_back(name, t.detach());
    }
    opt.step();  // w.step is now 2
    opt.load_state(only_w);
    std::vector<std::string> names;
    for (const auto& s : opt.state()) names.push_back(s.first);
    EXPECT_EQ(names, (std::vector<std::string>{"w.step", "w.exp_avg", "w.exp_avg_sq"}));
    EXPECT_EQ(opt.state()[0].second.item(), 1.0);  // the saved value, copied
    only_w[0].second.mutable_value().set(0, 7.0);
    EXPECT_EQ(opt.state()[0].second.item(), 1.0);
}

TEST(Adam, LoadStateRefusesAPartialOrRepeatedBufferSetAndChangesNothing) {
    Tensor p = tensor({1, 2}, Shape{2}, f32, true);
    Adam opt(std::vector<NamedTensor>{{"w", p}}, AdamOptions(1e-3));
    set_grad(p, {1, 1});
    opt.step();
    EXPECT_THROW_MSG(opt.load_state({{"w.step", scalar(5, f64)}, {"w.exp_avg", zeros({2})}}),
                     std::invalid_argument,
                     "Adam: state of parameter \"w\" lacks \"w.exp_avg_sq\" (expected all of "
                     "its buffers or none)");
    EXPECT_THROW_MSG(opt.load_state({{"w.step", scalar(5, f64)}, {"w.step", scalar(6, f64)}}),
                     std::invalid_argument, "state entry \"w.step\" appears twice");
    EXPECT_EQ(opt.state()[0].second.item(), 1.0);
}

TEST(Adam, StateLayoutNamesEveryBufferOfEveryParameter) {
    Tensor p = zeros(Shape{2, 3}, f32, true), q = zeros(Shape{3}, f32, true);
    Adam opt(std::vector<NamedTensor>{{"fc.weight", p}, {"fc.bias", q}});
    const std::vector<NamedTensor> layout = opt.state_layout();
    std::vector<std::string> got;
    for (const auto& [name, t] : layout) {
        got.push_back(name + " " + t.shape().str() + " " + dtype_name(t.dtype()));
    }
    EXPECT_EQ(got, (std::vector<std::string>{
                       "fc.weight.step () float64", "fc.weight.exp_avg (2,3) float32",
                       "fc.weight.exp_avg_sq (2,3) float32", "fc.bias.step () float64",
                       "fc.bias.exp_avg (3) float32", "fc.bias.exp_avg_sq (3) float32"}));
    EXPECT_TRUE(opt.state().empty());  // a layout, not state
    opt.load_state(layout);            // and a valid state to load
    EXPECT_EQ(opt.state().size(), 6u);
}

TEST(Adam, HyperparametersAreValidated) {
    Tensor p = zeros(Shape{1}, f32, true);
    EXPECT_THROW_MSG(Adam({p}, AdamOptions(NAN)), std::invalid_argument, "Adam", "learning rate");
    EXPECT_THROW_MSG(Adam({p}, AdamOptions(-1)), std::invalid_argument, "learning rate");
    EXPECT_THROW_MSG(Adam({p}, AdamOptions().betas(1.0, 0.999)), std::invalid_argument, "beta1",
                     "[0, 1)");
    EXPECT_THROW_MSG(Adam({p}, AdamOptions().betas(0.9, -0.1)), std::invalid_argument, "beta2");
    EXPECT_THROW_MSG(Adam({p}, AdamOptions().eps(-1e-8)), std::invalid_argument, "eps");
    EXPECT_THROW_MSG(AdamW({p}, AdamOptions().weight_decay(NAN)), std::invalid_argument, "AdamW",
                     "weight_decay");
}

}  // namespace
}  // namespace xgrad::nn::optim
