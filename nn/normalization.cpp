#include "nn/normalization.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "autograd/grad_mode.h"
#include "autograd/kernels.h"
#include "autograd/op.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "nn/activation_checkpoint.h"

namespace xgrad::nn {

namespace {

[[noreturn]] void fail(const std::string& layer, const std::string& what) {
    throw std::invalid_argument(layer + ": " + what);
}

void check_dtype(const std::string& layer, const Tensor& x, DType dtype) {
    if (x.dtype() != dtype) {
        fail(layer, std::string("input dtype ") + dtype_name(x.dtype()) +
                        " differs from the layer's " + dtype_name(dtype) +
                        " (convert with to(x, dtype) or module.to(dtype))");
    }
}

// (1, C, 1, ..., 1) of rank `ndim`: a per-channel vector broadcast along dim 1.
Shape channel_shape(std::size_t c, std::size_t ndim) {
    std::vector<std::size_t> dims(ndim, 1);
    dims[1] = c;
    return Shape(dims);
}

// ---- The fused normalisation op ----
//
// x is viewed as (A, C, B), contiguous: the statistics of slice c are over its A*B = M elements
// x[a, c, b]. BatchNorm: (N, C, prod(spatial)); LayerNorm: (1, rows, prod(normalized_shape));
// GroupNorm: (1, N*G, C/G * prod(spatial)). The optional weight and bias index c (kC) or b (kB).
//   y = xhat w + beta,  xhat = (x - mu_c) rstd_c,  rstd_c = 1 / sqrt(var_c + eps), var biased.
// Backward, with h = g w (the gradient of xhat) and means over slice c:
//   dx = rstd_c (h - mean(h) - xhat mean(h xhat)),  dw = sum g xhat,  dbeta = sum g
// (dw, dbeta summed over everything but w's index).
enum class AffineAxis : std::uint8_t { kNone, kC, kB };

struct NormParams {
    std::size_t a = 1, c = 1, b = 1;
    double eps = 0;
    AffineAxis axis = AffineAxis::kNone;
    bool has_weight = false, has_bias = false;
    // Per slice, from the last forward (mutable: a replay's forward_into recomputes them).
    mutable std::vector<double> mean, rstd;
};

// Slices per parallel chunk: about kParallelGrain elements each, so the chunk boundaries depend
// on the shape only (results are the same bits for any thread count: slices are independent).
std::size_t slice_grain(const NormParams& p) {
    return std::max<std::size_t>(1, kParallelGrain / std::max<std::size_t>(1, p.a * p.b));
}

// Forward of slices [c0, c1): statistics into p.mean, p.rstd (and the biased var into `var`
// when given), y written. w and beta may be null.
template <class T>
void norm_forward(const NormParams& p, const T* x, const T* w, const T* beta, T* y, double* var,
                  std::size_t c0, std::size_t c1) {
    const std::size_t A = p.a, C = p.c, B = p.b;
    const double m = static_cast<double>(A * B);
    for (std::size_t c = c0; c < c1; ++c) {
        double s = 0;
        for (std::size_t a = 0; a < A; ++a) {
            const T* xs = x + (a * C + c) * B;
            s += kernels::lane_sum(B, [&](std::size_t i) { return static_cast<double>(xs[i]); });
        }
        const double mu = s / m;
        double q = 0;
        for (std::size_t a = 0; a < A; ++a) {
            const T* xs = x + (a * C + c) * B;
            q += kernels::lane_sum(B, [&](std::size_t i) {
                const double d = static_cast<double>(xs[i]) - mu;
                return d * d;
            });
        }
        const double v = q / m, r = 1.0 / std::sqrt(v + p.eps);
        p.mean[c] = mu;
        p.rstd[c] = r;
        if (var != nullptr) var[c] = v;
        const T mt = static_cast<T>(mu), rt = static_cast<T>(r);
        for (std::size_t a = 0; a < A; ++a) {
            const T* xs = x + (a * C + c) * B;
            T* ys = y + (a * C + c) * B;
            if (p.axis == AffineAxis::kB) {
                for (std::size_t i = 0; i < B; ++i) {
                    const T xh = (xs[i] - mt) * rt;
                    ys[i] = (w ? xh * w[i] : xh) + (beta ? beta[i] : T(0));
                }
            } else {
                const T wc = w ? w[c] : T(1), bc = beta ? beta[c] : T(0);
                for (std::size_t i = 0; i < B; ++i) ys[i] = (xs[i] - mt) * rt * wc + bc;
            }
        }
    }
}

template <class T>
void norm_forward_all(const NormParams& p, const T* x, const T* w, const T* beta, T* y,
                      double* var) {
    p.mean.assign(p.c, 0.0);
    p.rstd.assign(p.c, 0.0);
    parallel_for(0, p.c, slice_grain(p), [&](std::size_t c0, std::size_t c1) {
        norm_forward(p, x, w, beta, y, var, c0, c1);
    });
}

// Slice c of the fast backward, with h(j, i) the upstream gradient at flat index j (position i
// along b) times the weight when it varies along b (LayerNorm), else the gradient itself, and
// xhat = (x - mean) rstd: sum h and sum h xhat, added into sh and shx.
template <class T, class H>
void slice_sums(const NormParams& p, std::size_t c, const T* x, H&& h, double& sh, double& shx) {
    const std::size_t C = p.c, B = p.b;
    const T mt = static_cast<T>(p.mean[c]), rt = static_cast<T>(p.rstd[c]);
    for (std::size_t a = 0; a < p.a; ++a) {
        const std::size_t o = (a * C + c) * B;
        kernels::lane_sum2(
            B, [&](std::size_t i) { return static_cast<double>(h(o + i, i)); },
            [&](std::size_t i) {
                return static_cast<double>(h(o + i, i) * ((x[o + i] - mt) * rt));
            },
            sh, shx);
    }
}
// ... and its dx = scale (h - sum h / M - xhat sum h xhat / M), with scale = rstd times the
// per-channel weight (or rstd alone).
template <class T, class H>
void slice_dx(const NormParams& p, std::size_t c, const T* x, H&& h, T scale, double sh, double shx,
              T* dx) {
    const std::size_t C = p.c, B = p.b;
    const double m = static_cast<double>(p.a * B);
    const T mt = static_cast<T>(p.mean[c]), rt = static_cast<T>(p.rstd[c]);
    const T mh = static_cast<T>(sh / m), mhx = static_cast<T>(shx / m);
    for (std::size_t a = 0; a < p.a; ++a) {
        const std::size_t o = (a * C + c) * B;
        for (std::size_t i = 0; i < B; ++i) {
            dx[o + i] = scale * (h(o + i, i) - mh - ((x[o + i] - mt) * rt) * mhx);
        }
    }
}

// The fast backward. Per-channel affine (or none): one pass for sum g and sum g xhat per slice
// (which are dbeta and dw too), one for dx = rstd w (g - sum g / M - xhat sum g xhat / M).
// Per-b affine (LayerNorm): h = g w, one pass for sum h and sum h xhat, one for dx, then dw and
// dbeta summed over the slices in a fixed order.
template <class T>
void norm_backward(const NormParams& p, const T* x, const T* w, const T* g, T* dx, T* dw,
                   T* dbeta) {
    const std::size_t A = p.a, C = p.c, B = p.b;
    if (p.axis != AffineAxis::kB) {
        const auto h = [g](std::size_t j, std::size_t) { return g[j]; };
        parallel_for(0, C, slice_grain(p), [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                double sg = 0, sgx = 0;
                slice_sums(p, c, x, h, sg, sgx);
                if (dw) dw[c] = static_cast<T>(sgx);
                if (dbeta) dbeta[c] = static_cast<T>(sg);
                if (dx == nullptr) continue;
                const T scale = static_cast<T>(p.rstd[c]) * (w ? w[c] : T(1));
                slice_dx(p, c, x, h, scale, sg, sgx, dx);
            }
        });
        return;
    }
    if (dx != nullptr) {
        const auto h = [g, w](std::size_t j, std::size_t i) { return w ? g[j] * w[i] : g[j]; };
        parallel_for(0, C, slice_grain(p), [&](std::size_t c0, std::size_t c1) {
            for (std::size_t c = c0; c < c1; ++c) {
                double sh = 0, shx = 0;
                slice_sums(p, c, x, h, sh, shx);
                slice_dx(p, c, x, h, static_cast<T>(p.rstd[c]), sh, shx, dx);
            }
        });
    }
    if (dw == nullptr && dbeta == nullptr) return;
    std::vector<double> sw(B, 0.0), sb(B, 0.0);
    for (std::size_t r = 0; r < A * C; ++r) {
        const T mt = static_cast<T>(p.mean[r % C]), rt = static_cast<T>(p.rstd[r % C]);
        const T* gs = g + r * B;
        const T* xs = x + r * B;
        for (std::size_t i = 0; i < B; ++i) {
            sw[i] += static_cast<double>(gs[i] * ((xs[i] - mt) * rt));
            sb[i] += static_cast<double>(gs[i]);
        }
    }
    for (std::size_t i = 0; i < B; ++i) {
        if (dw) dw[i] = static_cast<T>(sw[i]);
        if (dbeta) dbeta[i] = static_cast<T>(sb[i]);
    }
}

// Inputs: x, then weight if has_weight, then bias if has_bias.
Grads norm_fast(const Node& self, const Array& grad) {
    const NormParams& p = self.params<NormParams>();
    const std::size_t iw = 1, ib = p.has_weight ? 2 : 1;
    Grads out = Grads::sized(self.num_inputs());
    dispatch(grad.dtype(), [&](auto t) {
        using T = decltype(t);
        const Array& x = self.input(0);
        const T* w = p.has_weight ? self.input(iw).data<T>() : nullptr;
        T *dx = nullptr, *dw = nullptr, *db = nullptr;
        if (self.needs_grad(0)) {
            out[0] = Array::empty(x.dtype(), x.shape());
            dx = out[0].data<T>();
        }
        if (p.has_weight && self.needs_grad(iw)) {
            out[iw] = Array::empty(x.dtype(), self.input(iw).shape());
            dw = out[iw].data<T>();
        }
        if (p.has_bias && self.needs_grad(ib)) {
            out[ib] = Array::empty(x.dtype(), self.input(ib).shape());
            db = out[ib].data<T>();
        }
        norm_backward<T>(p, x.data<T>(), w, grad.data<T>(), dx, dw, db);
    });
    return out;
}

// The same rule in ops, so that it can be differentiated again (create_graph).
TensorGrads norm_rule(const OpContext& ctx, const Tensor& grad) {
    const NormParams& p = ctx.params<NormParams>();
    const Shape v{p.a, p.c, p.b};
    const std::vector<int> slice{0, 2};
    const Tensor xr = reshape(ctx.input(0), v), gr = reshape(grad, v);
    const Tensor xc = xr - mean(xr, slice, /*keepdims=*/true);
    const Tensor rstd = rsqrt(mean(square(xc), slice, true) + p.eps);
    const Tensor xhat = xc * rstd;
    const Shape ws = p.axis == AffineAxis::kB ? Shape{1, 1, p.b} : Shape{1, p.c, 1};
    const std::vector<int> wsum = p.axis == AffineAxis::kB ? std::vector<int>{0, 1} : slice;
    const std::size_t iw = 1, ib = p.has_weight ? 2 : 1;
    const Tensor h = p.has_weight ? gr * reshape(ctx.input(iw), ws) : gr;
    TensorGrads out = TensorGrads::sized(ctx.num_inputs());
    if (ctx.needs_grad(0)) {
        out[0] = reshape(rstd * (h - mean(h, slice, true) - xhat * mean(h * xhat, slice, true)),
                         ctx.input(0).shape());
    }
    if (p.has_weight && ctx.needs_grad(iw)) {
        out[iw] = reshape(sum(gr * xhat, wsum), ctx.input(iw).shape());
    }
    if (p.has_bias && ctx.needs_grad(ib)) out[ib] = reshape(sum(gr, wsum), ctx.input(ib).shape());
    return out;
}

void norm_forward_into(const Node& self, Array& out) {
    const NormParams& p = self.params<NormParams>();
    dispatch(out.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* w = p.has_weight ? self.input(1).data<T>() : nullptr;
        const T* beta = p.has_bias ? self.input(p.has_weight ? 2 : 1).data<T>() : nullptr;
        norm_forward_all<T>(p, self.input(0).data<T>(), w, beta, out.data<T>(), nullptr);
    });
}

const OpDef kNormalize = [] {
    OpDef d{};
    d.name = "normalize";
    d.backward = &norm_rule;
    d.backward_fast = &norm_fast;
    d.forward_into = &norm_forward_into;
    d.saves = 0b011;  // x and weight (bias is not read)
    d.destroy_params = destroy_params_of<NormParams>();
    return d;
}();

// y = xhat w + beta over the (a, c, b) view of x; the biased variance of each slice into
// `var` when given. weight/bias undefined: none. The caller checked shapes and dtypes.
Tensor normalize(const Tensor& x, std::size_t a, std::size_t c, std::size_t b, double eps,
                 AffineAxis axis, const Tensor& weight, const Tensor& bias,
                 std::vector<double>* mean_out = nullptr, std::vector<double>* var = nullptr) {
    NormParams p;
    p.a = a;
    p.c = c;
    p.b = b;
    p.eps = eps;
    p.axis = axis;
    p.has_weight = weight.defined();
    p.has_bias = bias.defined();
    if (var != nullptr) var->assign(c, 0.0);
    Array y = Array::empty(x.dtype(), x.shape());
    dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        norm_forward_all<T>(p, x.value().data<T>(),
                            p.has_weight ? weight.value().data<T>() : nullptr,
                            p.has_bias ? bias.value().data<T>() : nullptr, y.data<T>(),
                            var ? var->data() : nullptr);
    });
    if (mean_out != nullptr) *mean_out = p.mean;
    std::vector<const Tensor*> in{&x};
    if (p.has_weight) in.push_back(&weight);
    if (p.has_bias) in.push_back(&bias);
    Tensor out;
    Node* n = xgrad::detail::record_node(kNormalize, std::move(y), in.data(), in.size(), out);
    if (n != nullptr) {
        n->set_params(std::move(p));
        xgrad::detail::notify_recorded(n);
    }
    return out;
}

// A weight or bias of `shape` and x's dtype, or undefined.
void check_affine(const char* op, const char* role, const Tensor& t, const Tensor& x,
                  const Shape& shape) {
    if (!t.defined()) return;
    if (t.shape() != shape) {
        throw std::invalid_argument(std::string(op) + ": " + role + " of shape " + t.shape().str() +
                                    " does not fit input " + x.shape().str() + " (expected " +
                                    shape.str() + ")");
    }
    if (t.dtype() != x.dtype()) {
        throw std::invalid_argument(std::string(op) + ": " + role + " dtype " +
                                    dtype_name(t.dtype()) + " differs from the input's " +
                                    dtype_name(x.dtype()));
    }
}

std::string dims_str(const std::vector<std::size_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
}

}  // namespace

BatchNormBase::BatchNormBase(const char* name, const BatchNormOptions& options,
                             std::size_t min_rank, std::size_t max_rank)
    : Module(name), options_(options), min_rank_(min_rank), max_rank_(max_rank) {
    const std::size_t c = options.num_features();
    const DType dt = options.dtype();
    if (options.affine()) {
        weight_ = register_parameter("weight", ones(Shape{c}, dt));
        bias_ = register_parameter("bias", zeros(Shape{c}, dt));
    }
    if (options.track_running_stats()) {
        running_mean_ = register_buffer("running_mean", zeros(Shape{c}, dt));
        running_var_ = register_buffer("running_var", ones(Shape{c}, dt));
        num_batches_ = register_buffer("num_batches_tracked",
                                       Tensor(Array::from_vector<std::int64_t>({0}, Shape{})));
    }
}

Tensor BatchNormBase::forward(const Tensor& input) {
    check_not_moved_from("forward");
    const std::string& layer = name();
    if (!input.defined()) fail(layer, "undefined input");
    const std::size_t c = options_.num_features();
    if (input.ndim() < min_rank_ || input.ndim() > max_rank_) {
        fail(layer, std::string("expected ") +
                        (max_rank_ == 4 ? "4-D (N, C, H, W)" : "2-D (N, C) or 3-D (N, C, L)") +
                        " input (got " + input.shape().str() + ")");
    }
    if (input.shape()[1] != c) {
        fail(layer, "expected " + std::to_string(c) + " channels in dim 1 (got input " +
                        input.shape().str() + ")");
    }
    const DType dt = weight_.defined()         ? weight_.dtype()
                     : running_mean_.defined() ? running_mean_.dtype()
                                               : input.dtype();
    check_dtype(layer, input, dt);
    const bool track = options_.track_running_stats();
    const bool batch_stats = is_training() || !track;
    if (is_training() && input.numel() / std::max<std::size_t>(1, c) <= 1) {
        // PyTorch: "Expected more than 1 value per channel when training, got input size
        // torch.Size([1, 3])".
        fail(layer, "expected more than 1 value per channel when training (got input size " +
                        input.shape().str() + ")");
    }
    double momentum = options_.momentum().value_or(0.0);
    // An activation checkpoint's recomputation repeats a forward that already counted the batch.
    if (is_training() && track && !checkpoint_recomputing()) {
        std::int64_t* nb = num_batches_.mutable_value().data<std::int64_t>();
        *nb += 1;
        if (!options_.momentum()) momentum = 1.0 / static_cast<double>(*nb);
    }
    return functional::batch_norm(input, track ? running_mean_ : Tensor(),
                                  track ? running_var_ : Tensor(),
                                  functional::BatchNormFuncOptions()
                                      .weight(weight_)
                                      .bias(bias_)
                                      .training(batch_stats)
                                      .momentum(momentum)
                                      .eps(options_.eps()));
}

void BatchNormBase::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << name() << "(" << options_.num_features() << ", eps=" << eps.str() << ", momentum=";
    if (options_.momentum()) {
        os << *options_.momentum();
    } else {
        os << "None";
    }
    os << ", affine=" << (options_.affine() ? "true" : "false")
       << ", track_running_stats=" << (options_.track_running_stats() ? "true" : "false") << ")";
}

LayerNorm::LayerNorm(const LayerNormOptions& options) : Module("LayerNorm"), options_(options) {
    if (options.normalized_shape().empty()) {
        fail("LayerNorm", "normalized_shape must not be empty");
    }
    const Shape s(options.normalized_shape());
    if (options.elementwise_affine()) {
        weight_ = register_parameter("weight", ones(s, options.dtype()));
        bias_ = register_parameter("bias", zeros(s, options.dtype()));
    }
}

Tensor LayerNorm::forward(const Tensor& input) {
    check_not_moved_from("forward");
    if (!input.defined()) fail("LayerNorm", "undefined input");
    const auto& ns = options_.normalized_shape();
    const std::size_t d = ns.size(), r = input.ndim();
    bool fits = r >= d;
    for (std::size_t i = 0; fits && i < d; ++i) fits = input.shape()[r - d + i] == ns[i];
    if (!fits) {
        // PyTorch: "Given normalized_shape=[64], expected input with shape [*, 64], but got
        // input of size[2, 32]".
        fail("LayerNorm", "given normalized_shape=" + dims_str(ns) +
                              ", expected input with shape (*, " + dims_str(ns).substr(1) +
                              " (got " + input.shape().str() + ")");
    }
    check_dtype("LayerNorm", input, weight_.defined() ? weight_.dtype() : input.dtype());
    return functional::layer_norm(
        input,
        functional::LayerNormFuncOptions(ns).weight(weight_).bias(bias_).eps(options_.eps()));
}

void LayerNorm::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << "LayerNorm(" << dims_str(options_.normalized_shape()) << ", eps=" << eps.str()
       << ", elementwise_affine=" << (options_.elementwise_affine() ? "true" : "false") << ")";
}

GroupNorm::GroupNorm(const GroupNormOptions& options) : Module("GroupNorm"), options_(options) {
    if (options.num_groups() == 0 || options.num_channels() % options.num_groups() != 0) {
        fail("GroupNorm", "num_channels must be divisible by num_groups (got " +
                              std::to_string(options.num_channels()) + " channels and " +
                              std::to_string(options.num_groups()) + " groups)");
    }
    if (options.affine()) {
        weight_ =
            register_parameter("weight", ones(Shape{options.num_channels()}, options.dtype()));
        bias_ = register_parameter("bias", zeros(Shape{options.num_channels()}, options.dtype()));
    }
}

Tensor GroupNorm::forward(const Tensor& input) {
    check_not_moved_from("forward");
    if (!input.defined()) fail("GroupNorm", "undefined input");
    const std::size_t c = options_.num_channels(), g = options_.num_groups();
    if (input.ndim() < 2 || input.shape()[1] != c) {
        fail("GroupNorm",
             "expected input (N, " + std::to_string(c) + ", *) (got " + input.shape().str() + ")");
    }
    check_dtype("GroupNorm", input, weight_.defined() ? weight_.dtype() : input.dtype());
    return functional::group_norm(
        input, functional::GroupNormFuncOptions(g).weight(weight_).bias(bias_).eps(options_.eps()));
}

void GroupNorm::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << "GroupNorm(" << options_.num_groups() << ", " << options_.num_channels()
       << ", eps=" << eps.str() << ", affine=" << (options_.affine() ? "true" : "false") << ")";
}

namespace functional {

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options) {
    const char* op = "batch_norm";
    if (!input.defined()) fail(op, "undefined input");
    if (input.ndim() < 2) {
        fail(op, "expected an input (N, C, *) of rank 2 or more (got " + input.shape().str() + ")");
    }
    const std::size_t n = input.shape()[0], c = input.shape()[1];
    const std::size_t b = c == 0 || n == 0 ? 0 : input.numel() / (n * c);
    const Shape cs{c};
    check_affine(op, "weight", options.weight_, input, cs);
    check_affine(op, "bias", options.bias_, input, cs);
    check_affine(op, "running_mean", running_mean, input, cs);
    check_affine(op, "running_var", running_var, input, cs);
    if (running_mean.defined() != running_var.defined()) {
        fail(op, "running_mean and running_var must both be given or both be undefined");
    }
    if (!options.training_) {
        if (!running_mean.defined()) {
            fail(op, "running_mean and running_var are needed when not training");
        }
        // Eval: one affine map per channel, scale = w / sqrt(rv + eps), shift = beta - rm scale
        // (C-sized ops, so the gradients of w and beta stay exact; the buffers are constants).
        const Shape cs1 = channel_shape(c, input.ndim());
        Tensor scale = rsqrt(running_var.detach() + options.eps_);
        if (options.weight_.defined()) scale = scale * options.weight_;
        Tensor shift = -(running_mean.detach() * scale);
        if (options.bias_.defined()) shift = shift + options.bias_;
        return input * reshape(scale, cs1) + reshape(shift, cs1);
    }
    if (n * b <= 1) {
        // PyTorch: "Expected more than 1 value per channel when training, got input size
        // torch.Size([1, 3])".
        fail(op, "expected more than 1 value per channel when training (got input size " +
                     input.shape().str() + ")");
    }
    const bool update = running_mean.defined() && !checkpoint_recomputing();
    if (update && !options.momentum_) {
        fail(op, "momentum must be set to update the running statistics (got None)");
    }
    std::vector<double> mu, var;
    Tensor y = normalize(input, n, c, b, options.eps_, AffineAxis::kC, options.weight_,
                         options.bias_, update ? &mu : nullptr, update ? &var : nullptr);
    if (update) {
        // running = (1 - m) running + m batch, with the unbiased variance; in place, outside
        // the graph (y's node holds the batch mean).
        const double m = *options.momentum_;
        const double count = static_cast<double>(n * b), unbias = count / (count - 1);
        Tensor rm = running_mean, rv = running_var;
        dispatch(input.dtype(), [&](auto t) {
            using T = decltype(t);
            T* pm = rm.mutable_value().data<T>();
            T* pv = rv.mutable_value().data<T>();
            for (std::size_t k = 0; k < c; ++k) {
                pm[k] = static_cast<T>((1.0 - m) * static_cast<double>(pm[k]) + m * mu[k]);
                pv[k] =
                    static_cast<T>((1.0 - m) * static_cast<double>(pv[k]) + m * var[k] * unbias);
            }
        });
    }
    return y;
}

Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options) {
    const char* op = "layer_norm";
    if (!input.defined()) fail(op, "undefined input");
    const auto& ns = options.normalized_shape_;
    if (ns.empty()) fail(op, "normalized_shape must not be empty");
    const std::size_t d = ns.size(), r = input.ndim();
    bool fits = r >= d;
    for (std::size_t i = 0; fits && i < d; ++i) fits = input.shape()[r - d + i] == ns[i];
    if (!fits) {
        // PyTorch: "Given normalized_shape=[64], expected input with shape [*, 64], but got
        // input of size[2, 32]".
        fail(op, "given normalized_shape=" + dims_str(ns) + ", expected input with shape (*, " +
                     dims_str(ns).substr(1) + " (got " + input.shape().str() + ")");
    }
    const Shape s(ns);
    check_affine(op, "weight", options.weight_, input, s);
    check_affine(op, "bias", options.bias_, input, s);
    const std::size_t b = s.numel(op);
    const std::size_t rows = b == 0 ? 0 : input.numel() / b;
    return normalize(input, 1, rows, b, options.eps_, AffineAxis::kB, options.weight_,
                     options.bias_);
}

Tensor group_norm(const Tensor& input, const GroupNormFuncOptions& options) {
    const char* op = "group_norm";
    if (!input.defined()) fail(op, "undefined input");
    const std::size_t g = options.num_groups_;
    if (input.ndim() < 2 || g == 0 || input.shape()[1] % g != 0) {
        fail(op, "expected input (N, C, *) with C divisible by num_groups=" + std::to_string(g) +
                     " (got " + input.shape().str() + ")");
    }
    const std::size_t n = input.shape()[0], c = input.shape()[1];
    check_affine(op, "weight", options.weight_, input, Shape{c});
    check_affine(op, "bias", options.bias_, input, Shape{c});
    const std::size_t per = n * g == 0 ? 0 : input.numel() / (n * g);
    // (N, C, *) as (1, N*G, C/G * prod(*)); the per-channel affine map follows in ops.
    Tensor y = normalize(input, 1, n * g, per, options.eps_, AffineAxis::kNone, Tensor(), Tensor());
    if (options.weight_.defined() || options.bias_.defined()) {
        const Shape cs = channel_shape(c, input.ndim());
        if (options.weight_.defined()) y = y * reshape(options.weight_, cs);
        if (options.bias_.defined()) y = y + reshape(options.bias_, cs);
    }
    return y;
}

}  // namespace functional

}  // namespace xgrad::nn
