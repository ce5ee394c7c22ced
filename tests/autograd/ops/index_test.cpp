// narrow, slice, select, index_select, gather, scatter_add, index_add, embedding, where,
// masked_fill: values, gradcheck, gradgradcheck, errors.

#include <gtest/gtest.h>

#include "tests/autograd/ops/op_test_util.h"

namespace xgrad {
namespace {

using namespace testing;

TEST(IndexOps, NarrowSliceSelectValues) {
    const Tensor x = iota({3, 4});  // [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
    EXPECT_TRUE(values_are(narrow(x, 1, 1, 2), {3, 2}, {1, 2, 5, 6, 9, 10}));
    EXPECT_TRUE(values_are(narrow(x, 0, -1, 1), {1, 4}, {8, 9, 10, 11}));
    EXPECT_TRUE(values_are(slice(x, 1, 0, 4, 2), {3, 2}, {0, 2, 4, 6, 8, 10}));
    EXPECT_TRUE(values_are(slice(x, 1, 1, std::nullopt, 2), {3, 2}, {1, 3, 5, 7, 9, 11}));
    EXPECT_TRUE(values_are(slice(x, 0, -2), {2, 4}, {4, 5, 6, 7, 8, 9, 10, 11}));
    EXPECT_EQ(slice(x, 0, 2, 1).shape(), (Shape{0, 4}));  // end before start: empty
    EXPECT_TRUE(values_are(select(x, 1, 2), {3}, {2, 6, 10}));
    EXPECT_TRUE(values_are(select(x, 0, -1), {4}, {8, 9, 10, 11}));
    // Gradients land at the picked positions, zeros elsewhere.
    Tensor w = iota({3, 4}, true);
    slice(w, 1, 0, 4, 3).backward(f64s({1, 2, 3, 4, 5, 6}, {3, 2}));
    EXPECT_TRUE(values_are(w.grad(), {3, 4}, {1, 0, 0, 2, 3, 0, 0, 4, 5, 0, 0, 6}));
}

TEST(IndexOps, IndexSelectGatherScatterValues) {
    const Tensor x = iota({3, 2});  // [[0,1],[2,3],[4,5]]
    EXPECT_TRUE(values_are(index_select(x, 0, ints({2, 0, 2})), {3, 2}, {4, 5, 0, 1, 4, 5}));
    EXPECT_TRUE(values_are(index_select(x, 1, ints({-1})), {3, 1}, {1, 3, 5}));
    EXPECT_TRUE(
        values_are(gather(x, 1, ints({1, 0, 0, 0, 1, 1}, {3, 2})), {3, 2}, {1, 0, 2, 2, 5, 5}));
    EXPECT_TRUE(values_are(
        scatter_add(zeros({2, 3}, f64), 1, ints({0, 0, 2, 1}, {2, 2}), f64s({1, 2, 3, 4}, {2, 2})),
        {2, 3}, {3, 0, 0, 0, 4, 3}));
    EXPECT_TRUE(values_are(index_add(ones({3, 2}, f64), 0, ints({2, 2}), iota({2, 2}), 0.5), {3, 2},
                           {1, 1, 1, 1, 2, 3}));
    // Repeated indices accumulate in the backward of index_select.
    Tensor w = iota({3, 2}, true);
    index_select(w, 0, ints({1, 1, 0})).backward(ones({3, 2}, f64));
    EXPECT_TRUE(values_are(w.grad(), {3, 2}, {1, 1, 2, 2, 0, 0}));
}

TEST(IndexOps, EmbeddingRepeatedIndicesAccumulate) {
    Tensor w = iota({4, 2}, true);  // rows [0,1],[2,3],[4,5],[6,7]
    Tensor e = embedding(w, ints({3, 1, 3, 3}, {2, 2}));
    EXPECT_TRUE(values_are(e, {2, 2, 2}, {6, 7, 2, 3, 6, 7, 6, 7}));
    e.backward(f64s({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}));
    EXPECT_TRUE(values_are(w.grad(), {4, 2}, {0, 0, 3, 4, 0, 0, 13, 16}));
}

TEST(IndexOps, WhereAndMaskedFillValues) {
    const Tensor c = bools({true, false, true}, {3});
    const Tensor a = f64s({1, 2, 3}, {3}), b = f64s({10, 20}, {2, 1});
    EXPECT_TRUE(values_are(where(c, a, b), {2, 3}, {1, 10, 3, 1, 20, 3}));
    Tensor x = f64s({1, 2, 3, 4}, {2, 2}, true);
    Tensor y = masked_fill(x, bools({false, true}, {2}), -5);
    EXPECT_TRUE(values_are(y, {2, 2}, {1, -5, 3, -5}));
    y.backward(ones({2, 2}, f64));
    EXPECT_TRUE(values_are(x.grad(), {2, 2}, {1, 0, 1, 0}));
    Tensor p = f64s({1, 2, 3}, {3}, true), q = f64s({10, 20}, {2, 1}, true);
    where(c, p, q).backward(f64s({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_TRUE(values_are(p.grad(), {3}, {5, 0, 9}));
    EXPECT_TRUE(values_are(q.grad(), {2, 1}, {2, 5}));
}

TEST(IndexOps, Gradcheck) {
    EXPECT_TRUE(grad_ok([](const V& v) { return narrow(v[0], 1, 1, 2); }, {rand64({2, 4}, 1)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return slice(v[0], 0, 1, 5, 2); }, {rand64({5, 2}, 2)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return select(v[0], 1, 1); }, {rand64({2, 3, 2}, 3)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return index_select(v[0], 1, ints({2, 0, 2}));
        },
        {rand64({2, 3}, 4)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return gather(v[0], 0, ints({1, 0, 1, 1}, {2, 2}));
        },
        {rand64({2, 3}, 5)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return scatter_add(v[0], 0, ints({1, 0, 1, 1}, {2, 2}), v[1]);
        },
        {rand64({2, 3}, 6), rand64({3, 3}, 7)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return index_add(v[0], 1, ints({0, 2, 0}), v[1], 2.0);
        },
        {rand64({2, 3}, 8), rand64({2, 3}, 9)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return embedding(v[0], ints({1, 1, 0}, {3}));
        },
        {rand64({2, 3}, 10)}));
    const Tensor c = bools({true, false, false, true}, {2, 2});
    EXPECT_TRUE(grad_ok([c](const V& v) { return where(c, v[0], v[1]); },
                        {rand64({2, 1}, 11), rand64({2}, 12)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return masked_fill(v[0], bools({true, false}, {2}), 7);
        },
        {rand64({3, 2}, 13)}));
}

TEST(IndexOps, Gradgradcheck) {
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return square(narrow(v[0], 1, 1, 2)); },
                            {rand64({2, 4}, 21)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return square(slice(v[0], 0, 0, 5, 2)); },
                            {rand64({5, 2}, 22)}));
    EXPECT_TRUE(
        gradgrad_ok([](const V& v) { return square(select(v[0], 0, -1)); }, {rand64({2, 3}, 23)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(index_select(v[0], 0, ints({1, 1, 0})));
        },
        {rand64({2, 3}, 24)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(gather(v[0], 1, ints({2, 0, 1, 1}, {2, 2})));
        },
        {rand64({2, 3}, 25)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(scatter_add(v[0], 1, ints({2, 0, 1, 1}, {2, 2}), v[1]));
        },
        {rand64({2, 3}, 26), rand64({2, 3}, 27)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(index_add(v[0], 0, ints({1, 1}), v[1], 0.5));
        },
        {rand64({2, 3}, 28), rand64({2, 3}, 29)}));
    EXPECT_TRUE(gradgrad_ok(
        [](const V& v) {
            return square(embedding(v[0], ints({1, 0, 1})));
        },
        {rand64({2, 2}, 30)}));
    const Tensor c = bools({true, false}, {2});
    EXPECT_TRUE(gradgrad_ok([c](const V& v) { return where(c, v[0], v[1]) * v[0]; },
                            {rand64({2, 2}, 31), rand64({2, 1}, 32)}));
    EXPECT_TRUE(gradgrad_ok([c](const V& v) { return square(masked_fill(v[0], c, 3)); },
                            {rand64({2, 2}, 33)}));
}

TEST(IndexOps, Errors) {
    const Tensor x = zeros({3, 4});
    EXPECT_THROW_MSG(select(x, 1, 4), std::invalid_argument,
                     "select: index 4 is out of range for dimension 1 of size 4 (shape (3,4))");
    EXPECT_THROW_MSG(select(x, 0, -4), std::invalid_argument, "select: index -4", "dimension 0",
                     "size 3");
    EXPECT_THROW_MSG(narrow(x, 1, 2, 3), std::invalid_argument,
                     "narrow: start (2) + length (3) exceeds dimension 1 of size 4");
    EXPECT_THROW_MSG(narrow(x, 0, 5, 0), std::invalid_argument,
                     "narrow: start 5 is out of range for dimension 0 of size 3");
    EXPECT_THROW_MSG(slice(x, 1, 0, 6), std::invalid_argument,
                     "slice: [0:6] is past the end of dimension 1 of size 4 (shape (3,4))");
    EXPECT_THROW_MSG(slice(x, 0, 0, 3, 0), std::invalid_argument,
                     "slice: step must be positive (got 0)");
    EXPECT_THROW_MSG(select(scalar(1), 0, 0), std::invalid_argument,
                     "select: cannot be applied to a 0-D tensor");
    EXPECT_THROW_MSG(index_select(x, 0, ints({0, 3})), std::invalid_argument,
                     "index 3 is out of bounds for dimension 0 with size 3");
    EXPECT_THROW_MSG(index_select(x, 0, f64s({0, 1}, {2})), std::invalid_argument,
                     "index_select: index must be an int64 tensor (got float64 (2))");
    EXPECT_THROW_MSG(gather(x, 1, f64s({0}, {1, 1})), std::invalid_argument,
                     "gather: index must be an int64 tensor (got float64");
    EXPECT_THROW_MSG(gather(x, 1, ints({0, 1})), std::invalid_argument,
                     "gather: index must have the same number of dimensions as input (got index "
                     "(2) and input (3,4))");
    EXPECT_THROW_MSG(gather(x, 1, ints({0, 4}, {1, 2})), std::invalid_argument,
                     "index 4 is out of bounds for dimension 1 with size 4");
    EXPECT_THROW_MSG(scatter_add(x, 2, ints({0}, {1, 1}), x), std::invalid_argument,
                     "scatter_add: dimension out of range");
    EXPECT_THROW_MSG(index_add(x, 0, ints({0}), zeros({1, 4}, f64)), std::invalid_argument,
                     "index_add: dtypes differ");
    EXPECT_THROW_MSG(embedding(zeros({5, 2}), ints({1, 5})), std::invalid_argument,
                     "embedding: index 5 is out of range for dimension 0 with size 5 (weight "
                     "(5,2))");
    EXPECT_THROW_MSG(embedding(zeros({5}), ints({1})), std::invalid_argument,
                     "embedding: weight must be 2-D");
    EXPECT_THROW_MSG(embedding(zeros({5, 2}), f64s({1}, {1})), std::invalid_argument,
                     "embedding: index must be an int64 tensor");
    EXPECT_THROW_MSG(where(ones({2}), x, x), std::invalid_argument,
                     "where: condition must be a bool tensor (got float32 (2))");
    EXPECT_THROW_MSG(where(bools({true}, {1}), x, zeros({3, 4}, f64)), std::invalid_argument,
                     "where: dtypes differ");
    EXPECT_THROW_MSG(where(bools({true, false}, {2}), x, x), std::invalid_argument, "where:", "(2)",
                     "(3,4)");
    EXPECT_THROW_MSG(masked_fill(x, ints({1}), 0), std::invalid_argument,
                     "masked_fill: mask must be a bool tensor (got int64 (1))");
    EXPECT_THROW_MSG(masked_fill(zeros({2}), bools({true, false, true, true}, {2, 2}), 0),
                     std::invalid_argument,
                     "masked_fill: mask (2,2) does not broadcast to the input's shape (2)");
    EXPECT_THROW_MSG(masked_fill(zeros({4}), bools({true, false}, {2}), 0), std::invalid_argument,
                     "masked_fill:", "(4) and (2)");
}

}  // namespace
}  // namespace xgrad
