#pragma once
// Helpers shared by the N-d op tests: exact value checks, float64 leaves, int64 index tensors,
// and gradcheck/gradgradcheck as gtest assertions.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "tests/support/check.h"

namespace xgrad::testing {

using V = std::vector<Tensor>;

/// Shape and every value of t within tol * max(1, |want|).
inline ::testing::AssertionResult values_are(const Tensor& t, const Shape& shape,
                                             const std::vector<double>& want, double tol = 1e-12) {
    if (t.shape() != shape) {
        return ::testing::AssertionFailure()
               << "shape " << t.shape().str() << ", expected " << shape.str();
    }
    const std::vector<double> got = t.to_vector();
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure() << got.size() << " values, expected " << want.size();
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (!(std::abs(got[i] - want[i]) <= tol * std::max(1.0, std::abs(want[i])))) {
            return ::testing::AssertionFailure() << "element " << i << ": got " << got[i]
                                                 << ", expected " << want[i] << " in " << t.str();
        }
    }
    return ::testing::AssertionSuccess();
}

inline Tensor f64s(const std::vector<double>& v, Shape shape, bool requires_grad = false) {
    return tensor(v, std::move(shape), f64, requires_grad);
}

/// 0, 1, 2, ... in float64 of `shape`.
inline Tensor iota(Shape shape, bool requires_grad = false) {
    std::vector<double> v(shape.numel());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
    return tensor(v, std::move(shape), f64, requires_grad);
}

inline Tensor ints(const std::vector<std::int64_t>& v, Shape shape) {
    return Tensor(Array::from_vector(v, std::move(shape)));
}
inline Tensor ints(const std::vector<std::int64_t>& v) { return Tensor(Array::from_vector(v)); }
inline Tensor bools(const std::vector<bool>& v, Shape shape) {
    return Tensor(Array::from_vector(v, std::move(shape)));
}

inline ::testing::AssertionResult gradgrad_ok(const std::function<Tensor(const V&)>& f,
                                              const V& inputs) {
    const GradcheckResult r = gradgradcheck(f, inputs);
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << r.message;
}

}  // namespace xgrad::testing
