#pragma once
// Test helpers: gradcheck as a gtest assertion, and exception-message checks.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/autograd.h"

namespace xgrad::testing {

/// EXPECT_TRUE(grad_ok(f, inputs)) prints gradcheck's message (input, element, both values).
inline ::testing::AssertionResult grad_ok(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
    const GradcheckOptions& options = {}) {
    const GradcheckResult r = gradcheck(f, inputs, options);
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.message;
}

/// A float64 leaf requiring grad with values U[lo, hi) from `seed`.
inline Tensor rand64(Shape shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    return uniform(std::move(shape), lo, hi, seed, f64, /*requires_grad=*/true);
}

}  // namespace xgrad::testing

/// Expects `stmt` to throw `type` with a message containing every string in `parts`.
#define EXPECT_THROW_MSG(stmt, type, ...)                                           \
    do {                                                                            \
        try {                                                                       \
            stmt;                                                                   \
            ADD_FAILURE() << "expected " #type " from: " #stmt;                     \
        } catch (const type& e) {                                                   \
            for (const std::string& part : std::vector<std::string>{__VA_ARGS__}) { \
                EXPECT_NE(std::string(e.what()).find(part), std::string::npos)      \
                    << "message \"" << e.what() << "\" lacks \"" << part << "\"";   \
            }                                                                       \
        }                                                                           \
    } while (0)
