#include "nn/init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

struct Moments {
    double mean, stddev, max_abs;
};

Moments moments(const Tensor& t) {
    const std::vector<double> v = t.to_vector();
    double s = 0, sq = 0, m = 0;
    for (double x : v) {
        s += x;
        m = std::max(m, std::abs(x));
    }
    const double mean = s / double(v.size());
    for (double x : v) sq += (x - mean) * (x - mean);
    return {mean, std::sqrt(sq / double(v.size())), m};
}

TEST(Init, UniformIsInRangeAndSeeded) {
    Tensor a = zeros(Shape{50, 40}, f64), b = zeros(Shape{50, 40}, f64);
    init::uniform_(a, -1, 1, /*seed=*/9);
    init::uniform_(b, -1, 1, /*seed=*/9);
    EXPECT_EQ(a.to_vector(), b.to_vector());
    const Moments m = moments(a);
    EXPECT_LE(m.max_abs, 1.0);
    EXPECT_GT(m.max_abs, 0.99);
    EXPECT_NEAR(m.mean, 0.0, 0.05);
    EXPECT_NEAR(m.stddev, 1 / std::sqrt(3.0), 0.02);  // U[-1,1] has variance 1/3
    init::uniform_(b, -1, 1, /*seed=*/10);
    EXPECT_NE(a.to_vector(), b.to_vector());
}

TEST(Init, UniformOverSeveralTensorsIsOneStreamInOrder) {
    Tensor a = zeros(Shape{3}, f64), b = zeros(Shape{2, 2}, f64), all = zeros(Shape{7}, f64);
    init::uniform_(std::vector<Tensor>{a, b}, -1, 1, 4);
    init::uniform_(all, -1, 1, 4);
    std::vector<double> joined = a.to_vector();
    for (double v : b.to_vector()) joined.push_back(v);
    EXPECT_EQ(joined, all.to_vector());
}

TEST(Init, NormalHasTheAskedMoments) {
    Tensor t = zeros(Shape{200, 100}, f64);
    init::normal_(t, 2.0, 0.5, 1);
    const Moments m = moments(t);
    EXPECT_NEAR(m.mean, 2.0, 0.01);
    EXPECT_NEAR(m.stddev, 0.5, 0.01);
}

TEST(Init, XavierUsesFanInPlusFanOut) {
    Tensor w = zeros(Shape{120, 80}, f64);
    init::xavier_uniform_(w, 1);
    const double a = std::sqrt(6.0 / 200);
    Moments m = moments(w);
    EXPECT_LE(m.max_abs, a);
    EXPECT_GT(m.max_abs, 0.99 * a);
    init::xavier_normal_(w, 2, /*gain=*/2.0);
    m = moments(w);
    EXPECT_NEAR(m.stddev, 2.0 * std::sqrt(2.0 / 200), 0.005);
}

TEST(Init, KaimingUsesFanInByDefaultAndFanOutWhenAsked) {
    Tensor w = zeros(Shape{50, 200}, f64);  // (in, out): fan_in 50, fan_out 200
    init::kaiming_uniform_(w, 1);
    const double b = std::sqrt(2.0) * std::sqrt(3.0 / 50);
    Moments m = moments(w);
    EXPECT_LE(m.max_abs, b);
    EXPECT_GT(m.max_abs, 0.99 * b);
    init::kaiming_normal_(w, 2);
    EXPECT_NEAR(moments(w).stddev, std::sqrt(2.0 / 50), 0.005);
    init::kaiming_normal_(w, 2, std::sqrt(2.0), init::FanMode::kFanOut);
    EXPECT_NEAR(moments(w).stddev, std::sqrt(2.0 / 200), 0.002);
    init::kaiming_uniform_(w, 3, /*gain=*/1.0, init::FanMode::kFanOut);
    EXPECT_LE(moments(w).max_abs, std::sqrt(3.0 / 200));
}

TEST(Init, FanBasedInitialisersNeedAMatrix) {
    Tensor bias = zeros(Shape{4});
    EXPECT_THROW_MSG(init::xavier_uniform_(bias, 1), std::invalid_argument, "xavier_uniform_",
                     "2-D", "(4)");
    EXPECT_THROW_MSG(init::kaiming_normal_(bias, 1), std::invalid_argument, "kaiming_normal_");
    EXPECT_THROW_MSG(init::kaiming_uniform_(zeros(Shape{0, 3}), 1), std::invalid_argument,
                     "fan is 0");
}

TEST(Init, ConstantZerosAndGivenValues) {
    Tensor t = ones(Shape{2, 2});
    init::constant_(t, 0.5);
    EXPECT_EQ(t.to_vector(), std::vector<double>(4, 0.5));
    init::zeros_(t);
    EXPECT_EQ(t.to_vector(), std::vector<double>(4, 0.0));
    init::copy_(t, {1, 2, 3, 4});
    EXPECT_EQ(t.at({1, 0}), 3.0);
    init::copy_(t, tensor({5, 6, 7, 8}, Shape{2, 2}, f64));
    EXPECT_EQ(t.dtype(), f32);  // converted to the parameter's dtype
    EXPECT_EQ(t.at({1, 1}), 8.0);
}

TEST(Init, BadArgumentsAreRefused) {
    Tensor t = zeros(Shape{2, 2});
    EXPECT_THROW_MSG(init::copy_(t, {1, 2, 3}), std::invalid_argument, "copy_", "3 values",
                     "(2,2)");
    EXPECT_THROW_MSG(init::copy_(t, ones(Shape{4})), std::invalid_argument, "(4)", "(2,2)");
    EXPECT_THROW_MSG(init::uniform_(t, 1, -1, 0), std::invalid_argument, "low <= high");
    EXPECT_THROW_MSG(init::uniform_(t, 0, INFINITY, 0), std::invalid_argument, "finite");
    EXPECT_THROW_MSG(init::normal_(t, 0, -1, 0), std::invalid_argument, "stddev");
    Tensor x = ones(Shape{2}, f32, true);
    EXPECT_THROW(init::zeros_(x * 2.0), std::logic_error);  // not a leaf
}

}  // namespace
}  // namespace xgrad::nn
