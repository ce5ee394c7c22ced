// Reductions of issue 10 item 6: max/min with indices, amax/amin (ties share the gradient),
// argmax/argmin, logsumexp, prod, cumsum, norm. Values written out (Python's math module),
// gradcheck and gradgradcheck in float64, every error message.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <tuple>
#include <vector>

#include "tests/support/check.h"
#include "tests/support/value_check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::gradgrad_ok;
using testing::near;
using testing::rand64;
using V = const std::vector<Tensor>&;

std::vector<std::int64_t> ints(const Tensor& t) {
    EXPECT_EQ(t.dtype(), i64);
    return t.to_vector<std::int64_t>();
}

TEST(MaxMin, ValuesAndInt64IndicesAsLibTorch) {
    const Tensor x = tensor({1, 5, 3, 7, 2, 7}, {2, 3}, f64);
    auto [values, indices] = max(x, 1);
    EXPECT_TRUE(near(values, {5, 7}));
    EXPECT_EQ(ints(indices), (std::vector<std::int64_t>{1, 0}));  // a tie: the first
    auto [mv, mi] = min(x, 0, /*keepdim=*/true);
    EXPECT_EQ(mv.shape(), (Shape{1, 3}));
    EXPECT_TRUE(near(mv, {1, 2, 3}));
    EXPECT_EQ(ints(mi), (std::vector<std::int64_t>{0, 1, 0}));
    EXPECT_EQ(ints(std::get<1>(max(x, -2))), (std::vector<std::int64_t>{1, 0, 1}));
    // 0-D: its own extreme at index 0.
    auto [sv, si] = max(scalar(4, f64), 0);
    EXPECT_EQ(sv.item(), 4.0);
    EXPECT_EQ(si.item<std::int64_t>(), 0);
    // NaN is both the maximum and the minimum.
    const Tensor n = tensor({1, NAN, 3}, f64);
    EXPECT_EQ(ints(std::get<1>(min(n, 0))), (std::vector<std::int64_t>{1}));
    // The gradient goes to the selected element.
    Tensor g = tensor({1, 5, 3, 7, 2, 7}, {2, 3}, f64, true);
    std::get<0>(min(g, 1)).backward(tensor({10, 20}, f64));
    EXPECT_TRUE(near(g.grad(), {10, 0, 0, 0, 20, 0}));
    EXPECT_TRUE(grad_ok([](V v) { return std::get<0>(min(v[0], 1)); }, {rand64({3, 4}, 1)}));
    EXPECT_TRUE(
        gradgrad_ok([](V v) { return square(std::get<0>(max(v[0], 0))); }, {rand64({3, 4}, 2)}));
}

TEST(Amax, OverDimsWithTiesSharingTheGradient) {
    const Tensor t = tensor({1, 8, 3, 4, 5, 6, 7, 2}, {2, 2, 2}, f64);
    EXPECT_TRUE(near(amax(t, {0, -1}), {8, 7}));
    EXPECT_TRUE(near(amin(t, {1}), {1, 4, 5, 2}));
    EXPECT_EQ(amax(t, {2}, true).shape(), (Shape{2, 2, 1}));
    EXPECT_TRUE(near(amax(t), {8}));  // no dims: all
    EXPECT_TRUE(near(max(t), {8}));
    EXPECT_TRUE(near(min(t), {1}));
    EXPECT_TRUE(std::isnan(amax(tensor({1, NAN, 2}, f64)).item()));
    // Ties: three maxima share the gradient evenly, as PyTorch.
    Tensor x = tensor({2, 5, 5, 1, 5}, f64, true);
    amax(x).backward(scalar(3, f64));
    EXPECT_TRUE(near(x.grad(), {0, 1, 1, 0, 1}));
    Tensor y = tensor({1, 1, 2, 0}, {2, 2}, f64, true);
    amin(y, {1}).backward(tensor({4, 6}, f64));
    EXPECT_TRUE(near(y.grad(), {2, 2, 0, 6}));
    EXPECT_TRUE(grad_ok([](V v) { return amax(v[0], {0, 2}); }, {rand64({2, 3, 4}, 3)}));
    EXPECT_TRUE(grad_ok([](V v) { return amin(v[0], {-1}, true); }, {rand64({2, 3, 4}, 4)}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return square(amax(v[0], {1})); }, {rand64({3, 4}, 5)}));
}

TEST(Argmax, AlongADimAndFlattened) {
    const Tensor x = tensor({1, 9, 3, 7, 2, 8}, {2, 3}, f64);
    EXPECT_EQ(ints(argmax(x)), (std::vector<std::int64_t>{1}));
    EXPECT_EQ(argmax(x).shape(), Shape{});
    EXPECT_EQ(argmax(x, std::nullopt, true).shape(), (Shape{1, 1}));
    EXPECT_EQ(ints(argmin(x)), (std::vector<std::int64_t>{0}));
    EXPECT_EQ(ints(argmax(x, 1)), (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(ints(argmin(x, 0)), (std::vector<std::int64_t>{0, 1, 0}));
    EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 3}));
    // 1-D along dim 0 (xtensor's argmax(x, 0) returns the argmin there: XTENSOR.md).
    EXPECT_EQ(ints(argmax(tensor({0, 1, 2, 3, 4}, f64), 0)), (std::vector<std::int64_t>{4}));
    EXPECT_FALSE(argmax(rand64({3}, 6)).requires_grad());
}

TEST(Logsumexp, StableValuesAndGradients) {
    const Tensor x = tensor({1, 2, 3, -1, 0, 5}, {2, 3}, f64);
    EXPECT_TRUE(near(logsumexp(x, {1}), {3.40760596444438, 5.0091744845917345}));
    EXPECT_TRUE(
        near(logsumexp(x, {0}, true), {1.1269280110429725, 2.1269280110429727, 5.126928011042972}));
    EXPECT_EQ(logsumexp(x, {0}, true).shape(), (Shape{1, 3}));
    // Logits of 1e4 do not overflow; a slice of -inf gives -inf, one of +inf gives +inf.
    EXPECT_TRUE(near(logsumexp(tensor({1e4, 1e4}, f64), {0}), {1e4 + std::log(2.0)}, 1e-9));
    EXPECT_TRUE(near(logsumexp(tensor({-INFINITY, -INFINITY, INFINITY, 1}, {2, 2}, f64), {1}),
                     {-INFINITY, INFINITY}));
    EXPECT_TRUE(grad_ok([](V v) { return logsumexp(v[0], {1}); }, {rand64({3, 4}, 7)}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return logsumexp(v[0], {0, 2}); }, {rand64({2, 3, 2}, 8)}));
}

TEST(Prod, ValuesAndGradientsIncludingZeros) {
    const Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64);
    EXPECT_TRUE(near(prod(x), {720}));
    EXPECT_TRUE(near(prod(x, 1), {6, 120}));
    EXPECT_TRUE(near(prod(x, 0, true), {4, 10, 18}));
    EXPECT_EQ(prod(x, 0, true).shape(), (Shape{1, 3}));
    EXPECT_TRUE(grad_ok([](V v) { return prod(v[0], 1); }, {rand64({3, 4}, 9, 0.5, 1.5)}));
    EXPECT_TRUE(grad_ok([](V v) { return prod(v[0]); }, {rand64({2, 3}, 10, 0.5, 1.5)}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return prod(v[0], -1); }, {rand64({2, 3}, 11, 0.5, 1.5)}));
    // With a zero factor the gradient is still the product of the other factors.
    Tensor z = tensor({2, 0, 3, 0, 0, 5}, {2, 3}, f64, true);
    prod(z, 1).backward(tensor({1, 1}, f64));
    EXPECT_TRUE(near(z.grad(), {0, 6, 0, 0, 0, 0}));
    // ... but its derivative is not supported: an error, not a wrong number.
    Tensor w = tensor({2, 0, 3}, f64, true);
    EXPECT_THROW_MSG(grad({prod(w)}, {w}, {}, std::nullopt, /*create_graph=*/true),
                     std::invalid_argument, "prod: the second derivative", "zero", "(3)");
}

TEST(Cumsum, RunningSumsAndTheReversedSumAsGradient) {
    const Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64);
    EXPECT_TRUE(near(cumsum(x, 1), {1, 3, 6, 4, 9, 15}));
    EXPECT_TRUE(near(cumsum(x, -2), {1, 2, 3, 5, 7, 9}));
    EXPECT_EQ(cumsum(scalar(2, f64), 0).shape(), Shape{});
    Tensor g = tensor({1, 2, 3}, f64, true);
    cumsum(g, 0).backward(tensor({1, 10, 100}, f64));
    EXPECT_TRUE(near(g.grad(), {111, 110, 100}));
    EXPECT_TRUE(grad_ok([](V v) { return cumsum(v[0], 1); }, {rand64({2, 3, 2}, 12)}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return square(cumsum(v[0], 0)); }, {rand64({3, 2}, 13)}));
}

TEST(Norm, OneTwoAndInfinity) {
    const Tensor x = tensor({1, -2, 3, -1, 0, 5}, {2, 3}, f64);
    EXPECT_TRUE(near(norm(x), {6.324555320336759}));
    EXPECT_TRUE(near(norm(x, 2, {1}), {3.7416573867739413, 5.0990195135927845}));
    EXPECT_TRUE(near(norm(x, 1), {12}));
    EXPECT_TRUE(near(norm(x, 1, {0}, true), {2, 2, 8}));
    EXPECT_TRUE(near(norm(x, INFINITY), {5}));
    EXPECT_TRUE(near(norm(x, INFINITY, {1}), {3, 5}));
    // At a zero vector the 2-norm's gradient is 0, as PyTorch (not 0/0).
    Tensor z = zeros({3}, f64, true);
    norm(z).backward();
    EXPECT_TRUE(near(z.grad(), {0, 0, 0}));
    const Tensor a = rand64({3, 4}, 14);
    EXPECT_TRUE(grad_ok([](V v) { return norm(v[0], 2, {1}); }, {a}));
    EXPECT_TRUE(grad_ok([](V v) { return norm(v[0], 1, {0}); }, {a}));
    EXPECT_TRUE(grad_ok([](V v) { return norm(v[0], INFINITY, {1}, true); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return norm(v[0]); }, {a}));
    EXPECT_TRUE(gradgrad_ok([](V v) { return norm(v[0], 2, {-1}, true); }, {a}));
}

TEST(ReduceExt, BadInputsAreClearErrors) {
    const Tensor x = zeros({2, 3}, f64);
    EXPECT_THROW_MSG(max(x, 2), std::invalid_argument, "max: axis 2 out of range", "(2,3)");
    EXPECT_THROW_MSG(min(zeros({2, 0}), 1), std::invalid_argument, "min: cannot reduce",
                     "empty axis", "(2,0)");
    EXPECT_THROW_MSG(amax(zeros({0, 2}), {0}), std::invalid_argument, "amax: cannot reduce",
                     "(0,2)");
    EXPECT_THROW_MSG(amin(x, {1, -1}), std::invalid_argument, "amin: repeated axis");
    EXPECT_THROW_MSG(argmax(zeros({0})), std::invalid_argument,
                     "argmax: cannot take the index of an empty tensor (got shape (0))");
    EXPECT_THROW_MSG(argmin(x, 5), std::invalid_argument, "argmin: axis 5 out of range");
    EXPECT_THROW_MSG(logsumexp(x, {}), std::invalid_argument, "logsumexp: dims must not be empty");
    EXPECT_THROW_MSG(logsumexp(x, {3}), std::invalid_argument, "logsumexp: axis 3 out of range");
    EXPECT_THROW_MSG(prod(x, -3), std::invalid_argument, "prod: axis -3 out of range");
    EXPECT_THROW_MSG(cumsum(x, 2), std::invalid_argument, "cumsum: axis 2 out of range");
    EXPECT_THROW_MSG(norm(x, 3), std::invalid_argument, "norm: p must be 1, 2 or inf (got 3");
    EXPECT_THROW_MSG(norm(x, 2, {0, 0}), std::invalid_argument, "norm: repeated axis");
    const Tensor i = arange(4);
    EXPECT_THROW_MSG(max(i, 0), std::invalid_argument,
                     "max: expected a floating dtype (got int64)");
    EXPECT_THROW_MSG(amax(i), std::invalid_argument, "amax: expected a floating dtype");
    EXPECT_THROW_MSG(prod(i), std::invalid_argument, "prod: expected a floating dtype");
    EXPECT_THROW_MSG(cumsum(Tensor(), 0), std::invalid_argument,
                     "cumsum: input is an undefined tensor");
}

}  // namespace
}  // namespace xgrad
