// cat, stack, split (a size or a list), chunk, unbind: values, gradcheck, gradgradcheck, errors.

#include <gtest/gtest.h>

#include "tests/autograd/ops/op_test_util.h"

namespace xgrad {
namespace {

using namespace testing;

TEST(JoinOps, CatAndStackValues) {
    const Tensor a = iota({2, 2}), b = f64s({9, 8}, {2, 1});
    EXPECT_TRUE(values_are(cat({a, b}, 1), {2, 3}, {0, 1, 9, 2, 3, 8}));
    EXPECT_TRUE(values_are(cat({a, a}, -2), {4, 2}, {0, 1, 2, 3, 0, 1, 2, 3}));
    EXPECT_TRUE(values_are(stack({a, a + 10.0}), {2, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13}));
    EXPECT_TRUE(values_are(stack({a, a + 10.0}, 2), {2, 2, 2}, {0, 10, 1, 11, 2, 12, 3, 13}));
    EXPECT_TRUE(values_are(stack({scalar(1, f64), scalar(2, f64)}), {2}, {1, 2}));
    Tensor p = iota({2, 2}, true), q = f64s({9, 8}, {2, 1}, true);
    cat({p, q}, 1).backward(f64s({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_TRUE(values_are(p.grad(), {2, 2}, {1, 2, 4, 5}));
    EXPECT_TRUE(values_are(q.grad(), {2, 1}, {3, 6}));
}

TEST(JoinOps, SplitChunkUnbindValues) {
    const Tensor x = iota({5, 2});
    std::vector<Tensor> s = split(x, 2);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_TRUE(values_are(s[0], {2, 2}, {0, 1, 2, 3}));
    EXPECT_TRUE(values_are(s[2], {1, 2}, {8, 9}));
    s = split(x, std::vector<std::int64_t>{1, 4});
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(values_are(s[1], {4, 2}, {2, 3, 4, 5, 6, 7, 8, 9}));
    s = split(x, 1, 1);
    EXPECT_TRUE(values_are(s[1], {5, 1}, {1, 3, 5, 7, 9}));
    s = split(x, std::vector<std::int64_t>{5, 0});  // an empty last piece
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1].shape(), (Shape{0, 2}));
    EXPECT_EQ(narrow(x, 0, 5, 0).shape(), (Shape{0, 2}));
    std::vector<Tensor> c = chunk(x, 3);  // ceil(5/3) = 2: sizes 2, 2, 1
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[2].shape(), (Shape{1, 2}));
    EXPECT_EQ(chunk(iota({6}), 4).size(), 3u);  // ceil(6/4) = 2: three pieces, as torch.chunk
    std::vector<Tensor> u = unbind(x, 1);
    ASSERT_EQ(u.size(), 2u);
    EXPECT_TRUE(values_are(u[0], {5}, {0, 2, 4, 6, 8}));
    // Gradients of the pieces land in their places.
    Tensor w = iota({3, 2}, true);
    std::vector<Tensor> pieces = split(w, std::vector<std::int64_t>{2, 1});
    (sum(pieces[0]) + 10.0 * sum(pieces[1])).backward();
    EXPECT_TRUE(values_are(w.grad(), {3, 2}, {1, 1, 1, 1, 10, 10}));
}

TEST(JoinOps, Gradcheck) {
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return cat({v[0], v[1], v[0]}, 1);
        },
        {rand64({2, 1, 3}, 1), rand64({2, 2, 3}, 2)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return stack({v[0], v[1]}, 1);
        },
        {rand64({2, 3}, 3), rand64({2, 3}, 4)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return split(v[0], 2, 1)[1] * split(v[0], 2, 1)[0]; },
                        {rand64({3, 4}, 5)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return chunk(v[0], 2)[1]; }, {rand64({3, 2}, 6)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return unbind(v[0], 1)[2]; }, {rand64({2, 3}, 7)}));
}

TEST(JoinOps, Gradgradcheck) {
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(cat({v[0], v[1]}, 0));
        },
        {rand64({1, 3}, 11), rand64({2, 3}, 12)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(stack({v[0], v[1]}, -1));
        },
        {rand64({2, 2}, 13), rand64({2, 2}, 14)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(split(v[0], {1, 2}, 1)[1]);
        },
        {rand64({2, 3}, 15)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return unbind(v[0])[0] * unbind(v[0])[1]; },
                            {rand64({2, 3}, 16)}));
}

TEST(JoinOps, Errors) {
    EXPECT_THROW_MSG(cat({zeros({2, 3}), zeros({2, 4}), zeros({3, 3})}, 1), std::invalid_argument,
                     "cat: sizes of tensors must match except in dimension 1 (got (2,3) for "
                     "tensor 0 and (3,3) for tensor 2)");
    EXPECT_THROW_MSG(cat({zeros({2, 3}), zeros({2, 3, 1})}, 0), std::invalid_argument,
                     "cat:", "tensor 1");
    EXPECT_THROW_MSG(cat({}, 0), std::invalid_argument, "cat: expected a non-empty list");
    EXPECT_THROW_MSG(cat({zeros({2}), zeros({2}, f64)}, 0), std::invalid_argument,
                     "cat: dtypes differ");
    EXPECT_THROW_MSG(cat({zeros({2}), zeros({2})}, 1), std::invalid_argument,
                     "cat: dimension out of range");
    EXPECT_THROW_MSG(stack({zeros({2, 3}), zeros({2, 3}), zeros({3, 2})}), std::invalid_argument,
                     "stack: expects each tensor to be equal size (got (2,3) for tensor 0 and "
                     "(3,2) for tensor 2)");
    EXPECT_THROW_MSG(stack({zeros({2}), Tensor()}), std::invalid_argument,
                     "stack: tensor 1 is an undefined tensor");
    EXPECT_THROW_MSG(split(zeros({5, 2}), std::vector<std::int64_t>{2, 2}), std::invalid_argument,
                     "split: split sizes must sum to the size of dimension 0 (got [2, 2] summing "
                     "to 4, expected 5 for shape (5,2))");
    EXPECT_THROW_MSG(split(zeros({5, 2}), std::vector<std::int64_t>{6, -1}), std::invalid_argument,
                     "split: split sizes must be non-negative");
    EXPECT_THROW_MSG(split(zeros({5, 2}), 0), std::invalid_argument,
                     "split: split_size must be positive (got 0 for dimension 0 of size 5)");
    EXPECT_THROW_MSG(chunk(zeros({5, 2}), 0), std::invalid_argument,
                     "chunk: number of chunks must be positive (got 0)");
    EXPECT_THROW_MSG(unbind(scalar(1), 0), std::invalid_argument,
                     "unbind: cannot unbind a 0-D tensor");
}

}  // namespace
}  // namespace xgrad
