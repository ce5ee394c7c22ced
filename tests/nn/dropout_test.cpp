#include "nn/dropout.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

TEST(Dropout, TrainingZeroesAboutPAndScalesTheRest) {
    Dropout drop(0.25, /*seed=*/3);
    const std::vector<double> y = drop.forward(ones(Shape{10000}, f64)).to_vector();
    std::size_t zeros = 0;
    for (double v : y) {
        if (v == 0) {
            ++zeros;
        } else {
            EXPECT_EQ(v, 1 / 0.75);
        }
    }
    EXPECT_NEAR(double(zeros) / 10000, 0.25, 0.02);
}

TEST(Dropout, EvalIsTheIdentity) {
    Dropout drop(0.5, 3);
    drop.eval();
    Tensor x = ones(Shape{8});
    EXPECT_EQ(drop.forward(x).node(), x.node());
}

TEST(Dropout, SameSeedSameMasksAndMasksChangeBetweenCalls) {
    Dropout a(0.5, 11), b(0.5, 11);
    Tensor x = ones(Shape{64}, f64);
    const std::vector<double> a1 = a.forward(x).to_vector(), a2 = a.forward(x).to_vector();
    EXPECT_EQ(a1, b.forward(x).to_vector());
    EXPECT_EQ(a2, b.forward(x).to_vector());
    EXPECT_NE(a1, a2);
}

TEST(Dropout, GradientIsTheScaledMask) {
    Dropout drop(0.5, 7);
    Tensor x = full(Shape{32}, 3.0, f64, true);
    Tensor y = drop.forward(x);
    sum(y).backward();
    const std::vector<double> yv = y.to_vector(), g = x.grad().to_vector();
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_EQ(g[i], yv[i] / 3.0);  // y = 3 mask
}

TEST(Dropout, EdgeProbabilities) {
    Tensor x = ones(Shape{16});
    Dropout none(0.0, 1), all(1.0, 1);
    EXPECT_EQ(none.forward(x).node(), x.node());
    EXPECT_EQ(all.forward(x).to_vector(), std::vector<double>(16, 0.0));
    EXPECT_THROW_MSG(Dropout(1.5), std::invalid_argument, "Dropout", "[0, 1]", "1.5");
    EXPECT_THROW_MSG(Dropout(-0.1, 1), std::invalid_argument, "Dropout");
    EXPECT_THROW(Dropout(std::nan(""), 1), std::invalid_argument);
}

// The functional forms draw the layers' masks: with the same generator state, the same mask.
TEST(DropoutFunctional, SameMasksAsTheLayersAndSeededWithoutAGenerator) {
    namespace F = functional;
    const Tensor x = uniform({4, 3, 2, 2}, 1, 2, 5, f64);
    Dropout drop(0.3, /*seed=*/11);
    std::mt19937_64 gen(11);
    EXPECT_EQ(F::dropout(x, F::DropoutFuncOptions().p(0.3), &gen).to_vector(),
              drop.forward(x).to_vector());
    Dropout2d drop2(0.5, /*seed=*/12);
    std::mt19937_64 gen2(12);
    const Tensor y = F::dropout2d(x, F::Dropout2dFuncOptions().p(0.5), &gen2);
    EXPECT_EQ(y.to_vector(), drop2.forward(x).to_vector());
    // Whole channels: each (n, c) plane is all zero or all scaled by 2.
    const std::vector<double> yv = y.to_vector(), xv = x.to_vector();
    for (std::size_t plane = 0; plane < 12; ++plane) {
        const bool zero = yv[plane * 4] == 0;
        for (std::size_t k = 0; k < 4; ++k) {
            EXPECT_EQ(yv[plane * 4 + k], zero ? 0.0 : 2 * xv[plane * 4 + k]);
        }
    }
    // Without a generator: one draw of manual_seed's stream per call, so reproducible.
    manual_seed(3);
    const std::vector<double> a = F::dropout(x).to_vector(), b = F::dropout(x).to_vector();
    manual_seed(3);
    EXPECT_EQ(F::dropout(x).to_vector(), a);
    EXPECT_EQ(F::dropout(x).to_vector(), b);
    EXPECT_NE(a, b);
    EXPECT_EQ(F::dropout(x, F::DropoutFuncOptions().training(false)).to_vector(), x.to_vector());
    EXPECT_THROW_MSG(F::dropout(x, F::DropoutFuncOptions().p(1.5)), std::invalid_argument,
                     "dropout: p must be in [0, 1] (got 1.5");
    EXPECT_THROW_MSG(F::dropout2d(ones({2, 2})), std::invalid_argument,
                     "dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input (got (2,2))");
}

}  // namespace
}  // namespace xgrad::nn
