// Element-wise arithmetic: forward and derivative side by side, as scalar functions of
// (grad, inputs..., output). Broadcasting and accumulation happen elsewhere, once.

#include <cmath>

#include "autograd/op_helpers.h"
#include "autograd/ops.h"

namespace xgrad {

using detail::binary;
using detail::unary;

Tensor add(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary(
        "add", a, b, [](auto x, auto y) { return x + y; },
        [](auto g, auto, auto, auto) { return g; },   // d(x+y)/dx = 1
        [](auto g, auto, auto, auto) { return g; });  // d(x+y)/dy = 1
}

Tensor sub(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary(
        "sub", a, b, [](auto x, auto y) { return x - y; },
        [](auto g, auto, auto, auto) { return g; },    // d(x-y)/dx = 1
        [](auto g, auto, auto, auto) { return -g; });  // d(x-y)/dy = -1
}

Tensor mul(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary(
        "mul", a, b, [](auto x, auto y) { return x * y; },
        [](auto g, auto, auto y, auto) { return g * y; },   // d(xy)/dx = y
        [](auto g, auto x, auto, auto) { return g * x; });  // d(xy)/dy = x
}

Tensor div(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary(
        "div", a, b, [](auto x, auto y) { return x / y; },
        [](auto g, auto, auto y, auto) { return g / y; },          // d(x/y)/dx = 1/y
        [](auto g, auto, auto y, auto z) { return -g * z / y; });  // d(x/y)/dy = -x/y^2 = -z/y
}

Tensor neg(const Tensor& a, const CallSite&) {
    return unary(
        "neg", a, [](auto x) { return -x; }, [](auto g, auto, auto) { return -g; });
}

Tensor pow(const Tensor& a, double p, const CallSite&) {
    return unary(
        "pow", a, [p](auto x) { return static_cast<decltype(x)>(std::pow(x, p)); },
        // d(x^p)/dx = p x^(p-1); NOTE: p = 0 gives 0 everywhere (also at x = 0, where 0^-1 = inf)
        [p](auto g, auto x, auto) {
            using T = decltype(x);
            return p == 0 ? T(0) : static_cast<T>(g * p * std::pow(x, p - 1));
        });
}

Tensor exp(const Tensor& a, const CallSite&) {
    return unary(
        "exp", a, [](auto x) { return std::exp(x); },
        [](auto g, auto, auto y) { return g * y; });  // (e^x)' = e^x
}

Tensor log(const Tensor& a, const CallSite&) {
    return unary(
        "log", a, [](auto x) { return std::log(x); },
        [](auto g, auto x, auto) { return g / x; });  // (ln x)' = 1/x
}

Tensor sqrt(const Tensor& a, const CallSite&) {
    return unary(
        "sqrt", a, [](auto x) { return std::sqrt(x); },
        [](auto g, auto, auto y) { return g / (y + y); });  // (sqrt x)' = 1/(2 sqrt x)
}

Tensor abs(const Tensor& a, const CallSite&) {
    return unary(
        "abs", a, [](auto x) { return std::abs(x); },
        // |x|' = sign(x); NOTE: abs'(0) := 0, as PyTorch
        [](auto g, auto x, auto) {
            using T = decltype(x);
            return x > T(0) ? g : (x < T(0) ? -g : T(0));
        });
}

Tensor square(const Tensor& a, const CallSite&) {
    return unary(
        "square", a, [](auto x) { return x * x; },
        [](auto g, auto x, auto) { return g * (x + x); });  // (x^2)' = 2x
}

Tensor to(const Tensor& a, DType dtype, const CallSite&) {
    detail::check_defined("to", a);
    if (a.dtype() == dtype) return a;
    return from_op("to", a.value().cast(dtype), a, [](const Node& self, const Array& grad) {
        return Grads(grad.cast(self.input(0).dtype()));  // the gradient converts back
    });
}

// ---- Operators ----

// A scalar operand takes the tensor's dtype. It is folded into a unary op of the tensor (same
// name, same values and gradients as the binary op with a constant 0-D operand), so the
// constant costs no node.
namespace {
template <class F, class D>
Tensor with_scalar(const char* op, const Tensor& t, F f, D d) {
    detail::check_defined("scalar operand", t);
    return unary(op, t, f, d);
}
}  // namespace

Tensor operator+(const TensorArg& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const TensorArg& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const TensorArg& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const TensorArg& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const TensorArg& a) { return neg(a); }
Tensor operator+(const TensorArg& a, double b) {
    return with_scalar(
        "add", a, [b](auto x) { return x + static_cast<decltype(x)>(b); },
        [](auto g, auto, auto) { return g; });
}
Tensor operator+(double a, const TensorArg& b) {
    return with_scalar(
        "add", b, [a](auto y) { return static_cast<decltype(y)>(a) + y; },
        [](auto g, auto, auto) { return g; });
}
Tensor operator-(const TensorArg& a, double b) {
    return with_scalar(
        "sub", a, [b](auto x) { return x - static_cast<decltype(x)>(b); },
        [](auto g, auto, auto) { return g; });
}
Tensor operator-(double a, const TensorArg& b) {
    return with_scalar(
        "sub", b, [a](auto y) { return static_cast<decltype(y)>(a) - y; },
        [](auto g, auto, auto) { return -g; });
}
Tensor operator*(const TensorArg& a, double b) {
    return with_scalar(
        "mul", a, [b](auto x) { return x * static_cast<decltype(x)>(b); },
        [b](auto g, auto, auto) { return g * static_cast<decltype(g)>(b); });
}
Tensor operator*(double a, const TensorArg& b) {
    return with_scalar(
        "mul", b, [a](auto y) { return static_cast<decltype(y)>(a) * y; },
        [a](auto g, auto, auto) { return g * static_cast<decltype(g)>(a); });
}
Tensor operator/(const TensorArg& a, double b) {
    return with_scalar(
        "div", a, [b](auto x) { return x / static_cast<decltype(x)>(b); },
        [b](auto g, auto, auto) { return g / static_cast<decltype(g)>(b); });
}
Tensor operator/(double a, const TensorArg& b) {
    return with_scalar(
        "div", b, [a](auto y) { return static_cast<decltype(y)>(a) / y; },
        [](auto g, auto y, auto z) { return -g * z / y; });  // d(a/y)/dy = -a/y^2 = -z/y
}

}  // namespace xgrad
