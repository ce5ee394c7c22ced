#include "nn/transformer.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/ops.h"
#include "nn/init.h"

namespace xgrad::nn {

namespace {

// PyTorch's ModuleList, for the printout and the "layers.0." names; forward is not defined.
class ModuleList : public Module {
public:
    ModuleList() : Module("ModuleList") {}
};

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& options)
    : Module("TransformerEncoderLayer"), options_(options) {
    const std::string& act = options_.activation_name();
    if (act != "relu" && act != "gelu" && !(act == "custom" && options_.activation_function())) {
        throw std::invalid_argument(
            "TransformerEncoderLayer: activation should be relu/gelu, not " + act);
    }
    const std::size_t d = options_.d_model(), ff = options_.dim_feedforward();
    const DType dt = options_.dtype();
    // PyTorch's construction order (and so its submodule order and seed draws).
    self_attn_ = register_module("self_attn", std::make_shared<MultiheadAttention>(
                                                  MultiheadAttentionOptions(d, options_.nhead())
                                                      .dropout(options_.dropout())
                                                      .batch_first(options_.batch_first())
                                                      .dtype(dt)));
    linear1_ = register_module("linear1", std::make_shared<Linear>(d, ff, true, dt));
    dropout_ = register_module("dropout", std::make_shared<Dropout>(options_.dropout()));
    linear2_ = register_module("linear2", std::make_shared<Linear>(ff, d, true, dt));
    const LayerNormOptions ln = LayerNormOptions({d}).eps(options_.layer_norm_eps()).dtype(dt);
    norm1_ = register_module("norm1", std::make_shared<LayerNorm>(ln));
    norm2_ = register_module("norm2", std::make_shared<LayerNorm>(ln));
    dropout1_ = register_module("dropout1", std::make_shared<Dropout>(options_.dropout()));
    dropout2_ = register_module("dropout2", std::make_shared<Dropout>(options_.dropout()));
}

Tensor TransformerEncoderLayer::on_rows(Linear& fc, const Tensor& x) {
    if (x.ndim() <= 2) return fc.forward(x);
    // (..., in) -> (rows, in) -> (rows, out) -> (..., out)
    std::vector<std::size_t> out = x.shape().vec();
    const std::size_t in = out.back();
    out.back() = fc.out_features();
    return reshape(fc.forward(reshape(x, Shape{x.numel() / in, in})), Shape(out));
}

Tensor TransformerEncoderLayer::activate(const Tensor& x) const {
    const std::string& act = options_.activation_name();
    if (act == "relu") return relu(x);
    if (act == "gelu") return gelu(x);
    return options_.activation_function()(x);
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, Tensor{}); }

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
    check_not_moved_from("forward");
    auto sa = [&](const Tensor& x) {
        Tensor y = std::get<0>(self_attn_->forward(x, x, x, src_key_padding_mask,
                                                   /*need_weights=*/false, src_mask,
                                                   /*average_attn_weights=*/true, is_causal));
        return dropout1_->forward(y);
    };
    auto ff = [&](const Tensor& x) {
        Tensor h = dropout_->forward(activate(on_rows(*linear1_, x)));
        return dropout2_->forward(on_rows(*linear2_, h));
    };
    Tensor x = src;
    if (options_.norm_first()) {
        x = x + sa(norm1_->forward(x));
        x = x + ff(norm2_->forward(x));
    } else {
        x = norm1_->forward(x + sa(x));
        x = norm2_->forward(x + ff(x));
    }
    return x;
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& layer, std::size_t num_layers)
    : Module("TransformerEncoder") {
    if (num_layers == 0) {
        throw std::invalid_argument("TransformerEncoder: num_layers must be positive (got 0)");
    }
    auto list = register_module("layers", std::make_shared<ModuleList>());
    const std::vector<NamedTensor> source = layer.named_parameters();
    for (std::size_t i = 0; i < num_layers; ++i) {
        auto copy = std::make_shared<TransformerEncoderLayer>(layer.options());
        copy->to(layer.self_attn()->out_proj()->weight().dtype());
        const std::vector<NamedTensor> target = copy->named_parameters();
        // Same options, so the same names in the same order: a deep copy of the values.
        for (std::size_t p = 0; p < target.size(); ++p)
            init::copy_(target[p].second, source[p].second);
        copy->train(layer.is_training());
        layers_.push_back(list->register_module(std::to_string(i), copy));
    }
}

Tensor TransformerEncoder::forward(const Tensor& src) { return forward(src, Tensor{}); }

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask, bool is_causal) {
    check_not_moved_from("forward");
    Tensor x = src;
    for (const auto& l : layers_) x = l->forward(x, mask, src_key_padding_mask, is_causal);
    return x;
}

}  // namespace xgrad::nn
