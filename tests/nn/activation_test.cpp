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
    const std::vector<double> q = Softmax(/*axis=*/0).forward(x).to_vector();
    EXPECT_NEAR(q[0] + q[3], 1.0, 1e-15);
}

TEST(Activation, ModulesHaveNoParametersAndPrintTheirName) {
    EXPECT_TRUE(Sigmoid().parameters().empty());
    EXPECT_EQ(printed(ReLU()), "ReLU()");
    EXPECT_EQ(printed(Step()), "Step()");
    EXPECT_EQ(printed(LogSoftmax(1)), "LogSoftmax(axis=1)");
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

}  // namespace
}  // namespace xgrad::nn
