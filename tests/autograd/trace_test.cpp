// Backward trace: the chain rule printed as the course's solutions write it (notes 000/001/002).

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>

#include "tests/support/check.h"

namespace xgrad {
namespace {

::testing::AssertionResult contains(const std::string& text, const std::string& line) {
    if (text.find(line) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "trace lacks \"" << line << "\":\n" << text;
}

struct Figure {
    Tensor x, y, z, f;
};

// Note 001, figure 4: f = (x + y) * z at 2, 3, 4.
Figure figure4() {
    Figure fig{scalar(2, f64, true).set_name("x"),
               scalar(3, f64, true).set_name("y"),
               scalar(4, f64, true).set_name("z"),
               {}};
    Tensor g = (fig.x + fig.y).set_name("g");
    fig.f = (g * fig.z).set_name("f");
    return fig;
}

TEST(Trace, OffByDefault) {
    std::ostringstream os;
    { BackwardTraceGuard trace(os); }
    figure4().f.backward();
    EXPECT_EQ(os.str(), "");
}

TEST(Trace, Figure4PrintsLocalDerivativeUpstreamAndProduct) {
    Figure fig = figure4();
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        fig.f.backward();
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "backward trace from f = 20 (seed df/df = 1)\n"));
    EXPECT_TRUE(contains(t, "f = g * z = 20\n"));
    EXPECT_TRUE(contains(t, "  df/dg = z = 4\n"));  // at the root the local derivative is all
    EXPECT_TRUE(contains(t, "  df/dz = g = 5\n"));
    EXPECT_TRUE(contains(t, "g = x + y = 5\n"));
    EXPECT_TRUE(contains(t, "  df/dx = df/dg * dg/dx = 4 * 1 = 4\n"));
    EXPECT_TRUE(contains(t, "  df/dy = df/dg * dg/dy = 4 * 1 = 4\n"));
    EXPECT_TRUE(contains(t, "chain rule, one product per path from f:\n"));
    EXPECT_TRUE(contains(t, "  df/dz = g = 5\n  df/dx = z = 4\n  df/dy = z = 4\n"));
}

TEST(Trace, TwoWeightSigmoidNetReadsLikeTheNotesChain) {
    // Notes 000/002: dLoss/dw1 = (a2 - y*) * a2(1 - a2) * w2 * a1(1 - a1) * x.
    Tensor x = scalar(1.0, f64).set_name("x");
    Tensor w1 = scalar(0.5, f64, true).set_name("w1");
    Tensor w2 = scalar(-1.5, f64, true).set_name("w2");
    Tensor ystar = scalar(1.0, f64).set_name("y*");
    Tensor a1 = sigmoid((x * w1).set_name("z1")).set_name("a1");
    Tensor a2 = sigmoid((a1 * w2).set_name("z2")).set_name("a2");
    Tensor loss = (0.5 * square((a2 - ystar).set_name("d"))).set_name("Loss");
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os, /*precision=*/4);
        loss.backward();
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "a2 = sigmoid(z2) = 0.2822\n"));
    EXPECT_TRUE(contains(t,
                         "  dLoss/dz2 = dLoss/da2 * da2/dz2 = -0.7178 * a2(1 - a2) = "
                         "-0.7178 * 0.2026 = -0.1454\n"));
    EXPECT_TRUE(contains(t,
                         "  dLoss/da1 = dLoss/dz2 * dz2/da1 = -0.1454 * w2 = "
                         "-0.1454 * (-1.5) = 0.2181\n"));
    EXPECT_TRUE(contains(t,
                         "  dLoss/dw1 = 0.5 * 2*d * a2(1 - a2) * w2 * a1(1 - a1) * x = "
                         "0.5 * (-1.436) * 0.2026 * (-1.5) * 0.235 * 1 = 0.05125\n"));
    EXPECT_TRUE(contains(t, "  dLoss/dw2 = 0.5 * 2*d * a2(1 - a2) * a1 = "));
    EXPECT_NEAR(w1.grad().item(), 0.05125, 1e-5);
}

TEST(Trace, ANodeNamedAfterItsExpressionIsWrittenOnce) {
    Tensor a = scalar(3, f64, true).set_name("a");
    Tensor d = (a - 1.0).set_name("a - 1");
    Tensor loss = square(d).set_name("Loss");
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        loss.backward();
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "\na - 1 = 2\n"));
    EXPECT_TRUE(contains(t, "  dLoss/d(a - 1) = 2*(a - 1) = 4\n"));
    EXPECT_TRUE(contains(t, "  dLoss/da = 2*(a - 1) = 4\n"));
}

TEST(Trace, UnnamedNodesAreNumberedAndConstantsShowTheirValue) {
    Tensor x = scalar(3, f64, true);
    Tensor y = exp(x * 2.0);
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        y.backward();
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "L = exp(t1) = 403.429\n"));
    EXPECT_TRUE(contains(t, "t1 = leaf1 * 2 = 6\n"));
    EXPECT_TRUE(contains(t, "  dL/dleaf1 = dL/dt1 * dt1/dleaf1 = 403.429 * 2 = 806.858\n"));
}

TEST(Trace, ElementwiseOpsOnVectorsPrintLocalDerivativesElementwise) {
    Tensor x = tensor({1, 2, 3}, f64, true).set_name("x");
    Tensor y = sum(square(x).set_name("s")).set_name("y");
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        y.backward();
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "s = square(x) = [1, 4, 9]  shape (3)\n"));
    EXPECT_TRUE(contains(t, "  dy/ds = 1 = [1, 1, 1]\n"));
    EXPECT_TRUE(contains(t,
                         "  dy/dx = dy/ds * ds/dx = [1, 1, 1] * 2*x = [1, 1, 1] * [2, 4, 6] = "
                         "[2, 4, 6]\n"));
}

TEST(Trace, OtherNonScalarOpsPrintTheVectorJacobianProduct) {
    // Note 000 section 3: c = x^T A x; the inner matmul has a (3,) output.
    Tensor A = tensor({1, 2, 0, -1, 3, 1, 2, 0, 1}, {3, 3}, f64, true).set_name("A");
    Tensor x = tensor({1, -2, 3}, f64, true).set_name("x");
    Tensor Ax = matmul(A, x).set_name("Ax");
    Tensor c = matmul(x, Ax).set_name("c");
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        c.backward();
    }
    const std::string t = os.str();
    // The dot product has a one-element output: its local derivatives are exact.
    EXPECT_TRUE(contains(t, "  dc/dx = Ax = [-3, -4, 5]\n"));
    EXPECT_TRUE(contains(t, "  dc/dAx = x = [1, -2, 3]\n"));
    // A * x has three: only the product is printed, (3,3) as a summary.
    EXPECT_TRUE(contains(t,
                         "  dc/dA = dc/dAx * dAx/dA = mean 0.444444, min -6, max 9  "
                         "[vector-Jacobian product of matmul]\n"));
    EXPECT_TRUE(contains(t,
                         "  dc/dx += dc/dAx * dAx/dx = [9, -4, 1]  "
                         "[vector-Jacobian product of matmul]\n"));
    // dc/dx = (A + A^T) x, as note 000 derives it.
    EXPECT_TRUE(contains(t, "  dc/dx = Ax + x * dAx/dx = [6, -8, 6]\n"));
}

TEST(Trace, BroadcastGradientsAreSummedToTheInputShape) {
    Tensor v = tensor({1, 2, 3}, f64, true).set_name("v");
    Tensor s = scalar(2, f64, true).set_name("s");
    Tensor y = sum((v * s).set_name("p")).set_name("y");
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        y.backward();
    }
    EXPECT_TRUE(contains(os.str(),
                         "  dy/ds = dy/dp * dp/ds = [1, 1, 1] * v = [1, 1, 1] * "
                         "[1, 2, 3] = 6 (summed to shape ())\n"));
}

TEST(Trace, GuardIsThreadLocal) {
    std::ostringstream os;
    BackwardTraceGuard trace(os);
    std::thread other([] { figure4().f.backward(); });
    other.join();
    EXPECT_EQ(os.str(), "");
}

TEST(Trace, NestedGuardsRestoreTheOuterStream) {
    std::ostringstream outer, inner;
    BackwardTraceGuard a(outer);
    {
        BackwardTraceGuard b(inner);
        figure4().f.backward();
    }
    EXPECT_NE(inner.str(), "");
    EXPECT_EQ(outer.str(), "");
    figure4().f.backward();
    EXPECT_NE(outer.str(), "");
}

TEST(Trace, TracedBackwardComputesTheSameGradients) {
    Figure traced = figure4(), plain = figure4();
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        traced.f.backward();
    }
    plain.f.backward();
    EXPECT_EQ(traced.x.grad().item(), plain.x.grad().item());
    EXPECT_EQ(traced.z.grad().item(), plain.z.grad().item());
}

}  // namespace
}  // namespace xgrad
