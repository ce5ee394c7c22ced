#include "nn/dropout.h"

#include <gtest/gtest.h>

#include "autograd/ops.h"
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

}  // namespace
}  // namespace xgrad::nn
