// Statistics and scans: var, std and logsumexp composed of core ops (so their gradients of
// every order come from those ops); prod, cumsum and the 2-norm as records whose rules are
// written in Tensor ops; the 1- and inf-norms composed of abs, sum and amax.

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/op.h"
#include "autograd/parallel.h"

namespace xgrad {

namespace {

void check_floating(const char* op, const Tensor& a) {
    detail::check_defined(op, a);
    if (!is_floating_point(a.dtype())) {
        throw std::invalid_argument(std::string(op) + ": expected a floating dtype (got " +
                                    dtype_name(a.dtype()) + " " + a.shape().str() + ")");
    }
}

// Elements per reduced slice; throws naming `op` for a dim out of range.
double slice_count(const char* op, const Shape& s, const std::vector<int>& dims) {
    double n = 1;
    const int nd = static_cast<int>(s.size());
    for (int d : dims) {
        const int k = d < 0 ? d + nd : d;
        if (k < 0 || k >= nd) {
            throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(d) +
                                        " out of range for shape " + s.str());
        }
        n *= static_cast<double>(s[static_cast<std::size_t>(k)]);
    }
    return n;
}

// sum((a - mean)^2) / (n - correction): two passes (the mean first), so no cancellation.
// NOTE: n - correction <= 0 divides by 0 (NaN for the 0/0 of one element), as PyTorch.
Tensor variance(const char* op, const Tensor& a, const std::vector<int>& dims, bool all,
                bool unbiased, bool keepdim) {
    check_floating(op, a);
    const double n = all ? static_cast<double>(a.numel()) : slice_count(op, a.shape(), dims);
    const Tensor mu = all ? mean(a) : mean(a, dims, /*keepdims=*/true);
    const Tensor sq = square(a - mu);
    const double dof = std::max(0.0, n - (unbiased ? 1.0 : 0.0));
    if (!all) return sum(sq, dims, keepdim) / dof;
    const Tensor r = sum(sq) / dof;
    return keepdim ? reshape(r, Shape(std::vector<std::size_t>(a.ndim(), 1))) : r;
}

// The slices of axis `ax` of shape s, seen as (outer, n, inner): element (o, j, i) sits at
// (o * n + j) * inner + i.
struct Slices {
    std::size_t outer = 1, n = 1, inner = 1;
    Slices(const Shape& s, std::size_t ax) : n(s[ax]) {
        for (std::size_t d = 0; d < s.size(); ++d) {
            if (d < ax) outer *= s[d];
            if (d > ax) inner *= s[d];
        }
    }
};

std::size_t one_dim(const char* op, const Shape& s, int dim) {
    const int nd = static_cast<int>(s.size());
    const int k = dim < 0 ? dim + nd : dim;
    if (k < 0 || k >= nd) {
        throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(dim) +
                                    " out of range for shape " + s.str());
    }
    return static_cast<std::size_t>(k);
}

// ---- cumsum and its adjoint, the reversed running sum: each is the other's derivative ----

Array running_sum(const Array& x, std::size_t ax, bool reverse) {
    const Slices v(x.shape(), ax);
    Array y = Array::empty(x.dtype(), x.shape());
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = x.data<T>();
        T* q = y.data<T>();
        // The scan along the axis is sequential; independent lines split across the pool. A
        // run of lines side by side (inner > 1) is scanned together, a running sum per line,
        // so the reads go along memory; each line's sums are the same either way.
        // NOTE: accumulated in double, as sum.
        kernels::for_lines(v.outer, v.n, v.inner,
                           [&](std::size_t o, std::size_t i0, std::size_t i1) {
                               const std::size_t w = i1 - i0;
                               if (w == 1) {
                                   double acc = 0;
                                   for (std::size_t k = 0; k < v.n; ++k) {
                                       const std::size_t j = reverse ? v.n - 1 - k : k;
                                       const std::size_t at = (o * v.n + j) * v.inner + i0;
                                       acc += static_cast<double>(p[at]);
                                       q[at] = static_cast<T>(acc);
                                   }
                                   return;
                               }
                               std::vector<double> acc(w, 0.0);
                               for (std::size_t k = 0; k < v.n; ++k) {
                                   const std::size_t j = reverse ? v.n - 1 - k : k;
                                   const std::size_t at = (o * v.n + j) * v.inner + i0;
                                   for (std::size_t i = 0; i < w; ++i) {
                                       acc[i] += static_cast<double>(p[at + i]);
                                       q[at + i] = static_cast<T>(acc[i]);
                                   }
                               }
                           });
    });
    return y;
}

Tensor scan(const Tensor& a, std::size_t ax, bool reverse);

// d cumsum_i / da_j = [j <= i]: the gradient is grad's reversed running sum, and vice versa.
TensorGrads scan_rule(const OpContext& ctx, const Tensor& grad) {
    const std::size_t ax = ctx.params<std::size_t>();
    const bool reverse = ctx.node().def().name[0] == 'r';
    return TensorGrads(scan(grad, ax, !reverse));
}
constexpr OpDef scan_def(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &scan_rule;
    d.saves = 0;
    return d;
}
const OpDef kCumsum = scan_def("cumsum");
const OpDef kCumsumReverse = scan_def("reverse_cumsum");

Tensor scan(const Tensor& a, std::size_t ax, bool reverse) {
    return record(reverse ? kCumsumReverse : kCumsum, running_sum(a.value(), ax, reverse), {&a},
                  ax);
}

// ---- prod ----

struct ProdParams {
    Shape keep;  // the input's shape with the reduced axis as 1 (all 1 for the full product)
    std::size_t axis;
};

// prod over axis `ax` of x (already viewed so that ax is the reduced one), in double.
Array product_along(const Array& x, std::size_t ax, const Shape& out_shape) {
    const Slices v(x.shape(), ax);
    Array y = Array::empty(x.dtype(), out_shape);
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = x.data<T>();
        T* q = y.data<T>();
        if (v.outer * v.inner == 1 && v.n > kParallelGrain) {
            // One long slice (the product of everything): per-chunk products multiplied in
            // chunk order, the same bits for any thread count.
            std::vector<double> part(num_chunks(0, v.n, kParallelGrain), 1.0);
            parallel_for(0, v.n, kParallelGrain, [&](std::size_t b, std::size_t e) {
                double acc = 1;
                for (std::size_t j = b; j < e; ++j) acc *= static_cast<double>(p[j]);
                part[b / kParallelGrain] = acc;
            });
            double acc = 1;
            for (double f : part) acc *= f;
            q[0] = static_cast<T>(acc);
            return;
        }
        kernels::for_lines(v.outer, v.n, v.inner,
                           [&](std::size_t o, std::size_t i0, std::size_t i1) {
                               for (std::size_t i = i0; i < i1; ++i) {
                                   double acc = 1;
                                   for (std::size_t j = 0; j < v.n; ++j) {
                                       acc *= static_cast<double>(p[(o * v.n + j) * v.inner + i]);
                                   }
                                   q[o * v.inner + i] = static_cast<T>(acc);
                               }
                           });
    });
    return y;
}

// prod_{j != i} x_j for every element, directly (for slices holding a zero, where y / x fails).
Array others_product(const Array& x, std::size_t ax) {
    const Slices v(x.shape(), ax);
    Array r = Array::empty(x.dtype(), x.shape());
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = x.data<T>();
        T* q = r.data<T>();
        kernels::for_lines(
            v.outer, v.n, v.inner, [&](std::size_t o, std::size_t i0, std::size_t i1) {
                for (std::size_t i = i0; i < i1; ++i) {
                    for (std::size_t k = 0; k < v.n; ++k) {
                        double acc = 1;
                        for (std::size_t j = 0; j < v.n; ++j) {
                            if (j != k) acc *= static_cast<double>(p[(o * v.n + j) * v.inner + i]);
                        }
                        q[(o * v.n + k) * v.inner + i] = static_cast<T>(acc);
                    }
                }
            });
    });
    return r;
}

// d prod / dx_i = prod / x_i where no factor is 0; else the product of the other factors.
TensorGrads prod_rule(const OpContext& ctx, const Tensor& grad) {
    const ProdParams& p = ctx.params<ProdParams>();
    const Tensor& x = ctx.input(0);
    const Shape& s = x.shape();
    const Tensor g = expand_to(reshape(grad, p.keep), s);
    bool zero = false;
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* v = x.value().data<T>();
        for (std::size_t i = 0, n = x.numel(); i < n && !zero; ++i) zero = v[i] == T(0);
    });
    if (!zero) return TensorGrads(g * expand_to(reshape(ctx.output(), p.keep), s) / x);
    if (grad_enabled()) {
        throw std::invalid_argument(
            "prod: the second derivative through an input holding a zero "
            "is not supported (got a zero in the input of shape " +
            s.str() + ")");
    }
    // A first derivative only (the rule runs unrecorded): the other factors as a constant.
    const Array flat = p.keep.numel() == 1 ? x.value().reshaped(Shape{x.numel()}) : x.value();
    const std::size_t ax = p.keep.numel() == 1 ? 0 : p.axis;
    return TensorGrads(g * Tensor(others_product(flat, ax).reshaped(s)));
}
const OpDef kProd = [] {
    OpDef d{};
    d.name = "prod";
    d.backward = &prod_rule;
    d.destroy_params = destroy_params_of<ProdParams>();
    return d;
}();

// ---- the 2-norm ----

struct Norm2Params {
    Shape keep;
};

// d sqrt(sum x^2) / dx = x / norm; NOTE: 0 where the norm is 0 (x is 0 there), as PyTorch:
// x / (norm + [norm == 0]) with the mask a constant.
TensorGrads norm2_rule(const OpContext& ctx, const Tensor& grad) {
    const Shape& keep = ctx.params<Norm2Params>().keep;
    const Tensor& x = ctx.input(0);
    const Tensor y = reshape(ctx.output(), keep);
    const Tensor zero_mask = Tensor(dispatch(y.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            keep, [](T v) { return v == T(0) ? T(1) : T(0); }, y.value());
    }));
    return TensorGrads(expand_to(reshape(grad, keep), x.shape()) * x / (y + zero_mask));
}
const OpDef kNorm2 = [] {
    OpDef d{};
    d.name = "norm";
    d.backward = &norm2_rule;
    d.destroy_params = destroy_params_of<Norm2Params>();
    return d;
}();

std::vector<std::size_t> norm_axes(const char* op, const Shape& s, const std::vector<int>& dims) {
    std::vector<std::size_t> axes;
    if (dims.empty()) {
        for (std::size_t d = 0; d < s.size(); ++d) axes.push_back(d);
        return axes;
    }
    for (int d : dims) axes.push_back(one_dim(op, s, d));
    std::sort(axes.begin(), axes.end());
    if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
        throw std::invalid_argument(std::string(op) + ": repeated axis for shape " + s.str());
    }
    return axes;
}

}  // namespace

Tensor logsumexp(const Tensor& a, const std::vector<int>& dims, bool keepdim, const CallSite&) {
    check_floating("logsumexp", a);
    if (dims.empty()) {
        throw std::invalid_argument("logsumexp: dims must not be empty (got none for shape " +
                                    a.shape().str() + ")");
    }
    for (int d : dims) one_dim("logsumexp", a.shape(), d);
    // The shift m = max over the slice, a constant (the result does not depend on it); an
    // infinite m is replaced by 0 so that inf - inf never appears, as PyTorch.
    Array m = amax(a.detach(), dims, /*keepdim=*/true).value();
    dispatch(m.dtype(), [&](auto t) {
        using T = decltype(t);
        T* p = m.data<T>();
        parallel_for(0, m.numel(), kParallelGrain, [p](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) {
                if (std::isinf(p[i])) p[i] = T(0);
            }
        });
    });
    const Tensor shift(std::move(m));
    const Tensor s = log(sum(exp(a - shift), dims, /*keepdims=*/true)) + shift;
    if (keepdim) return s;
    return reshape(s, amax(a.detach(), dims, false).shape());
}

Tensor prod(const Tensor& a, const CallSite&) {
    check_floating("prod", a);
    const Shape keep(std::vector<std::size_t>(a.ndim(), 1));
    Array y = product_along(a.value().reshaped(Shape{a.numel()}), 0, Shape{});
    return record(kProd, std::move(y), {&a}, ProdParams{keep, 0});
}
Tensor prod(const Tensor& a, int dim, bool keepdim, const CallSite&) {
    check_floating("prod", a);
    if (a.ndim() == 0 && (dim == 0 || dim == -1)) return prod(a);
    const std::size_t ax = one_dim("prod", a.shape(), dim);
    Shape keep = a.shape();
    keep[ax] = 1;
    std::vector<std::size_t> out;
    for (std::size_t d = 0; d < a.ndim(); ++d) {
        if (d != ax) out.push_back(a.shape()[d]);
    }
    Array y = product_along(a.value(), ax, keepdim ? keep : Shape(out));
    return record(kProd, std::move(y), {&a}, ProdParams{std::move(keep), ax});
}

Tensor cumsum(const Tensor& a, int dim, const CallSite&) {
    check_floating("cumsum", a);
    if (a.ndim() == 0 && (dim == 0 || dim == -1))
        return reshape(scan(reshape(a, {1}), 0, false), {});
    return scan(a, one_dim("cumsum", a.shape(), dim), false);
}

Tensor norm(const Tensor& a, double p, const CallSite& site) { return norm(a, p, {}, false, site); }
Tensor norm(const Tensor& a, double p, const std::vector<int>& dims, bool keepdim,
            const CallSite&) {
    check_floating("norm", a);
    const std::vector<std::size_t> axes = norm_axes("norm", a.shape(), dims);
    std::vector<int> all(axes.begin(), axes.end());
    if (p == 1) {
        if (axes.empty()) return abs(a);  // a 0-D tensor
        return sum(abs(a), all, keepdim);
    }
    if (p == INFINITY) return amax(abs(a), all, keepdim);
    if (p != 2) {
        throw std::invalid_argument("norm: p must be 1, 2 or inf (got " + std::to_string(p) + ")");
    }
    Shape keep = a.shape();
    for (std::size_t ax : axes) keep[ax] = 1;
    Array sq = dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            a.shape(), [](T v) { return v * v; }, a.value());
    });
    Array y = kernels::reduce_sum(sq, axes, keepdim);
    dispatch(y.dtype(), [&](auto t) {
        using T = decltype(t);
        T* q = y.data<T>();
        parallel_for(0, y.numel(), kParallelGrain, [q](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) q[i] = std::sqrt(q[i]);
        });
    });
    return record(kNorm2, std::move(y), {&a}, Norm2Params{std::move(keep)});
}

Tensor var(const Tensor& a, const std::vector<int>& dims, bool unbiased, bool keepdim,
           const CallSite&) {
    return variance("var", a, dims, /*all=*/dims.empty(), unbiased, keepdim);
}
Tensor std(const Tensor& a, const std::vector<int>& dims, bool unbiased, bool keepdim,
           const CallSite&) {
    return sqrt(variance("std", a, dims, /*all=*/dims.empty(), unbiased, keepdim));
}

}  // namespace xgrad
