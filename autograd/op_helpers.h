#pragma once
// The two shapes of element-wise op every family uses: unary and broadcasting binary. Each op
// passes its forward and its derivatives as scalar functions; these wrap them in the graph.
// Internal.

#include <stdexcept>
#include <string>

#include "autograd/kernels.h"
#include "autograd/node.h"

namespace xgrad::detail {

inline void check_defined(const char* op, const Tensor& t) {
    if (!t.defined()) throw std::invalid_argument(std::string(op) + ": undefined tensor");
}

[[noreturn]] inline void dtype_error(const char* op, const Array& a, const Array& b) {
    throw std::invalid_argument(std::string(op) + ": dtypes differ (got " + dtype_name(a.dtype()) +
                                " " + a.shape().str() + " and " + dtype_name(b.dtype()) + " " +
                                b.shape().str() + "; convert one with to())");
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype()) dtype_error(op, a.value(), b.value());
}

/// y = f(x) element-wise; dL/dx = d(grad, x, y) element-wise.
template <class F, class D>
Tensor unary(const char* op, const Tensor& a, F f, D d) {
    check_defined(op, a);
    const Array& x = a.value();
    Array y = dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(x.shape(), f, x);
    });
    return from_op(op, std::move(y), a, [d](const Node& self, const Array& grad) {
        return Grads(dispatch(grad.dtype(), [&](auto t) {
            using T = decltype(t);
            return kernels::map<T>(grad.shape(), d, grad, self.input(0), self.value());
        }));
    });
}

/// z = f(x, y) element-wise with broadcasting; dL/dx = dx(grad, x, y, z), dL/dy = dy(...),
/// both over the broadcast shape (the engine sums them back to each input's shape).
template <class F, class DX, class DY>
Tensor binary(const char* op, const Tensor& a, const Tensor& b, F f, DX dx, DY dy) {
    check_defined(op, a);
    check_defined(op, b);
    const Array &x = a.value(), &y = b.value();
    if (x.dtype() != y.dtype()) dtype_error(op, x, y);
    Array z = dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        if (x.shape() == y.shape()) return kernels::map<T>(x.shape(), f, x, y);
        return kernels::map<T>(broadcast_shapes(op, x.shape(), y.shape()), f, x, y);
    });
    return from_op(op, std::move(z), a, b, [dx, dy](const Node& self, const Array& grad) {
        Array gx, gy;
        dispatch(grad.dtype(), [&](auto t) {
            using T = decltype(t);
            const Array &in0 = self.input(0), &in1 = self.input(1), &out = self.value();
            if (self.needs_grad(0)) gx = kernels::map<T>(grad.shape(), dx, grad, in0, in1, out);
            if (self.needs_grad(1)) gy = kernels::map<T>(grad.shape(), dy, grad, in0, in1, out);
        });
        return Grads(std::move(gx), std::move(gy));
    });
}

}  // namespace xgrad::detail
