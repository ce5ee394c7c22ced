#pragma once
// TransformerEncoderLayer and TransformerEncoder, as torch.nn's: self-attention and a
// feed-forward block, each with a residual connection and a LayerNorm (after it, or before it
// with norm_first).

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/attention.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"

namespace xgrad::nn {

/// TransformerEncoderLayerOptions(d_model, nhead).dim_feedforward(2048).dropout(0.1)
/// .activation("relu" | "gelu" | a function).layer_norm_eps(1e-5).batch_first(false)
/// .norm_first(false), PyTorch's names and defaults.
/// NOTE: LibTorch spells the activations torch::kReLU / torch::kGELU; here they are PyTorch's
/// strings (or any Tensor(const Tensor&) function).
class TransformerEncoderLayerOptions {
public:
    using Activation = std::function<Tensor(const Tensor&)>;
    TransformerEncoderLayerOptions(std::size_t d_model, std::size_t nhead)
        : d_model_(d_model), nhead_(nhead) {}
    TransformerEncoderLayerOptions& dim_feedforward(std::size_t v) {
        dim_feedforward_ = v;
        return *this;
    }
    TransformerEncoderLayerOptions& dropout(double v) {
        dropout_ = v;
        return *this;
    }
    /// "relu" or "gelu"; another string throws std::invalid_argument when the layer is built.
    TransformerEncoderLayerOptions& activation(std::string v) {
        activation_name_ = std::move(v);
        activation_fn_ = nullptr;
        return *this;
    }
    TransformerEncoderLayerOptions& activation(Activation f) {
        activation_name_ = "custom";
        activation_fn_ = std::move(f);
        return *this;
    }
    TransformerEncoderLayerOptions& layer_norm_eps(double v) {
        layer_norm_eps_ = v;
        return *this;
    }
    TransformerEncoderLayerOptions& batch_first(bool v) {
        batch_first_ = v;
        return *this;
    }
    TransformerEncoderLayerOptions& norm_first(bool v) {
        norm_first_ = v;
        return *this;
    }
    /// NOTE: not a PyTorch option (modules convert with .to()); as Linear's dtype argument.
    TransformerEncoderLayerOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t d_model() const { return d_model_; }
    std::size_t nhead() const { return nhead_; }
    std::size_t dim_feedforward() const { return dim_feedforward_; }
    double dropout() const { return dropout_; }
    /// "relu", "gelu" or "custom".
    const std::string& activation_name() const { return activation_name_; }
    const Activation& activation_function() const { return activation_fn_; }
    double layer_norm_eps() const { return layer_norm_eps_; }
    bool batch_first() const { return batch_first_; }
    bool norm_first() const { return norm_first_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t d_model_, nhead_;
    std::size_t dim_feedforward_ = 2048;
    double dropout_ = 0.1;
    std::string activation_name_ = "relu";
    Activation activation_fn_;
    double layer_norm_eps_ = 1e-5;
    bool batch_first_ = false;
    bool norm_first_ = false;
    DType dtype_ = f32;
};

/// One encoder layer, as torch.nn.TransformerEncoderLayer (submodules self_attn, linear1,
/// dropout, linear2, norm1, norm2, dropout1, dropout2, in that order):
///   sa(x) = dropout1(self_attn(x, x, x, mask)),  ff(x) =
///   dropout2(linear2(dropout(act(linear1(x))))) norm_first false: x = norm1(x + sa(x)); x =
///   norm2(x + ff(x)) norm_first true:  x = x + sa(norm1(x)); x = x + ff(norm2(x))
/// src (S, N, d_model), or (N, S, d_model) with batch_first, or unbatched (S, d_model); masks
/// as MultiheadAttention's (true = ignore): src_mask (S, S) or (N*nhead, S, S),
/// src_key_padding_mask (N, S); is_causal as there.
/// Example:
///   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(64, 4)
///                                         .dim_feedforward(128).batch_first(true));
///   Tensor y = layer.forward(x, {}, {}, /*is_causal=*/true);   // x (N, T, 64)
class TransformerEncoderLayer : public Module {
public:
    explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options);
    /// No masks: forward(src, {}).
    Tensor forward(const Tensor& src) override;
    Tensor forward(const Tensor& src, const Tensor& src_mask,
                   const Tensor& src_key_padding_mask = {}, bool is_causal = false);

    const TransformerEncoderLayerOptions& options() const { return options_; }
    const std::shared_ptr<MultiheadAttention>& self_attn() const { return self_attn_; }
    const std::shared_ptr<Linear>& linear1() const { return linear1_; }
    const std::shared_ptr<Dropout>& dropout() const { return dropout_; }
    const std::shared_ptr<Linear>& linear2() const { return linear2_; }
    const std::shared_ptr<LayerNorm>& norm1() const { return norm1_; }
    const std::shared_ptr<LayerNorm>& norm2() const { return norm2_; }
    const std::shared_ptr<Dropout>& dropout1() const { return dropout1_; }
    const std::shared_ptr<Dropout>& dropout2() const { return dropout2_; }

private:
    // A Linear on the last dim of any rank (Linear takes (N, in)).
    static Tensor on_rows(Linear& fc, const Tensor& x);
    Tensor activate(const Tensor& x) const;

    TransformerEncoderLayerOptions options_;
    std::shared_ptr<MultiheadAttention> self_attn_;
    std::shared_ptr<Linear> linear1_;
    std::shared_ptr<Dropout> dropout_;
    std::shared_ptr<Linear> linear2_;
    std::shared_ptr<LayerNorm> norm1_, norm2_;
    std::shared_ptr<Dropout> dropout1_, dropout2_;
};

/// num_layers copies of an encoder layer applied in turn, as torch.nn.TransformerEncoder
/// (submodule "layers", a ModuleList: parameters "layers.0.self_attn.in_proj_weight", ...).
/// Each copy starts with `layer`'s parameter values, as PyTorch's deep copies do; `layer`
/// itself is not part of the encoder.
/// NOTE: PyTorch's optional final norm and its nested-tensor fast path are not provided.
/// Example: nn::TransformerEncoder enc(layer, 2);  y = enc.forward(x, causal_mask);
class TransformerEncoder : public Module {
public:
    /// Throws std::invalid_argument for num_layers 0.
    TransformerEncoder(const TransformerEncoderLayer& layer, std::size_t num_layers);
    Tensor forward(const Tensor& src) override;
    Tensor forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask = {},
                   bool is_causal = false);
    std::size_t num_layers() const { return layers_.size(); }
    const std::shared_ptr<TransformerEncoderLayer>& layer(std::size_t i) const {
        return layers_.at(i);
    }

private:
    std::vector<std::shared_ptr<TransformerEncoderLayer>> layers_;
};

}  // namespace xgrad::nn
