#include "nn/conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/kernels/nd.h"
#include "autograd/op.h"
#include "autograd/parallel.h"
#include "nn/detail/conv_ops.h"
#include "nn/detail/random.h"
#include "nn/init.h"

namespace xgrad::nn {

Size2::Size2(std::initializer_list<std::size_t> hw) {
    if (hw.size() != 2) {
        throw std::invalid_argument("Size2: expected one value or two (h, w) (got " +
                                    std::to_string(hw.size()) + " values)");
    }
    h = *hw.begin();
    w = *(hw.begin() + 1);
}

PaddingMode Padding2::parse(const char* name) {
    const std::string s = name;
    if (s == "same") return PaddingMode::kSame;
    if (s == "valid") return PaddingMode::kValid;
    throw std::invalid_argument("padding: expected \"same\" or \"valid\" (got \"" + s + "\")");
}

namespace detail {

namespace {

std::string str(std::size_t v) { return std::to_string(v); }

[[noreturn]] void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(op) + ": " + what);
}

std::size_t checked_mul(const char* op, std::size_t a, std::size_t b) {
    std::size_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) {
        fail(op, "size overflows (" + str(a) + " * " + str(b) + ")");
    }
    return r;
}

// ---- im2col / col2im: x (N, C, H, W) <-> cols (N, C kh kw, OH, OW). ----
//
// cols[n, (c kh + i) kw + j, oy, ox] = x[n, c, oy sh + i dh - pt, ox sw + j dw - pl] (0 outside),
// and col2im is its adjoint (overlaps summed). Each is linear, so each one's derivative is the
// other with the same geometry.

// The output columns [lo, hi) whose input column x0 + ox sw lies in [0, w): the inner loops
// then run without a bounds test (and, at stride 1, as a copy).
std::pair<std::size_t, std::size_t> valid_columns(const ConvGeometry& g, std::ptrdiff_t x0) {
    const auto sw = static_cast<std::ptrdiff_t>(g.sw), w = static_cast<std::ptrdiff_t>(g.w);
    const auto ow = static_cast<std::ptrdiff_t>(g.ow);
    std::ptrdiff_t lo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
    std::ptrdiff_t hi = w > x0 ? (w - x0 + sw - 1) / sw : 0;
    lo = std::min(lo, ow);
    hi = std::max(lo, std::min(hi, ow));
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

template <class T>
void im2col_kernel(const ConvGeometry& g, std::size_t n, const T* x, T* cols) {
    const std::size_t planes = n * g.c, per_plane = g.kh * g.kw * g.oh * g.ow;
    const std::size_t grain =
        std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, per_plane));
    parallel_for(0, planes, grain, [&](std::size_t b, std::size_t e) {
        for (std::size_t p = b; p < e; ++p) {
            const T* src = x + p * g.h * g.w;
            T* dst = cols + p * per_plane;
            for (std::size_t i = 0; i < g.kh; ++i) {
                for (std::size_t j = 0; j < g.kw; ++j) {
                    const auto x0 =
                        static_cast<std::ptrdiff_t>(j * g.dw) - static_cast<std::ptrdiff_t>(g.pl);
                    const auto [lo, hi] = valid_columns(g, x0);
                    for (std::size_t oy = 0; oy < g.oh; ++oy, dst += g.ow) {
                        const auto iy = static_cast<std::ptrdiff_t>(oy * g.sh + i * g.dh) -
                                        static_cast<std::ptrdiff_t>(g.pt);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) {
                            std::fill(dst, dst + g.ow, T(0));
                            continue;
                        }
                        const T* row = src + static_cast<std::size_t>(iy) * g.w;
                        std::fill(dst, dst + lo, T(0));
                        if (g.sw == 1) {
                            std::copy(row + (x0 + static_cast<std::ptrdiff_t>(lo)),
                                      row + (x0 + static_cast<std::ptrdiff_t>(hi)), dst + lo);
                        } else {
                            for (std::size_t ox = lo; ox < hi; ++ox) {
                                dst[ox] = row[static_cast<std::size_t>(
                                    x0 + static_cast<std::ptrdiff_t>(ox * g.sw))];
                            }
                        }
                        std::fill(dst + hi, dst + g.ow, T(0));
                    }
                }
            }
        }
    });
}

template <class T>
void col2im_kernel(const ConvGeometry& g, std::size_t n, const T* cols, T* x) {
    const std::size_t planes = n * g.c, per_plane = g.kh * g.kw * g.oh * g.ow;
    const std::size_t grain =
        std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, per_plane));
    // Planes (n, c) write disjoint parts of x: parallel over them is exact and deterministic.
    parallel_for(0, planes, grain, [&](std::size_t b, std::size_t e) {
        for (std::size_t p = b; p < e; ++p) {
            T* dst = x + p * g.h * g.w;
            std::fill(dst, dst + g.h * g.w, T(0));
            const T* src = cols + p * per_plane;
            for (std::size_t i = 0; i < g.kh; ++i) {
                for (std::size_t j = 0; j < g.kw; ++j) {
                    const auto x0 =
                        static_cast<std::ptrdiff_t>(j * g.dw) - static_cast<std::ptrdiff_t>(g.pl);
                    const auto [lo, hi] = valid_columns(g, x0);
                    for (std::size_t oy = 0; oy < g.oh; ++oy, src += g.ow) {
                        const auto iy = static_cast<std::ptrdiff_t>(oy * g.sh + i * g.dh) -
                                        static_cast<std::ptrdiff_t>(g.pt);
                        if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                        T* row = dst + static_cast<std::size_t>(iy) * g.w;
                        if (g.sw == 1) {
                            // cols and x never overlap: restrict lets the short row add vectorise
                            // without a runtime alias check.
                            T* __restrict r = row + (x0 + static_cast<std::ptrdiff_t>(lo));
                            const T* __restrict c = src + lo;
                            for (std::size_t k = 0, len = hi - lo; k < len; ++k) r[k] += c[k];
                        } else {
                            for (std::size_t ox = lo; ox < hi; ++ox) {
                                row[static_cast<std::size_t>(
                                    x0 + static_cast<std::ptrdiff_t>(ox * g.sw))] += src[ox];
                            }
                        }
                    }
                }
            }
        }
    });
}

TensorGrads im2col_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(col2im(grad, ctx.params<ConvGeometry>()));
}
TensorGrads col2im_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(im2col(grad, ctx.params<ConvGeometry>()));
}

const OpDef kIm2col = [] {
    OpDef d{};
    d.name = "im2col";
    d.backward = &im2col_rule;
    d.saves = 0;  // linear: reads no input value
    d.destroy_params = destroy_params_of<ConvGeometry>();
    return d;
}();
const OpDef kCol2im = [] {
    OpDef d{};
    d.name = "col2im";
    d.backward = &col2im_rule;
    d.saves = 0;
    d.destroy_params = destroy_params_of<ConvGeometry>();
    return d;
}();

// ---- channel_matmul and its weight contraction. ----
//
// channel_matmul(W, X): W (g P, Q) holds g blocks W_k (P, Q); X (N, g Q, S...) -> Y (N, g P, S...)
// with Y[n, k] = W_k X[n, k] (a grouped 1x1 convolution; S = the trailing dims, flattened).
// With transpose_w: X (N, g P, S...) -> Y (N, g Q, S...), Y[n, k] = W_k^T X[n, k].
// contract(A, B): A (N, g P, S...), B (N, g Q, S...) -> R (g P, Q), R_k = sum_n A[n, k] B[n, k]^T.
// Their derivatives close over the two (G = dL/dY, H = dL/dR):
//   Y = W X:    dW = contract(G, X),  dX = W^T G,  db = sum of G over n and S;
//   Y = W^T X:  dW = contract(X, G),  dX = W G;
//   R = A . B:  dA = H B,  dB = H^T A.

struct ChannelMatmulParams {
    std::uint32_t groups;
    bool transpose_w;
};
struct ContractParams {
    std::uint32_t groups;
};

Tensor channel_matmul_p(const Tensor& w, const Tensor& x, const Tensor* bias,
                        ChannelMatmulParams p);
Tensor contract_p(const Tensor& a, const Tensor& b, ContractParams p);

std::size_t trailing(const Shape& s) {
    std::size_t n = 1;
    for (std::size_t d = 2; d < s.size(); ++d) n *= s[d];
    return n;
}

TensorGrads channel_matmul_rule(const OpContext& ctx, const Tensor& grad) {
    const auto p = ctx.params<ChannelMatmulParams>();
    const Tensor &w = ctx.input(0), &x = ctx.input(1);
    TensorGrads out = TensorGrads::sized(ctx.num_inputs());
    if (ctx.needs_grad(0)) {
        out[0] = p.transpose_w ? contract_p(x, grad, {p.groups}) : contract_p(grad, x, {p.groups});
    }
    if (ctx.needs_grad(1)) out[1] = channel_matmul_p(w, grad, nullptr, {p.groups, !p.transpose_w});
    if (ctx.num_inputs() == 3 && ctx.needs_grad(2)) {
        std::vector<int> axes{0};
        for (std::size_t d = 2; d < grad.ndim(); ++d) axes.push_back(static_cast<int>(d));
        out[2] = sum(grad, axes);
    }
    return out;
}

TensorGrads contract_rule(const OpContext& ctx, const Tensor& grad) {
    const auto p = ctx.params<ContractParams>();
    const Tensor &a = ctx.input(0), &b = ctx.input(1);
    Tensor ga, gb;
    if (ctx.needs_grad(0)) ga = channel_matmul_p(grad, b, nullptr, {p.groups, false});
    if (ctx.needs_grad(1)) gb = channel_matmul_p(grad, a, nullptr, {p.groups, true});
    return TensorGrads(std::move(ga), std::move(gb));
}

const OpDef kChannelMatmul = [] {
    OpDef d{};
    d.name = "channel_matmul";
    d.backward = &channel_matmul_rule;
    d.saves = 0b011;  // W and X; the bias's gradient reads only G
    return d;
}();
const OpDef kContract = [] {
    OpDef d{};
    d.name = "channel_contract";
    d.backward = &contract_rule;
    return d;
}();

Tensor channel_matmul_p(const Tensor& w, const Tensor& x, const Tensor* bias,
                        ChannelMatmulParams p) {
    const char* op = "channel_matmul";
    ::xgrad::detail::check_same_dtype(op, w, x);
    const std::size_t g = p.groups;
    if (w.ndim() != 2 || x.ndim() < 2 || g == 0 || w.shape()[0] % g != 0) {
        fail(op, "expected W (g P, Q) and X (N, C, ...) (got " + w.shape().str() + " and " +
                     x.shape().str() + " with " + str(g) + " groups)");
    }
    const std::size_t P = w.shape()[0] / g, Q = w.shape()[1];
    const std::size_t in_rows = p.transpose_w ? P : Q, out_rows = p.transpose_w ? Q : P;
    if (x.shape()[1] != checked_mul(op, g, in_rows)) {
        fail(op, "channel counts differ (got W " + w.shape().str() + " and X " + x.shape().str() +
                     " with " + str(g) + " groups)");
    }
    const std::size_t N = x.shape()[0], S = trailing(x.shape());
    std::vector<std::size_t> dims = x.shape().vec();
    dims[1] = checked_mul(op, g, out_rows);
    Shape out_shape(dims);
    Array y = Array::empty(x.dtype(), out_shape);
    const std::size_t in_c = x.shape()[1], out_c = dims[1];
    dispatch(op, x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* W = w.value().data<T>();
        const T* X = x.value().data<T>();
        T* Y = y.data<T>();
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t k = 0; k < g; ++k) {
                // Y[n,k] (out_rows, S) = op(W_k) (out_rows, in_rows) X[n,k] (in_rows, S)
                kernels::gemm<T>(W + k * P * Q, p.transpose_w, X + (n * in_c + k * in_rows) * S,
                                 false, Y + (n * out_c + k * out_rows) * S, out_rows, S, in_rows);
            }
        }
        if (bias != nullptr) {
            const T* B = bias->value().data<T>();
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t c = 0; c < out_c; ++c) {
                    T* row = Y + (n * out_c + c) * S;
                    const T b = B[c];
                    for (std::size_t s = 0; s < S; ++s) row[s] += b;
                }
            }
        }
    });
    if (bias != nullptr) return record(kChannelMatmul, std::move(y), {&w, &x, bias}, p);
    return record(kChannelMatmul, std::move(y), {&w, &x}, p);
}

Tensor contract_p(const Tensor& a, const Tensor& b, ContractParams p) {
    const char* op = "channel_contract";
    ::xgrad::detail::check_same_dtype(op, a, b);
    const std::size_t g = p.groups;
    if (a.ndim() < 2 || b.ndim() != a.ndim() || a.shape()[0] != b.shape()[0] || g == 0 ||
        a.shape()[1] % g != 0 || b.shape()[1] % g != 0 ||
        trailing(a.shape()) != trailing(b.shape())) {
        fail(op, "expected A (N, g P, S) and B (N, g Q, S) (got " + a.shape().str() + " and " +
                     b.shape().str() + " with " + str(g) + " groups)");
    }
    const std::size_t N = a.shape()[0], S = trailing(a.shape());
    const std::size_t P = a.shape()[1] / g, Q = b.shape()[1] / g;
    Array r = Array::full(a.dtype(), Shape{g * P, Q}, 0.0);
    dispatch(op, a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* A = a.value().data<T>();
        const T* B = b.value().data<T>();
        T* R = r.data<T>();
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t k = 0; k < g; ++k) {
                // R_k (P, Q) += A[n,k] (P, S) B[n,k]^T (S, Q)
                kernels::gemm<T>(A + (n * g * P + k * P) * S, false, B + (n * g * Q + k * Q) * S,
                                 true, R + k * P * Q, P, Q, S, T(1));
            }
        }
    });
    return record(kContract, std::move(r), {&a, &b}, p);
}

// ---- conv2d as one record: the composed rule for higher order, a fused fast path. ----
//
// y = channel_matmul(W, im2col(x)) + b. The rule (recorded under create_graph) is that
// composition's: dW = contract(G, im2col(x)), dx = col2im(W^T G), db = sum of G. The fast path
// computes the same per sample on plain arrays, reusing the forward's columns and one
// per-sample buffer for W^T G, so no (N, C kh kw, L) gradient is ever materialised.

struct Conv2dParams {
    ConvGeometry g;
    std::size_t groups = 1;
    Array cols;  // the forward's im2col(x), (N, C kh kw, OH, OW), for the fast path
};

TensorGrads conv2d_rule(const OpContext& ctx, const Tensor& grad) {
    const auto& p = ctx.params<Conv2dParams>();
    const Tensor &x = ctx.input(0), &w = ctx.input(1);
    TensorGrads out = TensorGrads::sized(ctx.num_inputs());
    if (ctx.needs_grad(1)) out[1] = channel_contract(grad, im2col(x, p.g), p.groups);
    if (ctx.needs_grad(0)) {
        out[0] = col2im(channel_matmul(w, grad, Tensor(), p.groups, /*transpose_w=*/true), p.g);
    }
    if (ctx.num_inputs() == 3 && ctx.needs_grad(2)) out[2] = sum(grad, {0, 2, 3});
    return out;
}

Grads conv2d_fast(const Node& self, const Array& grad) {
    const auto& p = self.params<Conv2dParams>();
    const ConvGeometry& g = p.g;
    const Array& x = self.input(0);
    const Array& w = self.input(1);
    const std::size_t N = x.shape()[0], G = p.groups, O = w.shape()[0], Kg = w.shape()[1];
    const std::size_t Og = O / G, L = g.oh * g.ow, K = G * Kg;
    Grads out = Grads::sized(self.num_inputs());
    dispatch("conv2d", grad.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* Gr = grad.data<T>();
        const T* W = w.data<T>();
        const T* C = p.cols.data<T>();
        if (self.needs_grad(1)) {
            Array dw = Array::full(w.dtype(), w.shape(), 0.0);
            T* dW = dw.data<T>();
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t k = 0; k < G; ++k) {
                    // dW_k (Og, Kg) += G[n,k] (Og, L) cols[n,k]^T (L, Kg)
                    kernels::gemm<T>(Gr + (n * O + k * Og) * L, false, C + (n * K + k * Kg) * L,
                                     true, dW + k * Og * Kg, Og, Kg, L, T(1));
                }
            }
            out[1] = std::move(dw);
        }
        if (self.needs_grad(0)) {
            Array dx = Array::empty(x.dtype(), x.shape());
            std::vector<T> dcols(K * L);
            ConvGeometry one = g;  // col2im of one sample at a time
            for (std::size_t n = 0; n < N; ++n) {
                for (std::size_t k = 0; k < G; ++k) {
                    // dcols[k] (Kg, L) = W_k^T (Kg, Og) G[n,k] (Og, L)
                    kernels::gemm<T>(W + k * Og * Kg, true, Gr + (n * O + k * Og) * L, false,
                                     dcols.data() + k * Kg * L, Kg, L, Og);
                }
                col2im_kernel<T>(one, 1, dcols.data(), dx.data<T>() + n * g.c * g.h * g.w);
            }
            out[0] = std::move(dx);
        }
        if (self.num_inputs() == 3 && self.needs_grad(2)) {
            Array db = Array::empty(grad.dtype(), Shape{O});
            T* dB = db.data<T>();
            for (std::size_t o = 0; o < O; ++o) {
                // In double, each row in eight lanes (kernels::lane_sum): one dependency chain
                // of double adds was 3% of the CNN's training step.
                double s = 0;
                for (std::size_t n = 0; n < N; ++n) {
                    s += kernels::sum_contiguous(Gr + (n * O + o) * L, L);
                }
                dB[o] = static_cast<T>(s);
            }
            out[2] = std::move(db);
        }
    });
    return out;
}

const OpDef kConv2d = [] {
    OpDef d{};
    d.name = "conv2d";
    d.backward = &conv2d_rule;
    d.backward_fast = &conv2d_fast;
    d.saves = 0b011;  // x and W; the bias's gradient reads only G
    d.destroy_params = destroy_params_of<Conv2dParams>();
    return d;
}();

}  // namespace

ConvGeometry conv_geometry(const char* op, std::size_t c, std::size_t h, std::size_t w,
                           Size2 kernel, Size2 stride, Size2 dilation, std::size_t pt,
                           std::size_t pb, std::size_t pl, std::size_t pr) {
    if (kernel.h == 0 || kernel.w == 0) fail(op, "kernel size must be positive (got 0)");
    if (stride.h == 0 || stride.w == 0) fail(op, "stride must be positive (got 0)");
    if (dilation.h == 0 || dilation.w == 0) fail(op, "dilation must be positive (got 0)");
    ConvGeometry g;
    g.c = c;
    g.h = h;
    g.w = w;
    g.kh = kernel.h;
    g.kw = kernel.w;
    g.sh = stride.h;
    g.sw = stride.w;
    g.dh = dilation.h;
    g.dw = dilation.w;
    g.pt = pt;
    g.pb = pb;
    g.pl = pl;
    g.pr = pr;
    const std::size_t eh = checked_mul(op, g.dh, g.kh - 1) + 1;
    const std::size_t ew = checked_mul(op, g.dw, g.kw - 1) + 1;
    const std::size_t ph = h + pt + pb, pw = w + pl + pr;
    if (eh > ph || ew > pw) {
        // PyTorch: "Calculated padded input size per channel: (4 x 4). Kernel size: (5 x 5).
        // Kernel size can't be greater than actual input size".
        fail(op, "kernel size can't be greater than the padded input size (got padded input (" +
                     str(ph) + " x " + str(pw) + ") and kernel (" + str(eh) + " x " + str(ew) +
                     ") with dilation)");
    }
    g.oh = (ph - eh) / g.sh + 1;
    g.ow = (pw - ew) / g.sw + 1;
    // Every product the kernels form, checked once here.
    checked_mul(op, checked_mul(op, checked_mul(op, c, g.kh), g.kw), checked_mul(op, g.oh, g.ow));
    return g;
}

Tensor im2col(const Tensor& x, const ConvGeometry& g) {
    ::xgrad::detail::check_defined("im2col", x);
    if (x.ndim() != 4 || x.shape()[1] != g.c || x.shape()[2] != g.h || x.shape()[3] != g.w) {
        fail("im2col", "input shape " + x.shape().str() + " differs from the geometry's (N," +
                           str(g.c) + "," + str(g.h) + "," + str(g.w) + ")");
    }
    const std::size_t n = x.shape()[0];
    Shape out{n, checked_mul("im2col", g.c, g.kh * g.kw), g.oh, g.ow};
    out.numel("im2col");
    Array cols = Array::empty(x.dtype(), out);
    dispatch("im2col", x.dtype(), [&](auto t) {
        using T = decltype(t);
        im2col_kernel<T>(g, n, x.value().data<T>(), cols.data<T>());
    });
    return record(kIm2col, std::move(cols), {&x}, ConvGeometry(g));
}

Tensor col2im(const Tensor& cols, const ConvGeometry& g) {
    ::xgrad::detail::check_defined("col2im", cols);
    if (cols.ndim() != 4 || cols.shape()[1] != g.c * g.kh * g.kw || cols.shape()[2] != g.oh ||
        cols.shape()[3] != g.ow) {
        fail("col2im", "input shape " + cols.shape().str() + " differs from the geometry's (N," +
                           str(g.c * g.kh * g.kw) + "," + str(g.oh) + "," + str(g.ow) + ")");
    }
    const std::size_t n = cols.shape()[0];
    Array x = Array::empty(cols.dtype(), Shape{n, g.c, g.h, g.w});
    dispatch("col2im", cols.dtype(), [&](auto t) {
        using T = decltype(t);
        col2im_kernel<T>(g, n, cols.value().data<T>(), x.data<T>());
    });
    return record(kCol2im, std::move(x), {&cols}, ConvGeometry(g));
}

Tensor channel_matmul(const Tensor& w, const Tensor& x, const Tensor& bias, std::size_t groups,
                      bool transpose_w) {
    ::xgrad::detail::check_defined("channel_matmul", w, "weight");
    ::xgrad::detail::check_defined("channel_matmul", x, "input");
    const ChannelMatmulParams p{static_cast<std::uint32_t>(groups), transpose_w};
    if (bias.defined()) {
        ::xgrad::detail::check_same_dtype("channel_matmul", w, bias);
        if (transpose_w || bias.ndim() != 1 || bias.shape()[0] != w.shape()[0]) {
            fail("channel_matmul",
                 "bias " + bias.shape().str() + " does not fit weight " + w.shape().str());
        }
        return channel_matmul_p(w, x, &bias, p);
    }
    return channel_matmul_p(w, x, nullptr, p);
}

Tensor channel_contract(const Tensor& a, const Tensor& b, std::size_t groups) {
    ::xgrad::detail::check_defined("channel_contract", a, "input 0");
    ::xgrad::detail::check_defined("channel_contract", b, "input 1");
    return contract_p(a, b, {static_cast<std::uint32_t>(groups)});
}

Tensor conv2d_op(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g,
                 std::size_t groups) {
    const char* op = "conv2d";
    ::xgrad::detail::check_same_dtype(op, x, w);
    const std::size_t N = x.shape()[0], O = w.shape()[0], Kg = w.shape()[1];
    const std::size_t L = g.oh * g.ow, K = checked_mul(op, g.c, g.kh * g.kw), Og = O / groups;
    if (x.ndim() != 4 || w.ndim() != 2 || groups == 0 || O % groups != 0 || K != groups * Kg) {
        fail(op, "input " + x.shape().str() + " and weight " + w.shape().str() +
                     " do not fit the geometry with " + str(groups) + " groups");
    }
    Conv2dParams p;
    p.g = g;
    p.groups = groups;
    p.cols = Array::empty(x.dtype(), Shape{N, K, g.oh, g.ow});
    Array y = Array::empty(x.dtype(), Shape{N, O, g.oh, g.ow});
    dispatch(op, x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* X = x.value().data<T>();
        const T* W = w.value().data<T>();
        T* C = p.cols.data<T>();
        T* Y = y.data<T>();
        const T* B = bias.defined() ? bias.value().data<T>() : nullptr;
        for (std::size_t n = 0; n < N; ++n) {
            // One sample's columns, multiplied while they are still in cache.
            im2col_kernel<T>(g, 1, X + n * g.c * g.h * g.w, C + n * K * L);
            for (std::size_t k = 0; k < groups; ++k) {
                // y[n,k] (Og, L) = W_k (Og, Kg) cols[n,k] (Kg, L)
                kernels::gemm<T>(W + k * Og * Kg, false, C + (n * K + k * Kg) * L, false,
                                 Y + (n * O + k * Og) * L, Og, L, Kg);
            }
            if (B == nullptr) continue;
            for (std::size_t o = 0; o < O; ++o) {
                T* row = Y + (n * O + o) * L;
                for (std::size_t l = 0; l < L; ++l) row[l] += B[o];
            }
        }
    });
    const bool grad_wanted = grad_enabled() && (x.requires_grad() || w.requires_grad() ||
                                                (bias.defined() && bias.requires_grad()));
    if (!grad_wanted) p.cols = Array();  // no backward: do not keep the columns
    if (bias.defined()) return record(kConv2d, std::move(y), {&x, &w, &bias}, std::move(p));
    return record(kConv2d, std::move(y), {&x, &w}, std::move(p));
}

// (before, after) padding of one dim: explicit, or "same" (PyTorch puts the odd one after).
std::pair<std::size_t, std::size_t> pad_of(const Padding2& p, bool height, std::size_t k,
                                           std::size_t d) {
    if (p.mode == PaddingMode::kValid) return {0, 0};
    if (p.mode == PaddingMode::kSame) {
        const std::size_t total = d * (k - 1);
        return {total / 2, total - total / 2};
    }
    const std::size_t v = height ? p.size.h : p.size.w;
    return {v, v};
}

}  // namespace detail

namespace functional {

namespace {
std::string str(std::size_t v) { return std::to_string(v); }
[[noreturn]] void fail(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string(op) + ": " + what);
}
}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv2dFuncOptions& o, const char* layer) {
    if (!input.defined()) fail(layer, "undefined input");
    if (!weight.defined()) fail(layer, "undefined weight");
    if (weight.ndim() != 4) {
        fail(layer,
             "weight must be 4-D (out, in/groups, kh, kw) (got " + weight.shape().str() + ")");
    }
    if (input.ndim() != 3 && input.ndim() != 4) {
        fail(layer, "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input (got " +
                        input.shape().str() + " for weight " + weight.shape().str() + ")");
    }
    if (input.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != weight.dtype())) {
        fail(layer, std::string("input dtype ") + dtype_name(input.dtype()) +
                        " differs from the weight's " + dtype_name(weight.dtype()) +
                        " (convert with to(x, dtype) or module.to(dtype))");
    }
    const std::size_t groups = o.groups_;
    const std::size_t out_c = weight.shape()[0], cg = weight.shape()[1];
    if (groups == 0 || out_c % groups != 0) {
        fail(layer, "out_channels must be divisible by groups (got weight " + weight.shape().str() +
                        " and groups=" + str(groups) + ")");
    }
    if (bias.defined() && (bias.ndim() != 1 || bias.shape()[0] != out_c)) {
        fail(layer, "bias must be (" + str(out_c) + ") (got " + bias.shape().str() + ")");
    }
    const bool batched = input.ndim() == 4;
    const Tensor x =
        batched ? input
                : reshape(input, Shape{1, input.shape()[0], input.shape()[1], input.shape()[2]});
    const std::size_t c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
    if (c != cg * groups) {
        // PyTorch: "Given groups=1, weight of size [6, 1, 5, 5], expected input[1, 3, 28, 28] to
        // have 1 channels, but got 3 channels instead".
        fail(layer, "expected input with " + str(cg * groups) + " channels (got input " +
                        input.shape().str() + " with " + str(c) + " channels, weight " +
                        weight.shape().str() + ", groups=" + str(groups) + ")");
    }
    const std::size_t kh = weight.shape()[2], kw = weight.shape()[3];
    if (o.padding_.mode == PaddingMode::kSame && (o.stride_.h != 1 || o.stride_.w != 1)) {
        fail(layer, "padding='same' is not supported for strided convolutions (got stride (" +
                        str(o.stride_.h) + ", " + str(o.stride_.w) + "))");
    }
    const auto [pt, pb] = detail::pad_of(o.padding_, true, kh, o.dilation_.h);
    const auto [pl, pr] = detail::pad_of(o.padding_, false, kw, o.dilation_.w);
    const detail::ConvGeometry g =
        detail::conv_geometry(layer, c, h, w, {kh, kw}, o.stride_, o.dilation_, pt, pb, pl, pr);
    // x: (N, C, H, W) -> cols (N, C kh kw, OH, OW); W as (O, C/g kh kw); y (N, O, OH, OW),
    // recorded as one conv2d node (see conv2d_op).
    const Tensor w2 = reshape(weight, Shape{out_c, cg * kh * kw});
    Tensor y = detail::conv2d_op(x, w2, bias, g, groups);
    return batched ? y : reshape(y, Shape{out_c, g.oh, g.ow});
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, std::size_t stride,
              Padding2 padding, std::size_t dilation, std::size_t groups, const char* layer) {
    if (!input.defined()) fail(layer, "undefined input");
    if (!weight.defined()) fail(layer, "undefined weight");
    if (weight.ndim() != 3) {
        fail(layer, "weight must be 3-D (out, in/groups, k) (got " + weight.shape().str() + ")");
    }
    if (input.ndim() != 2 && input.ndim() != 3) {
        fail(layer, "expected a 2-D (C, L) or 3-D (N, C, L) input (got " + input.shape().str() +
                        " for weight " + weight.shape().str() + ")");
    }
    const bool batched = input.ndim() == 3;
    const std::size_t n = batched ? input.shape()[0] : 1;
    const std::size_t c = input.shape()[batched ? 1 : 0], l = input.shape()[batched ? 2 : 1];
    if (c != weight.shape()[1] * groups) {
        fail(layer, "expected input with " + str(weight.shape()[1] * groups) +
                        " channels (got input " + input.shape().str() + " with " + str(c) +
                        " channels, weight " + weight.shape().str() + ", groups=" + str(groups) +
                        ")");
    }
    // (N, C, L) as (N, C, 1, L) with a (1, k) kernel: no padding along the unit height.
    Padding2 pad2 = padding;
    if (padding.mode == PaddingMode::kExplicit) pad2 = Padding2({0, padding.size.h});
    Conv2dFuncOptions o;
    o.stride({1, stride}).padding(pad2).dilation({1, dilation}).groups(groups);
    const Shape ws = weight.shape();
    const Tensor y = conv2d(reshape(input, Shape{n, c, 1, l}),
                            reshape(weight, Shape{ws[0], ws[1], 1, ws[2]}), bias, o, layer);
    const std::size_t ol = y.shape()[3];
    return batched ? reshape(y, Shape{n, ws[0], ol}) : reshape(y, Shape{ws[0], ol});
}

Tensor unfold(const Tensor& input, Size2 kernel_size, Size2 dilation, Size2 padding, Size2 stride) {
    const char* op = "unfold";
    if (!input.defined()) fail(op, "undefined input");
    if (input.ndim() != 4)
        fail(op, "expected a 4-D (N, C, H, W) input (got " + input.shape().str() + ")");
    const Shape& s = input.shape();
    const auto g = detail::conv_geometry(op, s[1], s[2], s[3], kernel_size, stride, dilation,
                                         padding.h, padding.h, padding.w, padding.w);
    const Tensor cols = detail::im2col(input, g);
    return reshape(cols, Shape{s[0], cols.shape()[1], g.oh * g.ow});
}

Tensor fold(const Tensor& input, Size2 output_size, Size2 kernel_size, Size2 dilation,
            Size2 padding, Size2 stride) {
    const char* op = "fold";
    if (!input.defined()) fail(op, "undefined input");
    if (input.ndim() != 3)
        fail(op, "expected a 3-D (N, C kh kw, L) input (got " + input.shape().str() + ")");
    const std::size_t kk = kernel_size.h * kernel_size.w;
    const Shape& s = input.shape();
    if (kk == 0 || s[1] % kk != 0) {
        fail(op, "expected size(1) divisible by kh kw = " + str(kk) + " (got " + s.str() + ")");
    }
    const auto g =
        detail::conv_geometry(op, s[1] / kk, output_size.h, output_size.w, kernel_size, stride,
                              dilation, padding.h, padding.h, padding.w, padding.w);
    if (s[2] != g.oh * g.ow) {
        fail(op, "expected " + str(g.oh * g.ow) + " blocks (" + str(g.oh) + " x " + str(g.ow) +
                     ") for output size (" + str(output_size.h) + ", " + str(output_size.w) +
                     ") (got " + s.str() + ")");
    }
    return detail::col2im(reshape(input, Shape{s[0], s[1], g.oh, g.ow}), g);
}

}  // namespace functional

Conv2d::Conv2d(const Conv2dOptions& options) : Module("Conv2d"), options_(options) {
    const auto& o = options_;
    if (o.groups() == 0 || o.in_channels() % o.groups() != 0 ||
        o.out_channels() % o.groups() != 0) {
        throw std::invalid_argument(
            "Conv2d: in_channels and out_channels must be divisible by "
            "groups (got " +
            std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
            " and groups=" + std::to_string(o.groups()) + ")");
    }
    weight_ =
        register_parameter("weight", zeros(Shape{o.out_channels(), o.in_channels() / o.groups(),
                                                 o.kernel_size().h, o.kernel_size().w},
                                           o.dtype()));
    if (o.bias()) bias_ = register_parameter("bias", zeros(Shape{o.out_channels()}, o.dtype()));
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void Conv2d::reseed_default(std::uint64_t seed) {
    // PyTorch: kaiming_uniform_(a = sqrt(5)) gives bound gain sqrt(3 / fan_in) with gain
    // sqrt(2 / (1 + 5)), i.e. 1 / sqrt(fan_in); the bias uses the same bound.
    const std::size_t fan_in = weight_.numel() / std::max<std::size_t>(1, weight_.shape()[0]);
    const double b = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(parameters(/*recurse=*/false), -b, b, seed);
}

Tensor Conv2d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    functional::Conv2dFuncOptions f;
    f.stride(options_.stride())
        .padding(options_.padding())
        .dilation(options_.dilation())
        .groups(options_.groups());
    return functional::conv2d(input, weight_, bias_, f, "Conv2d");
}

namespace {
void print_pair(std::ostream& os, const char* name, std::size_t h, std::size_t w) {
    os << ", " << name << "=(" << h << ", " << w << ")";
}
}  // namespace

void Conv2d::pretty_print(std::ostream& os) const {
    const auto& o = options_;
    os << "Conv2d(" << o.in_channels() << ", " << o.out_channels() << ", kernel_size=("
       << o.kernel_size().h << ", " << o.kernel_size().w << "), stride=(" << o.stride().h << ", "
       << o.stride().w << ")";
    const Padding2 p = o.padding();
    if (p.mode == PaddingMode::kSame) {
        os << ", padding=same";
    } else if (p.mode == PaddingMode::kValid) {
        os << ", padding=valid";
    } else if (p.size.h != 0 || p.size.w != 0) {
        print_pair(os, "padding", p.size.h, p.size.w);
    }
    if (o.dilation().h != 1 || o.dilation().w != 1) {
        print_pair(os, "dilation", o.dilation().h, o.dilation().w);
    }
    if (o.groups() != 1) os << ", groups=" << o.groups();
    if (!o.bias()) os << ", bias=False";
    os << ")";
}

Conv1d::Conv1d(const Conv1dOptions& options) : Module("Conv1d"), options_(options) {
    const auto& o = options_;
    if (o.groups() == 0 || o.in_channels() % o.groups() != 0 ||
        o.out_channels() % o.groups() != 0) {
        throw std::invalid_argument(
            "Conv1d: in_channels and out_channels must be divisible by "
            "groups (got " +
            std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
            " and groups=" + std::to_string(o.groups()) + ")");
    }
    weight_ = register_parameter(
        "weight",
        zeros(Shape{o.out_channels(), o.in_channels() / o.groups(), o.kernel_size()}, o.dtype()));
    if (o.bias()) bias_ = register_parameter("bias", zeros(Shape{o.out_channels()}, o.dtype()));
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void Conv1d::reseed_default(std::uint64_t seed) {
    const std::size_t fan_in = weight_.numel() / std::max<std::size_t>(1, weight_.shape()[0]);
    const double b = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(parameters(/*recurse=*/false), -b, b, seed);
}

Tensor Conv1d::forward(const Tensor& input) {
    check_not_moved_from("forward");
    const auto& o = options_;
    return functional::conv1d(input, weight_, bias_, o.stride(), o.padding(), o.dilation(),
                              o.groups(), "Conv1d");
}

void Conv1d::pretty_print(std::ostream& os) const {
    const auto& o = options_;
    os << "Conv1d(" << o.in_channels() << ", " << o.out_channels() << ", kernel_size=("
       << o.kernel_size() << ",), stride=(" << o.stride() << ",)";
    const Padding2 p = o.padding();
    if (p.mode == PaddingMode::kSame) {
        os << ", padding=same";
    } else if (p.mode == PaddingMode::kValid) {
        os << ", padding=valid";
    } else if (p.size.h != 0) {
        os << ", padding=(" << p.size.h << ",)";
    }
    if (o.dilation() != 1) os << ", dilation=(" << o.dilation() << ",)";
    if (o.groups() != 1) os << ", groups=" << o.groups();
    if (!o.bias()) os << ", bias=False";
    os << ")";
}

}  // namespace xgrad::nn
