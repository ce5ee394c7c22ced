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

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype()) {
        throw std::invalid_argument(std::string(op) + ": dtypes differ (got " +
                                    dtype_name(a.dtype()) + " " + a.shape().str() + " and " +
                                    dtype_name(b.dtype()) + " " + b.shape().str() +
                                    "; convert one with to())");
    }
}

/// y = f(x) element-wise; dL/dx = d(grad, x, y) element-wise.
template <class F, class D>
Tensor unary(const char* op, const Tensor& a, F f, D d) {
    check_defined(op, a);
    Array y = dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(a.shape(), f, a.value());
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
    check_same_dtype(op, a, b);
    Shape shape = broadcast_shapes(op, a.shape(), b.shape());
    Array z = dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(shape, f, a.value(), b.value());
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
