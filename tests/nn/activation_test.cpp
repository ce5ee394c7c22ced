#include "nn/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "autograd/ops.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

std::string printed(const Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

TEST(Activation, ModulesComputeTheirOps) {
    Tensor x = tensor({-2, 0, 0.5}, f64);
    const std::vector<double> v = x.to_vector();
    std::vector<double> sig, th;
    for (double a : v) {
        sig.push_back(1 / (1 + std::exp(-a)));
        th.push_back(std::tanh(a));
    }
    const std::vector<double> s = Sigmoid().forward(x).to_vector();
    const std::vector<double> t = Tanh().forward(x).to_vector();
    for (std::size_t i = 0; i < v.size(); ++i) {
        EXPECT_NEAR(s[i], sig[i], 1e-15);
        EXPECT_NEAR(t[i], th[i], 1e-15);
    }
    EXPECT_EQ(ReLU().forward(x).to_vector(), (std::vector<double>{0, 0, 0.5}));
    EXPECT_EQ(Step().forward(x).to_vector(), (std::vector<double>{-1, 1, 1}));
}

TEST(Activation, SoftmaxRowsSumToOneAndLogSoftmaxIsItsLog) {
    Tensor x = tensor({1, 2, 3, -1, 0, 1e3}, Shape{2, 3}, f64);
    const std::vector<double> p = Softmax().forward(x).to_vector();
    const std::vector<double> lp = LogSoftmax().forward(x).to_vector();
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-15);
    EXPECT_NEAR(p[3] + p[4] + p[5], 1.0, 1e-15);
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(std::exp(lp[i]), p[i], 1e-15);
    // along axis 0: each column sums to one
    const std::vector<double> q = Softmax(/*dim=*/0).forward(x).to_vector();
    EXPECT_NEAR(q[0] + q[3], 1.0, 1e-15);
}

TEST(Activation, ModulesHaveNoParametersAndPrintTheirName) {
    EXPECT_TRUE(Sigmoid().parameters().empty());
    EXPECT_EQ(printed(ReLU()), "ReLU()");
    EXPECT_EQ(printed(Step()), "Step()");
    EXPECT_EQ(printed(LogSoftmax(1)), "LogSoftmax(dim=1)");
}

TEST(Activation, GradientsFlowThroughModules) {
    using xgrad::testing::grad_ok;
    using xgrad::testing::rand64;
    Sigmoid sig;
    Tanh th;
    LogSoftmax ls;
    EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return sig.forward(in[0]); },
                        {rand64({3, 2}, 1)}));
    EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return th.forward(in[0]); },
                        {rand64({3, 2}, 2)}));
    EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return ls.forward(in[0]); },
                        {rand64({3, 4}, 3)}));
}

// GELU, SiLU, LeakyReLU, ELU, Softplus against their formulas written out here.
TEST(Activation, NewModulesMatchTheirFormulas) {
    const std::vector<double> v = {-30, -2, -0.5, 0, 0.3, 1.5, 25};
    Tensor x = tensor(v, f64);
    const double pi = std::acos(-1.0);
    const std::vector<double> ge = GELU().forward(x).to_vector();
    const std::vector<double> gt = GELU(GELUOptions().approximate("tanh")).forward(x).to_vector();
    const std::vector<double> si = SiLU().forward(x).to_vector();
    const std::vector<double> lr = LeakyReLU().forward(x).to_vector();
    const std::vector<double> lr2 =
        LeakyReLU(LeakyReLUOptions().negative_slope(0.2)).forward(x).to_vector();
    const std::vector<double> el = ELU().forward(x).to_vector();
    const std::vector<double> el2 = ELU(ELUOptions().alpha(0.5)).forward(x).to_vector();
    const std::vector<double> sp = Softplus().forward(x).to_vector();
    const std::vector<double> sp2 =
        Softplus(SoftplusOptions().beta(2).threshold(3)).forward(x).to_vector();
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double a = v[i];
        EXPECT_NEAR(ge[i], a * 0.5 * (1 + std::erf(a / std::sqrt(2.0))), 1e-14) << a;
        EXPECT_NEAR(
            gt[i], 0.5 * a * (1 + std::tanh(std::sqrt(2 / pi) * (a + 0.044715 * a * a * a))), 1e-14)
            << a;
        EXPECT_NEAR(si[i], a / (1 + std::exp(-a)), 1e-14) << a;
        EXPECT_DOUBLE_EQ(lr[i], a > 0 ? a : 0.01 * a) << a;
        EXPECT_DOUBLE_EQ(lr2[i], a > 0 ? a : 0.2 * a) << a;
        EXPECT_NEAR(el[i], a > 0 ? a : std::exp(a) - 1, 1e-15) << a;
        EXPECT_NEAR(el2[i], a > 0 ? a : 0.5 * (std::exp(a) - 1), 1e-15) << a;
        // above the threshold softplus is the identity (25 > 20; 2 * 1.5 = 3 is not > 3)
        EXPECT_NEAR(sp[i], a > 20 ? a : std::log1p(std::exp(a)), 1e-14) << a;
        EXPECT_NEAR(sp2[i], 2 * a > 3 ? a : std::log1p(std::exp(2 * a)) / 2, 1e-14) << a;
    }
    EXPECT_EQ(sp2[6], 25.0);
    EXPECT_NE(sp2[5], 1.5);
}

TEST(Activation, NewModulesPrintAsPyTorch) {
    EXPECT_EQ(printed(GELU()), "GELU(approximate='none')");
    EXPECT_EQ(printed(GELU(GELUOptions().approximate("tanh"))), "GELU(approximate='tanh')");
    EXPECT_EQ(printed(SiLU()), "SiLU()");
    EXPECT_EQ(printed(LeakyReLU()), "LeakyReLU(negative_slope=0.01)");
    EXPECT_EQ(printed(LeakyReLU(LeakyReLUOptions().negative_slope(0.2))),
              "LeakyReLU(negative_slope=0.2)");
    EXPECT_EQ(printed(ELU()), "ELU(alpha=1.0)");
    EXPECT_EQ(printed(Softplus()), "Softplus(beta=1, threshold=20)");
    EXPECT_EQ(printed(Softplus(SoftplusOptions().beta(2).threshold(10.5))),
              "Softplus(beta=2, threshold=10.5)");
    EXPECT_EQ(printed(Tanh()), "Tanh()");
    EXPECT_EQ(printed(Softmax(-1)), "Softmax(dim=-1)");
    EXPECT_EQ(Softmax(2).dim(), 2);
    EXPECT_TRUE(GELU().parameters().empty());
}

TEST(Activation, BadOptionsThrowNamingTheLayer) {
    EXPECT_THROW_MSG(GELU(GELUOptions().approximate("fast")), std::invalid_argument, "GELU",
                     "'fast'");
    EXPECT_THROW_MSG(Softplus(SoftplusOptions().beta(0)), std::invalid_argument, "Softplus",
                     "beta");
}

TEST(Activation, GradientsFlowThroughNewModules) {
    using xgrad::testing::grad_ok;
    using xgrad::testing::rand64;
    GELU g;
    GELU gt(GELUOptions().approximate("tanh"));
    SiLU si;
    LeakyReLU lr;
    ELU el;
    Softplus sp(SoftplusOptions().beta(2));
    for (Module* m : std::vector<Module*>{&g, &gt, &si, &lr, &el, &sp}) {
        EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& in) { return m->forward(in[0]); },
                            {rand64({3, 2}, 7)}))
            << m->name();
    }
}

// F::gelu, F::leaky_relu, ... are the modules' ops with LibTorch's FuncOptions.
TEST(ActivationFunctional, EqualsTheModules) {
    namespace F = functional;
    const Tensor x = uniform({3, 4}, -3, 3, 9, f64);
    auto same = [](const Tensor& a, const Tensor& b) { EXPECT_EQ(a.to_vector(), b.to_vector()); };
    same(F::relu(x), ReLU().forward(x));
    same(F::sigmoid(x), Sigmoid().forward(x));
    same(F::tanh(x), Tanh().forward(x));
    same(F::gelu(x, F::GELUFuncOptions().approximate("tanh")),
         GELU(GELUOptions().approximate("tanh")).forward(x));
    same(F::gelu(x), GELU().forward(x));
    same(F::silu(x), SiLU().forward(x));
    same(F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)),
         LeakyReLU(LeakyReLUOptions().negative_slope(0.2)).forward(x));
    same(F::elu(x, F::ELUFuncOptions().alpha(0.5)), ELU(ELUOptions().alpha(0.5)).forward(x));
    same(F::softplus(x, F::SoftplusFuncOptions().beta(2).threshold(3)),
         Softplus(SoftplusOptions().beta(2).threshold(3)).forward(x));
    same(F::softmax(x, F::SoftmaxFuncOptions(0)), Softmax(0).forward(x));
    same(F::log_softmax(x, F::LogSoftmaxFuncOptions(1)), LogSoftmax(1).forward(x));
}

}  // namespace
}  // namespace xgrad::nn
