#include "nn/optim/lr_scheduler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nn/optim/sgd.h"
#include "tests/support/check.h"

namespace xgrad::nn::optim {
namespace {

std::vector<double> lrs(LRScheduler& s, const Optimizer& opt, int n) {
    std::vector<double> out{opt.lr()};
    for (int i = 0; i < n; ++i) {
        s.step();
        out.push_back(opt.lr());
    }
    return out;
}

TEST(LRScheduler, StepLRDecaysEveryStepSizeSteps) {
    SGD opt({zeros(Shape{1}, f32, true)}, SGDOptions(1.0));
    StepLR sched(opt, /*step_size=*/2, /*gamma=*/0.5);
    EXPECT_EQ(lrs(sched, opt, 5), (std::vector<double>{1, 1, 0.5, 0.5, 0.25, 0.25}));
    EXPECT_EQ(sched.last_step(), 5u);
    EXPECT_EQ(sched.base_lr(), 1.0);
}

TEST(LRScheduler, CosineGoesFromBaseToEtaMinAtTMax) {
    SGD opt({zeros(Shape{1}, f32, true)}, SGDOptions(0.1));
    CosineAnnealingLR sched(opt, /*t_max=*/4, /*eta_min=*/0.02);
    const std::vector<double> got = lrs(sched, opt, 4);
    for (int t = 0; t <= 4; ++t) {
        EXPECT_NEAR(got[t], 0.02 + 0.08 * (1 + std::cos(M_PI * t / 4)) / 2, 1e-15);
    }
    EXPECT_NEAR(got[2], 0.06, 1e-15);
    EXPECT_NEAR(got[4], 0.02, 1e-15);
}

TEST(LRScheduler, LambdaLRScalesTheBaseByAnyFunction) {
    SGD opt({zeros(Shape{1}, f32, true)}, SGDOptions(0.5));
    LambdaLR warmup(opt, [](std::size_t t) { return std::min(1.0, double(t + 1) / 4); });
    EXPECT_EQ(lrs(warmup, opt, 4), (std::vector<double>{0.5, 0.25, 0.375, 0.5, 0.5}));
    EXPECT_EQ(warmup.lr_at(0), 0.125);
}

TEST(LRScheduler, InvalidSchedulesAreRefused) {
    SGD opt({zeros(Shape{1}, f32, true)}, SGDOptions(0.5));
    EXPECT_THROW_MSG(StepLR(opt, 0), std::invalid_argument, "StepLR", "step_size");
    EXPECT_THROW_MSG(StepLR(opt, 1, -0.5), std::invalid_argument, "gamma");
    EXPECT_THROW_MSG(CosineAnnealingLR(opt, 0), std::invalid_argument, "t_max");
    EXPECT_THROW_MSG(CosineAnnealingLR(opt, 5, NAN), std::invalid_argument, "eta_min");
    EXPECT_THROW_MSG(LambdaLR(opt, nullptr), std::invalid_argument, "LambdaLR");
    LambdaLR bad(opt, [](std::size_t t) { return t == 0 ? 1.0 : std::nan(""); });
    EXPECT_THROW_MSG(bad.step(), std::invalid_argument, "SGD", "learning rate", "nan");
    EXPECT_EQ(opt.lr(), 0.5);  // unchanged by the refused step
}

}  // namespace
}  // namespace xgrad::nn::optim
