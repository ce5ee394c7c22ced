#include "nn/clip_grad.h"

#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

void set_grad(Tensor& p, const std::vector<double>& c) {
    p.zero_grad();
    sum(p * tensor(c, p.shape(), p.dtype())).backward();
}

TEST(ClipGrad, NormScalesAllGradientsTogether) {
    Tensor a = zeros(Shape{2}, f64, true), b = zeros(Shape{1}, f32, true);
    set_grad(a, {3, 0});
    set_grad(b, {-4});
    const double norm = clip_grad_norm_({a, b}, /*max_norm=*/1.0);
    EXPECT_DOUBLE_EQ(norm, 5.0);
    const double k = 1.0 / (5.0 + 1e-6);
    EXPECT_NEAR(a.grad().at({0}), 3 * k, 1e-15);
    EXPECT_NEAR(b.grad().at({0}), -4 * k, 1e-7);
}

TEST(ClipGrad, NormBelowTheLimitLeavesGradientsAlone) {
    Tensor a = zeros(Shape{2}, f64, true), unused = zeros(Shape{3}, f64, true);
    set_grad(a, {0.3, 0.4});
    EXPECT_NEAR(clip_grad_norm_({a, unused}, 1.0), 0.5, 1e-15);
    EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{0.3, 0.4}));
    EXPECT_FALSE(unused.has_grad());  // skipped, not given a zero gradient
}

TEST(ClipGrad, ValueClampsEachElement) {
    Tensor a = zeros(Shape{4}, f64, true);
    set_grad(a, {-3, -0.5, 0.25, 2});
    clip_grad_value_({a}, 1.0);
    EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{-1, -0.5, 0.25, 1}));
}

TEST(ClipGrad, LimitsAreValidated) {
    EXPECT_THROW_MSG(clip_grad_norm_({}, NAN), std::invalid_argument, "clip_grad_norm_",
                     "max_norm");
    EXPECT_THROW_MSG(clip_grad_value_({}, -1), std::invalid_argument, "clip_grad_value_",
                     "clip_value", "-1");
}

}  // namespace
}  // namespace xgrad::nn
