// Bad input gets a clear exception that names the op and the shapes.

#include <gtest/gtest.h>

#include "tests/support/check.h"

namespace xgrad {
namespace {

TEST(Errors, MatmulInnerDimensionMismatchNamesBothShapes) {
    EXPECT_THROW_MSG(matmul(zeros({32, 784}), zeros({128, 10})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (32,784) and (128,10))");
}

}  // namespace
}  // namespace xgrad
