#include "nn/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "nn/detail/random.h"
#include "nn/init.h"

namespace xgrad::nn {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void fail(const std::string& op, const std::string& what) {
    throw std::invalid_argument(op + ": " + what);
}

// Whether `m` broadcasts to `target` by NumPy's rules without growing `target`.
bool broadcasts_to(const Shape& m, const Shape& target) {
    if (m.size() > target.size()) return false;
    const std::size_t off = target.size() - m.size();
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] != 1 && m[i] != target[off + i]) return false;
    }
    return true;
}

// Bool (L, S), true where key j may be seen by query i: j <= i (top-left aligned, as
// torch.ones(L, S).tril()). `keep` false gives the complement (true = ignored).
Tensor causal_mask(std::size_t L, std::size_t S, bool keep) {
    std::vector<double> v(L * S);
    for (std::size_t i = 0; i < L; ++i) {
        for (std::size_t j = 0; j < S; ++j) v[i * S + j] = (j <= i) == keep ? 1.0 : 0.0;
    }
    return tensor(v, Shape{L, S}, bool_);
}

// The shared core: scores (..., L, S) = (q scale) k^T, then masked (Bool mask: true = take
// part, false -> -inf) or shifted (float mask added); w = softmax(scores) along S, dropped out
// with probability p; out (..., L, Ev) = w v. Returns (out, w).
// Scaling q (L E values) rather than the scores (L S values) is the cheaper of the two equal
// products.
std::pair<Tensor, Tensor> attend(const Tensor& q, const Tensor& k, const Tensor& v,
                                 const Tensor& mask, double dropout_p, double scale,
                                 const char* op) {
    Tensor scores = matmul(q * scale, transpose(k, -2, -1));
    if (mask.defined()) {
        if (!broadcasts_to(mask.shape(), scores.shape())) {
            fail(op, "attn_mask of shape " + mask.shape().str() +
                         " does not broadcast to the scores' shape " + scores.shape().str() +
                         " (..., L, S)");
        }
        scores =
            mask.dtype() == bool_ ? masked_fill(scores, logical_not(mask), -kInf) : scores + mask;
    }
    Tensor w = softmax(scores, -1);
    if (dropout_p > 0) {
        if (dropout_p >= 1) {
            w = w * 0.0;
        } else {
            // keep each weight with probability 1 - p, scaled by 1 / (1 - p); d/dw = that mask.
            const std::uint64_t seed = detail::next_default_draw().seed;
            const Tensor keep = ge(uniform(w.shape(), 0, 1, seed, w.dtype()), dropout_p);
            w = w * (to(keep, w.dtype()) * (1.0 / (1.0 - dropout_p)));
        }
    }
    return {matmul(w, v), w};
}

void check_float_or_bool_mask(const char* op, const char* name, const Tensor& mask,
                              const Tensor& query) {
    if (mask.dtype() != bool_ && mask.dtype() != query.dtype()) {
        fail(op, std::string(name) + " dtype " + dtype_name(mask.dtype()) +
                     " is not supported: expected bool or the query's " +
                     dtype_name(query.dtype()) + " (mask shape " + mask.shape().str() + ")");
    }
}

}  // namespace

namespace functional {

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
    const char* op = "scaled_dot_product_attention";
    if (!query.defined() || !key.defined() || !value.defined()) fail(op, "undefined input");
    const std::string shapes = " (query " + query.shape().str() + ", key " + key.shape().str() +
                               ", value " + value.shape().str() + ")";
    if (query.ndim() < 2 || key.ndim() < 2 || value.ndim() < 2) {
        fail(op, "query, key and value need at least 2 dims (..., L, E)" + shapes);
    }
    if (query.dtype() != key.dtype() || query.dtype() != value.dtype() ||
        (query.dtype() != f32 && query.dtype() != f64)) {
        fail(op, std::string("query, key and value must share a float dtype (got ") +
                     dtype_name(query.dtype()) + ", " + dtype_name(key.dtype()) + ", " +
                     dtype_name(value.dtype()) + ")");
    }
    const std::size_t E = query.shape()[query.ndim() - 1], L = query.shape()[query.ndim() - 2];
    const std::size_t S = key.shape()[key.ndim() - 2];
    if (key.shape()[key.ndim() - 1] != E) {
        fail(op, "query's and key's last dims (E) differ" + shapes);
    }
    if (value.shape()[value.ndim() - 2] != S) {
        fail(op, "key's and value's sequence dims (S, the second last) differ" + shapes);
    }
    if (!(dropout_p >= 0 && dropout_p <= 1)) {
        fail(op, "dropout_p must be in [0, 1] (got " + std::to_string(dropout_p) + ")");
    }
    Tensor mask = attn_mask;
    if (mask.defined()) {
        // PyTorch's message: "Explicit attn_mask should not be set when is_causal=True".
        if (is_causal) fail(op, "explicit attn_mask should not be set when is_causal=true");
        check_float_or_bool_mask(op, "attn_mask", mask, query);
    } else if (is_causal) {
        mask = causal_mask(L, S, /*keep=*/true);
    }
    const double s = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(E));
    return attend(query, key, value, mask, dropout_p, s, op).first;
}

}  // namespace functional

MultiheadAttention::MultiheadAttention(const MultiheadAttentionOptions& options)
    : Module("MultiheadAttention"), options_(options) {
    const std::size_t E = options_.embed_dim(), H = options_.num_heads();
    if (E == 0 || H == 0) {
        fail("MultiheadAttention",
             "embed_dim and num_heads must be positive (got embed_dim=" + std::to_string(E) +
                 ", num_heads=" + std::to_string(H) + ")");
    }
    if (E % H != 0) {
        fail("MultiheadAttention",
             "embed_dim must be divisible by num_heads (got embed_dim=" + std::to_string(E) +
                 ", num_heads=" + std::to_string(H) + ")");
    }
    if (!(options_.dropout() >= 0 && options_.dropout() < 1)) {
        fail("MultiheadAttention",
             "dropout must be in [0, 1) (got " + std::to_string(options_.dropout()) + ")");
    }
    if (options_.kdim() == 0 || options_.vdim() == 0) {
        fail("MultiheadAttention", "kdim and vdim must be positive");
    }
    same_dims_ = options_.kdim() == E && options_.vdim() == E;
    const DType dt = options_.dtype();
    if (same_dims_) {
        in_proj_weight_ = register_parameter("in_proj_weight", zeros(Shape{3 * E, E}, dt));
    } else {
        q_proj_weight_ = register_parameter("q_proj_weight", zeros(Shape{E, E}, dt));
        k_proj_weight_ = register_parameter("k_proj_weight", zeros(Shape{E, options_.kdim()}, dt));
        v_proj_weight_ = register_parameter("v_proj_weight", zeros(Shape{E, options_.vdim()}, dt));
    }
    if (options_.bias())
        in_proj_bias_ = register_parameter("in_proj_bias", zeros(Shape{3 * E}, dt));
    // This module's draw comes before out_proj's (pre-order, as deal_default_draws deals).
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
    out_proj_ = register_module("out_proj", std::make_shared<Linear>(E, E, options_.bias(), dt));
    // PyTorch's _reset_parameters: constant_(out_proj.bias, 0).
    if (options_.bias()) init::zeros_(out_proj_->bias());
}

void MultiheadAttention::reseed_default(std::uint64_t seed) {
    if (same_dims_) {
        init::xavier_uniform_(in_proj_weight_, seed);
    } else {
        init::xavier_uniform_(q_proj_weight_, seed);
        init::xavier_uniform_(k_proj_weight_, seed + 1);
        init::xavier_uniform_(v_proj_weight_, seed + 2);
    }
}

std::tuple<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                       const Tensor& value,
                                                       const Tensor& key_padding_mask,
                                                       bool need_weights, const Tensor& attn_mask,
                                                       bool average_attn_weights, bool is_causal) {
    const char* op = "MultiheadAttention";
    check_not_moved_from("forward");
    if (!query.defined() || !key.defined() || !value.defined()) fail(op, "undefined input");
    const std::size_t E = options_.embed_dim(), H = options_.num_heads(), hd = E / H;
    const bool bf = options_.batch_first();
    const std::string layout = bf ? "(N, L, E)" : "(L, N, E)";
    const std::string shapes = " (query " + query.shape().str() + ", key " + key.shape().str() +
                               ", value " + value.shape().str() + ")";
    if ((query.ndim() != 2 && query.ndim() != 3) || key.ndim() != query.ndim() ||
        value.ndim() != query.ndim()) {
        fail(op,
             "expected query, key and value of 3 dims " + layout + " or 2 dims (L, E)" + shapes);
    }
    const bool batched = query.ndim() == 3;
    const Shape& qs = query.shape();
    const Shape& ks = key.shape();
    if (qs[qs.size() - 1] != E) {
        fail(op, "query's feature size " + std::to_string(qs[qs.size() - 1]) +
                     " differs from embed_dim " + std::to_string(E) + " (query shape " + qs.str() +
                     ")");
    }
    if (ks[ks.size() - 1] != options_.kdim()) {
        fail(op, "key's feature size " + std::to_string(ks[ks.size() - 1]) + " differs from kdim " +
                     std::to_string(options_.kdim()) + shapes);
    }
    if (value.shape()[value.ndim() - 1] != options_.vdim()) {
        fail(op, "value's feature size " + std::to_string(value.shape()[value.ndim() - 1]) +
                     " differs from vdim " + std::to_string(options_.vdim()) + shapes);
    }
    for (std::size_t d = 0; d + 1 < ks.size(); ++d) {
        if (value.shape()[d] != ks[d]) fail(op, "key and value differ in (S, N)" + shapes);
    }
    const std::size_t L = batched ? qs[bf ? 1 : 0] : qs[0];
    const std::size_t N = batched ? qs[bf ? 0 : 1] : 1;
    const std::size_t S = batched ? ks[bf ? 1 : 0] : ks[0];
    if (batched && ks[bf ? 0 : 1] != N) fail(op, "query and key differ in batch size N" + shapes);
    const DType dt = out_proj_->weight().dtype();
    if (query.dtype() != dt || key.dtype() != dt || value.dtype() != dt) {
        fail(op, std::string("query, key and value dtypes (") + dtype_name(query.dtype()) + ", " +
                     dtype_name(key.dtype()) + ", " + dtype_name(value.dtype()) +
                     ") differ from the weights' " + dtype_name(dt));
    }

    // Masks as one, broadcast to the scores (N, H, L, S): Bool true = take part (attend's
    // convention, the complement of this layer's), or float added to the scores.
    Tensor am = attn_mask;
    if (am.defined()) {
        check_float_or_bool_mask(op, "attn_mask", am, query);
        const Shape two{L, S};
        const Shape three{batched ? N * H : H, L, S};
        if (am.shape() == two) {
            am = reshape(am, Shape{1, 1, L, S});
        } else if (am.shape() == three) {
            am = reshape(am, Shape{N, H, L, S});
        } else {
            fail(op, "attn_mask of shape " + am.shape().str() + " does not fit: expected " +
                         two.str() + " (L, S) or " + three.str() +
                         (batched ? " (N*num_heads, L, S)" : " (num_heads, L, S)") + shapes);
        }
    } else if (is_causal) {
        am = reshape(causal_mask(L, S, /*keep=*/false), Shape{1, 1, L, S});
    }
    Tensor kpm = key_padding_mask;
    if (kpm.defined()) {
        check_float_or_bool_mask(op, "key_padding_mask", kpm, query);
        const Shape want = batched ? Shape{N, S} : Shape{S};
        if (kpm.shape() != want) {
            fail(op, "key_padding_mask of shape " + kpm.shape().str() + " does not fit: expected " +
                         want.str() + (batched ? " (N, S)" : " (S)") + shapes);
        }
        kpm = reshape(kpm, Shape{N, 1, 1, S});
    }
    // Bool true = ignore -> a float mask: 0 or -inf (PyTorch's _canonical_mask).
    auto as_float = [&](const Tensor& m) {
        return m.dtype() == bool_ ? masked_fill(zeros(m.shape(), dt), m, -kInf) : m;
    };
    Tensor mask;
    if (am.defined() && kpm.defined()) {
        mask = am.dtype() == bool_ && kpm.dtype() == bool_ ? logical_not(logical_or(am, kpm))
                                                           : as_float(am) + as_float(kpm);
    } else if (am.defined() || kpm.defined()) {
        const Tensor& m = am.defined() ? am : kpm;
        mask = m.dtype() == bool_ ? logical_not(m) : m;
    }

    // Projections on rows (L N or N L rows of E features): x W^T + b, W in PyTorch's (out, in).
    auto rows = [](const Tensor& x) {
        const std::size_t f = x.shape()[x.ndim() - 1];
        return reshape(x, Shape{x.numel() / f, f});
    };
    auto bias_part = [&](std::size_t i) { return narrow(in_proj_bias_, 0, i * E, E); };
    Tensor qp, kp, vp;  // (rows, E)
    if (same_dims_) {
        const Tensor& w = in_proj_weight_;
        if (query.node() != nullptr && query.node() == key.node() && key.node() == value.node()) {
            // Self-attention: one product (rows, E) (E, 3E) for all three.
            Tensor qkv = matmul(rows(query), transpose(w));
            if (in_proj_bias_.defined()) qkv = qkv + in_proj_bias_;
            qp = narrow(qkv, 1, 0, E);
            kp = narrow(qkv, 1, E, E);
            vp = narrow(qkv, 1, 2 * E, E);
        } else {
            qp = matmul(rows(query), transpose(narrow(w, 0, 0, E)));
            kp = matmul(rows(key), transpose(narrow(w, 0, E, E)));
            vp = matmul(rows(value), transpose(narrow(w, 0, 2 * E, E)));
            if (in_proj_bias_.defined()) {
                qp = qp + bias_part(0);
                kp = kp + bias_part(1);
                vp = vp + bias_part(2);
            }
        }
    } else {
        qp = matmul(rows(query), transpose(q_proj_weight_));
        kp = matmul(rows(key), transpose(k_proj_weight_));
        vp = matmul(rows(value), transpose(v_proj_weight_));
        if (in_proj_bias_.defined()) {
            qp = qp + bias_part(0);
            kp = kp + bias_part(1);
            vp = vp + bias_part(2);
        }
    }
    // rows -> (N, H, T, hd): sequence-first rows are t N + n, batch-first n T + t.
    auto heads = [&](const Tensor& x, std::size_t T) {
        if (bf) return permute(reshape(x, Shape{N, T, H, hd}), {0, 2, 1, 3});
        return permute(reshape(x, Shape{T, N, H, hd}), {1, 2, 0, 3});
    };
    const double dropout_p = is_training() ? options_.dropout() : 0.0;
    auto [o, w] = attend(heads(qp, L), heads(kp, S), heads(vp, S), mask, dropout_p,
                         1.0 / std::sqrt(static_cast<double>(hd)), op);
    // (N, H, L, hd) -> rows in the input's order, heads concatenated -> out_proj.
    const Tensor o_rows = bf ? reshape(permute(o, {0, 2, 1, 3}), Shape{N * L, E})
                             : reshape(permute(o, {2, 0, 1, 3}), Shape{L * N, E});
    Tensor out = out_proj_->forward(o_rows);
    out = batched ? reshape(out, bf ? Shape{N, L, E} : Shape{L, N, E}) : reshape(out, Shape{L, E});
    Tensor weights;
    if (need_weights) {
        weights = average_attn_weights ? mean(w, {1}) : w;  // (N, L, S) or (N, H, L, S)
        if (!batched) {
            weights = average_attn_weights ? reshape(weights, Shape{L, S})
                                           : reshape(weights, Shape{H, L, S});
        }
    }
    return {out, weights};
}

}  // namespace xgrad::nn
