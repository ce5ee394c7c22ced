#pragma once
// Optional conversions between Tensor and xtensor's xt::xarray. Not included by any xgrad
// header (xtensor costs ~3 s of compile time per file that includes it); include it where you
// already use xtensor, after any xtensor configuration macros of your own. Copies are plain
// copies; `adapt` is a zero-copy view.
//
// Example:
//   xt::xarray<double> a = {{1., 2.}, {3., 4.}};
//   Tensor t = from_xarray(a, /*requires_grad=*/true);      // float64 (2,2), a copy
//   xt::xarray<double> g = to_xarray<double>(t * t);         // back, a copy

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "autograd/tensor.h"

namespace xgrad {

/// A copy of t's elements as an xt::xarray<T> of t's shape. T must be t's element type
/// (float, double, std::int64_t or bool), else std::logic_error.
template <class T>
xt::xarray<T> to_xarray(const Tensor& t) {
    const T* p = t.data<T>();
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    xt::xarray<T> out = xt::adapt(p, t.numel(), xt::no_ownership(), shape);
    return out;
}

/// A zero-copy, read-only xtensor view of t's elements (T = t's element type). Valid while the
/// tensor lives; the view is lazy, so evaluate it before t goes away.
template <class T>
auto adapt(const Tensor& t) {
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    return xt::adapt(t.data<T>(), t.numel(), xt::no_ownership(), shape);
}

/// A tensor holding a copy of an xtensor expression's values, in the dtype of its value type
/// (float, double, std::int64_t or bool; other types do not compile).
template <class E>
Tensor from_xarray(const xt::xexpression<E>& expr, bool requires_grad = false) {
    using T = typename E::value_type;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> ||
                      std::is_same_v<T, std::int64_t> || std::is_same_v<T, bool>,
                  "from_xarray: the element type must be float, double, std::int64_t or bool");
    const xt::xarray<T> a = expr.derived_cast();  // evaluates, row-major
    Shape shape(std::vector<std::size_t>(a.shape().begin(), a.shape().end()));
    Array out = Array::empty(dtype_of<T>, std::move(shape));
    T* o = out.data<T>();
    std::size_t i = 0;
    for (const T& v : a) o[i++] = v;
    return Tensor(std::move(out), requires_grad);
}

}  // namespace xgrad
