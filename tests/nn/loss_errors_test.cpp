// Every documented loss error: std::invalid_argument naming the loss and the shapes or values.

#include <gtest/gtest.h>

#include <cmath>

#include "nn/loss.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using Indices = std::vector<std::int64_t>;

TEST(LossErrors, ElementWiseLossesRefuseDifferentShapes) {
    Tensor a = ones(Shape{4, 1}), b = ones(Shape{4});
    EXPECT_THROW_MSG(half_squared_error(a, b), std::invalid_argument, "half_squared_error",
                     "input (4,1)", "target (4)");
    EXPECT_THROW_MSG(mse_loss(a, b), std::invalid_argument, "mse_loss", "(4,1)", "(4)",
                     "do not broadcast");
    EXPECT_THROW_MSG(binary_cross_entropy(a, b), std::invalid_argument, "binary_cross_entropy",
                     "(4,1)", "(4)");
    EXPECT_THROW_MSG(binary_cross_entropy_with_logits(a, b), std::invalid_argument,
                     "binary_cross_entropy_with_logits", "(4,1)", "(4)");
    EXPECT_THROW_MSG(hinge_loss(a, b), std::invalid_argument, "hinge_loss", "(4,1)", "(4)");
}

TEST(LossErrors, ElementWiseLossesRefuseDifferentDtypes) {
    EXPECT_THROW_MSG(mse_loss(ones(Shape{2}), ones(Shape{2}, f64)), std::invalid_argument,
                     "mse_loss", "float32", "float64");
    EXPECT_THROW_MSG(binary_cross_entropy_with_logits(ones(Shape{2}, f64), ones(Shape{2})),
                     std::invalid_argument, "binary_cross_entropy_with_logits", "dtypes");
}

TEST(LossErrors, UndefinedTensorsAreNamed) {
    EXPECT_THROW_MSG(mse_loss(Tensor(), ones(Shape{2})), std::invalid_argument, "mse_loss",
                     "undefined input");
    EXPECT_THROW_MSG(cross_entropy(Tensor(), Indices{0}), std::invalid_argument, "cross_entropy",
                     "undefined logits");
}

TEST(LossErrors, ClassLossesRefuseLabelsOutOfRange) {
    Tensor x = ones(Shape{3, 4});
    EXPECT_THROW_MSG(cross_entropy(x, Indices{0, 4, 1}), std::invalid_argument, "cross_entropy",
                     "target 4 at position 1", "logits (3,4)", "[0, 4)");
    EXPECT_THROW_MSG(cross_entropy(x, Indices{0, 1, -1}), std::invalid_argument,
                     "target -1 at position 2");
    EXPECT_THROW_MSG(nll_loss(x, Indices{9, 0, 0}), std::invalid_argument, "nll_loss", "target 9",
                     "log_probs (3,4)");
    EXPECT_THROW_MSG(multi_margin_loss(x, Indices{0, 0, 7}), std::invalid_argument,
                     "multi_margin_loss", "target 7", "scores (3,4)");
    EXPECT_THROW_MSG(cross_entropy(x, tensor({0, 5, 1})), std::invalid_argument, "target 5");
}

TEST(LossErrors, ClassLossesRefuseWrongBatchSizes) {
    Tensor x = ones(Shape{4, 3});
    EXPECT_THROW_MSG(cross_entropy(x, Indices{0, 1, 2, 0, 1}), std::invalid_argument,
                     "cross_entropy", "batch sizes differ", "logits (4,3)", "5 targets");
    EXPECT_THROW_MSG(nll_loss(x, Indices{0}), std::invalid_argument, "nll_loss", "(4,3)",
                     "1 targets");
    EXPECT_THROW_MSG(multi_margin_loss(x, tensor({0, 1})), std::invalid_argument,
                     "multi_margin_loss", "(4,3)", "2 targets");
}

TEST(LossErrors, ClassLossesRefuseWrongShapes) {
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{3}), Indices{0, 1, 2}), std::invalid_argument,
                     "cross_entropy", "logits must be 2-D (N, C)", "(3)");
    EXPECT_THROW_MSG(nll_loss(ones(Shape{2, 3, 4}), Indices{0, 1}), std::invalid_argument,
                     "nll_loss", "(2,3,4)");
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{0, 3}), Indices{}), std::invalid_argument,
                     "empty logits (0,3)");
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{2, 3}), ones(Shape{2, 1})), std::invalid_argument,
                     "target must be 1-D", "(2,1)");
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{2, 3}), tensor({0, 1.5})), std::invalid_argument,
                     "1.5", "not a class index");
    // Issue 12: 1e20 is integral; it was reported as "not a class index (expected an integral
    // value)".
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{2, 3}), tensor({0, 1e20})), std::invalid_argument,
                     "cross_entropy: target 1e+20 at position 1 is out of range");
    EXPECT_THROW_MSG(nll_loss(ones(Shape{1, 3}), tensor({-1e18})), std::invalid_argument, "-1e+18",
                     "out of range");
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{1, 3}), tensor({3})), std::invalid_argument,
                     "target 3 at position 0 is out of range", "[0, 3)");
}

// Issue 12: std::max(0, margin - x_t + x_j) turned NaN scores into a loss of 0.
TEST(LossErrors, MultiMarginLossOfNaNScoresIsNaN) {
    EXPECT_TRUE(std::isnan(
        multi_margin_loss(tensor({NAN, NAN, NAN}, Shape{1, 3}), Indices{0}, Reduction::kMean)
            .item()));
    const std::vector<double> items = multi_margin_loss(tensor({0, NAN, 0, 5, 0, 0}, Shape{2, 3}),
                                                        Indices{0, 0}, Reduction::kNone)
                                          .to_vector();
    EXPECT_TRUE(std::isnan(items[0]));  // a NaN among the other classes
    EXPECT_EQ(items[1], 0.0);           // a row without NaN keeps its value
    EXPECT_TRUE(std::isnan(multi_margin_loss(tensor({NAN, 0, 0}, Shape{1, 3}), Indices{0},
                                             Reduction::kSum)
                               .item()));  // a NaN target score
}

TEST(LossErrors, ValueDomainsAreChecked) {
    EXPECT_THROW_MSG(binary_cross_entropy(tensor({0.5, 1.5}), tensor({0, 1})),
                     std::invalid_argument, "binary_cross_entropy", "1.5", "position 1",
                     "not a probability");
    EXPECT_THROW_MSG(hinge_loss(tensor({0.5, 1.5}), tensor({1, 0})), std::invalid_argument,
                     "hinge_loss", "target 0", "position 1", "{-1, +1}");
    EXPECT_THROW_MSG(multi_margin_loss(ones(Shape{1, 2}), Indices{0}, Reduction::kMean, NAN),
                     std::invalid_argument, "margin must be finite");
}

TEST(LossErrors, FusedLossesRefuseATargetThatRequiresGrad) {
    Tensor y = ones(Shape{2}, f32, /*requires_grad=*/true);
    EXPECT_THROW_MSG(binary_cross_entropy(tensor({0.5, 0.5}), y), std::invalid_argument,
                     "binary_cross_entropy", "target requires grad", "detach");
    EXPECT_THROW_MSG(binary_cross_entropy_with_logits(tensor({0.5, 0.5}), y), std::invalid_argument,
                     "target requires grad");
    EXPECT_THROW_MSG(cross_entropy(ones(Shape{2, 2}), y), std::invalid_argument,
                     "target requires grad");
}

}  // namespace
}  // namespace xgrad::nn
