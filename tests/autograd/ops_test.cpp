// Each op: values against hand-computed numbers and a finite-difference gradient check;
// binary ops also with broadcast shapes.

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::rand64;
using V = std::vector<Tensor>;

TEST(Mul, ValuesAndGradcheckWithBroadcast) {
    Tensor a = tensor({1, 2, 3, 4}, {2, 2}, f64), b = tensor({10, 20}, {2}, f64);
    EXPECT_EQ(mul(a, b).to_vector(), (std::vector<double>{10, 40, 30, 80}));
    EXPECT_TRUE(
        grad_ok([](const V& x) { return x[0] * x[1]; }, {rand64({3, 4}, 1), rand64({4}, 2)}));
    EXPECT_TRUE(
        grad_ok([](const V& x) { return x[0] * x[1]; }, {rand64({3, 1}, 3), rand64({1, 4}, 4)}));
}

TEST(Matmul, MatrixMatrixGradcheck) {
    EXPECT_TRUE(grad_ok([](const V& x) { return matmul(x[0], x[1]); },
                        {rand64({3, 4}, 5), rand64({4, 2}, 6)}));
}

}  // namespace
}  // namespace xgrad
