#pragma once
// Assertions shared by the op tests beyond check.h: a second-order gradient check that prints
// gradgradcheck's message, and element-wise closeness with IEEE special values.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/gradcheck.h"

namespace xgrad::testing {

/// EXPECT_TRUE(gradgrad_ok(f, inputs)) prints gradgradcheck's message on failure.
inline ::testing::AssertionResult gradgrad_ok(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs) {
    const GradcheckResult r = gradgradcheck(f, inputs);
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.message;
}

/// Every value of t within tol (relative above 1); NaN matches NaN only, an infinity itself only.
inline ::testing::AssertionResult near(const Tensor& t, const std::vector<double>& want,
                                       double tol = 1e-12) {
    const std::vector<double> got = t.to_vector();
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure() << got.size() << " values, expected " << want.size();
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        const bool ok = std::isnan(want[i]) ? std::isnan(got[i])
                        : std::isinf(want[i])
                            ? got[i] == want[i]
                            : std::abs(got[i] - want[i]) <= tol * std::max(1.0, std::abs(want[i]));
        if (!ok) {
            return ::testing::AssertionFailure()
                   << "element " << i << ": got " << got[i] << ", expected " << want[i];
        }
    }
    return ::testing::AssertionSuccess();
}

}  // namespace xgrad::testing
