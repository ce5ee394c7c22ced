// Anomaly mode: the first op producing NaN or Inf is reported by op, input shapes and the line of
// this file that created it; off by default.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>

#include "tests/support/check.h"

namespace xgrad {
namespace {

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

std::string here(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }

TEST(Anomaly, OffByDefault) {
    EXPECT_FALSE(anomaly_enabled());
    Tensor x = scalar(0, f64, true);
    Tensor y = log(x);
    EXPECT_EQ(y.item(), -INFINITY);
}

TEST(Anomaly, LogOfZeroReportsTheOpAndThisLine) {
    DetectAnomalyGuard anomaly;
    Tensor x = scalar(0, f64, true);
    int line = 0;
    try {
        line = __LINE__ + 1;
        Tensor y = log(x);
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.op(), "log");
        EXPECT_FALSE(e.in_backward());
        EXPECT_STREQ(e.location().file, __FILE__);
        EXPECT_EQ(e.location().line, line);
        const std::string m = e.what();
        EXPECT_TRUE(has(m, "log: forward produced a non-finite value (got -inf"));
        EXPECT_TRUE(has(m, "at " + here(line)));
        EXPECT_TRUE(has(m, "input 0: () float64, all finite"));
    }
}

TEST(Anomaly, ZeroOverZeroThroughAnOperatorReportsThisLine) {
    DetectAnomalyGuard anomaly;
    Tensor a = tensor({0, 1}, f64, true), b = tensor({0, 1}, f64);
    int line = 0;
    try {
        line = __LINE__ + 1;
        Tensor q = a / b;
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.op(), "div");
        EXPECT_EQ(e.location().line, line);
        EXPECT_TRUE(has(e.what(), "got (2) with 1 nan of 2 elements"));
        EXPECT_TRUE(has(e.what(), "input 0: (2) float64, all finite; input 1: (2) float64"));
    }
}

TEST(Anomaly, ScalarOnTheLeftOfAnOperatorReportsThisLine) {
    DetectAnomalyGuard anomaly;
    Tensor x = scalar(0, f64, true);
    int line = 0;
    try {
        line = __LINE__ + 1;
        Tensor y = 1.0 / x;
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.op(), "div");
        EXPECT_EQ(e.location().line, line);
        EXPECT_TRUE(has(e.what(), "got inf"));
    }
}

TEST(Anomaly, NestedExpressionReportsTheStatementAndTheInnermostBadOp) {
    DetectAnomalyGuard anomaly;
    Tensor x = tensor({1, 0, 2}, f64, true);
    int line = 0;
    try {
        line = __LINE__ + 1;
        Tensor y = sum(exp(x) * log(x));
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.op(), "log");
        EXPECT_EQ(e.location().line, line);
    }
}

TEST(Anomaly, SqrtAtZeroBackwardReportsTheOpAndWhereItWasCreated) {
    DetectAnomalyGuard anomaly;
    Tensor x = scalar(0, f64, true);
    const int line = __LINE__ + 1;
    Tensor y = sqrt(x) * 3.0;  // forward: 0, fine; backward: 3 / (2 sqrt 0) = inf
    try {
        y.backward();
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.op(), "sqrt");
        EXPECT_TRUE(e.in_backward());
        EXPECT_EQ(e.location().line, line);
        const std::string m = e.what();
        EXPECT_TRUE(has(m, "sqrt: backward produced a non-finite gradient for input 0 (got inf"));
        EXPECT_TRUE(has(m, "node created at " + here(line)));
        EXPECT_TRUE(has(m, "upstream gradient () float64, all finite"));
    }
}

TEST(Anomaly, GraphBuiltBeforeAnomalyModeReportsAnUnknownPlace) {
    Tensor x = scalar(0, f64, true);
    Tensor y = sqrt(x);
    DetectAnomalyGuard anomaly;
    try {
        y.backward();
        ADD_FAILURE() << "expected AnomalyError";
    } catch (const AnomalyError& e) {
        EXPECT_EQ(e.location().line, 0);
        EXPECT_TRUE(has(e.what(), "node created at an unknown place"));
    }
}

TEST(Anomaly, CustomOpBackwardIsReportedByItsName) {
    DetectAnomalyGuard anomaly;
    Tensor x = scalar(1, f64, true);
    const int line = __LINE__ + 1;
    Tensor y = custom_op(
        "broken", {x}, [](const std::vector<Tensor>& in) { return in[0] * 2.0; },
        [](const std::vector<Tensor>&, const Tensor&, const Tensor& g) {
            return std::vector<Tensor>{g * NAN};
        });
    EXPECT_THROW_MSG(y.backward(), AnomalyError, "broken: backward", here(line), "nan");
}

TEST(Anomaly, NoGradComputationsAreNotChecked) {
    DetectAnomalyGuard anomaly;
    NoGradGuard no_grad;
    EXPECT_EQ(log(scalar(0, f64)).item(), -INFINITY);
}

TEST(Anomaly, ConstantComputationsWithGradModeOnAreChecked) {
    DetectAnomalyGuard anomaly;
    EXPECT_THROW(log(scalar(-1, f64)), AnomalyError);
}

TEST(Anomaly, GuardIsThreadLocal) {
    DetectAnomalyGuard anomaly;
    bool threw = false;
    std::thread other([&threw] {
        try {
            Tensor y = log(scalar(0, f64, true));
        } catch (const AnomalyError&) {
            threw = true;
        }
    });
    other.join();
    EXPECT_FALSE(threw);
}

TEST(Anomaly, OffAgainAfterTheGuardAndTheEngineStillWorks) {
    {
        DetectAnomalyGuard anomaly;
        EXPECT_TRUE(anomaly_enabled());
        Tensor x = scalar(0, f64, true);
        Tensor y = sqrt(x);
        EXPECT_THROW(y.backward(), AnomalyError);
    }
    EXPECT_FALSE(anomaly_enabled());
    Tensor x = scalar(4, f64, true);
    Tensor y = sqrt(x);
    y.backward();
    EXPECT_EQ(x.grad().item(), 0.25);
    EXPECT_EQ(log(scalar(0, f64, true)).item(), -INFINITY);
}

TEST(Anomaly, FiniteGraphsRunUnchanged) {
    DetectAnomalyGuard anomaly;
    Tensor x = tensor({1, 2, 3}, f64, true);
    Tensor y = sum(log(x) * x);
    y.backward();
    EXPECT_NEAR(x.grad().at({1}), std::log(2.0) + 1, 1e-12);  // d(x log x) = log x + 1
}

}  // namespace
}  // namespace xgrad
