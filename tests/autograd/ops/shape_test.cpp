// transpose(dim0, dim1), t, permute, reshape with -1, unsqueeze, squeeze, flatten, expand,
// contiguous: values, gradcheck, gradgradcheck (through a square, so the second derivative
// passes the rule), errors.

#include <gtest/gtest.h>

#include "tests/autograd/ops/op_test_util.h"

namespace xgrad {
namespace {

using namespace testing;

TEST(ShapeOps, TransposeAndPermuteValues) {
    const Tensor x = iota({2, 3, 4});
    // transpose(x, 0, 2)[i][j][k] = x[k][j][i]
    const Tensor y = transpose(x, 0, -1);
    ASSERT_EQ(y.shape(), (Shape{4, 3, 2}));
    EXPECT_EQ(y.at({1, 2, 0}), x.at({0, 2, 1}));
    EXPECT_EQ(y.at({3, 0, 1}), x.at({1, 0, 3}));
    const Tensor p = permute(x, {1, 2, 0});
    ASSERT_EQ(p.shape(), (Shape{3, 4, 2}));
    EXPECT_EQ(p.at({2, 1, 1}), x.at({1, 2, 1}));
    EXPECT_TRUE(values_are(permute(iota({2, 3}), {1, 0}), {3, 2}, {0, 3, 1, 4, 2, 5}));
    EXPECT_TRUE(values_are(t(iota({2, 3})), {3, 2}, {0, 3, 1, 4, 2, 5}));
    EXPECT_TRUE(values_are(t(iota({3})), {3}, {0, 1, 2}));
    EXPECT_EQ(transpose(x, 1, 1).node(), x.node());
    EXPECT_STREQ(transpose(iota({2, 3}, true), 0, 1).op(), "transpose");
    EXPECT_STREQ(permute(iota({2, 3}, true), {1, 0}).op(), "permute");
}

TEST(ShapeOps, ReshapeFamilyValues) {
    const Tensor x = iota({2, 3});
    EXPECT_TRUE(values_are(reshape(x, {-1, 2}), {3, 2}, {0, 1, 2, 3, 4, 5}));
    EXPECT_TRUE(values_are(reshape(x, {-1}), {6}, {0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(reshape(zeros({0, 3}), {-1, 3}).shape(), (Shape{0, 3}));
    EXPECT_EQ(unsqueeze(x, 0).shape(), (Shape{1, 2, 3}));
    EXPECT_EQ(unsqueeze(x, -1).shape(), (Shape{2, 3, 1}));
    EXPECT_EQ(unsqueeze(x, 1).shape(), (Shape{2, 1, 3}));
    EXPECT_EQ(unsqueeze(scalar(1), 0).shape(), (Shape{1}));
    EXPECT_EQ(squeeze(zeros({2, 1, 3, 1}), 1).shape(), (Shape{2, 3, 1}));
    EXPECT_EQ(squeeze(zeros({2, 1, 3, 1}), 0).shape(), (Shape{2, 1, 3, 1}));  // size 2: kept
    EXPECT_EQ(squeeze(zeros({2, 1, 3, 1})).shape(), (Shape{2, 3}));
    EXPECT_EQ(flatten(zeros({2, 3, 4, 5})).shape(), (Shape{120}));
    EXPECT_EQ(flatten(zeros({2, 3, 4, 5}), 1).shape(), (Shape{2, 60}));
    EXPECT_EQ(flatten(zeros({2, 3, 4, 5}), 1, 2).shape(), (Shape{2, 12, 5}));
    EXPECT_EQ(flatten(scalar(3)).shape(), (Shape{1}));
    EXPECT_TRUE(values_are(flatten(iota({2, 2}), 0, 1), {4}, {0, 1, 2, 3}));
    EXPECT_EQ(contiguous(x).node(), x.node());
}

TEST(ShapeOps, ExpandValues) {
    const Tensor x = f64s({1, 2, 3}, {3, 1});
    EXPECT_TRUE(values_are(expand(x, {-1, 2}), {3, 2}, {1, 1, 2, 2, 3, 3}));
    EXPECT_TRUE(values_are(expand(x, {2, 3, 2}), {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
    Tensor w = f64s({1, 2, 3}, {3, 1}, true);
    expand(w, {3, 4}).backward(ones({3, 4}, f64));
    EXPECT_TRUE(values_are(w.grad(), {3, 1}, {4, 4, 4}));
}

TEST(ShapeOps, Gradcheck) {
    EXPECT_TRUE(grad_ok([](const V& v) { return transpose(v[0], 0, 2); }, {rand64({2, 3, 4}, 1)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return permute(v[0], {2, 0, 1});
        },
        {rand64({2, 3, 4}, 2)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return reshape(v[0], {-1, 4}); }, {rand64({2, 6}, 3)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return unsqueeze(v[0], 1) * v[1]; },
                        {rand64({2, 3}, 4), rand64({2, 4, 3}, 5)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return squeeze(v[0], 1); }, {rand64({2, 1, 3}, 6)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return flatten(v[0], 1); }, {rand64({2, 3, 2}, 7)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return expand(v[0], {2, -1, 3}); }, {rand64({4, 1}, 8)}));
}

TEST(ShapeOps, Gradgradcheck) {
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return square(transpose(v[0], 0, 2)); },
                            {rand64({2, 3, 4}, 11)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(permute(v[0], {2, 0, 1}));
        },
        {rand64({2, 3, 2}, 12)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(reshape(v[0], {-1, 3}));
        },
        {rand64({2, 3}, 13)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return unsqueeze(v[0], 0) * squeeze(v[1]); },
                            {rand64({2, 3}, 14), rand64({2, 1, 3}, 15)}));
    EXPECT_TRUE(
        gradgrad_ok([](const V& v) { return square(flatten(v[0])); }, {rand64({2, 2}, 16)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(expand(v[0], {3, -1}));
        },
        {rand64({1, 2}, 17)}));
}

TEST(ShapeOps, Errors) {
    const Tensor x = zeros({2, 3});
    EXPECT_THROW_MSG(reshape(x, {-1, -1}), std::invalid_argument,
                     "reshape: only one dimension can be inferred (got (-1,-1))");
    EXPECT_THROW_MSG(reshape(x, {-1, 4}), std::invalid_argument,
                     "reshape: shape (-1,4) is invalid for input of size 6 (got (2,3))");
    EXPECT_THROW_MSG(reshape(x, {-1, 0}), std::invalid_argument,
                     "reshape: shape (-1,0) is invalid");
    EXPECT_THROW_MSG(reshape(x, {-2, 3}), std::invalid_argument,
                     "reshape: invalid shape dimension -2 (got (-2,3))");
    EXPECT_THROW_MSG(reshape(x, {4, 2}), std::invalid_argument, "reshape: element count differs");
    EXPECT_THROW_MSG(expand(x, {3, 3}), std::invalid_argument,
                     "expand: the expanded size 3 must match the existing size 2 at "
                     "non-singleton dimension 0 (got (2,3) to (3,3))");
    EXPECT_THROW_MSG(expand(x, {3}), std::invalid_argument,
                     "expand: the number of sizes provided (1) must be at least the number of "
                     "dimensions (got (2,3) and (3))");
    EXPECT_THROW_MSG(expand(x, {-1, 2, 3}), std::invalid_argument,
                     "expand: invalid size -1 for dimension 0 (got (2,3) to (-1,2,3))");
    EXPECT_THROW_MSG(permute(x, {0}), std::invalid_argument, "permute:");
    EXPECT_THROW_MSG(permute(x, {0, 0}), std::invalid_argument, "permute: repeated dim");
    EXPECT_THROW_MSG(transpose(x, 0, 2), std::invalid_argument,
                     "transpose: dimension out of range (expected to be in range of [-2, 1], "
                     "but got 2)");
    EXPECT_THROW_MSG(t(zeros({2, 3, 4})), std::invalid_argument,
                     "t: expects a tensor with <= 2 dimensions (got (2,3,4))");
    EXPECT_THROW_MSG(unsqueeze(x, 3), std::invalid_argument, "unsqueeze: dimension out of range",
                     "[-3, 2]", "got 3");
    EXPECT_THROW_MSG(squeeze(x, -3), std::invalid_argument, "squeeze: dimension out of range");
    EXPECT_THROW_MSG(flatten(zeros({2, 3, 4}), 2, 1), std::invalid_argument,
                     "flatten: start_dim cannot come after end_dim (got 2 and 1 for shape "
                     "(2,3,4))");
}

}  // namespace
}  // namespace xgrad
