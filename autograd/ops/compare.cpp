// Comparisons (eq ne lt le gt ge) and logical ops: Bool results, any input dtype, NumPy
// broadcasting. They record nothing: a Bool tensor has no gradient.

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/kernels/nd.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

// x read at out's shape: x itself, or a broadcast copy in `tmp`.
const Array& broadcast_to(const Array& x, const Shape& out, Array& tmp) {
    if (x.shape() == out) return x;
    std::vector<std::size_t> strides(out.size());
    kernels::broadcast_strides(x.shape(), out, strides.data());
    tmp = kernels::copy_strided(x, out, strides);
    return tmp;
}

// o[i] = f(x[i], y[i]) over the broadcast shape, x and y of one dtype T.
template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b, F f) {
    detail::check_defined(op, a, "input 0");
    detail::check_defined(op, b, "input 1");
    const Array &x = a.value(), &y = b.value();
    if (x.dtype() != y.dtype()) detail::dtype_error(op, x, y);
    const Shape out =
        x.shape() == y.shape() ? x.shape() : broadcast_shapes(op, x.shape(), y.shape());
    Array tx, ty;
    const Array &bx = broadcast_to(x, out, tx), &by = broadcast_to(y, out, ty);
    Array r = Array::empty(bool_, out);
    bool* o = r.data<bool>();
    dispatch_all(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T *p = bx.template data<T>(), *q = by.template data<T>();
        for (std::size_t i = 0, n = r.numel(); i < n; ++i) o[i] = f(p[i], q[i]);
    });
    return Tensor(std::move(r));
}

// o[i] = f(x[i], c). A float tensor compares with c rounded to its dtype (PyTorch does not let
// a scalar promote a tensor: float32 0.1 == 0.1 is true); int64 compares exactly when c is
// integral, else in double; bool as 0/1.
template <class F>
Tensor compare_scalar(const char* op, const Tensor& a, double c, F f) {
    detail::check_defined(op, a);
    const Array& x = a.value();
    Array r = Array::empty(bool_, x.shape());
    bool* o = r.data<bool>();
    const std::size_t n = r.numel();
    dispatch_all(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = x.template data<T>();
        if constexpr (std::is_floating_point_v<T>) {
            const T ct = static_cast<T>(c);
            for (std::size_t i = 0; i < n; ++i) o[i] = f(p[i], ct);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            if (std::nearbyint(c) == c && std::abs(c) < 9.2e18) {
                const auto ci = static_cast<std::int64_t>(c);
                for (std::size_t i = 0; i < n; ++i) o[i] = f(p[i], ci);
            } else {
                for (std::size_t i = 0; i < n; ++i) o[i] = f(static_cast<double>(p[i]), c);
            }
        } else {
            for (std::size_t i = 0; i < n; ++i) o[i] = f(p[i] ? 1.0 : 0.0, c);
        }
    });
    return Tensor(std::move(r));
}

Tensor as_bool(const Tensor& a) { return Tensor(a.value().cast(bool_)); }

}  // namespace

#define XGRAD_COMPARISON(name, expr)                                                     \
    Tensor name(const Tensor& a, const Tensor& b, const CallSite&) {                     \
        return compare(#name, a, b, [](auto x, auto y) -> bool { return expr; });        \
    }                                                                                    \
    Tensor name(const Tensor& a, double b, const CallSite&) {                            \
        return compare_scalar(#name, a, b, [](auto x, auto y) -> bool { return expr; }); \
    }
XGRAD_COMPARISON(eq, x == y)
XGRAD_COMPARISON(ne, x != y)
XGRAD_COMPARISON(lt, x < y)
XGRAD_COMPARISON(le, x <= y)
XGRAD_COMPARISON(gt, x > y)
XGRAD_COMPARISON(ge, x >= y)
#undef XGRAD_COMPARISON

Tensor logical_and(const Tensor& a, const Tensor& b, const CallSite&) {
    detail::check_defined("logical_and", a, "input 0");
    detail::check_defined("logical_and", b, "input 1");
    return compare("logical_and", as_bool(a), as_bool(b),
                   [](auto x, auto y) -> bool { return bool(x) && bool(y); });
}
Tensor logical_or(const Tensor& a, const Tensor& b, const CallSite&) {
    detail::check_defined("logical_or", a, "input 0");
    detail::check_defined("logical_or", b, "input 1");
    return compare("logical_or", as_bool(a), as_bool(b),
                   [](auto x, auto y) -> bool { return bool(x) || bool(y); });
}
Tensor logical_xor(const Tensor& a, const Tensor& b, const CallSite&) {
    detail::check_defined("logical_xor", a, "input 0");
    detail::check_defined("logical_xor", b, "input 1");
    return compare("logical_xor", as_bool(a), as_bool(b),
                   [](auto x, auto y) -> bool { return bool(x) != bool(y); });
}
Tensor logical_not(const Tensor& a, const CallSite&) {
    detail::check_defined("logical_not", a);
    return compare_scalar("logical_not", as_bool(a), 0.0, [](auto x, auto) -> bool { return !x; });
}

}  // namespace xgrad
