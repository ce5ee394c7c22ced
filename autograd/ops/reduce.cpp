// Reductions: sum, mean, max along axes, add_n; and the engine's sum_to (unbroadcast).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "autograd/kernels/nd.h"
#include "autograd/op.h"
#include "autograd/parallel.h"

namespace xgrad {

namespace kernels {

Array reduce_sum(const Array& a, const std::vector<std::size_t>& axes, bool keepdims) {
    const Shape& s = a.shape();
    const std::size_t nd = s.size();
    std::vector<bool> reduced(nd, false);
    for (std::size_t ax : axes) reduced[ax] = true;
    // Output strides per input dimension: 0 along reduced axes.
    std::vector<std::size_t> kept_dims, out_stride(nd, 0);
    std::size_t stride = 1;
    for (std::size_t d = nd; d-- > 0;) {
        if (!reduced[d]) {
            out_stride[d] = stride;
            stride *= s[d];
        }
    }
    for (std::size_t d = 0; d < nd; ++d) {
        if (!reduced[d]) {
            kept_dims.push_back(s[d]);
        } else if (keepdims) {
            kept_dims.push_back(1);
        }
    }
    const std::size_t out_n = stride;
    // NOTE: accumulate in double: a float sum of 2e7 ones is 16,777,216 (XTENSOR.md).
    std::vector<double> acc(out_n, 0.0);
    Array out = Array::empty(a.dtype(), Shape(kept_dims));
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* x = a.data<T>();
        const std::size_t n = a.numel();
        if (n == 0) return;
        const std::size_t grain = kParallelGrain;
        if (out_n == 1) {  // everything into one sum (also when the kept axes have size 1)
            // Per-chunk sums added in chunk order: the same bits for any thread count.
            std::vector<double> part(num_chunks(0, n, grain));
            parallel_for(0, n, grain, [&](std::size_t b, std::size_t e) {
                part[b / grain] = sum_contiguous(x + b, e - b);
            });
            for (double v : part) acc[0] += v;
            return;
        }
        // The reduced axes are the trailing ones: each output sums one contiguous block.
        std::size_t first_reduced = nd, last_kept = 0;
        for (std::size_t d = 0; d < nd; ++d) {
            if (reduced[d]) first_reduced = std::min(first_reduced, d);
            if (!reduced[d]) last_kept = d;
        }
        if (n >= grain && last_kept < first_reduced) {
            const std::size_t block = n / out_n;
            parallel_for(0, out_n, std::max<std::size_t>(1, grain / block),
                         [&](std::size_t b, std::size_t e) {
                             for (std::size_t o = b; o < e; ++o) {
                                 acc[o] = sum_contiguous(x + o * block, block);
                             }
                         });
            return;
        }
        // The reduced axes are the leading ones (a bias gradient): columns split across chunks,
        // each column summed over the rows in order.
        std::size_t first_kept = nd, last_reduced = 0;
        for (std::size_t d = 0; d < nd; ++d) {
            if (!reduced[d]) first_kept = std::min(first_kept, d);
            if (reduced[d]) last_reduced = d;
        }
        if (n >= grain && last_reduced < first_kept) {
            const std::size_t cols = out_n, n_rows = n / out_n;
            parallel_for(0, cols, std::max<std::size_t>(1, grain / n_rows),
                         [&](std::size_t b, std::size_t e) {
                             for (std::size_t r = 0; r < n_rows; ++r) {
                                 const T* row = x + r * cols;
                                 for (std::size_t j = b; j < e; ++j) acc[j] += row[j];
                             }
                         });
            return;
        }
        if (n >= grain) {
            // Reduced axes in the middle (e.g. (B, n, C) over n): the reduced axes permuted to
            // the end by a parallel copy, then each output sums one contiguous block as above.
            std::vector<std::int64_t> perm;
            for (std::size_t d = 0; d < nd; ++d) {
                if (!reduced[d]) perm.push_back(static_cast<std::int64_t>(d));
            }
            for (std::size_t d = 0; d < nd; ++d) {
                if (reduced[d]) perm.push_back(static_cast<std::int64_t>(d));
            }
            const Array xp = permute(a, perm);
            const T* q = xp.data<T>();
            const std::size_t block = n / out_n;
            parallel_for(0, out_n, std::max<std::size_t>(1, grain / block),
                         [&](std::size_t b, std::size_t e) {
                             for (std::size_t o = b; o < e; ++o) {
                                 acc[o] = sum_contiguous(q + o * block, block);
                             }
                         });
            return;
        }
        const std::size_t inner = nd ? s[nd - 1] : 1, inner_stride = nd ? out_stride[nd - 1] : 0;
        std::vector<std::size_t> idx(nd > 1 ? nd - 1 : 0, 0);
        std::size_t off = 0;
        for (std::size_t pos = 0; pos < n; pos += inner) {
            if (inner_stride == 0) {
                acc[off] += sum_contiguous(x + pos, inner);
            } else {
                for (std::size_t j = 0; j < inner; ++j) acc[off + j] += x[pos + j];
            }
            for (std::size_t d = idx.size(); d-- > 0;) {
                if (++idx[d] < s[d]) {
                    off += out_stride[d];
                    break;
                }
                off -= (idx[d] - 1) * out_stride[d];
                idx[d] = 0;
            }
        }
    });
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        T* o = out.data<T>();
        parallel_for(0, out_n, kParallelGrain, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) o[i] = static_cast<T>(acc[i]);
        });
    });
    return out;
}

bool sum_to(const Array& g, const Shape& target, Array& out) {
    const Shape& s = g.shape();
    if (target.size() > s.size()) return false;
    const std::size_t lead = s.size() - target.size();
    std::vector<std::size_t> axes;
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (d < lead) {
            axes.push_back(d);
        } else if (target[d - lead] != s[d]) {
            if (target[d - lead] != 1) return false;
            axes.push_back(d);
        }
    }
    out = reduce_sum(g, axes, /*keepdims=*/true).reshaped(target);
    return true;
}

}  // namespace kernels

namespace {

std::vector<std::size_t> normalize_axes(const char* op, const Shape& s,
                                        const std::vector<int>& axes) {
    const long nd = static_cast<long>(s.size());
    std::vector<std::size_t> out;
    for (int axis : axes) {
        const long ax = axis < 0 ? axis + nd : axis;
        if (ax < 0 || ax >= nd) {
            throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                        " out of range for shape " + s.str());
        }
        out.push_back(static_cast<std::size_t>(ax));
    }
    std::sort(out.begin(), out.end());
    if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
        throw std::invalid_argument(std::string(op) + ": repeated axis for shape " + s.str());
    }
    return out;
}

// The reduced shape with the reduced axes kept as 1: what a gradient is broadcast from.
Shape keepdims_shape(const Shape& s, const std::vector<std::size_t>& axes) {
    Shape k = s;
    for (std::size_t ax : axes) k[ax] = 1;
    return k;
}

struct ReduceParams {
    Shape keep;    // the input's shape with the reduced axes as 1
    double scale;  // 1 for sum, 1/count for mean
};

// d sum / dx = 1 for every summed element; mean scales by 1/count: the gradient spread back.
TensorGrads reduce_rule(const OpContext& ctx, const Tensor& grad) {
    const ReduceParams& p = ctx.params<ReduceParams>();
    Tensor spread = expand_to(reshape(grad, p.keep), ctx.input(0).shape());
    if (p.scale != 1.0) spread = spread * p.scale;
    return TensorGrads(std::move(spread));
}

// Capture replay: the reduction again, from the input's current value (the reduced axes are
// those kept as 1; summing along an axis of size 1 changes nothing). A reduction to one
// element (a loss's mean) is reduce_sum's own chunked sum, without allocating; others go
// through a temporary.
void reduce_forward_into(const Node& self, Array& out) {
    const ReduceParams& p = self.params<ReduceParams>();
    const Array& x = self.input(0);
    if (out.numel() == 1) {
        dispatch(out.dtype(), [&](auto t) {
            using T = decltype(t);
            const T* src = x.data<T>();
            const std::size_t n = x.numel();
            // reduce_sum: per-chunk sums of kParallelGrain elements, added in chunk order.
            double acc = 0.0;
            for (std::size_t b = 0; b < n; b += kParallelGrain) {
                acc += kernels::sum_contiguous(src + b, std::min(n - b, kParallelGrain));
            }
            const T v = static_cast<T>(acc);
            out.data<T>()[0] = p.scale != 1.0 ? static_cast<T>(double(v) * p.scale) : v;
        });
        return;
    }
    std::vector<std::size_t> axes;
    for (std::size_t d = 0; d < p.keep.size(); ++d) {
        if (p.keep[d] == 1) axes.push_back(d);
    }
    Array y = kernels::reduce_sum(x, axes, /*keepdims=*/true);
    dispatch(y.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* src = y.data<T>();
        T* dst = out.data<T>();
        for (std::size_t i = 0, n = out.numel(); i < n; ++i) {
            dst[i] = p.scale != 1.0 ? static_cast<T>(double(src[i]) * p.scale) : src[i];
        }
    });
}

constexpr OpDef reduce_def(const char* name, const char* local) {
    OpDef d{};
    d.name = name;
    d.backward = &reduce_rule;
    d.forward_into = &reduce_forward_into;
    d.saves = 0;  // only shapes
    d.local[0] = local;
    d.destroy_params = destroy_params_of<ReduceParams>();
    return d;
}
const OpDef kSum = reduce_def("sum", "1");
const OpDef kMean = reduce_def("mean", "1/n");

Tensor reduce(const OpDef& def, const Tensor& a, const std::vector<std::size_t>& axes,
              bool keepdims, bool mean) {
    const Shape& s = a.shape();
    std::size_t count = 1;
    for (std::size_t ax : axes) count *= s[ax];
    const double scale = mean ? 1.0 / static_cast<double>(count) : 1.0;
    Array y = kernels::reduce_sum(a.value(), axes, keepdims);
    if (mean) {
        // NOTE: the mean over zero elements is nan (0/0), as NumPy.
        dispatch(y.dtype(), [&](auto t) {
            using T = decltype(t);
            T* p = y.data<T>();
            parallel_for(0, y.numel(), kParallelGrain, [p, scale](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) p[i] = static_cast<T>(double(p[i]) * scale);
            });
        });
    }
    return record(def, std::move(y), {&a}, ReduceParams{keepdims_shape(s, axes), scale});
}

std::vector<std::size_t> all_axes(const Tensor& a) {
    std::vector<std::size_t> axes(a.ndim());
    for (std::size_t d = 0; d < axes.size(); ++d) axes[d] = d;
    return axes;
}

// ---- max along an axis ----

struct MaxParams {
    Shape keep;
    std::size_t axis;
    bool min;
};

// The slices of axis `ax` of shape s, seen as (outer, n, inner).
struct Slices {
    std::size_t outer = 1, n = 1, inner = 1;
    Slices(const Shape& s, std::size_t ax) : n(s[ax]) {
        for (std::size_t d = 0; d < s.size(); ++d) {
            if (d < ax) outer *= s[d];
            if (d > ax) inner *= s[d];
        }
    }
};

// best[o * inner + i]: the first maximal (kMin: minimal) j of slice (o, i); NaN counts as the
// extreme, as PyTorch's max/argmax.
//
// Parallel over the slices (kernels::for_lines); a single slice (argmax of a flattened tensor)
// is cut into chunks of kParallelGrain, each giving its first extreme (or first NaN), and the
// candidates are folded in chunk order by the same rule: the first extreme overall, whatever
// the thread count.
template <bool kMin, class T>
std::size_t first_extreme(const T* q, std::size_t stride, std::size_t j0, std::size_t j1) {
    std::size_t best = j0;
    for (std::size_t j = j0 + 1; j < j1 && q[best * stride] == q[best * stride]; ++j) {
        const T c = q[j * stride], b = q[best * stride];
        if ((kMin ? c < b : c > b) || c != c) best = j;
    }
    return best;
}
template <bool kMin = false>
std::vector<std::size_t> argmax_along(const Array& x, const Slices& v) {
    std::vector<std::size_t> arg(v.outer * v.inner);
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = x.data<T>();
        if (v.outer * v.inner == 1 && v.n > kParallelGrain) {
            std::vector<std::size_t> cand(num_chunks(0, v.n, kParallelGrain));
            parallel_for(0, v.n, kParallelGrain, [&](std::size_t b, std::size_t e) {
                cand[b / kParallelGrain] = first_extreme<kMin>(p, 1, b, e);
            });
            std::size_t best = cand[0];
            for (std::size_t k = 1; k < cand.size() && p[best] == p[best]; ++k) {
                const T c = p[cand[k]], b = p[best];
                if ((kMin ? c < b : c > b) || c != c) best = cand[k];
            }
            arg[0] = best;
            return;
        }
        kernels::for_lines(
            v.outer, v.n, v.inner, [&](std::size_t o, std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i) {
                    arg[o * v.inner + i] =
                        first_extreme<kMin>(p + o * v.n * v.inner + i, v.inner, 0, v.n);
                }
            });
    });
    return arg;
}

// d max / dx_j = 1 for the (first) maximal j of each slice, else 0: the gradient spread back
// through a constant one-hot mask.
TensorGrads max_rule(const OpContext& ctx, const Tensor& grad) {
    const MaxParams& p = ctx.params<MaxParams>();
    const Array& x = ctx.input(0).value();
    const Slices v(x.shape(), p.axis);
    const std::vector<std::size_t> best = p.min ? argmax_along<true>(x, v) : argmax_along(x, v);
    Array mask(x.dtype(), x.shape());
    for (std::size_t o = 0; o < v.outer; ++o) {
        for (std::size_t i = 0; i < v.inner; ++i) {
            mask.set((o * v.n + best[o * v.inner + i]) * v.inner + i, 1.0);
        }
    }
    return TensorGrads(expand_to(reshape(grad, p.keep), x.shape()) * Tensor(std::move(mask)));
}
constexpr OpDef max_def(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &max_rule;
    d.destroy_params = destroy_params_of<MaxParams>();
    return d;
}
const OpDef kMax = max_def("max");
const OpDef kMin = max_def("min");

// ---- amax / amin over dims ----

struct AmaxParams {
    Shape keep;
    std::vector<std::size_t> axes;
};

// d amax / dx = [x == amax] / (number of ties in the slice): the gradient split evenly among
// the maximal elements, as PyTorch. NOTE: a NaN maximum counts the NaNs as its ties (PyTorch's
// x == NaN mask would give every element 0/0 = NaN). The weights are a constant.
TensorGrads amax_rule(const OpContext& ctx, const Tensor& grad) {
    const AmaxParams& p = ctx.params<AmaxParams>();
    const Array& x = ctx.input(0).value();
    const Array y = ctx.output().value().reshaped(p.keep);
    Array w = dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        Array mask = kernels::map<T>(
            x.shape(), [](T a, T m) { return (a == m || (a != a && m != m)) ? T(1) : T(0); }, x, y);
        const Array count = kernels::reduce_sum(mask, p.axes, /*keepdims=*/true);
        return kernels::map<T>(
            x.shape(), [](T m, T c) { return m / c; }, mask, count);
    });
    return TensorGrads(expand_to(reshape(grad, p.keep), x.shape()) * Tensor(std::move(w)));
}
constexpr OpDef amax_def(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &amax_rule;
    d.destroy_params = destroy_params_of<AmaxParams>();
    return d;
}
const OpDef kAmax = amax_def("amax");
const OpDef kAmin = amax_def("amin");

// The extreme over `axes` (NaN propagates): the reduced axes permuted to the end, so each
// output folds one contiguous block.
template <bool kMin>
Array extreme_over(const Array& x, const std::vector<std::size_t>& axes) {
    const Shape& s = x.shape();
    std::vector<std::int64_t> perm;
    std::vector<std::size_t> kept;
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (!std::binary_search(axes.begin(), axes.end(), d)) {
            perm.push_back(static_cast<std::int64_t>(d));
            kept.push_back(s[d]);
        }
    }
    std::size_t block = 1;
    for (std::size_t ax : axes) {
        perm.push_back(static_cast<std::int64_t>(ax));
        block *= s[ax];
    }
    const Array xp = kernels::permute(x, perm);
    Array out = Array::empty(x.dtype(), Shape(kept));
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* q = xp.data<T>();
        T* o = out.data<T>();
        // m folded with b[0..n): the first extreme (or the first NaN) in order. Folding chunk
        // results in chunk order by the same rule gives the same element, so one block (amax of
        // everything) is cut into chunks and the rest run one block per output.
        auto fold = [](T m, const T* b, std::size_t n) {
            for (std::size_t j = 0; j < n && m == m; ++j) {
                if ((kMin ? b[j] < m : b[j] > m) || b[j] != b[j]) m = b[j];
            }
            return m;
        };
        const std::size_t out_n = out.numel();
        if (out_n == 1 && block > kParallelGrain) {
            std::vector<T> part(num_chunks(0, block, kParallelGrain));
            parallel_for(0, block, kParallelGrain, [&](std::size_t b, std::size_t e) {
                part[b / kParallelGrain] = fold(q[b], q + b + 1, e - b - 1);
            });
            o[0] = fold(part[0], part.data() + 1, part.size() - 1);
            return;
        }
        parallel_for(0, out_n, std::max<std::size_t>(1, kParallelGrain / block),
                     [&](std::size_t b, std::size_t e) {
                         for (std::size_t k = b; k < e; ++k) {
                             o[k] = fold(q[k * block], q + k * block + 1, block - 1);
                         }
                     });
    });
    return out;
}

// d(sum_k x_k)/dx_k = 1 for every term
TensorGrads add_n_rule(const OpContext& ctx, const Tensor& grad) {
    TensorGrads gs = TensorGrads::sized(ctx.num_inputs());
    for (std::size_t k = 0; k < gs.size(); ++k) {
        if (ctx.needs_grad(k)) gs[k] = grad;
    }
    return gs;
}
const OpDef kAddN = [] {
    OpDef d{};
    d.name = "add_n";
    d.backward = &add_n_rule;
    d.saves = 0;
    return d;
}();

}  // namespace

Tensor sum(const Tensor& a, const CallSite&) {
    detail::check_defined("sum", a);
    return reduce(kSum, a, all_axes(a), false, false);
}
Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdims, const CallSite&) {
    detail::check_defined("sum", a);
    return reduce(kSum, a, normalize_axes("sum", a.shape(), axes), keepdims, false);
}
Tensor mean(const Tensor& a, const CallSite&) {
    detail::check_defined("mean", a);
    return reduce(kMean, a, all_axes(a), false, true);
}
Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdims, const CallSite&) {
    detail::check_defined("mean", a);
    return reduce(kMean, a, normalize_axes("mean", a.shape(), axes), keepdims, true);
}

namespace {

// (values, indices) of the first maximal (kMin: minimal) element along `axis`.
template <bool kMin>
std::pair<Array, Array> extreme_along(const char* op, const Tensor& a, int axis, bool keepdims,
                                      Shape& keep, std::size_t& ax) {
    detail::check_defined(op, a);
    const Shape& s = a.shape();
    if (!is_floating_point(a.dtype())) not_floating_error(op, a.dtype());
    ax = normalize_axes(op, s, {axis})[0];
    if (s[ax] == 0) {
        throw std::invalid_argument(std::string(op) + ": cannot reduce over an empty axis (axis " +
                                    std::to_string(axis) + " of shape " + s.str() + ")");
    }
    const Slices v(s, ax);
    const std::vector<std::size_t> arg = argmax_along<kMin>(a.value(), v);
    keep = keepdims_shape(s, {ax});
    Array y = Array::empty(a.dtype(), keep);
    Array idx = Array::empty(i64, keep);
    std::int64_t* ip = idx.data<std::int64_t>();
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = a.value().data<T>();
        T* q = y.data<T>();
        parallel_for(0, v.outer * v.inner, kParallelGrain, [&](std::size_t b, std::size_t e) {
            for (std::size_t k = b; k < e; ++k) {
                const std::size_t o = k / v.inner, i = k % v.inner;
                q[k] = p[(o * v.n + arg[k]) * v.inner + i];
                ip[k] = static_cast<std::int64_t>(arg[k]);
            }
        });
    });
    if (!keepdims) {
        std::vector<std::size_t> dims;
        for (std::size_t d = 0; d < s.size(); ++d) {
            if (d != ax) dims.push_back(s[d]);
        }
        y = std::move(y).reshaped(Shape(dims));
        idx = std::move(idx).reshaped(Shape(dims));
    }
    return {std::move(y), std::move(idx)};
}

template <bool kMin>
std::tuple<Tensor, Tensor> max_min(const OpDef& def, const Tensor& a, int axis, bool keepdims) {
    // A 0-D tensor is its own extreme along dims 0 and -1, at index 0, as PyTorch.
    if (a.defined() && a.ndim() == 0 && (axis == 0 || axis == -1)) {
        return {a, Tensor(Array(i64, Shape{}))};
    }
    Shape keep;
    std::size_t ax = 0;
    auto [y, idx] = extreme_along<kMin>(def.name, a, axis, keepdims, keep, ax);
    Tensor values = record(def, std::move(y), {&a}, MaxParams{std::move(keep), ax, kMin});
    return {std::move(values), Tensor(std::move(idx))};
}

template <bool kMin>
Tensor amax_amin(const OpDef& def, const Tensor& a, const std::vector<int>& dims, bool keepdim) {
    detail::check_defined(def.name, a);
    if (!is_floating_point(a.dtype())) not_floating_error(def.name, a.dtype());
    const Shape& s = a.shape();
    // No dims: every dim, as PyTorch.
    std::vector<std::size_t> axes = dims.empty() ? all_axes(a) : normalize_axes(def.name, s, dims);
    for (std::size_t ax : axes) {
        if (s[ax] == 0) {
            throw std::invalid_argument(std::string(def.name) +
                                        ": cannot reduce over an empty axis (axis " +
                                        std::to_string(ax) + " of shape " + s.str() + ")");
        }
    }
    Shape keep = keepdims_shape(s, axes);
    Array y = extreme_over<kMin>(a.value(), axes);
    if (keepdim) y = std::move(y).reshaped(keep);
    return record(def, std::move(y), {&a}, AmaxParams{std::move(keep), std::move(axes)});
}

template <bool kMin>
Tensor arg_extreme(const char* op, const Tensor& a, std::optional<int> dim, bool keepdim) {
    detail::check_defined(op, a);
    if (dim && a.ndim() == 0 && (*dim == 0 || *dim == -1)) return Tensor(Array(i64, Shape{}));
    if (dim) {
        Shape keep;
        std::size_t ax = 0;
        return Tensor(extreme_along<kMin>(op, a, *dim, keepdim, keep, ax).second);
    }
    // No dim: the index into the flattened tensor.
    if (a.numel() == 0) {
        throw std::invalid_argument(std::string(op) +
                                    ": cannot take the index of an empty tensor (got shape " +
                                    a.shape().str() + ")");
    }
    const Tensor flat = Tensor(a.value().reshaped(Shape{a.numel()}));
    Shape keep;
    std::size_t ax = 0;
    Array idx = extreme_along<kMin>(op, flat, 0, false, keep, ax).second;
    if (keepdim) idx = std::move(idx).reshaped(Shape(std::vector<std::size_t>(a.ndim(), 1)));
    return Tensor(std::move(idx));
}

}  // namespace

std::tuple<Tensor, Tensor> max(const Tensor& a, int dim, bool keepdim, const CallSite&) {
    return max_min<false>(kMax, a, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& a, int dim, bool keepdim, const CallSite&) {
    return max_min<true>(kMin, a, dim, keepdim);
}
Tensor max(const Tensor& a, const CallSite&) { return amax_amin<false>(kAmax, a, {}, false); }
Tensor min(const Tensor& a, const CallSite&) { return amax_amin<true>(kAmin, a, {}, false); }
Tensor amax(const Tensor& a, const std::vector<int>& dims, bool keepdim, const CallSite&) {
    return amax_amin<false>(kAmax, a, dims, keepdim);
}
Tensor amin(const Tensor& a, const std::vector<int>& dims, bool keepdim, const CallSite&) {
    return amax_amin<true>(kAmin, a, dims, keepdim);
}
Tensor argmax(const Tensor& a, std::optional<int> dim, bool keepdim, const CallSite&) {
    return arg_extreme<false>("argmax", a, dim, keepdim);
}
Tensor argmin(const Tensor& a, std::optional<int> dim, bool keepdim, const CallSite&) {
    return arg_extreme<true>("argmin", a, dim, keepdim);
}

Tensor add_n(const std::vector<Tensor>& terms, const CallSite&) {
    if (terms.empty()) throw std::invalid_argument("add_n: needs at least one term (got 0)");
    for (std::size_t i = 0; i < terms.size(); ++i) {
        detail::check_defined("add_n", terms[i], ("term " + std::to_string(i)).c_str());
        detail::check_same_dtype("add_n", terms[0], terms[i]);
        if (terms[i].shape() != terms[0].shape()) {
            throw std::invalid_argument("add_n: shapes differ (got " + terms[0].shape().str() +
                                        " for term 0 and " + terms[i].shape().str() + " for term " +
                                        std::to_string(i) + ")");
        }
    }
    Array y = terms[0].value();
    dispatch(y.dtype(), [&](auto t) {
        using T = decltype(t);
        T* p = y.data<T>();
        const std::size_t n = y.numel();
        for (std::size_t k = 1; k < terms.size(); ++k) {
            const T* q = terms[k].value().data<T>();
            for (std::size_t i = 0; i < n; ++i) p[i] += q[i];
        }
    });
    return record(kAddN, std::move(y), terms);
}

}  // namespace xgrad
