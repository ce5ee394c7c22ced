// gradcheck itself: it must catch wrong backward rules and say where, and pass correct ones.
// The ops under test are custom ops with deliberately wrong backwards.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::rand64;
using V = std::vector<Tensor>;

Tensor f64s(const std::vector<double>& v, Shape shape, bool requires_grad = true) {
    return tensor(v, std::move(shape), f64, requires_grad);
}

// y = x^3 with the given backward rule.
Tensor cube(const Tensor& x, CustomBackward backward) {
    return custom_op(
        "cube", {x}, [](const V& in) { return in[0] * in[0] * in[0]; }, std::move(backward));
}

Tensor cube_right(const Tensor& x) {
    return cube(x, [](const V& in, const Tensor&, const Tensor& g) {
        return V{g * 3.0 * in[0] * in[0]};  // (x^3)' = 3x^2
    });
}

Tensor cube_wrong(const Tensor& x) {
    return cube(x, [](const V& in, const Tensor&, const Tensor& g) {
        return V{g * 2.0 * in[0]};  // deliberately wrong: 2x is (x^2)', not (x^3)'
    });
}

Tensor cube_ignoring_upstream(const Tensor& x) {
    return cube(x, [](const V& in, const Tensor&, const Tensor&) {
        return V{3.0 * in[0] * in[0]};  // right local derivative, upstream gradient dropped
    });
}

// y = k x with backward g * k * (1 + rel) + abs_offset.
Tensor scaled(const Tensor& x, double k, double rel, double abs_offset) {
    return custom_op(
        "scaled", {x}, [k](const V& in) { return in[0] * k; },
        [k, rel, abs_offset](const V&, const Tensor&, const Tensor& g) {
            return V{g * (k * (1 + rel)) + abs_offset};
        });
}

// The probe weights gradcheck draws for an output of `shape` with the default seed.
std::vector<double> probe_weights(Shape shape) {
    return uniform(std::move(shape), -1, 1, GradcheckOptions{}.seed, f64).to_vector();
}

std::string printed(double v) {
    std::ostringstream os;
    os.precision(10);
    os << v;
    return os.str();
}

TEST(Gradcheck, DefaultsArePyTorchs) {
    const GradcheckOptions o;
    EXPECT_EQ(o.eps, 1e-6);
    EXPECT_EQ(o.atol, 1e-5);
    EXPECT_EQ(o.rtol, 1e-3);
}

TEST(Gradcheck, PassesACorrectCustomOp) {
    const GradcheckResult r =
        gradcheck([](const V& x) { return cube_right(x[0]); }, {rand64({2, 3}, 1, -2, 2)});
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_TRUE(static_cast<bool>(r));
    EXPECT_TRUE(r.message.empty());
}

TEST(Gradcheck, WrongDerivativeFailsNamingInputElementAndBothValues) {
    // Input 0 goes through a correct op; input 1 through x^3 with derivative 2x. At x = 0 and
    // x = 2/3, 2x equals 3x^2, so the first element that fails is element 2 (x = 1.5): flat
    // index 2, (1,0) in the (2,2) input. There analytic = w * 2x = 3w, numeric = w * 3x^2 = 6.75w.
    Tensor a = rand64({2, 2}, 2);
    Tensor x = f64s({0, 2.0 / 3.0, 1.5, 2}, {2, 2});
    const GradcheckResult r =
        gradcheck([](const V& v) { return cube_right(v[0]) + cube_wrong(v[1]); }, {a, x});
    ASSERT_FALSE(r.ok);
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_EQ(r.input, 1u);
    EXPECT_EQ(r.element, 2u);
    const double w = probe_weights({2, 2})[2];
    ASSERT_GT(std::abs(w), 1e-3);  // the probe weight is far from 0, so the check is meaningful
    EXPECT_NEAR(r.analytic, 3.0 * w, 1e-12);
    EXPECT_NEAR(r.numeric, 6.75 * w, 1e-6);
    for (const std::string& part :
         {std::string("input 1"), std::string("element 2"), std::string("(1,0)"),
          std::string("(2,2)"), "analytic " + printed(r.analytic),
          "numeric " + printed(r.numeric)}) {
        EXPECT_NE(r.message.find(part), std::string::npos)
            << "message \"" << r.message << "\" lacks \"" << part << "\"";
    }
}

TEST(Gradcheck, ReportsTheFirstFailingInput) {
    const GradcheckResult r =
        gradcheck([](const V& v) { return cube_wrong(v[0]) * cube_wrong(v[1]); },
                  {rand64({3}, 3, 1, 2), rand64({3}, 4, 1, 2)});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.input, 0u);
    EXPECT_EQ(r.element, 0u);
}

TEST(Gradcheck, BackwardThatIgnoresTheUpstreamGradientIsCaught) {
    // With seed 1 everywhere (what a sum() probe would do) the rule looks right ...
    Tensor x = f64s({0.5, -1, 2}, {3});
    sum(cube_ignoring_upstream(x)).backward();
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0.75, 3, 12}));
    // ... but gradcheck seeds backward with random weights w, and d(sum(w * x^3))/dx = 3 w x^2.
    const GradcheckResult r = gradcheck([](const V& v) { return cube_ignoring_upstream(v[0]); },
                                        {rand64({3}, 5, 0.5, 2)});
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.input, 0u);
    EXPECT_NE(r.message.find("analytic"), std::string::npos);
}

TEST(Gradcheck, AbsoluteErrorsUpToAtolPass) {
    // y = 0 * x: the numeric gradient is exactly 0, so only atol (1e-5) is left.
    auto f = [](double offset) {
        return [offset](const V& v) { return scaled(v[0], 0.0, 0.0, offset); };
    };
    EXPECT_TRUE(gradcheck(f(9e-6), {rand64({4}, 6)}).ok);
    const GradcheckResult r = gradcheck(f(2e-5), {rand64({4}, 6)});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.numeric, 0.0);
    EXPECT_NEAR(r.analytic, 2e-5, 1e-18);
}

TEST(Gradcheck, RelativeErrorsUpToRtolPass) {
    // y = 1000 x: numeric = 1000 w, so atol is negligible and rtol (1e-3) decides.
    auto f = [](double rel) {
        return [rel](const V& v) { return scaled(v[0], 1000.0, rel, 0.0); };
    };
    EXPECT_TRUE(gradcheck(f(9e-4), {rand64({4}, 7)}).ok);
    EXPECT_FALSE(gradcheck(f(1.5e-3), {rand64({4}, 7)}).ok);
    GradcheckOptions loose;
    loose.rtol = 1e-2;
    EXPECT_TRUE(gradcheck(f(1.5e-3), {rand64({4}, 7)}, loose).ok);
}

TEST(Gradcheck, NanAnalyticGradientFails) {
    auto f = [](const V& v) {
        return custom_op(
            "nan_grad", {v[0]}, [](const V& in) { return in[0] * 2.0; },
            [](const V&, const Tensor&, const Tensor& g) {
                return V{g * std::numeric_limits<double>::quiet_NaN()};
            });
    };
    const GradcheckResult r = gradcheck(f, {rand64({2}, 8)});
    ASSERT_FALSE(r.ok);
    EXPECT_TRUE(std::isnan(r.analytic));
    EXPECT_NEAR(r.numeric, 2.0 * probe_weights({2})[0], 1e-8);
}

TEST(Gradcheck, ProbeWeightsComeFromTheSeed) {
    auto f = [](const V& v) { return cube_wrong(v[0]); };
    const GradcheckResult a = gradcheck(f, {rand64({3}, 9, 1, 2)});
    const GradcheckResult b = gradcheck(f, {rand64({3}, 9, 1, 2)});
    GradcheckOptions other;
    other.seed = 12345;
    const GradcheckResult c = gradcheck(f, {rand64({3}, 9, 1, 2)}, other);
    ASSERT_FALSE(a.ok);
    ASSERT_FALSE(c.ok);
    EXPECT_EQ(a.analytic, b.analytic);  // reproducible
    EXPECT_EQ(a.message, b.message);
    EXPECT_NE(a.analytic, c.analytic);  // other weights
}

TEST(Gradcheck, SkipsInputsThatDoNotRequireGrad) {
    // Input 1's gradient is wrong, but nobody asked for it.
    auto f = [](const V& v) { return cube_right(v[0]) + cube_wrong(v[1]); };
    EXPECT_TRUE(gradcheck(f, {rand64({3}, 10), f64s({1, 2, 3}, {3}, false)}).ok);
    EXPECT_FALSE(gradcheck(f, {rand64({3}, 10), f64s({1, 2, 3}, {3}, true)}).ok);
}

TEST(Gradcheck, ChecksFloat32InputsInFloat64AndLeavesTheInputsAlone) {
    Tensor x = uniform({2, 3}, -1, 1, 11, f32, /*requires_grad=*/true);
    const std::vector<double> before = x.to_vector();
    EXPECT_TRUE(gradcheck(
                    [](const V& v) {
                        EXPECT_EQ(v[0].dtype(), f64);
                        return exp(v[0]);
                    },
                    {x})
                    .ok);
    EXPECT_FALSE(x.has_grad());  // gradcheck works on copies
    EXPECT_EQ(x.to_vector(), before);
}

TEST(Gradcheck, RefusesInputsItCannotCheck) {
    auto f = [](const V& v) { return exp(v[0]); };
    EXPECT_THROW_MSG(gradcheck(f, {f64s({1}, {1}, false)}), std::invalid_argument,
                     "no input requires grad");
    EXPECT_THROW_MSG(gradcheck(f, {Tensor()}), std::invalid_argument, "undefined input");
    EXPECT_THROW_MSG(gradcheck([](const V&) { return scalar(1, f64); }, {f64s({1}, {1})}),
                     std::invalid_argument, "does not depend");
}

}  // namespace
}  // namespace xgrad
