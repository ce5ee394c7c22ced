#pragma once
// Element-wise and reduction kernels over Arrays: the loops every op shares. Internal.
//
// Element-wise maps run plain loops on raw pointers, with a contiguous fast path when every
// operand has the output's shape (the compiler vectorises it), a stride-0 path for broadcast
// operands, and no per-element index arithmetic beyond an odometer over the outer dimensions.
// XTENSOR.md measured xtensor's broadcasting of a column vector at 3.2 ns/element and its
// expression overhead at ~50 ns per small op; these loops avoid both.

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "autograd/array.h"
#include "autograd/parallel.h"

namespace xgrad::kernels {

/// Sum of f(i), i < n, in double over eight lanes in a fixed order, then the tail: one running
/// sum is a chain of dependent adds (4 cycles each); eight independent ones let the compiler
/// vectorise and pipeline them, and the fixed order keeps the bits the same for any thread
/// count. The one eight-lane sum of the library: reductions, normalisations, conv's bias.
template <class F>
double lane_sum(std::size_t n, F&& f) {
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (std::size_t k = 0; k < 8; ++k) part[k] += f(i + k);
    }
    double r =
        ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; i < n; ++i) r += f(i);
    return r;
}
/// Sums of f(i) and h(i), i < n, each as lane_sum, in one pass; added into sf and sh.
template <class F, class H>
void lane_sum2(std::size_t n, F&& f, H&& h, double& sf, double& sh) {
    double pf[8] = {0, 0, 0, 0, 0, 0, 0, 0}, ph[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (std::size_t k = 0; k < 8; ++k) {
            pf[k] += f(i + k);
            ph[k] += h(i + k);
        }
    }
    double rf = ((pf[0] + pf[1]) + (pf[2] + pf[3])) + ((pf[4] + pf[5]) + (pf[6] + pf[7]));
    double rh = ((ph[0] + ph[1]) + (ph[2] + ph[3])) + ((ph[4] + ph[5]) + (ph[6] + ph[7]));
    for (; i < n; ++i) {
        rf += f(i);
        rh += h(i);
    }
    sf += rf;
    sh += rh;
}
/// lane_sum of x[0..n).
template <class T>
double sum_contiguous(const T* x, std::size_t n) {
    return lane_sum(n, [x](std::size_t i) { return static_cast<double>(x[i]); });
}

/// Row-major strides of `in` read as if broadcast to `out` (0 along broadcast dimensions).
inline void broadcast_strides(const Shape& in, const Shape& out, std::size_t* strides) {
    const std::size_t nd = out.size(), off = nd - in.size();
    std::size_t s = 1;
    for (std::size_t d = nd; d-- > 0;) {
        if (d < off || in[d - off] == 1) {
            strides[d] = 0;
        } else {
            strides[d] = s;
        }
        if (d >= off) s *= in[d - off];
    }
}

namespace detail {
// The contiguous loops take the output as a restrict pointer and f by value: with f by reference
// the compiler must assume a store to o[i] may change f's captured parameter (a float, like
// o[i]) and reloads it every element, which kept e.g. leaky_relu scalar and branching (4x the
// hand loop). Outputs are always fresh buffers, so o never aliases an input.
template <class T, class F>
inline void contiguous_n(T* __restrict o, std::size_t n, F f, const T* __restrict a) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i]);
}
template <class T, class F>
inline void contiguous_n(T* __restrict o, std::size_t n, F f, const T* a, const T* b) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
}
template <class T, class F>
inline void contiguous_n(T* __restrict o, std::size_t n, F f, const T* a, const T* b, const T* c) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i]);
}
template <class T, class F>
inline void contiguous_n(T* __restrict o, std::size_t n, F f, const T* a, const T* b, const T* c,
                         const T* d) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i], d[i]);
}
template <class T, class F, class... P>
inline void contiguous_n(T* __restrict o, std::size_t n, F f, const P*... p) {
    for (std::size_t i = 0; i < n; ++i) o[i] = f(p[i]...);
}
template <class T, class F, std::size_t K, std::size_t... k>
inline void contiguous(T* o, std::size_t n, const std::array<const T*, K>& p, F& f,
                       std::index_sequence<k...>) {
    contiguous_n<T>(o, n, f, p[k]...);
}
template <class T, class F, std::size_t K, std::size_t... k>
inline T first(const std::array<const T*, K>& p, F& f, std::index_sequence<k...>) {
    return f(p[k][0]...);
}
template <class T, class F, std::size_t K, std::size_t... k>
inline void strided(T* o, std::size_t n, const std::array<const T*, K>& p,
                    const std::array<std::size_t, K>& offset,
                    const std::array<std::size_t, K>& stride, F& f, std::index_sequence<k...>) {
    for (std::size_t j = 0; j < n; ++j) o[j] = f(p[k][offset[k] + j * stride[k]]...);
}
}  // namespace detail

/// out[i] = f(in_0[i], ..., in_k[i]) with every input broadcast to `out_shape`, in dtype T.
/// Inputs must have dtype T and shapes that broadcast to out_shape (the caller checked).
/// From kParallelGrain elements on, the work is split across the pool (autograd/parallel.h);
/// each element is computed the same way whatever the thread count.
template <class T, class F, class... A>
void map_into(Array& out, F&& f, const A&... ins);
template <class T, class F, class... A>
Array map(const Shape& out_shape, F&& f, const A&... ins) {
    Array out = Array::empty(dtype_of<T>, out_shape);
    map_into<T>(out, std::forward<F>(f), ins...);
    return out;
}

/// map writing into `out` (dtype T, the broadcast shape of the inputs; the caller checked),
/// which may not alias an input. Capture replay recomputes values in place with it.
template <class T, class F, class... A>
void map_into(Array& out, F&& f, const A&... ins) {
    constexpr std::size_t K = sizeof...(A);
    const Shape& out_shape = out.shape();
    T* o = out.data<T>();
    const std::size_t n = out.numel();
    const std::array<const T*, K> p = {ins.template data<T>()...};
    if (((ins.shape() == out_shape) && ...)) {
        if (n < kParallelGrain) {
            detail::contiguous(o, n, p, f, std::make_index_sequence<K>{});
        } else {
            parallel_for(0, n, kParallelGrain, [&](std::size_t b, std::size_t e) {
                std::array<const T*, K> q = p;
                for (auto& ptr : q) ptr += b;
                detail::contiguous(o + b, e - b, q, f, std::make_index_sequence<K>{});
            });
        }
        return;
    }
    if (n == 0) return;
    if (((ins.numel() == 1) && ...)) {  // every input one element: a fill (e.g. sum's backward)
        const T v = detail::first(p, f, std::make_index_sequence<K>{});
        if (n < kParallelGrain) {
            std::fill(o, o + n, v);
        } else {
            parallel_for(0, n, kParallelGrain,
                         [&](std::size_t b, std::size_t e) { std::fill(o + b, o + e, v); });
        }
        return;
    }
    const std::size_t nd = out_shape.size();
    // strides[k * nd + d]: stride of input k along output dimension d.
    std::size_t small[K * 8];
    std::vector<std::size_t> big;
    std::size_t* strides = small;
    if (nd > 8) {
        big.resize(K * nd);
        strides = big.data();
    }
    {
        std::size_t k = 0;
        ((broadcast_strides(ins.shape(), out_shape, strides + nd * k++)), ...);
    }
    const std::size_t inner = nd ? out_shape[nd - 1] : 1;
    std::array<std::size_t, K> inner_stride{};
    for (std::size_t k = 0; k < K; ++k) inner_stride[k] = nd ? strides[k * nd + nd - 1] : 0;
    // Rows [r0, r1) of `inner` elements each: the odometer starts from row r0's multi-index.
    auto rows = [&](std::size_t r0, std::size_t r1) {
        std::vector<std::size_t> idx(nd > 1 ? nd - 1 : 0, 0);
        std::array<std::size_t, K> offset{};
        for (std::size_t d = idx.size(), r = r0; d-- > 0;) {
            idx[d] = r % out_shape[d];
            r /= out_shape[d];
            for (std::size_t k = 0; k < K; ++k) offset[k] += idx[d] * strides[k * nd + d];
        }
        for (std::size_t row = r0; row < r1; ++row) {
            detail::strided(o + row * inner, inner, p, offset, inner_stride, f,
                            std::make_index_sequence<K>{});
            // Odometer over the outer dimensions; offsets move by each input's stride.
            for (std::size_t d = idx.size(); d-- > 0;) {
                if (++idx[d] < out_shape[d]) {
                    for (std::size_t k = 0; k < K; ++k) offset[k] += strides[k * nd + d];
                    break;
                }
                for (std::size_t k = 0; k < K; ++k) offset[k] -= (idx[d] - 1) * strides[k * nd + d];
                idx[d] = 0;
            }
        }
    };
    const std::size_t n_rows = inner == 0 ? 0 : n / inner;
    if (n < kParallelGrain) {
        rows(0, n_rows);
    } else {
        parallel_for(0, n_rows, std::max<std::size_t>(1, kParallelGrain / inner), rows);
    }
}

namespace detail {
template <class T, class F1, class F2, class... P>
inline void contiguous2_n(T* __restrict o1, T* __restrict o2, std::size_t n, F1 f1, F2 f2,
                          const P*... p) {
    for (std::size_t i = 0; i < n; ++i) {
        o1[i] = f1(p[i]...);
        o2[i] = f2(p[i]...);
    }
}
}  // namespace detail

/// Two maps of the same inputs in one pass: o1[i] = f1(in_0[i], ...), o2[i] = f2(in_0[i], ...),
/// every input of the outputs' shape (no broadcast; the caller checked) and dtype T, outputs
/// fresh. One read of the inputs and one parallel region instead of two (a binary op's
/// backward, dx and dy); each element computed as map computes it.
template <class T, class F1, class F2, class... A>
void map2_into(Array& o1, Array& o2, F1 f1, F2 f2, const A&... ins) {
    T* p1 = o1.data<T>();
    T* p2 = o2.data<T>();
    const std::size_t n = o1.numel();
    auto run = [&](std::size_t b, std::size_t e) {
        detail::contiguous2_n<T>(p1 + b, p2 + b, e - b, f1, f2, (ins.template data<T>() + b)...);
    };
    if (n < kParallelGrain) {
        run(0, n);
    } else {
        parallel_for(0, n, kParallelGrain, run);
    }
}

/// acc += g element-wise (same shape and dtype; the caller checked). The engine's gradient
/// accumulation; parallel from kParallelGrain elements (each element the same add either way).
inline void add_into(Array& acc, const Array& g) {
    dispatch(acc.dtype(), [&](auto t) {
        using T = decltype(t);
        T* __restrict a = acc.data<T>();
        const T* __restrict b = g.data<T>();
        auto run = [a, b](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) a[i] += b[i];
        };
        const std::size_t n = acc.numel();
        if (n < kParallelGrain) {
            run(0, n);
        } else {
            parallel_for(0, n, kParallelGrain, run);
        }
    });
}

/// The lines of an axis of a (outer, n, inner) view (line (o, i) is the n elements at
/// (o * n + j) * inner + i, j < n), in chunks of about kParallelGrain elements across the pool:
/// f(o, i0, i1) handles the lines (o, i) for i0 <= i < i1, one o per call. Chunk boundaries
/// depend only on the shape, and a line is never split, so a kernel that treats each line on
/// its own gives the same bits for any thread count.
template <class F>
void for_lines(std::size_t outer, std::size_t n, std::size_t inner, F&& f) {
    if (inner == 0 || outer == 0) return;
    const std::size_t lines = outer * inner;
    const std::size_t grain =
        std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, n));
    parallel_for(0, lines, grain, [&](std::size_t b, std::size_t e) {
        for (std::size_t k = b; k < e;) {
            const std::size_t o = k / inner, i0 = k % inner;
            const std::size_t i1 = std::min(inner, i0 + (e - k));
            f(o, i0, i1);
            k += i1 - i0;
        }
    });
}

/// Sums `g` over the axes along which `target` was broadcast, giving an array of shape
/// `target`. Returns false if `target` does not broadcast to g's shape.
bool sum_to(const Array& g, const Shape& target, Array& out);

/// Sum over `axes` (sorted, unique, in range); kept axes keep their size, reduced ones become 1
/// when keepdims, else vanish. Accumulates in double.
Array reduce_sum(const Array& a, const std::vector<std::size_t>& axes, bool keepdims);

}  // namespace xgrad::kernels
