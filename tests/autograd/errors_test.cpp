// Bad input gets a clear exception that names the op and what it got (and expected); IEEE
// special values are not errors.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "autograd/op.h"
#include "tests/support/check.h"

namespace xgrad {
namespace {

using V = std::vector<Tensor>;

// An op whose parameters do not fit the node's 8 inline bytes but whose OpDef has no
// destroy_params: refused when recording, before any node exists (its destructor would call
// a null pointer).
struct WideParams {
    double a, b;
};
TEST(Errors, HeapParametersWithoutADestructorAreRefusedAtRecord) {
    static const OpDef def = [] {
        OpDef d{};
        d.name = "wide";
        return d;
    }();
    Tensor x = scalar(1.0, f64);
    x.set_requires_grad(true);
    EXPECT_THROW_MSG(record(def, Array::scalar(f64, 2.0), {&x}, WideParams{1, 2}), std::logic_error,
                     "record: op 'wide' has 16-byte parameters, stored on the heap, and no "
                     "OpDef::destroy_params");
    EXPECT_THROW_MSG(record(def, Array::scalar(f64, 2.0), std::vector<Tensor>{x}, WideParams{}),
                     std::logic_error, "record: op 'wide'");
}

TEST(Errors, NonBroadcastableOperandsNameTheOpAndBothShapes) {
    Tensor a = zeros({2, 3}), b = zeros({4});
    EXPECT_THROW_MSG(add(a, b), std::invalid_argument,
                     "add: shapes cannot be broadcast (got (2,3) and (4))");
    EXPECT_THROW_MSG(sub(a, b), std::invalid_argument, "sub:", "(2,3)", "(4)");
    EXPECT_THROW_MSG(mul(b, a), std::invalid_argument, "mul:", "(4) and (2,3)");
    EXPECT_THROW_MSG(div(a, zeros({3, 2})), std::invalid_argument, "div:", "(2,3) and (3,2)");
    EXPECT_THROW_MSG(a + zeros({2, 2}), std::invalid_argument, "add:", "(2,3) and (2,2)");
}

TEST(Errors, MatmulInnerDimensionMismatchNamesBothShapes) {
    EXPECT_THROW_MSG(matmul(zeros({32, 784}), zeros({128, 10})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (32,784) and (128,10))");
    EXPECT_THROW_MSG(matmul(zeros({3, 4}), zeros({5})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (3,4) and (5))");
    EXPECT_THROW_MSG(matmul(zeros({3}), zeros({4})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (3) and (4))");
}

TEST(Errors, MatmulRefusesZeroDimensionalOperands) {
    EXPECT_THROW_MSG(matmul(scalar(2), zeros({3})), std::invalid_argument,
                     "matmul:", "at least 1 dimension", "() and (3)");
    EXPECT_THROW_MSG(matmul(zeros({4, 2}), zeros({3, 3, 4})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (4,2) and (3,3,4))");
}

TEST(Errors, BackwardOfANonScalarNeedsASeed) {
    Tensor x = zeros({3}, f64, true);
    EXPECT_THROW_MSG((x * 2.0).backward(), std::invalid_argument, "backward: a seed is needed",
                     "(got shape (3))", "backward(seed)");
}

TEST(Errors, SeedOfTheWrongShape) {
    Tensor y = zeros({3}, f64, true) * 2.0;
    EXPECT_THROW_MSG(y.backward(zeros({2}, f64)), std::invalid_argument,
                     "backward: seed shape differs from the output's (got (2), expected (3))");
    EXPECT_THROW_MSG(y.backward(zeros({3, 1}, f64)), std::invalid_argument,
                     "(got (3,1), expected (3))");  // broadcastable is not enough
}

TEST(Errors, SeedOfTheWrongDtype) {
    Tensor y = zeros({3}, f64, true) * 2.0;
    EXPECT_THROW_MSG(y.backward(zeros({3}, f32)), std::invalid_argument,
                     "backward: seed dtype differs from the output's (got float32, expected "
                     "float64)");
}

TEST(Errors, GradOfATensorThatDoesNotRequireGrad) {
    EXPECT_THROW_MSG(zeros({2}).grad(), std::logic_error,
                     "grad: tensor of shape (2) does not require grad",
                     "did you forget requires_grad?");
    Tensor c = zeros({2}) * 3.0;  // constants in, constant out
    EXPECT_THROW_MSG(c.grad(), std::logic_error, "does not require grad");
}

TEST(Errors, BackwardOfATensorThatDoesNotRequireGrad) {
    EXPECT_THROW_MSG(scalar(1.0).backward(), std::logic_error,
                     "backward: tensor of shape () does not require grad", "requires_grad");
}

TEST(Errors, GradOfANonLeafNeedsRetainGrad) {
    Tensor x = scalar(2.0, f64, true);
    Tensor h = x * x;
    (h * 3.0).backward();
    EXPECT_THROW_MSG(h.grad(), std::logic_error, "non-leaf 'mul'", "retain_grad()");
}

TEST(Errors, MaxOverAnEmptyAxis) {
    EXPECT_THROW_MSG(max(zeros({3, 0}), 1), std::invalid_argument,
                     "max: cannot reduce over an empty axis (axis 1 of shape (3,0))");
    EXPECT_THROW_MSG(max(zeros({3, 0}), -1, true), std::invalid_argument, "empty axis", "(3,0)");
    // The other axis is not empty: the result is just empty.
    EXPECT_EQ(std::get<0>(max(zeros({3, 0}), 0)).shape(), (Shape{0}));
}

TEST(Errors, MixingFloat32AndFloat64) {
    Tensor a = zeros({2}, f32), b = zeros({2}, f64);
    EXPECT_THROW_MSG(add(a, b), std::invalid_argument,
                     "add: dtypes differ (got float32 (2) and float64 (2); convert one with to())");
    EXPECT_THROW_MSG(b * a, std::invalid_argument, "mul: dtypes differ",
                     "float64 (2) and float32 (2)");
    EXPECT_THROW_MSG(matmul(zeros({2, 2}, f32), zeros({2}, f64)), std::invalid_argument,
                     "matmul: dtypes differ", "to()");
    EXPECT_THROW_MSG(add_n({a, b}), std::invalid_argument, "add_n: dtypes differ");
    EXPECT_NO_THROW(add(to(a, f64), b));  // the documented way out
}

TEST(Errors, ReshapeWithAWrongElementCount) {
    EXPECT_THROW_MSG(reshape(zeros({2, 3}), {4, 2}), std::invalid_argument,
                     "reshape: element count differs (got (2,3) with 6 elements, asked for (4,2))");
    EXPECT_THROW_MSG(reshape(zeros({2, 3}), {}), std::invalid_argument, "asked for ()");
}

TEST(Errors, AxisOutOfRange) {
    Tensor x = zeros({2, 3});
    EXPECT_THROW_MSG(sum(x, {2}), std::invalid_argument,
                     "sum: axis 2 out of range for shape (2,3)");
    EXPECT_THROW_MSG(sum(x, {-3}, true), std::invalid_argument,
                     "sum: axis -3 out of range for shape (2,3)");
    EXPECT_THROW_MSG(mean(x, {0, 5}), std::invalid_argument, "mean: axis 5 out of range");
    EXPECT_THROW_MSG(max(x, 2), std::invalid_argument, "max: axis 2 out of range", "(2,3)");
    EXPECT_THROW_MSG(softmax(x, 2), std::invalid_argument,
                     "softmax: axis 2 out of range for shape (2,3)");
    EXPECT_THROW_MSG(softmax(x, -3), std::invalid_argument, "softmax: axis -3 out of range");
    EXPECT_THROW_MSG(log_softmax(x, 2), std::invalid_argument,
                     "log_softmax: axis 2 out of range for shape (2,3)");
    EXPECT_THROW_MSG(softmax(scalar(1)), std::invalid_argument,
                     "softmax: axis -1 out of range for shape ()");
    EXPECT_THROW_MSG(sum(x, {1, -1}), std::invalid_argument, "sum: repeated axis", "(2,3)");
}

TEST(Errors, UndefinedTensors) {
    const Tensor u;
    const Tensor x = zeros({2}, f64, true);
    // The message names the operand.
    EXPECT_THROW_MSG(add(u, x), std::invalid_argument, "add: input 0 is an undefined tensor");
    EXPECT_THROW_MSG(x * u, std::invalid_argument, "mul: input 1 is an undefined tensor");
    EXPECT_THROW_MSG(2.0 * u, std::invalid_argument, "mul: input is an undefined tensor");
    EXPECT_THROW_MSG(exp(u), std::invalid_argument, "exp: input is an undefined tensor");
    EXPECT_THROW_MSG(sum(u), std::invalid_argument, "sum: input is an undefined tensor");
    EXPECT_THROW_MSG(max(u, 0), std::invalid_argument, "max: input is an undefined tensor");
    EXPECT_THROW_MSG(softmax(u), std::invalid_argument, "softmax: input is an undefined tensor");
    EXPECT_THROW_MSG(matmul(x, u), std::invalid_argument, "matmul: input 1 is an undefined");
    EXPECT_THROW_MSG(reshape(u, {1}), std::invalid_argument, "reshape: input is an undefined");
    EXPECT_THROW_MSG(to(u, f32), std::invalid_argument, "to: input is an undefined tensor");
    EXPECT_THROW_MSG(add_n({x, u}), std::invalid_argument, "add_n: term 1 is an undefined");
    EXPECT_THROW_MSG(u.backward(), std::logic_error, "backward: undefined tensor");
    EXPECT_THROW_MSG(u.grad(), std::logic_error, "grad: undefined tensor");
    EXPECT_THROW_MSG(u.value(), std::logic_error, "value: undefined tensor");
    // An undefined seed means 1, which a two-element output cannot take.
    EXPECT_THROW_MSG((x * 2.0).backward(u), std::invalid_argument, "backward: a seed is needed",
                     "(2)");
    EXPECT_FALSE(u.defined());
    EXPECT_EQ(u.str(), "Tensor(undefined)");
}

TEST(Errors, OtherShapeErrors) {
    EXPECT_THROW_MSG(transpose(zeros({2, 3, 4})), std::invalid_argument,
                     "transpose: expects a 2-D tensor (got (2,3,4))");
    EXPECT_THROW_MSG(add_n({}), std::invalid_argument, "add_n: needs at least one term (got 0)");
    EXPECT_THROW_MSG(add_n({zeros({2}), zeros({2}), zeros({3})}), std::invalid_argument,
                     "add_n: shapes differ (got (2) for term 0 and (3) for term 2)");
    EXPECT_THROW_MSG(tensor({1, 2, 3}, {2, 2}), std::invalid_argument,
                     "got 3 values for shape (2,2), expected 4");
}

TEST(Errors, MisuseOfNonLeaves) {
    Tensor x = zeros({2}, f64, true);
    Tensor y = x * 2.0;
    EXPECT_THROW_MSG(y.mutable_value(), std::logic_error, "mutable_value", "'mul'");
    EXPECT_THROW_MSG(y.set_requires_grad(false), std::logic_error, "set_requires_grad", "detach()");
}

TEST(Errors, CustomOpBackwardReturningTheWrongShapeOrCount) {
    Tensor x = zeros({2, 3}, f64, true);
    Tensor bad_shape = custom_op(
        "bad_shape", {x}, [](const V& in) { return in[0] * 1.0; },
        [](const V&, const Tensor&, const Tensor&) { return V{zeros({4}, f64)}; });
    EXPECT_THROW_MSG(bad_shape.backward(ones({2, 3}, f64)), std::logic_error, "'bad_shape'",
                     "gradient of shape (4) for input 0 of shape (2,3)");
    Tensor bad_count = custom_op(
        "bad_count", {x}, [](const V& in) { return in[0] * 1.0; },
        [](const V& in, const Tensor&, const Tensor& g) {
            return V{g, in[0]};
        });
    EXPECT_THROW_MSG(bad_count.backward(ones({2, 3}, f64)), std::logic_error, "bad_count",
                     "2 gradients for 1 inputs");
    Tensor bad_dtype = custom_op(
        "bad_dtype", {x}, [](const V& in) { return in[0] * 1.0; },
        [](const V&, const Tensor&, const Tensor& g) { return V{to(g, f32)}; });
    EXPECT_THROW_MSG(bad_dtype.backward(ones({2, 3}, f64)), std::logic_error, "'bad_dtype'",
                     "float32 gradient for float64 input 0");
}

// ---- IEEE special values: documented behaviour, not errors ----

TEST(Ieee, LogAndDivideGiveInfAndNanWithoutThrowing) {
    const double inf = std::numeric_limits<double>::infinity();
    Tensor y;
    ASSERT_NO_THROW(y = log(tensor({0, -1, 1}, f64)));
    const std::vector<double> l = y.to_vector();
    EXPECT_EQ(l[0], -inf);          // log(0) = -inf
    EXPECT_TRUE(std::isnan(l[1]));  // log(-1) = nan
    EXPECT_EQ(l[2], 0.0);
    ASSERT_NO_THROW(y = tensor({1, 0, -1}, f64) / tensor({0, 0, 0}, f64));
    const std::vector<double> d = y.to_vector();
    EXPECT_EQ(d[0], inf);                           // 1/0 = inf
    EXPECT_TRUE(std::isnan(d[1]));                  // 0/0 = nan
    EXPECT_EQ(d[2], -inf);                          // -1/0 = -inf
    EXPECT_EQ((1.0 / scalar(0, f32)).item(), inf);  // float32 too
}

TEST(Ieee, GradientsThroughInfAndNanDoNotThrow) {
    Tensor x = tensor({0, 1}, f64, true);
    ASSERT_NO_THROW(log(x).backward(tensor({1, 1}, f64)));
    EXPECT_EQ(x.grad().to_vector(),
              (std::vector<double>{std::numeric_limits<double>::infinity(), 1}));  // (log x)' = 1/x
}

TEST(Ieee, MaxPropagatesNan) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const std::vector<double>& v :
         std::vector<std::vector<double>>{{1, nan, 3}, {nan, 1, 3}, {1, 3, nan}}) {
        const double m = std::get<0>(max(tensor(v, f64), 0)).item();
        EXPECT_TRUE(std::isnan(m)) << "max of " << ::testing::PrintToString(v) << " = " << m;
    }
    // Per slice: only the slice holding the NaN becomes NaN.
    const std::vector<double> rows =
        std::get<0>(max(tensor({1, nan, 2, 3}, {2, 2}, f32), 1)).to_vector();
    EXPECT_TRUE(std::isnan(rows[0]));
    EXPECT_EQ(rows[1], 3.0);
}

TEST(Ieee, SoftmaxOfARowWithPlusInfOrOnlyMinusInfIsNanAndOtherRowsAreUntouched) {
    const double inf = std::numeric_limits<double>::infinity();
    // rows: (+inf, 1), (-inf, -inf), (-inf, 0): only the last is a proper distribution
    const Tensor x = tensor({inf, 1, -inf, -inf, -inf, 0}, {3, 2}, f64);
    const std::vector<double> p = softmax(x, 1).to_vector();
    const std::vector<double> lp = log_softmax(x, 1).to_vector();
    for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(std::isnan(p[i])) << i;
        EXPECT_TRUE(std::isnan(lp[i])) << i;
    }
    EXPECT_EQ(p[4], 0.0);
    EXPECT_EQ(p[5], 1.0);
    EXPECT_EQ(lp[4], -inf);
    EXPECT_EQ(lp[5], 0.0);
}

TEST(Ieee, ReluPropagatesNan) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (DType dt : {f64, f32}) {
        const std::vector<double> r = relu(tensor({nan, -1, 2}, dt)).to_vector();
        EXPECT_TRUE(std::isnan(r[0])) << dtype_name(dt);  // not clamped to 0
        EXPECT_EQ(r[1], 0.0);
        EXPECT_EQ(r[2], 2.0);
    }
}

}  // namespace
}  // namespace xgrad
