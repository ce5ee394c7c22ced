#include "nn/transformer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/nn/ref_attention_data.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::grad_ok;
using xgrad::testing::rand64;

// ref_attention.py's values: 0.5 sin(0.7 i + c) (+ 1 when `one`).
std::vector<double> vals(std::size_t n, double c, bool one = false) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = 0.5 * std::sin(0.7 * static_cast<double>(i) + c) + (one ? 1.0 : 0.0);
    }
    return v;
}

// The parameters ref_attention.py gives the layer: parameter c (in PyTorch's order, which is
// ours) holds vals(n, 10 + c) in PyTorch's layout; Linear weights are (out, in) there and
// (in, out) here, so they are written transposed.
void set_reference_parameters(TransformerEncoderLayer& layer) {
    const std::vector<NamedTensor> params = layer.named_parameters();
    for (std::size_t c = 0; c < params.size(); ++c) {
        const std::string& name = params[c].first;
        const Tensor& p = params[c].second;
        const bool norm_weight =
            name.rfind("norm", 0) == 0 && name.find("weight") != std::string::npos;
        std::vector<double> v = vals(p.numel(), 10.0 + static_cast<double>(c), norm_weight);
        const bool linear_weight = (name.find("linear") != std::string::npos ||
                                    name.find("out_proj") != std::string::npos) &&
                                   name.find("weight") != std::string::npos;
        if (linear_weight) {
            const std::size_t in = p.shape()[0], out = p.shape()[1];
            std::vector<double> t(v.size());
            for (std::size_t o = 0; o < out; ++o) {
                for (std::size_t i = 0; i < in; ++i) t[i * out + o] = v[o * in + i];
            }
            v = t;
        }
        init::copy_(p, v);
    }
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TransformerEncoderLayerOptions small(bool norm_first) {
    return TransformerEncoderLayerOptions(4, 2)
        .dim_feedforward(6)
        .dropout(0.0)
        .norm_first(norm_first)
        .dtype(f64);
}

const std::size_t kL = 3, kN = 2, kD = 4;

Tensor reference_src() { return tensor(vals(kL * kN * kD, 9.0), Shape{kL, kN, kD}, f64); }
Tensor reference_padding() { return tensor({0, 0, 1, 0, 0, 0}, Shape{kN, kL}, bool_); }
Tensor causal_ignore() { return tensor({0, 1, 1, 0, 0, 1, 0, 0, 0}, Shape{kL, kL}, bool_); }

TEST(TransformerEncoderLayer, MatchesPyTorchNormAfterAndNormFirst) {
    for (bool norm_first : {false, true}) {
        TransformerEncoderLayer layer(small(norm_first));
        set_reference_parameters(layer);
        const Tensor y = layer.forward(reference_src(), causal_ignore(), reference_padding());
        EXPECT_EQ(y.shape(), (Shape{kL, kN, kD}));
        expect_near(y.to_vector(),
                    norm_first ? ref::kEncoderOutNormFirst : ref::kEncoderOutNormAfter, 1e-13);
        // is_causal without a mask builds the same causal mask
        expect_near(layer.forward(reference_src(), {}, reference_padding(), true).to_vector(),
                    y.to_vector(), 1e-15);
    }
}

// The layer against the composition written out from its submodules, LayerNorm with loops.
TEST(TransformerEncoderLayer, IsTheCompositionOfItsSubmodules) {
    manual_seed(11);
    for (bool norm_first : {false, true}) {
        TransformerEncoderLayer layer(small(norm_first).activation("gelu").layer_norm_eps(1e-3));
        init::uniform_(layer.norm1()->weight(), 0.5, 1.5, 1);
        init::uniform_(layer.norm2()->bias(), -0.5, 0.5, 2);
        const Tensor x = uniform(Shape{kL, kN, kD}, -1, 1, 3, f64);
        auto norm = [&](const LayerNorm& ln, const Tensor& t) {
            std::vector<double> v = t.to_vector(), out(v.size());
            const std::vector<double> g = ln.weight().to_vector(), b = ln.bias().to_vector();
            for (std::size_t r = 0; r < v.size() / kD; ++r) {
                double m = 0, s = 0;
                for (std::size_t e = 0; e < kD; ++e) m += v[r * kD + e] / kD;
                for (std::size_t e = 0; e < kD; ++e)
                    s += (v[r * kD + e] - m) * (v[r * kD + e] - m) / kD;
                for (std::size_t e = 0; e < kD; ++e) {
                    out[r * kD + e] = (v[r * kD + e] - m) / std::sqrt(s + 1e-3) * g[e] + b[e];
                }
            }
            return tensor(out, t.shape(), f64);
        };
        auto sa = [&](const Tensor& t) { return std::get<0>(layer.self_attn()->forward(t, t, t)); };
        auto ff = [&](const Tensor& t) {
            const Tensor rows = reshape(t, Shape{kL * kN, kD});
            return reshape(layer.linear2()->forward(gelu(layer.linear1()->forward(rows))),
                           t.shape());
        };
        Tensor want;
        if (norm_first) {
            const Tensor h = x + sa(norm(*layer.norm1(), x));
            want = h + ff(norm(*layer.norm2(), h));
        } else {
            const Tensor h = norm(*layer.norm1(), x + sa(x));
            want = norm(*layer.norm2(), h + ff(h));
        }
        expect_near(layer.forward(x).to_vector(), want.to_vector(), 1e-13);
    }
}

TEST(TransformerEncoderLayer, ParametersNamesAndPrintoutAsPyTorch) {
    manual_seed(2);
    TransformerEncoderLayer layer(TransformerEncoderLayerOptions(64, 4).dim_feedforward(128));
    std::size_t count = 0;
    std::vector<std::string> names;
    for (const auto& [name, p] : layer.named_parameters()) {
        count += p.numel();
        names.push_back(name);
    }
    // PyTorch (ref_attention.py prints 33472): self_attn 4*64*64 + 4*64 = 16640, linear1
    // 64*128 + 128 = 8320, linear2 128*64 + 64 = 8256, norm1 and norm2 2*64 each = 256.
    EXPECT_EQ(count, 16640u + 8320u + 8256u + 256u);
    EXPECT_EQ(count, 33472u);
    EXPECT_EQ(names,
              (std::vector<std::string>{
                  "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                  "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                  "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"}));
    EXPECT_EQ(to_string(layer),
              "TransformerEncoderLayer(\n"
              "  (self_attn): MultiheadAttention(\n"
              "    (out_proj): Linear(in=64, out=64, bias=true)\n"
              "  )\n"
              "  (linear1): Linear(in=64, out=128, bias=true)\n"
              "  (dropout): Dropout(p=0.1)\n"
              "  (linear2): Linear(in=128, out=64, bias=true)\n"
              "  (norm1): LayerNorm((64,), eps=1e-05, elementwise_affine=true)\n"
              "  (norm2): LayerNorm((64,), eps=1e-05, elementwise_affine=true)\n"
              "  (dropout1): Dropout(p=0.1)\n"
              "  (dropout2): Dropout(p=0.1)\n"
              ")");
    EXPECT_EQ(layer.self_attn()->options().dropout(), 0.1);
}

TEST(TransformerEncoderLayer, DropoutOnlyInTrainingAndBatchFirst) {
    manual_seed(3);
    TransformerEncoderLayer layer(
        TransformerEncoderLayerOptions(4, 2).dim_feedforward(8).dtype(f64));
    const Tensor x = uniform(Shape{kL, kN, kD}, -1, 1, 4, f64);
    const std::vector<double> train = layer.forward(x).to_vector();
    layer.eval();
    const std::vector<double> a = layer.forward(x).to_vector(), b = layer.forward(x).to_vector();
    EXPECT_EQ(a, b);
    EXPECT_NE(train, a);
    TransformerEncoderLayer bf(
        TransformerEncoderLayerOptions(4, 2).dim_feedforward(8).batch_first(true).dtype(f64));
    bf.eval();
    for (std::size_t p = 0; p < layer.parameters().size(); ++p)
        init::copy_(bf.parameters()[p], layer.parameters()[p]);
    expect_near(transpose(bf.forward(transpose(x, 0, 1)), 0, 1).to_vector(), a, 1e-14);
}

TEST(TransformerEncoderLayer, GradcheckAndGradgradcheck) {
    manual_seed(4);
    TransformerEncoderLayer layer(small(false).activation("gelu"));
    TransformerEncoderLayer first(small(true));
    for (TransformerEncoderLayer* l : {&layer, &first}) {
        auto f = [&](const std::vector<Tensor>& in) {
            return l->forward(in[0], causal_ignore(), reference_padding());
        };
        const std::vector<Tensor> in = {rand64({kL, kN, kD}, 5)};
        EXPECT_TRUE(grad_ok(f, in));
        const GradcheckResult r = gradgradcheck(f, in);
        EXPECT_TRUE(r) << r.message;
    }
}

TEST(TransformerEncoderLayer, BadOptionsAndInputsThrow) {
    EXPECT_THROW_MSG(
        TransformerEncoderLayer(TransformerEncoderLayerOptions(4, 2).activation("tanh")),
        std::invalid_argument, "TransformerEncoderLayer: activation should be relu/gelu, not tanh");
    EXPECT_THROW_MSG(TransformerEncoderLayer(TransformerEncoderLayerOptions(6, 4)),
                     std::invalid_argument, "embed_dim must be divisible by num_heads");
    TransformerEncoderLayer layer(TransformerEncoderLayerOptions(4, 2).dim_feedforward(8));
    EXPECT_THROW_MSG(layer.forward(ones(Shape{3, 2, 5})), std::invalid_argument,
                     "query's feature size 5 differs from embed_dim 4");
    EXPECT_THROW_MSG(layer.forward(ones(Shape{3, 2, 4}), ones(Shape{2, 2}, bool_)),
                     std::invalid_argument,
                     "attn_mask of shape (2,2) does not fit: expected (3,3)");
}

TEST(TransformerEncoder, StacksCopiesOfTheLayer) {
    manual_seed(5);
    TransformerEncoderLayer layer(small(false).activation([](const Tensor& t) { return relu(t); }));
    TransformerEncoder enc(layer, 2);
    EXPECT_EQ(enc.num_layers(), 2u);
    EXPECT_EQ(enc.named_parameters()[0].first, "layers.0.self_attn.in_proj_weight");
    EXPECT_EQ(enc.named_parameters().size(), 24u);
    // the copies start equal to the layer (PyTorch deep-copies it) and are separate parameters
    EXPECT_EQ(enc.layer(1)->linear1()->weight().to_vector(), layer.linear1()->weight().to_vector());
    EXPECT_NE(enc.layer(1)->linear1()->weight().node(), layer.linear1()->weight().node());
    const Tensor x = reference_src();
    const Tensor twice = layer.forward(layer.forward(x, causal_ignore()), causal_ignore());
    expect_near(enc.forward(x, causal_ignore()).to_vector(), twice.to_vector(), 1e-14);
    EXPECT_THROW_MSG(TransformerEncoder(layer, 0), std::invalid_argument,
                     "TransformerEncoder: num_layers must be positive");
}

}  // namespace
}  // namespace xgrad::nn
