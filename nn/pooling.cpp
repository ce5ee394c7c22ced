#include "nn/pooling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/op.h"
#include "autograd/parallel.h"
#include "nn/detail/conv_ops.h"

namespace xgrad::nn {

namespace {

std::string str(std::size_t v) { return std::to_string(v); }

[[noreturn]] void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(op) + ": " + what);
}

// ---- plane_gather / plane_scatter: a constant index per output element into its plane. ----
//
// x viewed as P = shape[0] shape[1] planes of Q elements, idx (Int64) as P planes of L:
// gather: y[p, l] = x[p, idx[p, l]] (y has idx's shape); scatter: z = zeros(shape),
// z[p, idx[p, l]] += g[p, l]. Each is the other's derivative (the index is a constant).

struct ScatterParams {
    Shape shape;
};

Tensor plane_gather(const Tensor& x, const Tensor& idx);
Tensor plane_scatter(const Tensor& g, const Tensor& idx, const Shape& shape);

std::size_t planes_of(const Shape& s) { return s[0] * s[1]; }

TensorGrads gather_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(plane_scatter(grad, ctx.input(1), ctx.input(0).shape()), Tensor());
}
TensorGrads scatter_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(plane_gather(grad, ctx.input(1)), Tensor());
}

const OpDef kPlaneGather = [] {
    OpDef d{};
    d.name = "max_pool";  // what the graph shows: max pooling is a gather at the argmax
    d.backward = &gather_rule;
    d.saves = 0b10;  // the index only
    return d;
}();
const OpDef kPlaneScatter = [] {
    OpDef d{};
    d.name = "max_pool_backward";
    d.backward = &scatter_rule;
    d.saves = 0b10;
    d.destroy_params = destroy_params_of<ScatterParams>();
    return d;
}();

Tensor plane_gather(const Tensor& x, const Tensor& idx) {
    const std::size_t P = planes_of(x.shape()), Q = x.numel() / std::max<std::size_t>(1, P);
    const std::size_t L = idx.numel() / std::max<std::size_t>(1, P);
    Array y = Array::empty(x.dtype(), idx.shape());
    const std::int64_t* I = idx.value().data<std::int64_t>();
    dispatch("max_pool", x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* X = x.value().data<T>();
        T* Y = y.data<T>();
        for (std::size_t p = 0; p < P; ++p) {
            for (std::size_t l = 0; l < L; ++l) {
                Y[p * L + l] = X[p * Q + static_cast<std::size_t>(I[p * L + l])];
            }
        }
    });
    return record(kPlaneGather, std::move(y), {&x, &idx});
}

Tensor plane_scatter(const Tensor& g, const Tensor& idx, const Shape& shape) {
    const std::size_t P = planes_of(shape), Q = shape.numel() / std::max<std::size_t>(1, P);
    const std::size_t L = idx.numel() / std::max<std::size_t>(1, P);
    Array z = Array::full(g.dtype(), shape, 0.0);
    const std::int64_t* I = idx.value().data<std::int64_t>();
    dispatch("max_pool", g.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* G = g.value().data<T>();
        T* Z = z.data<T>();
        for (std::size_t p = 0; p < P; ++p) {
            for (std::size_t l = 0; l < L; ++l) {
                Z[p * Q + static_cast<std::size_t>(I[p * L + l])] += G[p * L + l];
            }
        }
    });
    return record(kPlaneScatter, std::move(z), {&g, &idx}, ScatterParams{shape});
}

// (N, C, H, W) from a 3-D or 4-D input.
Tensor batched4(const char* op, const Tensor& input) {
    if (!input.defined()) fail(op, "undefined input");
    if (input.ndim() != 3 && input.ndim() != 4) {
        fail(op, "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input (got " + input.shape().str() +
                     ")");
    }
    if (!is_floating_point(input.dtype())) {
        fail(op, std::string("expected a floating input (got ") + dtype_name(input.dtype()) + ")");
    }
    if (input.ndim() == 4) return input;
    const Shape& s = input.shape();
    return reshape(input, Shape{1, s[0], s[1], s[2]});
}

Tensor unbatch(const Tensor& y, const Tensor& input) {
    if (input.ndim() == 4) return y;
    const Shape& s = y.shape();
    return reshape(y, Shape{s[1], s[2], s[3]});
}

// The argmax (flat within the plane) of each window of a plane whose windows all lie inside
// it: the first on ties, and NaN wins, as the general loop below. Window elements are visited
// in the same (row-major) order, each across a whole output row at once: branch-free selects
// over independent windows instead of a mispredicted branch per element. `best`: ow values.
template <class T>
void max_windows_inside(const T* plane, const detail::ConvGeometry& g, std::int64_t* out, T* best) {
    const std::size_t w = g.w, oh = g.oh, ow = g.ow, kh = g.kh, kw = g.kw;
    const std::size_t sh = g.sh, sw = g.sw, dh = g.dh, dw = g.dw;
    for (std::size_t oy = 0; oy < oh; ++oy) {
        std::int64_t* o = out + oy * ow;
        const std::size_t base = oy * sh * w;
        for (std::size_t ox = 0; ox < ow; ++ox) {
            best[ox] = plane[base + ox * sw];
            o[ox] = static_cast<std::int64_t>(base + ox * sw);
        }
        for (std::size_t i = 0; i < kh; ++i) {
            for (std::size_t j = i == 0 ? 1 : 0; j < kw; ++j) {
                const std::size_t off = base + i * dh * w + j * dw;
                for (std::size_t ox = 0; ox < ow; ++ox) {
                    const std::size_t f = off + ox * sw;
                    const T v = plane[f], bv = best[ox];
                    // v > best, or v is NaN and best is not.
                    const bool take = !(v <= bv) & (bv == bv);
                    best[ox] = take ? v : bv;
                    o[ox] = take ? static_cast<std::int64_t>(f) : o[ox];
                }
            }
        }
    }
}

}  // namespace

namespace functional {

Tensor max_pool2d(const Tensor& input, const MaxPool2dOptions& o) {
    const char* op = "max_pool2d";
    const Tensor x = batched4(op, input);
    const Size2 k = o.kernel_size(), d = o.dilation(), p = o.padding();
    if (k.h == 0 || k.w == 0) fail(op, "kernel size must be positive (got 0)");
    if (2 * p.h > d.h * (k.h - 1) + 1 || 2 * p.w > d.w * (k.w - 1) + 1) {
        // PyTorch: "pad should be at most half of effective kernel size".
        fail(op, "pad should be at most half of effective kernel size (got padding (" + str(p.h) +
                     ", " + str(p.w) + "), kernel (" + str(k.h) + ", " + str(k.w) +
                     "), dilation (" + str(d.h) + ", " + str(d.w) + "))");
    }
    const Shape& s = x.shape();
    const auto g =
        detail::conv_geometry(op, s[1], s[2], s[3], k, o.stride(), d, p.h, p.h, p.w, p.w);
    // The argmax of each window (flat within its plane; the first on ties, NaN wins), a
    // constant: the gradient of max is the one-hot at it.
    const std::size_t planes = s[0] * s[1], L = g.oh * g.ow;
    Array idx = Array::empty(DType::Int64, Shape{s[0], s[1], g.oh, g.ow});
    std::int64_t* I = idx.data<std::int64_t>();
    dispatch(op, x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* X = x.value().data<T>();
        // Every window inside the plane (no padding reaches it): no bounds tests per element.
        const bool inside = g.pt == 0 && g.pl == 0 && (g.oh - 1) * g.sh + (g.kh - 1) * g.dh < g.h &&
                            (g.ow - 1) * g.sw + (g.kw - 1) * g.dw < g.w;
        if (inside) {
            parallel_for(0, planes, std::max<std::size_t>(1, kParallelGrain / (g.h * g.w)),
                         [&](std::size_t p0, std::size_t p1) {
                             std::vector<T> best(g.ow);
                             for (std::size_t pl = p0; pl < p1; ++pl) {
                                 max_windows_inside(X + pl * g.h * g.w, g, I + pl * L, best.data());
                             }
                         });
            return;
        }
        for (std::size_t pl = 0; pl < planes; ++pl) {
            const T* plane = X + pl * g.h * g.w;
            for (std::size_t oy = 0; oy < g.oh; ++oy) {
                for (std::size_t ox = 0; ox < g.ow; ++ox) {
                    T best = -std::numeric_limits<T>::infinity();
                    std::int64_t at = -1;
                    for (std::size_t i = 0; i < g.kh; ++i) {
                        const auto iy = static_cast<std::ptrdiff_t>(oy * g.sh + i * g.dh) -
                                        static_cast<std::ptrdiff_t>(g.pt);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                        for (std::size_t j = 0; j < g.kw; ++j) {
                            const auto ix = static_cast<std::ptrdiff_t>(ox * g.sw + j * g.dw) -
                                            static_cast<std::ptrdiff_t>(g.pl);
                            if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.w)) continue;
                            const std::size_t f =
                                static_cast<std::size_t>(iy) * g.w + static_cast<std::size_t>(ix);
                            const T v = plane[f];
                            if (at < 0 || v > best || (std::isnan(v) && !std::isnan(best))) {
                                best = v;
                                at = static_cast<std::int64_t>(f);
                            }
                        }
                    }
                    // A window always holds a real element: padding <= half the kernel.
                    I[pl * L + oy * g.ow + ox] = at;
                }
            }
        }
    });
    const Tensor index(std::move(idx));
    return unbatch(plane_gather(x, index), input);
}

Tensor max_pool1d(const Tensor& input, const MaxPool1dOptions& o) {
    const char* op = "max_pool1d";
    if (!input.defined()) fail(op, "undefined input");
    if (input.ndim() != 2 && input.ndim() != 3) {
        fail(op, "expected a 2-D (C, L) or 3-D (N, C, L) input (got " + input.shape().str() + ")");
    }
    const bool batched = input.ndim() == 3;
    const Shape& s = input.shape();
    const std::size_t n = batched ? s[0] : 1, c = s[batched ? 1 : 0], l = s[batched ? 2 : 1];
    MaxPool2dOptions o2({1, o.kernel_size()});
    o2.stride({1, o.stride()}).padding({0, o.padding()}).dilation({1, o.dilation()});
    const Tensor y = max_pool2d(reshape(input, Shape{n, c, 1, l}), o2);
    const std::size_t ol = y.shape()[3];
    return batched ? reshape(y, Shape{n, c, ol}) : reshape(y, Shape{c, ol});
}

Tensor avg_pool2d(const Tensor& input, const AvgPool2dOptions& o) {
    const char* op = "avg_pool2d";
    const Tensor x = batched4(op, input);
    const Size2 k = o.kernel_size(), p = o.padding();
    if (k.h == 0 || k.w == 0) fail(op, "kernel size must be positive (got 0)");
    if (2 * p.h > k.h || 2 * p.w > k.w) {
        fail(op, "pad should be at most half of kernel size (got padding (" + str(p.h) + ", " +
                     str(p.w) + "), kernel (" + str(k.h) + ", " + str(k.w) + "))");
    }
    const Shape& s = x.shape();
    const auto g =
        detail::conv_geometry(op, s[1], s[2], s[3], k, o.stride(), 1, p.h, p.h, p.w, p.w);
    // cols (N, C kh kw, OH, OW) -> (N, C, kh kw, OH, OW), summed over the window.
    const Tensor cols = detail::im2col(x, g);
    const Tensor win = sum(reshape(cols, Shape{s[0], s[1], k.h * k.w, g.oh, g.ow}), {2});
    Tensor y;
    if (o.count_include_pad() || (p.h == 0 && p.w == 0)) {
        y = win / static_cast<double>(k.h * k.w);
    } else {
        // Divide by the number of real (unpadded) elements of each window: a constant (OH, OW).
        std::vector<double> count(g.oh * g.ow);
        for (std::size_t oy = 0; oy < g.oh; ++oy) {
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                const auto y0 =
                    static_cast<std::ptrdiff_t>(oy * g.sh) - static_cast<std::ptrdiff_t>(p.h);
                const auto x0 =
                    static_cast<std::ptrdiff_t>(ox * g.sw) - static_cast<std::ptrdiff_t>(p.w);
                const auto H = static_cast<std::ptrdiff_t>(g.h),
                           W = static_cast<std::ptrdiff_t>(g.w);
                const auto kh = static_cast<std::ptrdiff_t>(k.h),
                           kw = static_cast<std::ptrdiff_t>(k.w);
                const auto rows = std::min(y0 + kh, H) - std::max<std::ptrdiff_t>(y0, 0);
                const auto colsn = std::min(x0 + kw, W) - std::max<std::ptrdiff_t>(x0, 0);
                count[oy * g.ow + ox] = static_cast<double>(rows * colsn);
            }
        }
        y = win / tensor(count, Shape{g.oh, g.ow}, x.dtype());
    }
    return unbatch(y, input);
}

Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size) {
    const char* op = "adaptive_avg_pool2d";
    const Tensor x = batched4(op, input);
    const Shape& s = x.shape();
    const std::size_t H = s[2], W = s[3], OH = output_size.h, OW = output_size.w;
    if (OH == 0 || OW == 0 || H == 0 || W == 0) {
        fail(op, "expected a positive output size and a non-empty input (got output (" + str(OH) +
                     ", " + str(OW) + ") for input " + input.shape().str() + ")");
    }
    // P (H W, OH OW): P[h W + w, i OW + j] = 1 / |window(i, j)| inside window (i, j), with
    // PyTorch's windows [floor(i H / OH), ceil((i + 1) H / OH)).
    const std::size_t rows = Shape{H, W}.numel(op), cols = Shape{OH, OW}.numel(op);
    std::vector<double> pm(Shape{rows, cols}.numel(op), 0.0);
    for (std::size_t i = 0; i < OH; ++i) {
        const std::size_t h0 = i * H / OH, h1 = ((i + 1) * H + OH - 1) / OH;
        for (std::size_t j = 0; j < OW; ++j) {
            const std::size_t w0 = j * W / OW, w1 = ((j + 1) * W + OW - 1) / OW;
            const double v = 1.0 / static_cast<double>((h1 - h0) * (w1 - w0));
            for (std::size_t h = h0; h < h1; ++h) {
                for (std::size_t w = w0; w < w1; ++w) pm[(h * W + w) * cols + i * OW + j] = v;
            }
        }
    }
    // x: (N C, H W) @ P (H W, OH OW) -> (N C, OH OW)
    const Tensor y =
        matmul(reshape(x, Shape{s[0] * s[1], rows}), tensor(pm, Shape{rows, cols}, x.dtype()));
    return unbatch(reshape(y, Shape{s[0], s[1], OH, OW}), input);
}

namespace {
std::size_t wrap(const char* op, std::int64_t dim, std::size_t ndim) {
    const auto n = static_cast<std::int64_t>(ndim);
    const std::int64_t lo = ndim == 0 ? -1 : -n, hi = ndim == 0 ? 0 : n - 1;
    if (dim < lo || dim > hi) {
        fail(op, "dimension out of range (expected to be in range of [" + std::to_string(lo) +
                     ", " + std::to_string(hi) + "], but got " + std::to_string(dim) + ")");
    }
    return static_cast<std::size_t>(dim < 0 ? dim + std::max<std::int64_t>(n, 1) : dim);
}
}  // namespace

// torch.nn.Flatten's default (start_dim 1) on the one flatten op of ops.h.
Tensor flatten(const Tensor& input, std::int64_t start_dim, std::int64_t end_dim) {
    return xgrad::flatten(input, start_dim, end_dim);
}

Tensor unflatten(const Tensor& input, std::int64_t dim, const std::vector<std::size_t>& sizes) {
    const char* op = "unflatten";
    if (!input.defined()) fail(op, "undefined input");
    const std::size_t d = wrap(op, dim, input.ndim());
    const Shape& s = input.shape();
    const std::size_t prod = Shape(sizes).numel(op);
    if (sizes.empty() || prod != s[d]) {
        std::string list;
        for (std::size_t v : sizes) list += (list.empty() ? "" : ", ") + std::to_string(v);
        fail(op, "provided sizes (" + list + ") don't multiply up to the size of dim " +
                     std::to_string(dim) + " (" + std::to_string(s[d]) + ") in the input " +
                     s.str());
    }
    std::vector<std::size_t> dims;
    for (std::size_t e = 0; e < d; ++e) dims.push_back(s[e]);
    dims.insert(dims.end(), sizes.begin(), sizes.end());
    for (std::size_t e = d + 1; e < s.size(); ++e) dims.push_back(s[e]);
    return reshape(input, Shape(dims));
}

}  // namespace functional

Tensor MaxPool2d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::max_pool2d(input, options_);
}
Tensor MaxPool1d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::max_pool1d(input, options_);
}
Tensor AvgPool2d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::avg_pool2d(input, options_);
}
Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::adaptive_avg_pool2d(input, output_size_);
}
Tensor Flatten::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::flatten(input, start_, end_);
}
Tensor Unflatten::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::unflatten(input, dim_, sizes_);
}

namespace {
std::ostream& operator<<(std::ostream& os, Size2 s) {
    return os << "(" << s.h << ", " << s.w << ")";
}
}  // namespace

void MaxPool2d::pretty_print(std::ostream& os) const {
    os << "MaxPool2d(kernel_size=" << options_.kernel_size() << ", stride=" << options_.stride()
       << ", padding=" << options_.padding() << ", dilation=" << options_.dilation() << ")";
}
void MaxPool1d::pretty_print(std::ostream& os) const {
    os << "MaxPool1d(kernel_size=" << options_.kernel_size() << ", stride=" << options_.stride()
       << ", padding=" << options_.padding() << ", dilation=" << options_.dilation() << ")";
}
void AvgPool2d::pretty_print(std::ostream& os) const {
    os << "AvgPool2d(kernel_size=" << options_.kernel_size() << ", stride=" << options_.stride()
       << ", padding=" << options_.padding() << ")";
}
void AdaptiveAvgPool2d::pretty_print(std::ostream& os) const {
    os << "AdaptiveAvgPool2d(output_size=" << output_size_ << ")";
}
void Flatten::pretty_print(std::ostream& os) const {
    os << "Flatten(start_dim=" << start_ << ", end_dim=" << end_ << ")";
}
void Unflatten::pretty_print(std::ostream& os) const {
    os << "Unflatten(dim=" << dim_ << ", unflattened_size=(";
    for (std::size_t i = 0; i < sizes_.size(); ++i) os << (i ? ", " : "") << sizes_[i];
    os << (sizes_.size() == 1 ? ",))" : "))");
}

}  // namespace xgrad::nn
