// Activations: sigmoid, tanh, relu, step, softmax, log_softmax. Softmax-family ops work on an
// axis seen as (outer, n, inner): element (o, j, i) sits at (o * n + j) * inner + i.

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/op_helpers.h"
#include "autograd/ops.h"

namespace xgrad {

using detail::unary;

Tensor sigmoid(const Tensor& a, const CallSite&) {
    return unary(
        "sigmoid", a,
        [](auto x) {
            using T = decltype(x);
            // Two branches so e^(-x) never overflows: for x < 0 use e^x / (1 + e^x).
            if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
            const T e = std::exp(x);
            return e / (T(1) + e);
        },
        [](auto g, auto, auto s) { return g * s * (decltype(s)(1) - s); });  // s' = s(1-s)
}

Tensor tanh(const Tensor& a, const CallSite&) {
    return unary(
        "tanh", a, [](auto x) { return std::tanh(x); },
        [](auto g, auto, auto t) { return g * (decltype(t)(1) - t * t); });  // 1 - tanh^2
}

Tensor relu(const Tensor& a, const CallSite&) {
    return unary(
        "relu", a,
        [](auto x) {
            using T = decltype(x);
            return (x > T(0) || x != x) ? x : T(0);  // NaN propagates (x != x)
        },
        // NOTE: relu'(0) := 0, as PyTorch
        [](auto g, auto x, auto) { return x > decltype(x)(0) ? g : decltype(x)(0); });
}

Tensor step(const Tensor& a, const CallSite&) {
    return unary(
        "step", a,
        [](auto x) {
            using T = decltype(x);
            return x != x ? x : (x >= T(0) ? T(1) : T(-1));  // g(z) = 1 if z >= 0 else -1
        },
        // Both pieces are constant: g'(z) = 0 everywhere (undefined at 0; taken as 0).
        [](auto, auto x, auto) { return decltype(x)(0); });
}

namespace {

struct AxisView {
    std::size_t outer = 1, n = 1, inner = 1, axis = 0;
};

AxisView axis_view(const char* op, const Shape& s, int axis) {
    const long nd = static_cast<long>(s.size());
    const long ax = axis < 0 ? axis + nd : axis;
    if (nd == 0 || ax < 0 || ax >= nd) {
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                    " out of range for shape " + s.str());
    }
    AxisView v;
    v.axis = static_cast<std::size_t>(ax);
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (d < v.axis) v.outer *= s[d];
        if (d > v.axis) v.inner *= s[d];
    }
    v.n = s[v.axis];
    return v;
}

// y = softmax(x) along the view's axis (log_softmax when `log`), max-shifted for stability.
template <class T>
void softmax_forward(const T* x, T* y, const AxisView& v, bool log) {
    for (std::size_t o = 0; o < v.outer; ++o) {
        for (std::size_t i = 0; i < v.inner; ++i) {
            const T* xs = x + o * v.n * v.inner + i;
            T* ys = y + o * v.n * v.inner + i;
            T m = -INFINITY;
            for (std::size_t j = 0; j < v.n; ++j) {
                const T xj = xs[j * v.inner];
                if (xj > m || xj != xj) m = xj;  // NaN wins, so it propagates
            }
            // NOTE: no special case for an infinite max: x - m is then NaN somewhere in the row
            // and the whole row becomes NaN, as in PyTorch (a row of +inf or only -inf).
            double s = 0;
            for (std::size_t j = 0; j < v.n; ++j) s += std::exp(double(xs[j * v.inner] - m));
            const double ls = std::log(s);
            for (std::size_t j = 0; j < v.n; ++j) {
                const double z = double(xs[j * v.inner] - m);
                ys[j * v.inner] = static_cast<T>(log ? z - ls : std::exp(z - ls));
            }
        }
    }
}

}  // namespace

Tensor softmax(const Tensor& a, int axis, const CallSite&) {
    detail::check_defined("softmax", a);
    const AxisView v = axis_view("softmax", a.shape(), axis);
    Array y = Array::empty(a.dtype(), a.shape());
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        softmax_forward(a.value().data<T>(), y.data<T>(), v, /*log=*/false);
    });
    return from_op("softmax", std::move(y), a, [v](const Node& self, const Array& grad) {
        // dx_j = y_j (g_j - sum_k g_k y_k)
        Array dx = Array::empty(grad.dtype(), grad.shape());
        dispatch(grad.dtype(), [&](auto t) {
            using T = decltype(t);
            const T *g = grad.data<T>(), *s = self.value().data<T>();
            T* d = dx.data<T>();
            for (std::size_t o = 0; o < v.outer; ++o) {
                for (std::size_t i = 0; i < v.inner; ++i) {
                    const std::size_t base = o * v.n * v.inner + i;
                    double dot = 0;
                    for (std::size_t j = 0; j < v.n; ++j) {
                        dot += double(g[base + j * v.inner]) * s[base + j * v.inner];
                    }
                    for (std::size_t j = 0; j < v.n; ++j) {
                        const std::size_t k = base + j * v.inner;
                        d[k] = static_cast<T>(s[k] * (g[k] - dot));
                    }
                }
            }
        });
        return Grads(std::move(dx));
    });
}

Tensor log_softmax(const Tensor& a, int axis, const CallSite&) {
    detail::check_defined("log_softmax", a);
    const AxisView v = axis_view("log_softmax", a.shape(), axis);
    Array y = Array::empty(a.dtype(), a.shape());
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        softmax_forward(a.value().data<T>(), y.data<T>(), v, /*log=*/true);
    });
    return from_op("log_softmax", std::move(y), a, [v](const Node& self, const Array& grad) {
        // dx_j = g_j - softmax_j * sum_k g_k, with softmax_j = e^(y_j)
        Array dx = Array::empty(grad.dtype(), grad.shape());
        dispatch(grad.dtype(), [&](auto t) {
            using T = decltype(t);
            const T *g = grad.data<T>(), *s = self.value().data<T>();
            T* d = dx.data<T>();
            for (std::size_t o = 0; o < v.outer; ++o) {
                for (std::size_t i = 0; i < v.inner; ++i) {
                    const std::size_t base = o * v.n * v.inner + i;
                    double gs = 0;
                    for (std::size_t j = 0; j < v.n; ++j) gs += g[base + j * v.inner];
                    for (std::size_t j = 0; j < v.n; ++j) {
                        const std::size_t k = base + j * v.inner;
                        d[k] = static_cast<T>(g[k] - std::exp(double(s[k])) * gs);
                    }
                }
            }
        });
        return Grads(std::move(dx));
    });
}

}  // namespace xgrad
