#pragma once
// Attention: nn::functional::scaled_dot_product_attention and MultiheadAttention, as PyTorch.
// Both are compositions of existing ops (matmul, softmax, masked_fill, add, permute, reshape),
// so every derivative, the second one included, comes from the ops' own rules.
//
// Masks have two opposite Bool conventions, both PyTorch's:
//   scaled_dot_product_attention's attn_mask: true = the key takes part;
//   MultiheadAttention's attn_mask and key_padding_mask: true = the key is ignored.
// A float mask is added to the scores in both (-inf ignores a key).

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>

#include "nn/linear.h"
#include "nn/module.h"

namespace xgrad::nn {

namespace functional {

/// softmax(query key^T scale + mask) value, as torch.nn.functional.scaled_dot_product_attention:
/// query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims broadcast
/// as matmul's. attn_mask broadcasts to (..., L, S): Bool (true = take part; false gives the
/// score -inf) or of the query's float dtype (added to the scores). is_causal: key j takes part
/// for query i when j <= i (the lower triangle of an L x S matrix, top-left aligned, as
/// PyTorch); it excludes attn_mask. scale defaults to 1/sqrt(E). dropout_p > 0 zeroes
/// attention weights with probability dropout_p (the rest scaled by 1/(1 - dropout_p)), with a
/// seed drawn from nn::manual_seed's stream, as PyTorch's global generator (applied whenever
/// dropout_p > 0: the functional form knows no training mode).
/// NOTE: a query row whose keys are all masked has softmax(-inf, ..., -inf) = NaN, as PyTorch's
/// math implementation (1.13 to 2.4); we keep the NaN (its gradient is NaN too) rather than
/// return zeros, so a bad mask shows.
/// Throws std::invalid_argument naming the shapes for ranks below 2, E or S that differ, a mask
/// that does not broadcast, a mask of another dtype, or attn_mask with is_causal.
/// Example: Tensor y = F::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

}  // namespace functional

/// MultiheadAttentionOptions(embed_dim, num_heads).dropout(0).bias(true).kdim(embed_dim)
/// .vdim(embed_dim).batch_first(false), LibTorch's names and defaults.
/// NOTE: batch_first is not a LibTorch option (LibTorch is sequence-first only); it is
/// Python's, default false as there.
class MultiheadAttentionOptions {
public:
    MultiheadAttentionOptions(std::size_t embed_dim, std::size_t num_heads)
        : embed_dim_(embed_dim), num_heads_(num_heads), kdim_(embed_dim), vdim_(embed_dim) {}
    MultiheadAttentionOptions& dropout(double v) {
        dropout_ = v;
        return *this;
    }
    MultiheadAttentionOptions& bias(bool v) {
        bias_ = v;
        return *this;
    }
    MultiheadAttentionOptions& kdim(std::size_t v) {
        kdim_ = v;
        return *this;
    }
    MultiheadAttentionOptions& vdim(std::size_t v) {
        vdim_ = v;
        return *this;
    }
    MultiheadAttentionOptions& batch_first(bool v) {
        batch_first_ = v;
        return *this;
    }
    /// NOTE: not a LibTorch option (it converts with .to()); as Linear's dtype argument.
    MultiheadAttentionOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t embed_dim() const { return embed_dim_; }
    std::size_t num_heads() const { return num_heads_; }
    double dropout() const { return dropout_; }
    bool bias() const { return bias_; }
    std::size_t kdim() const { return kdim_; }
    std::size_t vdim() const { return vdim_; }
    bool batch_first() const { return batch_first_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t embed_dim_, num_heads_, kdim_, vdim_;
    double dropout_ = 0.0;
    bool bias_ = true;
    bool batch_first_ = false;
    DType dtype_ = f32;
};

/// Multi-head attention as torch.nn.MultiheadAttention. With E = embed_dim, H = num_heads and
/// head size E/H: q, k, v = the projections of query, key, value by in_proj_weight (3E, E)
/// (rows [0, E) for q, [E, 2E) for k, [2E, 3E) for v: x W^T + b, PyTorch's layout) and
/// in_proj_bias (3E); each head attends with softmax(q k^T / sqrt(E/H) + mask) v; the heads
/// are concatenated and projected by out_proj. When kdim or vdim differs from E, PyTorch's
/// q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) replace
/// in_proj_weight.
/// Init as PyTorch's _reset_parameters: xavier_uniform_ for the projection weights, zeros for
/// in_proj_bias and out_proj.bias, out_proj.weight as a Linear's.
/// NOTE: out_proj is an xgrad Linear, so out_proj.weight is (in, out) = PyTorch's transposed
/// (PyTorch's in_proj_weight layout is kept as is).
///
/// Shapes (batch_first false, LibTorch's layout): query (L, N, E), key (S, N, kdim), value
/// (S, N, vdim) -> output (L, N, E); batch_first: (N, L, E) etc.; unbatched (L, E), (S, kdim),
/// (S, vdim) -> (L, E). Weights: (N, L, S) averaged over heads, or (N, H, L, S) per head
/// (unbatched: (L, S) or (H, L, S)); an undefined Tensor when need_weights is false. The
/// returned weights are those that multiply value (after dropout, as PyTorch).
/// Masks (true = ignore, PyTorch's meaning for this layer): attn_mask (L, S) or (N*H, L, S)
/// (unbatched: (H, L, S)), Bool or of the query's float dtype (added to the scores);
/// key_padding_mask (N, S) (unbatched: (S)), Bool or float. A query whose keys are all ignored
/// gets NaN (see scaled_dot_product_attention's NOTE).
/// is_causal with no attn_mask applies the causal mask (key j ignored for query i when j > i).
/// NOTE: PyTorch >= 2.1 reads is_causal only as a hint that attn_mask is causal and throws
/// without attn_mask; here it builds the mask then (PyTorch 2.0's behaviour), and with an
/// attn_mask given it is a hint, as there: the mask is used as given.
/// Dropout (options.dropout) zeroes attention weights in training mode only.
///
/// Example:
///   nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(64, 4));
///   auto [y, w] = mha.forward(x, x, x);   // x (T, N, 64): y (T, N, 64), w (N, T, T)
class MultiheadAttention : public Module {
public:
    /// Throws std::invalid_argument when embed_dim is not divisible by num_heads, embed_dim or
    /// num_heads is 0, or dropout is outside [0, 1).
    explicit MultiheadAttention(const MultiheadAttentionOptions& options);

    using Module::forward;
    /// Throws std::invalid_argument naming the layer and the shapes for a query whose feature
    /// size differs from embed_dim, key/value sizes that do not fit, or a mask of the wrong
    /// shape or dtype.
    std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                       const Tensor& key_padding_mask = {},
                                       bool need_weights = true, const Tensor& attn_mask = {},
                                       bool average_attn_weights = true, bool is_causal = false);

    const MultiheadAttentionOptions& options() const { return options_; }
    /// (3E, E); undefined when kdim or vdim differs from E.
    const Tensor& in_proj_weight() const { return in_proj_weight_; }
    /// (E, E), (E, kdim), (E, vdim); undefined when kdim == vdim == E.
    const Tensor& q_proj_weight() const { return q_proj_weight_; }
    const Tensor& k_proj_weight() const { return k_proj_weight_; }
    const Tensor& v_proj_weight() const { return v_proj_weight_; }
    /// (3E); undefined without bias.
    const Tensor& in_proj_bias() const { return in_proj_bias_; }
    const std::shared_ptr<Linear>& out_proj() const { return out_proj_; }

protected:
    /// xavier_uniform_ again from `seed` (see Module::deal_default_draws).
    void reseed_default(std::uint64_t seed) override;

private:
    MultiheadAttentionOptions options_;
    bool same_dims_;
    Tensor in_proj_weight_, q_proj_weight_, k_proj_weight_, v_proj_weight_, in_proj_bias_;
    std::shared_ptr<Linear> out_proj_;
};

}  // namespace xgrad::nn
