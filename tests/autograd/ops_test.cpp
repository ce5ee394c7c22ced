// Each op: values against hand-computed numbers and a finite-difference gradient check;
// binary ops also with broadcast shapes. Expected numbers are written out as literals (computed
// by hand or with Python's math module), not with the functions under test.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "autograd/functional.h"
#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::rand64;
using V = std::vector<Tensor>;

// Shape and every value of `t`: |got - want| <= tol * std::get<0>(max(1, |want|)). NaN matches NaN
// only, an infinity matches the same infinity only.
::testing::AssertionResult values_are(const Tensor& t, const Shape& shape,
                                      const std::vector<double>& want, double tol = 1e-15) {
    if (t.shape() != shape) {
        return ::testing::AssertionFailure()
               << "shape " << t.shape().str() << ", expected " << shape.str();
    }
    const std::vector<double> got = t.to_vector();
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure()
               << got.size() << " values, expected " << want.size() << " (test bug)";
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double g = got[i], w = want[i];
        const bool ok = std::isnan(w)   ? std::isnan(g)
                        : std::isinf(w) ? g == w
                                        : std::abs(g - w) <= tol * std::max(1.0, std::abs(w));
        if (!ok) {
            return ::testing::AssertionFailure()
                   << "element " << i << ": got " << ::testing::PrintToString(g) << ", expected "
                   << ::testing::PrintToString(w) << " (tol " << tol << ") in " << t.str();
        }
    }
    return ::testing::AssertionSuccess();
}

Tensor f64s(const std::vector<double>& v, Shape shape, bool requires_grad = false) {
    return tensor(v, std::move(shape), f64, requires_grad);
}

// ---- Broadcast gradchecks for the binary ops ----

struct Range {
    double lo, hi;
};

// Every binary op is gradient-checked with these operand shapes, in both orders.
// (Ops take a defaulted CallSite, so they are passed as lambdas, not function pointers.)
template <class Op>
::testing::AssertionResult binary_grad_ok(Op op, Range ra = {-1, 1}, Range rb = {-1, 1}) {
    const std::pair<Shape, Shape> pairs[] = {
        {Shape{3, 4}, Shape{3, 4}}, {Shape{3, 4}, Shape{4}},    {Shape{4}, Shape{3, 4}},
        {Shape{3, 1}, Shape{1, 4}}, {Shape{1, 4}, Shape{3, 1}}, {Shape{}, Shape{2, 3}},
        {Shape{2, 3}, Shape{}},
    };
    std::uint64_t seed = 100;
    for (const auto& [sa, sb] : pairs) {
        const GradcheckResult r = gradcheck([op](const V& x) { return op(x[0], x[1]); },
                                            {uniform(sa, ra.lo, ra.hi, seed, f64, true),
                                             uniform(sb, rb.lo, rb.hi, seed + 1, f64, true)});
        seed += 2;
        if (!r)
            return ::testing::AssertionFailure()
                   << sa.str() << " & " << sb.str() << ": " << r.message;
    }
    return ::testing::AssertionSuccess();
}

// ---- add, sub, mul, div ----

TEST(Add, BroadcastsRowOverMatrix) {
    Tensor a = f64s({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64s({10, 20, 30}, {3});
    EXPECT_TRUE(values_are(add(a, b), {2, 3}, {11, 22, 33, 14, 25, 36}));
    EXPECT_TRUE(values_are(add(b, a), {2, 3}, {11, 22, 33, 14, 25, 36}));
}

TEST(Add, ColumnPlusRowGivesOuterSum) {
    Tensor a = f64s({1, 2, 3}, {3, 1}), b = f64s({10, 20}, {1, 2});
    EXPECT_TRUE(values_are(a + b, {3, 2}, {11, 21, 12, 22, 13, 23}));
}

TEST(Add, GradcheckSameShapeAndBroadcast) {
    EXPECT_TRUE(binary_grad_ok([](const Tensor& a, const Tensor& b) { return add(a, b); }));
}

TEST(Add, BroadcastOperandGradientIsSummedOverBroadcastAxes) {
    Tensor a = f64s({1, 2, 3, 4, 5, 6}, {2, 3}, true), b = f64s({1, 1, 1}, {3}, true);
    add(a, b).backward(f64s({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_TRUE(values_are(a.grad(), {2, 3}, {1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(values_are(b.grad(), {3}, {5, 7, 9}));  // column sums of the seed
    Tensor c = f64s({0, 0}, {2, 1}, true), d = f64s({0, 0, 0}, {1, 3}, true);
    add(c, d).backward(f64s({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_TRUE(values_are(c.grad(), {2, 1}, {6, 15}));    // row sums
    EXPECT_TRUE(values_are(d.grad(), {1, 3}, {5, 7, 9}));  // column sums
    Tensor s = scalar(0, f64, true);
    add(s, a).backward(f64s({1, 2, 3, 4, 5, 6}, {2, 3}));
    EXPECT_TRUE(values_are(s.grad(), {}, {21}));  // everything
}

TEST(Add, Float32ValuesStayFloat32) {
    Tensor a = tensor({0.1, 0.2}, f32), b = tensor({0.3}, f32);
    Tensor c = a + b;
    EXPECT_EQ(c.dtype(), f32);
    // float(0.1) + float(0.3) rounded to float, not the double 0.4
    EXPECT_EQ(c.to_vector(), (std::vector<double>{double(0.1f + 0.3f), double(0.2f + 0.3f)}));
}

TEST(Sub, ValuesWithBroadcast) {
    Tensor a = f64s({5, 7, 9, 11}, {2, 2}), b = f64s({1, 2}, {2});
    EXPECT_TRUE(values_are(sub(a, b), {2, 2}, {4, 5, 8, 9}));
    EXPECT_TRUE(values_are(sub(b, a), {2, 2}, {-4, -5, -8, -9}));
}

TEST(Sub, SecondOperandGetsNegatedGradient) {
    Tensor a = f64s({1, 2}, {2}, true), b = f64s({3, 4}, {2}, true);
    sub(a, b).backward(f64s({1, 10}, {2}));
    EXPECT_TRUE(values_are(a.grad(), {2}, {1, 10}));
    EXPECT_TRUE(values_are(b.grad(), {2}, {-1, -10}));
}

TEST(Sub, GradcheckSameShapeAndBroadcast) {
    EXPECT_TRUE(binary_grad_ok([](const Tensor& a, const Tensor& b) { return sub(a, b); }));
}

TEST(Mul, ValuesWithBroadcast) {
    Tensor a = f64s({1, 2, 3, 4}, {2, 2}), b = f64s({10, 20}, {2});
    EXPECT_TRUE(values_are(mul(a, b), {2, 2}, {10, 40, 30, 80}));
    EXPECT_TRUE(values_are(mul(f64s({2}, {}), a), {2, 2}, {2, 4, 6, 8}));
}

TEST(Mul, EachOperandGetsTheOtherAsGradient) {
    Tensor a = f64s({2, 3}, {2}, true), b = f64s({5, 7}, {2}, true);
    mul(a, b).backward(f64s({1, 1}, {2}));
    EXPECT_TRUE(values_are(a.grad(), {2}, {5, 7}));
    EXPECT_TRUE(values_are(b.grad(), {2}, {2, 3}));
}

TEST(Mul, GradcheckSameShapeAndBroadcast) {
    EXPECT_TRUE(binary_grad_ok([](const Tensor& a, const Tensor& b) { return mul(a, b); }));
}

TEST(Div, ValuesWithBroadcast) {
    Tensor a = f64s({1, 2, 3, 4}, {2, 2}), b = f64s({2, 4}, {2});
    EXPECT_TRUE(values_are(div(a, b), {2, 2}, {0.5, 0.5, 1.5, 1}));
    EXPECT_TRUE(values_are(div(b, a), {2, 2}, {2, 2, 2.0 / 3.0, 1}));
}

TEST(Div, GradientsAreOneOverBAndMinusAOverBSquared) {
    Tensor a = f64s({3, -1}, {2}, true), b = f64s({2, 4}, {2}, true);
    div(a, b).backward(f64s({1, 1}, {2}));
    EXPECT_TRUE(values_are(a.grad(), {2}, {0.5, 0.25}));
    EXPECT_TRUE(values_are(b.grad(), {2}, {-0.75, 0.0625}));  // -3/4, 1/16
}

TEST(Div, GradcheckSameShapeAndBroadcastWithDenominatorAwayFromZero) {
    EXPECT_TRUE(binary_grad_ok([](const Tensor& a, const Tensor& b) { return div(a, b); }, {-1, 1},
                               {0.5, 2}));
    EXPECT_TRUE(binary_grad_ok([](const Tensor& a, const Tensor& b) { return div(a, b); }, {-1, 1},
                               {-2, -0.5}));
}

// ---- Unary element-wise ----

TEST(Neg, NegatesValuesAndGradient) {
    Tensor x = f64s({1, -2, 0}, {3}, true);
    Tensor y = neg(x);
    EXPECT_TRUE(values_are(y, {3}, {-1, 2, 0}));
    EXPECT_TRUE(values_are(-x, {3}, {-1, 2, 0}));
    y.backward(f64s({1, 2, 3}, {3}));
    EXPECT_TRUE(values_are(x.grad(), {3}, {-1, -2, -3}));
    EXPECT_TRUE(grad_ok([](const V& v) { return neg(v[0]); }, {rand64({2, 3}, 1)}));
}

TEST(Pow, ValuesForIntegerFractionalNegativeAndZeroExponents) {
    Tensor x = f64s({1, 2, 4}, {3});
    EXPECT_TRUE(values_are(pow(x, 2), {3}, {1, 4, 16}));
    EXPECT_TRUE(values_are(pow(x, 3), {3}, {1, 8, 64}));
    EXPECT_TRUE(values_are(pow(x, 0.5), {3}, {1, 1.4142135623730951, 2}));
    EXPECT_TRUE(values_are(pow(x, -1), {3}, {1, 0.5, 0.25}));
    EXPECT_TRUE(values_are(pow(x, 0), {3}, {1, 1, 1}));
}

TEST(Pow, GradientIsPTimesXToThePMinusOne) {
    Tensor x = f64s({2, 3}, {2}, true);
    pow(x, 3).backward(f64s({1, 1}, {2}));
    EXPECT_TRUE(values_are(x.grad(), {2}, {12, 27}));
}

TEST(Pow, ZeroExponentHasZeroGradientEvenAtZero) {
    Tensor x = f64s({0, 2}, {2}, true);
    pow(x, 0).backward(f64s({1, 1}, {2}));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 0}));  // not 0 * 0^-1 = nan
}

TEST(Pow, GradcheckIntegerAndFractionalExponents) {
    for (double p : {1.0, 2.0, 3.0, -1.0}) {
        EXPECT_TRUE(grad_ok([p](const V& x) { return pow(x[0], p); }, {rand64({3, 2}, 2, 0.5, 2)}))
            << "p = " << p;
    }
    // Integer exponents also for negative bases; fractional ones on positive inputs only.
    EXPECT_TRUE(grad_ok([](const V& x) { return pow(x[0], 3); }, {rand64({4}, 3, -2, -0.5)}));
    EXPECT_TRUE(grad_ok([](const V& x) { return pow(x[0], 0.5); }, {rand64({4}, 4, 0.5, 2)}));
    EXPECT_TRUE(grad_ok([](const V& x) { return pow(x[0], -1.5); }, {rand64({4}, 5, 0.5, 2)}));
}

TEST(Exp, ValuesArePowersOfE) {
    EXPECT_TRUE(values_are(exp(f64s({0, 1, -1, 0.5}, {4})), {4},
                           {1, 2.718281828459045, 0.36787944117144233, 1.6487212707001282}));
}

TEST(Exp, Float32ValuesMatchToFloatPrecision) {
    Tensor y = exp(tensor({0, 1, -1}, f32));
    EXPECT_EQ(y.dtype(), f32);
    EXPECT_TRUE(values_are(y, {3}, {1, 2.718281828459045, 0.36787944117144233}, 1e-7));
}

TEST(Exp, GradientIsTheOutputGradcheck) {
    EXPECT_TRUE(grad_ok([](const V& x) { return exp(x[0]); }, {rand64({2, 3}, 6, -2, 2)}));
}

TEST(Log, ValuesAreNaturalLogarithms) {
    EXPECT_TRUE(values_are(log(f64s({1, 2.718281828459045, 10, 0.5}, {4})), {4},
                           {0, 1, 2.302585092994046, -0.6931471805599453}));
}

TEST(Log, GradcheckOnPositiveInputs) {
    EXPECT_TRUE(grad_ok([](const V& x) { return log(x[0]); }, {rand64({2, 3}, 7, 0.2, 3)}));
}

TEST(Sqrt, ValuesIncludingZero) {
    EXPECT_TRUE(values_are(sqrt(f64s({4, 2, 0.25, 0}, {4})), {4}, {2, 1.4142135623730951, 0.5, 0}));
}

TEST(Sqrt, Float32ValuesMatchToFloatPrecision) {
    Tensor y = sqrt(tensor({4, 2}, f32));
    EXPECT_EQ(y.dtype(), f32);
    EXPECT_TRUE(values_are(y, {2}, {2, 1.4142135623730951}, 1e-7));
}

TEST(Sqrt, GradcheckOnPositiveInputs) {
    EXPECT_TRUE(grad_ok([](const V& x) { return sqrt(x[0]); }, {rand64({2, 3}, 8, 0.2, 3)}));
}

TEST(Abs, ValuesAndSignGradient) {
    Tensor x = f64s({-2, 3, -0.5}, {3}, true);
    Tensor y = abs(x);
    EXPECT_TRUE(values_are(y, {3}, {2, 3, 0.5}));
    y.backward(f64s({1, 1, 2}, {3}));
    EXPECT_TRUE(values_are(x.grad(), {3}, {-1, 1, -2}));
}

TEST(Abs, GradientAtZeroIsZero) {
    Tensor x = f64s({0}, {1}, true);
    abs(x).backward(f64s({1}, {1}));
    EXPECT_EQ(x.grad().item(), 0.0);  // NOTE in ops.h: abs'(0) := 0, as PyTorch
}

TEST(Abs, GradcheckAwayFromZero) {
    // Both signs, |x| >= 0.2: finite differences never straddle the kink.
    Tensor x = f64s({-1.3, -0.2, 0.2, 0.7, 1.5, -0.9}, {2, 3}, true);
    EXPECT_TRUE(grad_ok([](const V& v) { return abs(v[0]); }, {x}));
}

TEST(Square, ValuesAndGradcheck) {
    Tensor x = f64s({-3, 0.5, 2}, {3}, true);
    Tensor y = square(x);
    EXPECT_TRUE(values_are(y, {3}, {9, 0.25, 4}));
    y.backward(f64s({1, 1, 1}, {3}));
    EXPECT_TRUE(values_are(x.grad(), {3}, {-6, 1, 4}));
    EXPECT_TRUE(grad_ok([](const V& v) { return square(v[0]); }, {rand64({2, 3}, 9)}));
}

TEST(To, ConvertsValuesAndTheGradientConvertsBack) {
    Tensor x = tensor({0.1, 2}, f64, true);
    Tensor y = to(x, f32);
    EXPECT_EQ(y.dtype(), f32);
    EXPECT_EQ(y.to_vector(), (std::vector<double>{double(0.1f), 2}));
    (y * y).backward(tensor({1, 1}, f32));
    EXPECT_EQ(x.grad().dtype(), f64);
    EXPECT_TRUE(values_are(x.grad(), {2}, {2 * double(0.1f), 4}));

    Tensor u = tensor({1.5, -2}, f32, true);
    Tensor w = to(u, f64) * 3.0;
    EXPECT_EQ(w.dtype(), f64);
    w.backward(tensor({1, 2}, f64));
    EXPECT_EQ(u.grad().dtype(), f32);
    EXPECT_TRUE(values_are(u.grad(), {2}, {3, 6}));
}

TEST(To, SameDtypeReturnsTheSameTensor) {
    Tensor x = tensor({1, 2}, f64, true);
    EXPECT_EQ(to(x, f64).node(), x.node());
}

TEST(To, GradcheckThroughFloat32WithCoarseEps) {
    // The float32 round trip loses ~1e-7 relative: eps 1e-6 would measure rounding, not slope.
    GradcheckOptions coarse;
    coarse.eps = 1e-2;
    EXPECT_TRUE(grad_ok([](const V& x) { return to(to(x[0], f32) * 3.0, f64); },
                        {rand64({2, 3}, 10)}, coarse));
}

// ---- Activations ----

TEST(Sigmoid, ValuesAtZeroAndPlusMinusTwo) {
    EXPECT_TRUE(values_are(sigmoid(f64s({0, 2, -2}, {3})), {3},
                           {0.5, 0.8807970779778823, 0.11920292202211755}));
}

TEST(Sigmoid, IsStableForLargeNegativeInputs) {
    Tensor x = f64s({-100, -1000, -1e308, 1000, 1e308}, {5}, true);
    Tensor y = sigmoid(x);
    // e^1000 overflows: one formula for both signs (e^x / (1 + e^x)) gives inf/inf = nan on one
    // side; the two-branch form never evaluates e^|x|.
    EXPECT_TRUE(values_are(y, {5}, {3.720075976020836e-44, 0, 0, 1, 1}));
    // Relative accuracy in the tail, not just "close to 0": e^-100 is representable.
    EXPECT_NEAR(y.to_vector()[0], 3.720075976020836e-44, 1e-58);
    y.backward(f64s({1, 1, 1, 1, 1}, {5}));
    for (double g : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << g;
    EXPECT_TRUE(values_are(x.grad(), {5}, {3.720075976020836e-44, 0, 0, 0, 0}, 1e-15));
}

TEST(Sigmoid, Float32IsStableForLargeInputs) {
    Tensor y = sigmoid(tensor({-200, -50, 0, 50, 200}, f32));
    EXPECT_EQ(y.dtype(), f32);
    for (double v : y.to_vector()) EXPECT_TRUE(std::isfinite(v)) << v;
    EXPECT_TRUE(values_are(y, {5}, {0, 1.9287498479639178e-22, 0.5, 1, 1}, 1e-7));
}

TEST(Sigmoid, GradientIsSTimesOneMinusSGradcheck) {
    EXPECT_TRUE(grad_ok([](const V& x) { return sigmoid(x[0]); }, {rand64({2, 3}, 11, -4, 4)}));
}

TEST(Tanh, ValuesSaturateAtPlusMinusOne) {
    EXPECT_TRUE(values_are(tanh(f64s({0, 1, -0.5, 1000, -1000}, {5})), {5},
                           {0, 0.7615941559557649, -0.46211715726000974, 1, -1}));
}

TEST(Tanh, GradientIsOneMinusTanhSquaredAndZeroWhenSaturated) {
    Tensor x = f64s({0, 1000}, {2}, true);
    tanh(x).backward(f64s({1, 1}, {2}));
    EXPECT_TRUE(values_are(x.grad(), {2}, {1, 0}));
    EXPECT_TRUE(grad_ok([](const V& v) { return tanh(v[0]); }, {rand64({2, 3}, 12, -3, 3)}));
}

TEST(Relu, ValuesClampNegativesToZero) {
    EXPECT_TRUE(values_are(relu(f64s({-2, 0, 3.5, -0.1}, {4})), {4}, {0, 0, 3.5, 0}));
}

TEST(Relu, GradientIsOneForPositiveZeroOtherwiseIncludingAtZero) {
    Tensor x = f64s({-2, 0, 3.5}, {3}, true);
    relu(x).backward(f64s({5, 5, 5}, {3}));
    EXPECT_TRUE(values_are(x.grad(), {3}, {0, 0, 5}));  // NOTE: relu'(0) := 0
}

TEST(Relu, GradcheckAwayFromZero) {
    Tensor x = f64s({-1.3, -0.2, 0.2, 0.7, 1.5, -0.9}, {2, 3}, true);
    EXPECT_TRUE(grad_ok([](const V& v) { return relu(v[0]); }, {x}));
}

TEST(Step, IsOneAtAndAboveZeroElseMinusOne) {
    Tensor y = step(f64s({-5, -1e-300, 0, 1e-300, 3}, {5}));
    EXPECT_TRUE(values_are(y, {5}, {-1, -1, 1, 1, 1}));
    EXPECT_EQ(step(tensor({-0.5, 0.5}, f32)).to_vector(), (std::vector<double>{-1, 1}));
}

TEST(Step, GradientIsExactlyZeroEverywhere) {
    Tensor x = f64s({-5, 0, 3}, {3}, true);
    step(x).backward(f64s({1, 2, 3}, {3}));
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 0, 0}));
    EXPECT_TRUE(x.has_grad());  // a zero gradient was delivered, not skipped
    // Away from 0 the finite differences are 0 too.
    Tensor z = f64s({-1.3, -0.2, 0.2, 0.7}, {4}, true);
    EXPECT_TRUE(grad_ok([](const V& v) { return step(v[0]); }, {z}));
}

// ---- softmax and log_softmax ----

// Plain-loop reference: softmax of `x` (row-major, `shape`) along `axis` (non-negative).
std::vector<double> ref_softmax(const std::vector<double>& x, const Shape& shape,
                                std::size_t axis) {
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (d < axis) outer *= shape[d];
        if (d > axis) inner *= shape[d];
    }
    const std::size_t n = shape[axis];
    std::vector<double> y(x.size());
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t i = 0; i < inner; ++i) {
            double total = 0;
            for (std::size_t j = 0; j < n; ++j) total += std::exp(x[(o * n + j) * inner + i]);
            for (std::size_t j = 0; j < n; ++j) {
                y[(o * n + j) * inner + i] = std::exp(x[(o * n + j) * inner + i]) / total;
            }
        }
    }
    return y;
}

TEST(Softmax, ValuesOfOneRow) {
    EXPECT_TRUE(values_are(softmax(f64s({1, 2, 3}, {3})), {3},
                           {0.09003057317038046, 0.24472847105479764, 0.6652409557748218}));
}

TEST(Softmax, AlongAxisZeroAndLastOf2D) {
    Tensor x = f64s({1, 2, 3, 4}, {2, 2});
    // Columns (axis 0): softmax(1, 3) = (s(-2), s(2)); rows (axis -1): softmax(1, 2).
    EXPECT_TRUE(values_are(
        softmax(x, 0), {2, 2},
        {0.11920292202211755, 0.11920292202211755, 0.8807970779778823, 0.8807970779778823}));
    EXPECT_TRUE(values_are(
        softmax(x, -1), {2, 2},
        {0.2689414213699951, 0.7310585786300049, 0.2689414213699951, 0.7310585786300049}));
    EXPECT_TRUE(values_are(softmax(x, 1), {2, 2}, softmax(x, -1).to_vector(), 0));
}

TEST(Softmax, MatchesPlainLoopsAlongEveryAxisOf3D) {
    Tensor x = uniform({2, 3, 4}, -3, 3, 13, f64);
    for (int axis : {0, 1, 2, -1, -2, -3}) {
        const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
        EXPECT_TRUE(values_are(softmax(x, axis), {2, 3, 4},
                               ref_softmax(x.to_vector(), x.shape(), ax), 1e-14))
            << "axis " << axis;
    }
}

TEST(Softmax, GradcheckAlongAxisZeroAndLastOf2DAnd3D) {
    for (int axis : {0, -1}) {
        EXPECT_TRUE(grad_ok([axis](const V& x) { return softmax(x[0], axis); },
                            {rand64({3, 4}, 14, -2, 2)}))
            << "2-D axis " << axis;
        EXPECT_TRUE(grad_ok([axis](const V& x) { return softmax(x[0], axis); },
                            {rand64({2, 3, 4}, 15, -2, 2)}))
            << "3-D axis " << axis;
    }
    EXPECT_TRUE(grad_ok([](const V& x) { return softmax(x[0], 1); }, {rand64({2, 3, 4}, 16)}));
}

TEST(Softmax, AxisOfLengthOneGivesOnesAndZeroGradient) {
    Tensor x = f64s({3, -7}, {2, 1}, true);
    Tensor y = softmax(x, 1);
    EXPECT_TRUE(values_are(y, {2, 1}, {1, 1}, 0));
    y.backward(f64s({5, 6}, {2, 1}));
    EXPECT_TRUE(values_are(x.grad(), {2, 1}, {0, 0}, 0));
}

TEST(Softmax, IsStableForLogitsOf1e4) {
    for (DType dt : {f64, f32}) {
        Tensor x = tensor({1e4, 1e4 - 1, 0, -1e4, -1e4 + 1, 0}, {2, 3}, dt);
        Tensor y = softmax(x, -1);
        for (double v : y.to_vector()) EXPECT_TRUE(std::isfinite(v)) << v;
        const double tol = dt == f64 ? 1e-15 : 1e-7;
        // Row 0 is softmax(1, 0, -1e4); row 1 is softmax(-1e4, -1e4+1, 0) = (0, 0, 1).
        EXPECT_TRUE(
            values_are(y, {2, 3}, {0.7310585786300049, 0.2689414213699951, 0, 0, 0, 1}, tol))
            << dtype_name(dt);
    }
}

TEST(Softmax, GradcheckAtLogitsNear1e4) {
    Tensor x = f64s({1e4, 1e4 + 0.5, 1e4 - 0.3, -1e4, -1e4 + 1, -1e4 - 0.7}, {2, 3}, true);
    EXPECT_TRUE(grad_ok([](const V& v) { return softmax(v[0], -1); }, {x}));
}

// The fast backward (a loop per line) and the recorded rule (ops, under create_graph) of
// softmax and log_softmax are two writings of one derivative: they agree along every axis.
TEST(Softmax, FastBackwardEqualsTheRecordedRuleAlongEveryAxis) {
    for (int axis : {0, 1, 2, -1}) {
        for (bool log : {false, true}) {
            const Tensor x = rand64({3, 4, 5}, 60 + static_cast<std::uint64_t>(axis + 2));
            const Tensor y = log ? log_softmax(x, axis) : softmax(x, axis);
            const Tensor seed = rand64({3, 4, 5}, 70).detach();
            const Tensor fast = grad({y}, {x}, {seed}, true, /*create_graph=*/false)[0];
            const Tensor rule = grad({y}, {x}, {seed}, true, /*create_graph=*/true)[0];
            const std::vector<double> a = fast.to_vector(), b = rule.to_vector();
            for (std::size_t i = 0; i < a.size(); ++i) {
                EXPECT_NEAR(a[i], b[i], 1e-15) << "axis " << axis << " log " << log << " " << i;
            }
        }
    }
}

// float32 takes an eight-lane path (xsimd's exp): rows eight elements at a time, columns eight
// lines at a time. Against a double reference from the same float inputs, along every axis of
// a shape whose sizes are not multiples of eight, forward and fast backward.
TEST(Softmax, Float32MatchesADoubleReferenceAlongEveryAxis) {
    const Shape shape{3, 13, 11};
    const std::vector<double> xv = uniform(shape, -4, 4, 81, f32).to_vector();
    const Tensor seed = uniform(shape, -1, 1, 82, f32);
    for (int axis : {0, 1, 2}) {
        for (bool log : {false, true}) {
            const Tensor xg = tensor(xv, shape, f32, true);
            const Tensor y = log ? log_softmax(xg, axis) : softmax(xg, axis);
            y.backward(seed);
            const Tensor xg64 = tensor(xv, shape, f64, true);
            const Tensor y64 = log ? log_softmax(xg64, axis) : softmax(xg64, axis);
            y64.backward(to(seed, f64));
            const std::vector<double> a = y.to_vector(), b = y64.to_vector();
            const std::vector<double> ga = xg.grad().to_vector(), gb = xg64.grad().to_vector();
            for (std::size_t i = 0; i < a.size(); ++i) {
                // a few float32 ulps of values of size 1 (log_softmax's reach -10)
                EXPECT_NEAR(a[i], b[i], 4e-7 * std::max(1.0, std::abs(b[i])))
                    << "axis " << axis << " log " << log << " at " << i;
                EXPECT_NEAR(ga[i], gb[i], 2e-6) << "grad, axis " << axis << " log " << log;
            }
        }
    }
}

// The row path and the column path give the same bits: softmax along axis 0 is the transpose of
// softmax along axis 1 of the transpose, forward and backward, NaN rows included.
TEST(Softmax, Float32BitsDoNotDependOnTheLayout) {
    std::vector<double> v = uniform({19, 37}, -6, 6, 83, f32).to_vector();
    v[5 * 37 + 2] = std::nan("");  // column 2 of the (19, 37) layout holds a NaN
    const Tensor x = tensor(v, {19, 37}, f32);
    const Tensor seed = uniform({19, 37}, -1, 1, 84, f32);
    for (bool log : {false, true}) {
        const Tensor a = tensor(v, {19, 37}, f32, true);
        const Tensor ya = log ? log_softmax(a, 0) : softmax(a, 0);
        ya.backward(seed);
        const Tensor b = tensor(contiguous(transpose(x, 0, 1)).to_vector(), {37, 19}, f32, true);
        const Tensor yb = log ? log_softmax(b, 1) : softmax(b, 1);
        yb.backward(contiguous(transpose(seed, 0, 1)));
        const std::vector<double> y0 = ya.to_vector(),
                                  y1 = contiguous(transpose(yb, 0, 1)).to_vector();
        const std::vector<double> g0 = a.grad().to_vector(),
                                  g1 = contiguous(transpose(b.grad(), 0, 1)).to_vector();
        for (std::size_t i = 0; i < y0.size(); ++i) {
            if (i % 37 == 2) {
                EXPECT_TRUE(std::isnan(y0[i]) && std::isnan(y1[i])) << i;
                continue;
            }
            EXPECT_EQ(y0[i], y1[i]) << "log " << log << " at " << i;
            EXPECT_EQ(g0[i], g1[i]) << "grad, log " << log << " at " << i;
        }
    }
}

TEST(LogSoftmax, ValuesOfOneRow) {
    EXPECT_TRUE(values_are(log_softmax(f64s({1, 2, 3}, {3})), {3},
                           {-2.4076059644443806, -1.4076059644443804, -0.4076059644443804}, 1e-15));
}

TEST(LogSoftmax, EqualsLogOfSoftmaxAlongEveryAxisOf3D) {
    Tensor x = uniform({2, 3, 4}, -3, 3, 17, f64);
    for (int axis : {0, 1, -1}) {
        const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
        std::vector<double> want = ref_softmax(x.to_vector(), x.shape(), ax);
        for (double& v : want) v = std::log(v);
        EXPECT_TRUE(values_are(log_softmax(x, axis), {2, 3, 4}, want, 1e-14)) << "axis " << axis;
    }
}

TEST(LogSoftmax, GradcheckAlongAxisZeroAndLastOf2DAnd3D) {
    for (int axis : {0, -1}) {
        EXPECT_TRUE(grad_ok([axis](const V& x) { return log_softmax(x[0], axis); },
                            {rand64({3, 4}, 18, -2, 2)}))
            << "2-D axis " << axis;
        EXPECT_TRUE(grad_ok([axis](const V& x) { return log_softmax(x[0], axis); },
                            {rand64({2, 3, 4}, 19, -2, 2)}))
            << "3-D axis " << axis;
    }
}

TEST(LogSoftmax, IsStableForLogitsOf1e4) {
    for (DType dt : {f64, f32}) {
        Tensor y = log_softmax(tensor({1e4, 0, -1e4, 1e4, 1e4, 1e4}, {2, 3}, dt), -1);
        for (double v : y.to_vector()) EXPECT_TRUE(std::isfinite(v)) << v;
        // log(1 + e^-1e4 + e^-2e4) = 0 in floating point; three equal logits give -log 3.
        EXPECT_TRUE(values_are(
            y, {2, 3},
            {0, -1e4, -2e4, -1.0986122886681098, -1.0986122886681098, -1.0986122886681098},
            dt == f64 ? 1e-15 : 1e-7))
            << dtype_name(dt);
    }
}

TEST(LogSoftmax, GradientAtLogitsOf1e4IsFinite) {
    Tensor x = f64s({1e4, 0, -1e4}, {3}, true);
    log_softmax(x).backward(f64s({1, 0, 0}, {3}));
    // d log_softmax_0 / dx = e_0 - softmax = (0, -0, -0) up to e^-1e4 = 0
    EXPECT_TRUE(values_are(x.grad(), {3}, {0, 0, 0}));
    EXPECT_TRUE(grad_ok([](const V& v) { return log_softmax(v[0]); },
                        {f64s({1e4, 1e4 + 0.5, 1e4 - 1}, {3}, true)}));
}

// ---- Reductions ----

// 0, 1, ..., 23 as a (2,3,4) float64 tensor: element (i,j,k) = 12i + 4j + k.
Tensor iota234(bool requires_grad = false) {
    std::vector<double> v(24);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i);
    return f64s(v, {2, 3, 4}, requires_grad);
}

TEST(Sum, AllElementsGiveAScalar) {
    EXPECT_TRUE(values_are(sum(iota234()), {}, {276}));
    EXPECT_TRUE(values_are(sum(scalar(2.5, f64)), {}, {2.5}));
}

TEST(Sum, AlongAxesWithAndWithoutKeepdims) {
    Tensor x = iota234();
    EXPECT_TRUE(values_are(sum(x, {0}), {3, 4}, {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
    EXPECT_TRUE(values_are(sum(x, {1}), {2, 4}, {12, 15, 18, 21, 48, 51, 54, 57}));
    EXPECT_TRUE(values_are(sum(x, {-2}), {2, 4}, {12, 15, 18, 21, 48, 51, 54, 57}));
    EXPECT_TRUE(values_are(sum(x, {0, 2}), {3}, {60, 92, 124}));
    EXPECT_TRUE(values_are(sum(x, {2, 0}, true), {1, 3, 1}, {60, 92, 124}));
    EXPECT_TRUE(values_are(sum(x, {0, 1, 2}), {}, {276}));
    EXPECT_TRUE(values_are(sum(x, {0, 1, 2}, true), {1, 1, 1}, {276}));
    EXPECT_TRUE(values_are(sum(x, {2}), {2, 3}, {6, 22, 38, 54, 70, 86}));
}

TEST(Sum, GradientBroadcastsTheSeedBack) {
    Tensor x = iota234(true);
    sum(x, {1}).backward(f64s({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}));
    std::vector<double> want;
    for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 3; ++j) {
            for (int k = 0; k < 4; ++k) want.push_back(4 * i + k + 1);
        }
    }
    EXPECT_TRUE(values_are(x.grad(), {2, 3, 4}, want));
}

TEST(Sum, GradcheckAllAndAxisSetsWithAndWithoutKeepdims) {
    EXPECT_TRUE(grad_ok([](const V& x) { return sum(x[0]); }, {rand64({2, 3}, 20)}));
    for (bool keep : {false, true}) {
        for (const std::vector<int>& axes :
             std::vector<std::vector<int>>{{0}, {1}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}}) {
            EXPECT_TRUE(
                grad_ok([&](const V& x) { return sum(x[0], axes, keep); }, {rand64({2, 3, 4}, 21)}))
                << "keepdims " << keep << " axes[0] " << axes[0] << " of " << axes.size();
        }
    }
}

TEST(Sum, Float32AccumulatesInDouble) {
    // In float, 1e8 + 1 == 1e8 (spacing 8), so a float accumulator stays at 1e8; the exact sum
    // 100000008 is a float.
    std::vector<double> v(9, 1.0);
    v[0] = 1e8;
    Tensor s = sum(tensor(v, f32));
    EXPECT_EQ(s.dtype(), f32);
    EXPECT_EQ(s.item(), 100000008.0);
    EXPECT_EQ(sum(tensor(v, {1, 9}, f32), {1}).item(), 100000008.0);
}

TEST(Mean, AllAndAlongAxes) {
    Tensor x = iota234();
    EXPECT_TRUE(values_are(mean(x), {}, {11.5}));
    EXPECT_TRUE(values_are(mean(x, {2}), {2, 3}, {1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
    EXPECT_TRUE(values_are(mean(x, {0, 1}, true), {1, 1, 4}, {10, 11, 12, 13}));
    EXPECT_TRUE(values_are(mean(x, {-3}), {3, 4}, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
    EXPECT_TRUE(values_are(mean(tensor({1, 2, 3, 4}, f32)), {}, {2.5}));
}

TEST(SumAndMean, OverNoElementsAreZeroAndNan) {
    EXPECT_TRUE(values_are(sum(zeros({0}, f64)), {}, {0}, 0));
    EXPECT_TRUE(values_are(sum(zeros({2, 0}, f64), {1}), {2}, {0, 0}, 0));
    // NOTE in reduce.cpp: the mean over zero elements is nan (0/0), as NumPy.
    EXPECT_TRUE(std::isnan(mean(zeros({0}, f64)).item()));
}

TEST(Mean, GradientIsSeedOverCount) {
    Tensor x = iota234(true);
    mean(x, {0, 2}).backward(f64s({8, 16, 24}, {3}));
    std::vector<double> want;
    for (int i = 0; i < 2; ++i) {
        for (double g : {1.0, 2.0, 3.0}) want.insert(want.end(), 4, g);  // seed / 8
    }
    EXPECT_TRUE(values_are(x.grad(), {2, 3, 4}, want));
}

TEST(Mean, GradcheckAllAndAlongAxes) {
    EXPECT_TRUE(grad_ok([](const V& x) { return mean(x[0]); }, {rand64({2, 3}, 22)}));
    EXPECT_TRUE(grad_ok([](const V& x) { return mean(x[0], {1}); }, {rand64({2, 3, 4}, 23)}));
    EXPECT_TRUE(grad_ok(
        [](const V& x) {
            return mean(x[0], {0, 2}, true);
        },
        {rand64({2, 3, 4}, 24)}));
}

TEST(Max, AlongEachAxisWithAndWithoutKeepdims) {
    Tensor x = f64s({1, 5, 3, 7, 2, 7}, {2, 3});
    EXPECT_TRUE(values_are(std::get<0>(max(x, 1)), {2}, {5, 7}));
    EXPECT_TRUE(values_are(std::get<0>(max(x, -1)), {2}, {5, 7}));
    EXPECT_TRUE(values_are(std::get<0>(max(x, 1, true)), {2, 1}, {5, 7}));
    EXPECT_TRUE(values_are(std::get<0>(max(x, 0)), {3}, {7, 5, 7}));
    EXPECT_TRUE(values_are(std::get<0>(max(x, 0, true)), {1, 3}, {7, 5, 7}));
    EXPECT_TRUE(values_are(std::get<0>(max(iota234(), 1)), {2, 4}, {8, 9, 10, 11, 20, 21, 22, 23}));
    EXPECT_TRUE(values_are(std::get<0>(max(f64s({-3, -1, -2}, {3}), 0)), {}, {-1}));
}

TEST(Max, GradientGoesToTheFirstMaximalElement) {
    Tensor x = f64s({1, 5, 3, 7, 2, 7}, {2, 3}, true);
    std::get<0>(max(x, 1)).backward(f64s({10, 20}, {2}));
    EXPECT_TRUE(values_are(x.grad(), {2, 3}, {0, 10, 0, 20, 0, 0}));  // tie 7, 7: first wins
    x.zero_grad();
    std::get<0>(max(x, 0, true)).backward(f64s({1, 2, 3}, {1, 3}));
    EXPECT_TRUE(values_are(x.grad(), {2, 3}, {0, 2, 0, 1, 0, 3}));
}

TEST(Max, GradcheckAlongEachAxisWithDistinctValues) {
    // Random values are distinct, so no slice has a tie within eps.
    for (int axis : {0, 1, -1}) {
        EXPECT_TRUE(grad_ok([axis](const V& x) { return std::get<0>(max(x[0], axis)); },
                            {rand64({2, 3, 4}, 25)}))
            << "axis " << axis;
    }
    EXPECT_TRUE(
        grad_ok([](const V& x) { return std::get<0>(max(x[0], 0, true)); }, {rand64({3, 4}, 26)}));
}

TEST(AddN, SumsTermsInOneNode) {
    Tensor a = f64s({1, 2}, {2}, true), b = f64s({10, 20}, {2}, true), c = f64s({100, 200}, {2});
    Tensor s = add_n({a, b, c});
    EXPECT_TRUE(values_are(s, {2}, {111, 222}));
    EXPECT_STREQ(s.op(), "add_n");
    s.backward(f64s({3, 4}, {2}));
    EXPECT_TRUE(values_are(a.grad(), {2}, {3, 4}));
    EXPECT_TRUE(values_are(b.grad(), {2}, {3, 4}));
    EXPECT_TRUE(values_are(add_n({a}), {2}, {1, 2}));
}

TEST(AddN, RepeatedTermAccumulates) {
    Tensor x = f64s({1, 2}, {2}, true);
    add_n({x, x, x}).backward(f64s({1, 1}, {2}));
    EXPECT_TRUE(values_are(x.grad(), {2}, {3, 3}));
}

TEST(AddN, GradcheckWithThreeTerms) {
    EXPECT_TRUE(grad_ok(
        [](const V& x) {
            return add_n({x[0], x[1] * x[2], x[2]});
        },
        {rand64({2, 3}, 27), rand64({2, 3}, 28), rand64({2, 3}, 29)}));
}

// ---- Linear algebra and shape ----

TEST(Matmul, MatrixTimesMatrix) {
    Tensor a = f64s({1, 2, 3, 4, 5, 6}, {2, 3}), b = f64s({7, 8, 9, 10, 11, 12}, {3, 2});
    EXPECT_TRUE(values_are(matmul(a, b), {2, 2}, {58, 64, 139, 154}));
    EXPECT_TRUE(values_are(matmul(b, a), {3, 3}, {39, 54, 69, 49, 68, 87, 59, 82, 105}));
}

TEST(Matmul, MatrixTimesVectorAndVectorTimesMatrix) {
    Tensor a = f64s({1, 2, 3, 4, 5, 6}, {2, 3});
    EXPECT_TRUE(values_are(matmul(a, f64s({1, 0, -1}, {3})), {2}, {-2, -2}));
    Tensor b = f64s({7, 8, 9, 10, 11, 12}, {3, 2});
    EXPECT_TRUE(values_are(matmul(f64s({1, -1, 2}, {3}), b), {2}, {20, 22}));
}

TEST(Matmul, VectorTimesVectorIsAScalar) {
    Tensor u = f64s({1, 2, 3}, {3}, true), v = f64s({4, 5, 6}, {3}, true);
    Tensor d = matmul(u, v);
    EXPECT_TRUE(values_are(d, {}, {32}));
    d.backward();
    EXPECT_TRUE(values_are(u.grad(), {3}, {4, 5, 6}));
    EXPECT_TRUE(values_are(v.grad(), {3}, {1, 2, 3}));
}

TEST(Matmul, GradientsAreGradTimesBTransposedAndATransposedTimesGrad) {
    Tensor a = f64s({1, 2, 3, 4, 5, 6}, {2, 3}, true);
    Tensor b = f64s({7, 8, 9, 10, 11, 12}, {3, 2}, true);
    matmul(a, b).backward(f64s({1, 1, 1, 1}, {2, 2}));
    EXPECT_TRUE(values_are(a.grad(), {2, 3}, {15, 19, 23, 15, 19, 23}));  // row sums of B
    EXPECT_TRUE(values_are(b.grad(), {3, 2}, {5, 5, 7, 7, 9, 9}));        // column sums of A
}

TEST(Matmul, Float32ValuesAndGradientsAreExactForSmallIntegers) {
    Tensor c =
        matmul(tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f32), tensor({7, 8, 9, 10, 11, 12}, {3, 2}, f32));
    EXPECT_EQ(c.dtype(), f32);
    EXPECT_TRUE(values_are(c, {2, 2}, {58, 64, 139, 154}, 0));
    Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f32, true);
    Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2}, f32, true);
    matmul(a, b).backward(tensor({1, 0, 0, 2}, {2, 2}, f32));
    EXPECT_EQ(a.grad().dtype(), f32);
    EXPECT_TRUE(values_are(a.grad(), {2, 3}, {7, 9, 11, 16, 20, 24}, 0));  // G B^T
    EXPECT_TRUE(values_are(b.grad(), {3, 2}, {1, 8, 2, 10, 3, 12}, 0));    // A^T G
}

TEST(Matmul, GradcheckEveryOperandKind) {
    auto mm = [](const V& x) { return matmul(x[0], x[1]); };
    EXPECT_TRUE(grad_ok(mm, {rand64({3, 4}, 30), rand64({4, 2}, 31)})) << "matrix . matrix";
    EXPECT_TRUE(grad_ok(mm, {rand64({3, 4}, 32), rand64({4}, 33)})) << "matrix . vector";
    EXPECT_TRUE(grad_ok(mm, {rand64({4}, 34), rand64({4, 2}, 35)})) << "vector . matrix";
    EXPECT_TRUE(grad_ok(mm, {rand64({4}, 36), rand64({4}, 37)})) << "vector . vector";
    EXPECT_TRUE(grad_ok(mm, {rand64({1, 5}, 38), rand64({5, 1}, 39)})) << "(1,5) . (5,1)";
    EXPECT_TRUE(grad_ok(mm, {rand64({17, 33}, 40), rand64({33, 9}, 41)})) << "odd sizes";
}

TEST(Matmul, GradcheckWithOnlyOneOperandRequiringGrad) {
    auto mm = [](const V& x) { return matmul(x[0], x[1]); };
    EXPECT_TRUE(grad_ok(mm, {rand64({3, 4}, 42), uniform({4, 2}, -1, 1, 43, f64)}));
    EXPECT_TRUE(grad_ok(mm, {uniform({3, 4}, -1, 1, 44, f64), rand64({4, 2}, 45)}));
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
    // (2,0)·(0,3): a sum of no products. The result buffer must be written, not left as is.
    Tensor a = zeros({2, 0}, f64, true), b = zeros({0, 3}, f64, true);
    Tensor c = matmul(a, b);
    EXPECT_TRUE(values_are(c, {2, 3}, {0, 0, 0, 0, 0, 0}, 0));
    c.backward(ones({2, 3}, f64));
    EXPECT_EQ(a.grad().shape(), (Shape{2, 0}));
    EXPECT_EQ(b.grad().shape(), (Shape{0, 3}));
    EXPECT_TRUE(values_are(matmul(zeros({0}, f64), zeros({0}, f64)), {}, {0}, 0));
}

TEST(Transpose, SwapsRowsAndColumns) {
    EXPECT_TRUE(
        values_are(transpose(f64s({1, 2, 3, 4, 5, 6}, {2, 3})), {3, 2}, {1, 4, 2, 5, 3, 6}));
    Tensor v = f64s({1, 2, 3}, {3});
    EXPECT_EQ(transpose(v).node(), v.node());  // 1-D: unchanged
}

TEST(Transpose, LargerThanOneTileMatchesPlainLoops) {
    const std::size_t r = 37, c = 70;  // tiles of 32 with ragged edges in both directions
    Tensor x = uniform({r, c}, -1, 1, 46, f64);
    const std::vector<double> v = x.to_vector();
    std::vector<double> want(r * c);
    for (std::size_t i = 0; i < r; ++i) {
        for (std::size_t j = 0; j < c; ++j) want[j * r + i] = v[i * c + j];
    }
    EXPECT_TRUE(values_are(transpose(x), {c, r}, want, 0));
}

TEST(Transpose, GradientIsTransposedBackGradcheck) {
    EXPECT_TRUE(grad_ok([](const V& x) { return transpose(x[0]); }, {rand64({3, 5}, 47)}));
    EXPECT_TRUE(
        grad_ok([](const V& x) { return matmul(transpose(x[0]), x[0]); }, {rand64({4, 3}, 48)}));
}

TEST(Reshape, KeepsRowMajorOrder) {
    Tensor x = f64s({1, 2, 3, 4, 5, 6}, {2, 3});
    EXPECT_TRUE(values_are(reshape(x, {3, 2}), {3, 2}, {1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(values_are(reshape(x, {6}), {6}, {1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(values_are(reshape(x, {1, 2, 1, 3}), {1, 2, 1, 3}, {1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(values_are(reshape(scalar(7, f64), {1, 1}), {1, 1}, {7}));
    EXPECT_TRUE(values_are(reshape(f64s({7}, {1, 1}), {}), {}, {7}));
}

TEST(Reshape, GradientIsReshapedBack) {
    Tensor x = f64s({1, 2, 3, 4, 5, 6}, {2, 3}, true);
    reshape(x, {3, 2}).backward(f64s({10, 20, 30, 40, 50, 60}, {3, 2}));
    EXPECT_TRUE(values_are(x.grad(), {2, 3}, {10, 20, 30, 40, 50, 60}));
    EXPECT_TRUE(grad_ok([](const V& v) { return reshape(v[0], {4, 3}); }, {rand64({2, 6}, 49)}));
    EXPECT_TRUE(grad_ok(
        [](const V& v) {
            return reshape(v[0], {2, 1, 3}) * v[1];
        },
        {rand64({6}, 50), rand64({4, 1}, 51)}));
}

// ---- More than four dimensions (shapes no longer inline) ----

TEST(HighRank, BroadcastAndReduceBeyondFourAndEightDimensions) {
    // 5-D: shapes leave Shape's inline storage; 9-D: the element-wise kernel's stride table too.
    EXPECT_TRUE(grad_ok([](const V& x) { return x[0] * x[1]; },
                        {rand64({2, 1, 3, 1, 2}, 60), rand64({3, 4, 1}, 61)}));
    EXPECT_TRUE(grad_ok(
        [](const V& x) {
            return sum(x[0] + x[1], {0, 2, 4}, true);
        },
        {rand64({2, 1, 3, 1, 2}, 62), rand64({3, 4, 1}, 63)}));
    EXPECT_TRUE(
        grad_ok([](const V& x) { return softmax(x[0], 2); }, {rand64({2, 1, 3, 2, 2}, 64)}));
    EXPECT_TRUE(grad_ok([](const V& x) { return x[0] - x[1]; },
                        {rand64({2, 1, 2, 1, 2, 1, 2, 1, 2}, 65), rand64({3, 1}, 66)}));
    Tensor a = ones({2, 1, 2, 1, 2, 1, 2, 1, 2}, f64), b = f64s({1, 2, 3}, {3, 1});
    Tensor c = a + b;
    EXPECT_EQ(c.shape(), (Shape{2, 1, 2, 1, 2, 1, 2, 3, 2}));
    EXPECT_TRUE(values_are(sum(c, {0, 1, 2, 3, 4, 5, 6, 8}), {3}, {64, 96, 128}));
}

// ---- Scalars mixed with tensors ----

TEST(ScalarOperators, ValuesAndExactGradients) {
    struct Case {
        const char* name;
        Tensor (*f)(const Tensor&);
        std::vector<double> value, grad;  // at x = (1, 2, 4), seed ones
    };
    const Case cases[] = {
        {"2 * x", [](const Tensor& x) { return 2.0 * x; }, {2, 4, 8}, {2, 2, 2}},
        {"x * 2", [](const Tensor& x) { return x * 2.0; }, {2, 4, 8}, {2, 2, 2}},
        {"x + 1", [](const Tensor& x) { return x + 1.0; }, {2, 3, 5}, {1, 1, 1}},
        {"1 + x", [](const Tensor& x) { return 1.0 + x; }, {2, 3, 5}, {1, 1, 1}},
        {"x - 1", [](const Tensor& x) { return x - 1.0; }, {0, 1, 3}, {1, 1, 1}},
        {"1 - x", [](const Tensor& x) { return 1.0 - x; }, {0, -1, -3}, {-1, -1, -1}},
        {"x / 2", [](const Tensor& x) { return x / 2.0; }, {0.5, 1, 2}, {0.5, 0.5, 0.5}},
        {"1 / x", [](const Tensor& x) { return 1.0 / x; }, {1, 0.5, 0.25}, {-1, -0.25, -0.0625}},
    };
    for (const Case& c : cases) {
        Tensor x = f64s({1, 2, 4}, {3}, true);
        Tensor y = c.f(x);
        EXPECT_TRUE(values_are(y, {3}, c.value)) << c.name;
        y.backward(f64s({1, 1, 1}, {3}));
        EXPECT_TRUE(values_are(x.grad(), {3}, c.grad)) << c.name;
        EXPECT_TRUE(grad_ok([&c](const V& v) { return c.f(v[0]); }, {rand64({2, 3}, 52, 0.5, 2)}))
            << c.name;
    }
}

TEST(ScalarOperators, ScalarTakesTheTensorsDtype) {
    Tensor x = tensor({1, 2}, f32);
    for (const Tensor& y :
         {x + 0.1, 0.1 + x, x * 0.1, 0.1 * x, x - 0.1, 0.1 - x, x / 0.1, 0.1 / x}) {
        EXPECT_EQ(y.dtype(), f32);
    }
    // 0.1 became float(0.1) before the multiplication.
    EXPECT_EQ((x * 0.1).to_vector(), (std::vector<double>{double(0.1f), double(2 * 0.1f)}));
    EXPECT_EQ((tensor({1}, f64) + 0.1).dtype(), f64);
}

TEST(ScalarOperators, ChainMatchesHandDerivative) {
    // y = (3x + 1) / (x - 2) at x = 4: y = 6.5; y' = (3(x-2) - (3x+1)) / (x-2)^2 = -7/4
    Tensor x = scalar(4, f64, true);
    Tensor y = (3.0 * x + 1.0) / (x - 2.0);
    EXPECT_EQ(y.item(), 6.5);
    y.backward();
    EXPECT_EQ(x.grad().item(), -1.75);
}

}  // namespace
}  // namespace xgrad
