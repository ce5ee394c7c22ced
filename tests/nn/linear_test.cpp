#include "nn/linear.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

// Seed 004's first layer: W1 = [[-1, 2], [-2, 1], [1, 4]], its first row the bias.
Linear course_layer() {
    Linear fc(2, 2, /*bias=*/true, f64);
    init::copy_(fc.weight(), {-2, 1, 1, 4});
    init::copy_(fc.bias(), {-1, 2});
    return fc;
}

TEST(Linear, ForwardIsXTimesWeightPlusBias) {
    Linear fc = course_layer();
    Tensor y = fc.forward(tensor({2, 5, 1, 0}, Shape{2, 2}, f64));
    EXPECT_EQ(y.shape(), (Shape{2, 2}));
    // row (2, 5): (-1 - 4 + 5, 2 + 2 + 20) = (0, 24), the notes' hidden inputs
    // row (1, 0): (-1 - 2, 2 + 1) = (-3, 3)
    EXPECT_EQ(y.to_vector(), (std::vector<double>{0, 24, -3, 3}));
}

TEST(Linear, TwoDimensionalInputWithBiasIsOneAddmm) {
    // As torch's F.linear: one node, the bias in the gemm; without a bias, a matmul.
    Linear fc = course_layer();
    const Tensor x = tensor({2, 5, 1, 0}, Shape{2, 2}, f64, /*requires_grad=*/true);
    EXPECT_STREQ(fc.forward(x).op(), "addmm");
    Linear plain(2, 2, /*bias=*/false, f64);
    EXPECT_STREQ(plain.forward(x).op(), "matmul");
}

TEST(Linear, OneDimensionalInputGivesOneDimensionalOutput) {
    Linear fc = course_layer();
    Tensor y = fc.forward(tensor({2, 5}, f64));
    EXPECT_EQ(y.shape(), (Shape{2}));
    EXPECT_EQ(y.to_vector(), (std::vector<double>{0, 24}));
}

TEST(Linear, LeadingDimensionsAreKeptAsPyTorchs) {
    // (2, 2, 2) -> (2, 2, 2): each row as in ForwardIsXTimesWeightPlusBias.
    Linear fc = course_layer();
    Tensor x = tensor({2, 5, 1, 0, 1, 0, 2, 5}, Shape{2, 2, 2}, f64, true);
    Tensor y = fc.forward(x);
    EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
    EXPECT_EQ(y.to_vector(), (std::vector<double>{0, 24, -3, 3, -3, 3, 0, 24}));
    sum(y).backward();
    // dL/dx = 1 W^T: every row (-2 + 1, 1 + 4) = (-1, 5).
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{-1, 5, -1, 5, -1, 5, -1, 5}));
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
    Linear fc(3, 4, /*bias=*/false);
    EXPECT_FALSE(fc.has_bias());
    EXPECT_FALSE(fc.bias().defined());
    ASSERT_EQ(fc.named_parameters().size(), 1u);
    EXPECT_EQ(fc.named_parameters()[0].first, "weight");
    EXPECT_EQ(fc.weight().shape(), (Shape{3, 4}));
    init::constant_(fc.weight(), 1.0);
    EXPECT_EQ(fc.forward(ones(Shape{1, 3})).to_vector(), (std::vector<double>{3, 3, 3, 3}));
}

TEST(Linear, GradientsAreXTransposeGAndColumnSumsOfG) {
    Linear fc = course_layer();
    Tensor x = tensor({2, 5, 1, -1, 0.5, 3}, Shape{3, 2}, f64, true);
    Tensor g = tensor({1, -2, 0.5, 4, -1, 3}, Shape{3, 2}, f64);
    fc.forward(x).backward(g);
    // dW[i][j] = sum_n x[n][i] g[n][j];  db[j] = sum_n g[n][j];  dx = g W^T
    const std::vector<double> xv = x.to_vector(), gv = g.to_vector();
    const std::vector<double> w = fc.weight().to_vector();
    std::vector<double> dw(4, 0), db(2, 0), dx(6, 0);
    for (int n = 0; n < 3; ++n) {
        for (int i = 0; i < 2; ++i) {
            for (int j = 0; j < 2; ++j) {
                dw[i * 2 + j] += xv[n * 2 + i] * gv[n * 2 + j];
                dx[n * 2 + i] += gv[n * 2 + j] * w[i * 2 + j];
            }
        }
        for (int j = 0; j < 2; ++j) db[j] += gv[n * 2 + j];
    }
    EXPECT_EQ(fc.weight().grad().to_vector(), dw);
    EXPECT_EQ(fc.bias().grad().to_vector(), db);
    EXPECT_EQ(x.grad().to_vector(), dx);
}

TEST(Linear, DefaultInitIsUniformInPlusMinusOneOverSqrtInAndSeeded) {
    manual_seed(5);
    Linear a(16, 8);
    manual_seed(5);
    Linear b(16, 8);
    Linear c(16, 8);  // the stream moved on
    EXPECT_EQ(a.weight().to_vector(), b.weight().to_vector());
    EXPECT_EQ(a.bias().to_vector(), b.bias().to_vector());
    EXPECT_NE(a.weight().to_vector(), c.weight().to_vector());
    for (double w : a.weight().to_vector()) EXPECT_LE(std::abs(w), 0.25);  // 1/sqrt(16)
    for (double w : a.bias().to_vector()) EXPECT_LE(std::abs(w), 0.25);
}

TEST(Linear, RejectsInputsOfTheWrongWidthOrDtype) {
    Linear fc(2, 3);
    EXPECT_THROW_MSG(fc.forward(ones(Shape{4, 5})), std::invalid_argument, "Linear", "(4,5)",
                     "in=2");
    EXPECT_THROW_MSG(fc.forward(ones(Shape{1, 2, 5})), std::invalid_argument, "(1,2,5)",
                     "(expected (*, 2))");
    EXPECT_THROW_MSG(fc.forward(scalar(1)), std::invalid_argument, "()");
    EXPECT_THROW_MSG(fc.forward(ones(Shape{4, 2}, f64)), std::invalid_argument, "float64",
                     "float32");
}

TEST(Linear, PrintsItsSizes) {
    std::ostringstream os;
    Linear(784, 128).pretty_print(os);
    EXPECT_EQ(os.str(), "Linear(in=784, out=128, bias=true)");
}

}  // namespace
}  // namespace xgrad::nn
