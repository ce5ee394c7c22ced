#include <gtest/gtest.h>

#include "tests/support/check.h"

namespace xgrad {
namespace {

TEST(Course, Figure4AddThenMultiply) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor g = x + y;
    g.retain_grad();
    Tensor f = g * z;
    f.backward();
    EXPECT_EQ(f.item(), 20.0);
    EXPECT_EQ(g.grad().item(), 4.0);
    EXPECT_EQ(x.grad().item(), 4.0);
    EXPECT_EQ(y.grad().item(), 4.0);
    EXPECT_EQ(z.grad().item(), 5.0);
}

}  // namespace
}  // namespace xgrad
