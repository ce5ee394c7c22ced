// The element-wise ops of issue 10 item 5 and var/std: values against Python's math module
// (numbers written out as literals), gradcheck and gradgradcheck in float64 (binary ops also
// broadcast), PyTorch's conventions at kinks, ties and NaN, and every error message.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/threads.h"
#include "tests/support/check.h"
#include "tests/support/value_check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::gradgrad_ok;
using testing::near;
using testing::rand64;
using V = const std::vector<Tensor>&;

Tensor xs64() { return tensor({-2.0, -0.5, 0.0, 0.3, 1.5}, f64); }

TEST(Pointwise, UnaryValuesMatchPythonsMath) {
    const Tensor x = xs64();
    EXPECT_TRUE(near(erf(x), {-0.9953222650189527, -0.5204998778130465, 0.0, 0.3286267594591274,
                              0.9661051464753108}));
    EXPECT_TRUE(near(gelu(x), {-0.04550026389635842, -0.15426876936299344, 0.0, 0.18537342665668577,
                               1.399789198096713}));
    EXPECT_TRUE(near(gelu(x, "tanh"), {-0.04540230591222494, -0.15428599017485606, 0.0,
                                       0.18537092354275922, 1.3995715769802328}));
    EXPECT_TRUE(near(silu(x), {-0.2384058440442351, -0.1887703343990727, 0.0, 0.1723327550434977,
                               1.2263617142904655}));
    EXPECT_TRUE(near(softplus(x), {0.1269280110429725, 0.4740769841801067, 0.6931471805599453,
                                   0.8543552444685272, 1.7014132779827524}));
    // beta 2, threshold 1: x itself where 2x > 1 (1.5), else log(1 + e^2x) / 2.
    EXPECT_TRUE(near(softplus(x, 2, 1), {0.009074963958904869, 0.15663084375911143,
                                         0.34657359027997264, 0.5187439752429428, 1.5}));
    EXPECT_TRUE(near(elu(x, 0.7), {-0.6052653017343711, -0.2754285382011566, 0.0, 0.3, 1.5}));
    EXPECT_TRUE(near(leaky_relu(x), {-0.02, -0.005, 0.0, 0.3, 1.5}));
    EXPECT_TRUE(near(leaky_relu(x, 0.2), {-0.4, -0.1, 0.0, 0.3, 1.5}));
    EXPECT_TRUE(
        near(log1p(x), {NAN, -0.6931471805599453, 0.0, 0.26236426446749106, 0.9162907318741551}));
    EXPECT_TRUE(near(expm1(x), {-0.8646647167633873, -0.3934693402873666, 0.0, 0.3498588075760031,
                                3.481689070338065}));
    EXPECT_TRUE(near(sin(x), {-0.9092974268256817, -0.479425538604203, 0.0, 0.29552020666133955,
                              0.9974949866040544}));
    EXPECT_TRUE(near(cos(x), {-0.4161468365471424, 0.8775825618903728, 1.0, 0.955336489125606,
                              0.0707372016677029}));
    EXPECT_TRUE(near(reciprocal(x), {-0.5, -2.0, INFINITY, 1 / 0.3, 1 / 1.5}));
    EXPECT_TRUE(near(rsqrt(tensor({4.0, 0.25}, f64)), {0.5, 2.0}));
    EXPECT_TRUE(near(sign(tensor({-3.0, 0.0, 2.0, NAN}, f64)), {-1, 0, 1, 0}));
    // log1p and expm1 keep the digits that log(1 + x) and exp(x) - 1 lose.
    EXPECT_DOUBLE_EQ(log1p(scalar(1e-18, f64)).item(), 1e-18);
    EXPECT_DOUBLE_EQ(expm1(scalar(1e-18, f64)).item(), 1e-18);
}

TEST(Pointwise, Float32KeepsItsDtypeAndPrecision) {
    const Tensor x = tensor({-2.0, -0.5, 0.0, 0.3, 1.5}, f32);
    for (const Tensor& y :
         {gelu(x), gelu(x, "tanh"), silu(x), softplus(x), elu(x), erf(x), sin(x), leaky_relu(x)}) {
        EXPECT_EQ(y.dtype(), f32);
    }
    EXPECT_TRUE(near(
        gelu(x),
        {-0.04550026389635842, -0.15426876936299344, 0.0, 0.18537342665668577, 1.399789198096713},
        1e-6));
}

TEST(Pointwise, GradcheckAndGradgradcheckEveryUnaryOp) {
    const Tensor a = rand64({2, 3}, 11, -1.5, 1.5), pos = rand64({2, 3}, 12, 0.3, 2.0);
    // Away from 0 for the piecewise ops (the kink is checked separately below).
    const Tensor off0 = tensor({-1.2, -0.4, 0.35, 0.8, -0.9, 1.6}, {2, 3}, f64, true);
    const std::vector<std::pair<const char*, std::function<Tensor(V)>>> unary = {
        {"reciprocal", [](V x) { return reciprocal(x[0]); }},
        {"rsqrt", [](V x) { return rsqrt(x[0]); }},
        {"log1p", [](V x) { return log1p(x[0]); }},
        {"expm1", [](V x) { return expm1(x[0]); }},
        {"sin", [](V x) { return sin(x[0]); }},
        {"cos", [](V x) { return cos(x[0]); }},
        {"erf", [](V x) { return erf(x[0]); }},
        {"gelu", [](V x) { return gelu(x[0]); }},
        {"gelu_tanh", [](V x) { return gelu(x[0], "tanh"); }},
        {"silu", [](V x) { return silu(x[0]); }},
        {"softplus", [](V x) { return softplus(x[0]); }},
        {"softplus_beta", [](V x) { return softplus(x[0], 1.7, 2.0); }},
    };
    for (const auto& [name, f] : unary) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(grad_ok(f, {pos}));
        EXPECT_TRUE(gradgrad_ok(f, {pos}));
    }
    for (const auto& [name, f] : unary) {
        // Over [-1.5, 1.5): not the ops undefined at or below 0 (or -1 for log1p).
        const std::string n = name;
        if (n == "rsqrt" || n == "reciprocal" || n == "log1p") continue;
        SCOPED_TRACE(name);
        EXPECT_TRUE(grad_ok(f, {a}));
        EXPECT_TRUE(gradgrad_ok(f, {a}));
    }
    const std::vector<std::pair<const char*, std::function<Tensor(V)>>> piecewise = {
        {"leaky_relu", [](V x) { return leaky_relu(x[0], 0.3) * x[0]; }},
        {"elu", [](V x) { return elu(x[0], 0.7); }},
        {"elu_times_x", [](V x) { return elu(x[0], 1.3) * x[0]; }},
        {"softplus_threshold", [](V x) { return softplus(x[0], 1, 0.5); }},
        {"sign", [](V x) { return sign(x[0]) * x[0] * x[0]; }},
    };
    for (const auto& [name, f] : piecewise) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(grad_ok(f, {off0}));
        EXPECT_TRUE(gradgrad_ok(f, {off0}));
    }
}

TEST(Pointwise, KinksFollowPyTorch) {
    // leaky_relu'(0) = slope, elu'(0) = alpha, sign' = 0; softplus above the threshold is 1.
    Tensor x = tensor({0.0, 0.0, 0.0, 30.0}, f64, true);
    Tensor y = leaky_relu(x, 0.25) + 10 * elu(x, 0.5) + 100 * sign(x) + 1000 * softplus(x);
    y.backward(tensor({1, 1, 1, 1}, f64));
    EXPECT_TRUE(near(x.grad(), {0.25 + 5 + 500, 0.25 + 5 + 500, 0.25 + 5 + 500, 1 + 10 + 1000}));
    // elu far into the positive side: the discarded e^x branch must not turn into NaN.
    Tensor big = tensor({1000.0}, f64, true);
    elu(big).backward(tensor({1}, f64));
    EXPECT_EQ(big.grad().item(), 1.0);
    // silu and gelu are finite for large |x| in float32 (sigmoid's two branches).
    Tensor w = tensor({-200.0, 200.0}, f32, true);
    (silu(w) + gelu(w)).backward(tensor({1, 1}, f32));
    EXPECT_TRUE(near(w.grad(), {0, 2}));
}

// float32 gelu runs its rule on SIMD batches (xsimd's erf, exp, tanh): within float rounding
// of float64, the same bits for any thread count, and for an element wherever it sits in the
// array (the tail shorter than a batch is a padded batch).
TEST(Pointwise, GeluFloat32OnBatchesMatchesFloat64OnAnyThreadCountAndOffset) {
    const std::size_t n = 70001;  // two parallel chunks and a 1-element tail
    const Tensor x64 = rand64(Shape{n}, 77, -8, 8).detach();
    const Tensor seed64 = rand64(Shape{n}, 78).detach();
    for (const char* approximate : {"none", "tanh"}) {
        const Tensor y64 = gelu(x64, approximate);
        Tensor a = x64.detach();
        a.set_requires_grad();
        gelu(a, approximate).backward(seed64);
        std::vector<std::vector<double>> runs;
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            Tensor x = to(x64, f32);
            x.set_requires_grad();
            const Tensor y = gelu(x, approximate);
            y.backward(to(seed64, f32));
            EXPECT_TRUE(near(y, y64.to_vector(), 4e-7)) << approximate;
            EXPECT_TRUE(near(x.grad(), a.grad().to_vector(), 2e-6)) << approximate;
            runs.push_back(y.to_vector());
            std::vector<double> g = x.grad().to_vector();
            runs.back().insert(runs.back().end(), g.begin(), g.end());
        }
        set_num_threads(1);
        EXPECT_EQ(runs[0], runs[1]) << approximate;
        // The same elements at another offset (so other lanes and another tail).
        const Tensor shifted = gelu(to(narrow(x64, 0, 3, 21), f32), approximate);
        for (std::size_t i = 0; i < 21; ++i) {
            EXPECT_EQ(shifted.to_vector()[i], runs[0][i + 3]) << approximate << " " << i;
        }
    }
}

TEST(Pointwise, MaximumMinimumValuesNanAndTies) {
    const Tensor a = tensor({1, 5, 3, NAN, 2}, f64), b = tensor({4, 2, 3, 1, NAN}, f64);
    EXPECT_TRUE(near(maximum(a, b), {4, 5, 3, NAN, NAN}));
    EXPECT_TRUE(near(minimum(a, b), {1, 2, 3, NAN, NAN}));
    // At a tie each side gets half; a NaN side (and the other one) gets the whole gradient.
    Tensor p = tensor({1, 5, 3, NAN, 2}, f64, true), q = tensor({4, 2, 3, 1, NAN}, f64, true);
    maximum(p, q).backward(tensor({10, 20, 30, 40, 50}, f64));
    EXPECT_TRUE(near(p.grad(), {0, 20, 15, 40, 50}));
    EXPECT_TRUE(near(q.grad(), {10, 0, 15, 40, 50}));
    p.zero_grad();
    q.zero_grad();
    minimum(p, q).backward(tensor({10, 20, 30, 40, 50}, f64));
    EXPECT_TRUE(near(p.grad(), {10, 0, 15, 40, 50}));
    EXPECT_TRUE(near(q.grad(), {0, 20, 15, 40, 50}));
    // Broadcast: (2,3) against (3) and (2,1), both orders, first and second order.
    const Tensor m = tensor({-0.9, 0.2, 0.7, 0.4, -0.3, 1.1}, {2, 3}, f64, true);
    const Tensor row = tensor({0.1, -0.5, 0.9}, f64, true),
                 col = tensor({0.5, -0.1}, {2, 1}, f64, true);
    for (const auto& f : {std::function<Tensor(V)>([](V x) { return maximum(x[0], x[1]); }),
                          std::function<Tensor(V)>([](V x) { return minimum(x[0], x[1]); }),
                          std::function<Tensor(V)>(
                              [](V x) { return maximum(x[0], x[1]) * minimum(x[1], x[0]); })}) {
        EXPECT_TRUE(grad_ok(f, {m, row}));
        EXPECT_TRUE(grad_ok(f, {col, m}));
        EXPECT_TRUE(gradgrad_ok(f, {m, row}));
        EXPECT_TRUE(gradgrad_ok(f, {col, m}));
    }
}

TEST(Pointwise, PowWithATensorExponent) {
    EXPECT_TRUE(near(pow(tensor({2.0, 3.0, 0.5}, f64), tensor({0.5, -1.0, 2.5}, f64)),
                     {1.4142135623730951, 0.3333333333333333, 0.1767766952966369}));
    const Tensor base = rand64({2, 3}, 21, 0.4, 2.0), e = rand64({2, 3}, 22, -1.5, 2.5);
    const Tensor erow = rand64({3}, 23, -1.0, 2.0), bcol = rand64({2, 1}, 24, 0.5, 1.5);
    const auto f = [](V x) { return pow(x[0], x[1]); };
    EXPECT_TRUE(grad_ok(f, {base, e}));
    EXPECT_TRUE(grad_ok(f, {base, erow}));
    EXPECT_TRUE(grad_ok(f, {bcol, e}));
    EXPECT_TRUE(gradgrad_ok(f, {base, e}));
    EXPECT_TRUE(gradgrad_ok(f, {bcol, erow}));
    // d/da = b a^(b-1), d/db = a^b log a: at a = 2, b = 3: 12 and 8 ln 2.
    Tensor a = scalar(2, f64, true), b = scalar(3, f64, true);
    pow(a, b).backward();
    EXPECT_DOUBLE_EQ(a.grad().item(), 12.0);
    EXPECT_DOUBLE_EQ(b.grad().item(), 8 * std::log(2.0));
    // PyTorch's special cases: exponent 0 gives d/da = 0 (even at a = 0), and a = 0 with
    // exponent >= 0 gives d/db = 0 (not 0 * log 0 = NaN).
    Tensor z = tensor({0.0, 0.0, 0.0}, f64, true), p = tensor({0.0, 2.0, 1.0}, f64, true);
    pow(z, p).backward(tensor({1, 1, 1}, f64));
    EXPECT_TRUE(near(z.grad(), {0, 0, 1}));
    EXPECT_TRUE(near(p.grad(), {0, 0, 0}));
}

TEST(Pointwise, ClampFollowsPyTorch) {
    // min > max: every element is max (PyTorch computes min(max(x, min), max)).
    const Tensor x = tensor({-1.0, 0.5, 3.0, NAN}, f64, true);
    EXPECT_TRUE(near(clamp(x, 2.0, 1.0), {1, 1, 1, NAN}));
    // The gradient passes where min <= x <= max, boundaries included; NaN gets 0.
    Tensor y = tensor({-1.0, 0.0, 0.5, 1.0, 3.0, NAN}, f64, true);
    clamp(y, 0.0, 1.0).backward(tensor({1, 1, 1, 1, 1, 1}, f64));
    EXPECT_TRUE(near(y.grad(), {0, 1, 1, 1, 0, 0}));
    EXPECT_TRUE(near(clamp(tensor({-1.0, 5.0}, f64), std::nullopt, 2.0), {-1, 2}));
}

TEST(Pointwise, BadInputsAreClearErrors) {
    const Tensor x = xs64();
    EXPECT_THROW_MSG(gelu(x, "erf"), std::invalid_argument,
                     "gelu: approximate must be 'none' or 'tanh' (got 'erf')");
    EXPECT_THROW_MSG(softplus(x, 0), std::invalid_argument, "softplus: beta", "nonzero", "got 0");
    EXPECT_THROW_MSG(maximum(x, tensor({1, 2, 3, 4, 5}, f32)), std::invalid_argument,
                     "maximum: dtypes differ", "float64 (5)", "float32 (5)");
    EXPECT_THROW_MSG(pow(x, tensor({1, 2}, f64)), std::invalid_argument, "pow", "(5)", "(2)");
    EXPECT_THROW_MSG(minimum(Tensor(), x), std::invalid_argument,
                     "minimum: input 0 is an undefined tensor");
    const Tensor ints(Array::from_vector(std::vector<std::int64_t>{1, 2}));
    EXPECT_THROW_MSG(sin(ints), std::invalid_argument,
                     "sin: expected a floating dtype (got int64)");
    EXPECT_THROW_MSG(maximum(ints, ints), std::invalid_argument,
                     "maximum: expected a floating dtype (got int64)");
    EXPECT_THROW_MSG(var(ints), std::invalid_argument,
                     "var: expected a floating dtype (got int64 (2))");
    EXPECT_THROW_MSG(std(x, {1}), std::invalid_argument, "std: axis 1 out of range", "(5)");
    EXPECT_THROW_MSG(var(Tensor()), std::invalid_argument, "var: input is an undefined tensor");
}

// ---- var / std ----

TEST(VarStd, ValuesAsPyTorch) {
    const Tensor m = tensor({1, 2, 4, 3, 5, 9}, {2, 3}, f64);
    EXPECT_TRUE(near(var(m), {8.0}));
    EXPECT_TRUE(near(var(m, {}, false), {6.666666666666667}));
    EXPECT_TRUE(near(var(m, {1}), {2.3333333333333335, 9.333333333333334}));
    EXPECT_TRUE(near(var(m, {-2}), {2, 4.5, 12.5}));
    EXPECT_EQ(var(m, {1}, true, /*keepdim=*/true).shape(), (Shape{2, 1}));
    EXPECT_EQ(var(m, {0, 1}).shape(), Shape{});
    EXPECT_EQ(var(m, {}, true, /*keepdim=*/true).shape(), (Shape{1, 1}));
    EXPECT_TRUE(near(std(m, {1}), {1.5275252316519468, 3.0550504633038935}));
    EXPECT_TRUE(near(std(m, {1}, false), {std::sqrt(14.0 / 9), std::sqrt(56.0 / 9)}));
    EXPECT_TRUE(near(std(m, {}, false), {std::sqrt(6.666666666666667)}));
    // One element with Bessel's correction: 0/0 = NaN, as PyTorch; biased: 0.
    EXPECT_TRUE(std::isnan(var(tensor({3.0}, f64)).item()));
    EXPECT_EQ(var(tensor({3.0}, f64), {}, false).item(), 0.0);
    // No cancellation: a large offset does not swamp a small spread.
    EXPECT_TRUE(near(var(tensor({1e9 + 1, 1e9 + 2, 1e9 + 3}, f64)), {1.0}));
    // 3-D, two dims, one negative.
    const Tensor t = tensor({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}, f64);
    // j = 0 holds (1, 2, 5, 6), j = 1 holds (3, 4, 7, 8): both have variance 17/3.
    EXPECT_TRUE(near(var(t, {0, -1}), {17.0 / 3, 17.0 / 3}));
}

TEST(VarStd, GradcheckAndGradgradcheck) {
    const Tensor a = rand64({3, 4}, 31), t = rand64({2, 3, 2}, 32);
    const std::vector<std::function<Tensor(V)>> fs = {
        [](V x) { return var(x[0]); },
        [](V x) { return var(x[0], {1}); },
        [](V x) { return var(x[0], {0}, false, true); },
        [](V x) { return std(x[0]); },
        [](V x) { return std(x[0], {-1}, true, true); },
    };
    for (std::size_t i = 0; i < fs.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_TRUE(grad_ok(fs[i], {a}));
        EXPECT_TRUE(gradgrad_ok(fs[i], {a}));
    }
    EXPECT_TRUE(grad_ok([](V x) { return std(x[0], {0, 2}, false); }, {t}));
    EXPECT_TRUE(gradgrad_ok([](V x) { return var(x[0], {2, 0}); }, {t}));
    // d var / dx = 2 (x - mean) / (n - 1): for (1, 2, 6), mean 3, n - 1 = 2: (-2, -1, 3).
    Tensor x = tensor({1.0, 2.0, 6.0}, f64, true);
    var(x).backward();
    EXPECT_TRUE(near(x.grad(), {-2.0, -1.0, 3.0}));
}

TEST(Reduce, SumAndMeanTakeNdAndNegativeDims) {
    const Tensor t = tensor({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2}, f64);
    EXPECT_TRUE(near(sum(t, {0, -1}), {1 + 2 + 5 + 6, 3 + 4 + 7 + 8}));
    EXPECT_TRUE(near(mean(t, {-3, 2}), {3.5, 5.5}));
    EXPECT_EQ(sum(t, {-1, 0}, true).shape(), (Shape{1, 2, 1}));
    EXPECT_TRUE(grad_ok([](V x) { return mean(x[0], {-1, 1}); }, {rand64({2, 3, 4}, 41)}));
    EXPECT_THROW_MSG(sum(t, {0, -3}), std::invalid_argument, "sum: repeated axis", "(2,2,2)");
    EXPECT_THROW_MSG(mean(t, {-4}), std::invalid_argument, "mean: axis -4 out of range");
}

}  // namespace
}  // namespace xgrad
