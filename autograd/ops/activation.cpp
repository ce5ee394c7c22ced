// Activations: sigmoid, tanh, relu, step, softmax, log_softmax. Softmax-family ops work on an
// axis seen as (outer, n, inner): element (o, j, i) sits at (o * n + j) * inner + i.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "autograd/op.h"
#include "autograd/ops/elementwise_ops.h"
#include "autograd/parallel.h"

namespace xgrad {

// Sigmoid, Tanh, Relu and Step are records of autograd/ops/elementwise_ops.h (the scalar tape
// runs them inline).
using ew::Relu;
using ew::Sigmoid;
using ew::Step;
using ew::Tanh;

Tensor sigmoid(const Tensor& a, const CallSite&) { return unary_op<Sigmoid>(a); }
Tensor tanh(const Tensor& a, const CallSite&) { return unary_op<Tanh>(a); }
Tensor relu(const Tensor& a, const CallSite&) { return unary_op<Relu>(a); }
Tensor step(const Tensor& a, const CallSite&) { return unary_op<Step>(a); }

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

// float32's exponentials eight at a time: xsimd's exp is within 1.5 ulp of the correctly
// rounded value (glibc's expf: 1 ulp), and libm's scalar expf was most of softmax's time (two
// per element of cross-entropy's log_softmax, forward and backward). Lane by lane the same
// arithmetic as the scalar loop, so a value does not depend on which lanes it shares: rows
// (inner = 1) go eight elements at a time, columns (inner > 1) eight lines at a time, tails as
// padded batches; the sum of a line stays one double added in order along the line.
using FloatBatch = xsimd::batch<float>;
constexpr std::size_t kLanes = FloatBatch::size;

// The r <= kLanes floats at p, the other lanes `pad`.
inline FloatBatch load_lanes(const float* p, std::size_t r, float pad) {
    if (r == kLanes) return FloatBatch::load_unaligned(p);
    alignas(64) float b[kLanes];
    std::fill(b, b + kLanes, pad);
    std::memcpy(b, p, r * sizeof(float));
    return FloatBatch::load_aligned(b);
}
// The sum in double, in order, of e^(x_j - m) for j < n (contiguous), and for softmax
// (`store`) y_j = e^(x_j - m): a row of softmax_lines_f32, or a chunk of a long line.
inline double exp_sum_f32(const float* x, float* y, std::size_t n, float m, bool store) {
    const FloatBatch mb(m);
    double s = 0;
    for (std::size_t j = 0; j < n; j += kLanes) {
        const std::size_t r = std::min(kLanes, n - j);
        alignas(64) float e[kLanes];
        xsimd::exp(load_lanes(x + j, r, m) - mb).store_aligned(e);
        for (std::size_t k = 0; k < r; ++k) {
            s += double(e[k]);
            if (store) y[j + k] = e[k];
        }
    }
    return s;
}

// softmax_line's arithmetic on float32 lines i0..i1 of one outer index at x (elements
// x[j * inner + i]); rows (inner = 1) are one line each, eight elements at a time.
void softmax_lines_f32(const float* x, float* y, std::size_t n, std::size_t inner, std::size_t i0,
                       std::size_t i1, bool log) {
    if (inner == 1) {
        for (std::size_t i = i0; i < i1; ++i) {
            const float* xs = x + i * n;
            float* ys = y + i * n;
            float m = -INFINITY;
            for (std::size_t j = 0; j < n; ++j) {
                if (xs[j] > m || xs[j] != xs[j]) m = xs[j];  // NaN wins, so it propagates
            }
            const double s = exp_sum_f32(xs, ys, n, m, !log);
            if (log) {
                const double ls = std::log(s);
                for (std::size_t j = 0; j < n; ++j) ys[j] = float(double(xs[j] - m) - ls);
            } else {
                const float q = float(1.0 / s);
                for (std::size_t j = 0; j < n; ++j) ys[j] *= q;
            }
        }
        return;
    }
    for (std::size_t i = i0; i < i1; i += kLanes) {
        const std::size_t r = std::min(kLanes, i1 - i);
        const float* xs = x + i;
        float* ys = y + i;
        FloatBatch m(-INFINITY);
        for (std::size_t j = 0; j < n; ++j) {
            const FloatBatch xj = load_lanes(xs + j * inner, r, 0.0f);
            m = xsimd::select((xj > m) || (xj != xj), xj, m);
        }
        double s[kLanes] = {};
        for (std::size_t j = 0; j < n; ++j) {
            alignas(64) float e[kLanes];
            xsimd::exp(load_lanes(xs + j * inner, r, 0.0f) - m).store_aligned(e);
            for (std::size_t k = 0; k < r; ++k) {
                s[k] += double(e[k]);
                if (!log) ys[j * inner + k] = e[k];
            }
        }
        alignas(64) float ml[kLanes];
        m.store_aligned(ml);
        for (std::size_t k = 0; k < r; ++k) {
            if (log) {
                const double ls = std::log(s[k]);
                for (std::size_t j = 0; j < n; ++j) {
                    ys[j * inner + k] = float(double(xs[j * inner + k] - ml[k]) - ls);
                }
            } else {
                const float q = float(1.0 / s[k]);
                for (std::size_t j = 0; j < n; ++j) ys[j * inner + k] *= q;
            }
        }
    }
}

// y = softmax(x) along the view's axis (log_softmax when `log`), max-shifted for stability.
// One line (o, i) at a time; lines split across the pool (kernels::for_lines), so each line is
// computed the same way for any thread count. A single long line (outer = inner = 1, more than
// kParallelGrain elements) is cut into chunks instead: the max is exact in any order, and the
// sum of exponentials adds per-chunk double sums in chunk order.
template <class T>
void softmax_line(const T* xs, T* ys, std::size_t n, std::size_t stride, bool log) {
    T m = -INFINITY;
    for (std::size_t j = 0; j < n; ++j) {
        const T xj = xs[j * stride];
        if (xj > m || xj != xj) m = xj;  // NaN wins, so it propagates
    }
    // NOTE: no special case for an infinite max: x - m is then NaN somewhere in the row and
    // the whole row becomes NaN, as in PyTorch (a row of +inf or only -inf).
    // One exp per element, in T (expf for float32: the row's sum stays in double):
    // y_j = e^(x_j - m) / sum_k e^(x_k - m); log_softmax: (x_j - m) - log(sum).
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const T e = std::exp(xs[j * stride] - m);
        if (!log) ys[j * stride] = e;
        s += double(e);
    }
    if (log) {
        const double ls = std::log(s);
        for (std::size_t j = 0; j < n; ++j) {
            ys[j * stride] = static_cast<T>(double(xs[j * stride] - m) - ls);
        }
    } else {
        const T r = static_cast<T>(1.0 / s);
        for (std::size_t j = 0; j < n; ++j) ys[j * stride] *= r;
    }
}

template <class T>
void softmax_long_line(const T* x, T* y, std::size_t n, bool log) {
    const std::size_t g = kParallelGrain, chunks = num_chunks(0, n, g);
    std::vector<T> part_max(chunks);
    parallel_for(0, n, g, [&](std::size_t b, std::size_t e) {
        T m = -INFINITY;
        for (std::size_t j = b; j < e; ++j) {
            if (x[j] > m || x[j] != x[j]) m = x[j];
        }
        part_max[b / g] = m;
    });
    T m = -INFINITY;
    for (T v : part_max) {
        if (v > m || v != v) m = v;
    }
    std::vector<double> part_sum(chunks);
    parallel_for(0, n, g, [&](std::size_t b, std::size_t e) {
        double s = 0;
        if constexpr (std::is_same_v<T, float>) {
            s = exp_sum_f32(x + b, y + b, e - b, m, !log);
        } else {
            for (std::size_t j = b; j < e; ++j) {
                const T ej = std::exp(x[j] - m);
                if (!log) y[j] = ej;
                s += double(ej);
            }
        }
        part_sum[b / g] = s;
    });
    double s = 0;
    for (double v : part_sum) s += v;
    const double ls = std::log(s);
    const T r = static_cast<T>(1.0 / s);
    parallel_for(0, n, g, [&](std::size_t b, std::size_t e) {
        for (std::size_t j = b; j < e; ++j) {
            y[j] = log ? static_cast<T>(double(x[j] - m) - ls) : y[j] * r;
        }
    });
}

template <class T>
void softmax_forward(const T* x, T* y, const AxisView& v, bool log) {
    if (v.outer * v.inner == 1 && v.n > kParallelGrain) {
        softmax_long_line(x, y, v.n, log);
        return;
    }
    kernels::for_lines(v.outer, v.n, v.inner, [&](std::size_t o, std::size_t i0, std::size_t i1) {
        if constexpr (std::is_same_v<T, float>) {
            softmax_lines_f32(x + o * v.n * v.inner, y + o * v.n * v.inner, v.n, v.inner, i0, i1,
                              log);
        } else {
            for (std::size_t i = i0; i < i1; ++i) {
                softmax_line(x + o * v.n * v.inner + i, y + o * v.n * v.inner + i, v.n, v.inner,
                             log);
            }
        }
    });
}

// The backward rules, once on arrays (the fast path: one pass per line, the line's sum in
// double, lines split as the forward's) and once in ops (create_graph: differentiable again).
//   softmax:     dx = y (g - sum(g y, axis))
//   log_softmax: dx = g - e^y sum(g, axis)       (softmax(x) = e^y)
template <class T>
void softmax_backward_line(const T* g, const T* y, T* dx, std::size_t n, std::size_t stride,
                           bool log) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t k = j * stride;
        s += log ? double(g[k]) : double(g[k]) * double(y[k]);
    }
    const T st = static_cast<T>(s);
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t k = j * stride;
        dx[k] = log ? g[k] - std::exp(y[k]) * st : y[k] * (g[k] - st);
    }
}

// softmax_backward_line on float32 lines i0..i1 of one outer index (rows eight elements at a
// time, columns eight lines at a time), log_softmax's e^y by xsimd as in the forward.
void softmax_backward_lines_f32(const float* g, const float* y, float* dx, std::size_t n,
                                std::size_t inner, std::size_t i0, std::size_t i1, bool log) {
    // Lane k of line group (i, r): dx = g - e^y st (log) or y (g - st), for one j.
    const auto rule = [log](const FloatBatch& gb, const FloatBatch& yb, const FloatBatch& st) {
        return log ? gb - xsimd::exp(yb) * st : yb * (gb - st);
    };
    if (inner == 1) {
        for (std::size_t i = i0; i < i1; ++i) {
            const float *gs = g + i * n, *ys = y + i * n;
            float* ds = dx + i * n;
            double s = 0;
            for (std::size_t j = 0; j < n; ++j)
                s += log ? double(gs[j]) : double(gs[j]) * double(ys[j]);
            const FloatBatch st(static_cast<float>(s));
            for (std::size_t j = 0; j < n; j += kLanes) {
                const std::size_t r = std::min(kLanes, n - j);
                const FloatBatch d =
                    rule(load_lanes(gs + j, r, 0.0f), load_lanes(ys + j, r, 0.0f), st);
                if (r == kLanes) {
                    d.store_unaligned(ds + j);
                } else {
                    alignas(64) float b[kLanes];
                    d.store_aligned(b);
                    std::memcpy(ds + j, b, r * sizeof(float));
                }
            }
        }
        return;
    }
    for (std::size_t i = i0; i < i1; i += kLanes) {
        const std::size_t r = std::min(kLanes, i1 - i);
        double s[kLanes] = {};
        for (std::size_t j = 0; j < n; ++j) {
            for (std::size_t k = 0; k < r; ++k) {
                const std::size_t at = j * inner + i + k;
                s[k] += log ? double(g[at]) : double(g[at]) * double(y[at]);
            }
        }
        alignas(64) float sf[kLanes] = {};
        for (std::size_t k = 0; k < r; ++k) sf[k] = static_cast<float>(s[k]);
        const FloatBatch st = FloatBatch::load_aligned(sf);
        for (std::size_t j = 0; j < n; ++j) {
            const std::size_t at = j * inner + i;
            alignas(64) float b[kLanes];
            rule(load_lanes(g + at, r, 0.0f), load_lanes(y + at, r, 0.0f), st).store_aligned(b);
            std::memcpy(dx + at, b, r * sizeof(float));
        }
    }
}

Grads softmax_family_fast(const Node& self, const Array& grad, bool log) {
    const AxisView v = axis_view(self.op(), grad.shape(), self.params<int>());
    Array dx = Array::empty(grad.dtype(), grad.shape());
    dispatch(grad.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* g = grad.data<T>();
        const T* y = self.value().data<T>();
        T* d = dx.data<T>();
        kernels::for_lines(v.outer, v.n, v.inner,
                           [&](std::size_t o, std::size_t i0, std::size_t i1) {
                               const std::size_t base = o * v.n * v.inner;
                               if constexpr (std::is_same_v<T, float>) {
                                   softmax_backward_lines_f32(g + base, y + base, d + base, v.n,
                                                              v.inner, i0, i1, log);
                               } else {
                                   for (std::size_t i = i0; i < i1; ++i) {
                                       softmax_backward_line(g + base + i, y + base + i,
                                                             d + base + i, v.n, v.inner, log);
                                   }
                               }
                           });
    });
    return Grads(std::move(dx));
}
Grads softmax_fast(const Node& self, const Array& grad) {
    return softmax_family_fast(self, grad, /*log=*/false);
}
Grads log_softmax_fast(const Node& self, const Array& grad) {
    return softmax_family_fast(self, grad, /*log=*/true);
}

// Replay (autograd/capture.h): the forward into the node's value.
template <bool Log>
void softmax_family_into(const Node& self, Array& out) {
    const AxisView v = axis_view(self.op(), out.shape(), self.params<int>());
    dispatch(out.dtype(), [&](auto t) {
        using T = decltype(t);
        softmax_forward(self.input(0).data<T>(), out.data<T>(), v, Log);
    });
}

TensorGrads softmax_rule(const OpContext& ctx, const Tensor& grad) {
    const int axis = ctx.params<int>();
    const Tensor& y = ctx.output();
    return TensorGrads(y * (grad - sum(grad * y, {axis}, /*keepdims=*/true)));
}
const OpDef kSoftmax = [] {
    OpDef d{};
    d.name = "softmax";
    d.backward = &softmax_rule;
    d.backward_fast = &softmax_fast;
    d.forward_into = &softmax_family_into<false>;
    d.saves = 0;  // reads its output only
    return d;
}();

TensorGrads log_softmax_rule(const OpContext& ctx, const Tensor& grad) {
    const int axis = ctx.params<int>();
    return TensorGrads(grad - exp(ctx.output()) * sum(grad, {axis}, /*keepdims=*/true));
}
const OpDef kLogSoftmax = [] {
    OpDef d{};
    d.name = "log_softmax";
    d.backward = &log_softmax_rule;
    d.backward_fast = &log_softmax_fast;
    d.forward_into = &softmax_family_into<true>;
    d.saves = 0;
    return d;
}();

Tensor softmax_family(const OpDef& def, const Tensor& a, int axis, bool log) {
    detail::check_defined(def.name, a);
    const AxisView v = axis_view(def.name, a.shape(), axis);
    Array y = Array::empty(a.dtype(), a.shape());
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        softmax_forward(a.value().data<T>(), y.data<T>(), v, log);
    });
    return record(def, std::move(y), {&a}, static_cast<int>(v.axis));
}

}  // namespace

Tensor softmax(const Tensor& a, int axis, const CallSite&) {
    return softmax_family(kSoftmax, a, axis, /*log=*/false);
}

Tensor log_softmax(const Tensor& a, int axis, const CallSite&) {
    return softmax_family(kLogSoftmax, a, axis, /*log=*/true);
}

}  // namespace xgrad
