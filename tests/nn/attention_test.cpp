#include "nn/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "autograd/ops.h"
#include "nn/init.h"
#include "tests/nn/ref_attention_data.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

namespace F = functional;
using xgrad::testing::grad_ok;
using xgrad::testing::rand64;

constexpr double kInf = std::numeric_limits<double>::infinity();

// ref_attention.py's values: 0.5 sin(0.7 i + c) (+ 1 when `one`).
std::vector<double> vals(std::size_t n, double c, bool one = false) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = 0.5 * std::sin(0.7 * static_cast<double>(i) + c) + one;
    return v;
}

// The plain computation: q (B, L, E), k (B, S, E), v (B, S, Ev) row-major; add(b, i, j) is the
// mask's addend to score (b, i, j) (-inf to ignore). Returns (B, L, Ev).
std::vector<double> ref_sdpa(
    const std::vector<double>& q, const std::vector<double>& k, const std::vector<double>& v,
    std::size_t B, std::size_t L, std::size_t S, std::size_t E, std::size_t Ev, double scale,
    const std::function<double(std::size_t, std::size_t, std::size_t)>& add) {
    std::vector<double> out(B * L * Ev, 0.0);
    for (std::size_t b = 0; b < B; ++b) {
        for (std::size_t i = 0; i < L; ++i) {
            std::vector<double> s(S);
            double mx = -kInf;
            for (std::size_t j = 0; j < S; ++j) {
                double d = 0;
                for (std::size_t e = 0; e < E; ++e)
                    d += q[(b * L + i) * E + e] * k[(b * S + j) * E + e];
                s[j] = d * scale + add(b, i, j);
                mx = std::max(mx, s[j]);
            }
            double z = 0;
            for (std::size_t j = 0; j < S; ++j) z += (s[j] = std::exp(s[j] - mx));
            for (std::size_t j = 0; j < S; ++j) {
                for (std::size_t e = 0; e < Ev; ++e)
                    out[(b * L + i) * Ev + e] += s[j] / z * v[(b * S + j) * Ev + e];
            }
        }
    }
    return out;
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

auto no_mask = [](std::size_t, std::size_t, std::size_t) { return 0.0; };

TEST(ScaledDotProductAttention, MatchesLoopsWithDefaultAndGivenScale) {
    const std::size_t B = 2, L = 3, S = 5, E = 4, Ev = 6;
    Tensor q = rand64({B, L, E}, 1), k = rand64({B, S, E}, 2), v = rand64({B, S, Ev}, 3);
    const Tensor y = F::scaled_dot_product_attention(q, k, v);
    EXPECT_EQ(y.shape(), (Shape{B, L, Ev}));
    expect_near(y.to_vector(),
                ref_sdpa(q.to_vector(), k.to_vector(), v.to_vector(), B, L, S, E, Ev, 0.5, no_mask),
                1e-14);
    const Tensor y3 = F::scaled_dot_product_attention(q, k, v, {}, 0.0, false, 3.0);
    expect_near(y3.to_vector(),
                ref_sdpa(q.to_vector(), k.to_vector(), v.to_vector(), B, L, S, E, Ev, 3.0, no_mask),
                1e-14);
}

TEST(ScaledDotProductAttention, BoolMaskTrueTakesPartAndBroadcasts) {
    const std::size_t B = 2, L = 3, S = 4, E = 2, Ev = 3;
    Tensor q = rand64({B, L, E}, 4), k = rand64({B, S, E}, 5), v = rand64({B, S, Ev}, 6);
    // (B, 1, S): per batch, keys 1 and 3 (b = 0) or key 0 (b = 1) are masked for every query.
    const std::vector<double> keep = {1, 0, 1, 0, 0, 1, 1, 1};
    const Tensor mask = tensor(keep, Shape{B, 1, S}, bool_);
    const Tensor y = F::scaled_dot_product_attention(q, k, v, mask);
    const double scale = 1 / std::sqrt(2.0);
    expect_near(y.to_vector(),
                ref_sdpa(q.to_vector(), k.to_vector(), v.to_vector(), B, L, S, E, Ev, scale,
                         [&](std::size_t b, std::size_t, std::size_t j) {
                             return keep[b * S + j] != 0 ? 0.0 : -kInf;
                         }),
                1e-14);
}

TEST(ScaledDotProductAttention, FloatMaskIsAddedToTheScores) {
    const std::size_t B = 2, L = 3, S = 4, E = 2, Ev = 2;
    Tensor q = rand64({B, L, E}, 7), k = rand64({B, S, E}, 8), v = rand64({B, S, Ev}, 9);
    const std::vector<double> add = vals(L * S, 0.3);
    const Tensor mask = tensor(add, Shape{L, S}, f64);  // (L, S) broadcasts over B
    const Tensor y = F::scaled_dot_product_attention(q, k, v, mask, 0.0, false, 0.7);
    expect_near(y.to_vector(),
                ref_sdpa(q.to_vector(), k.to_vector(), v.to_vector(), B, L, S, E, Ev, 0.7,
                         [&](std::size_t, std::size_t i, std::size_t j) { return add[i * S + j]; }),
                1e-14);
}

TEST(ScaledDotProductAttention, CausalIsTheTopLeftLowerTriangle) {
    const std::size_t B = 1, L = 3, S = 5, E = 2, Ev = 2;
    Tensor q = rand64({B, L, E}, 10), k = rand64({B, S, E}, 11), v = rand64({B, S, Ev}, 12);
    const Tensor y = F::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
    const std::vector<double> want =
        ref_sdpa(q.to_vector(), k.to_vector(), v.to_vector(), B, L, S, E, Ev, 1 / std::sqrt(2.0),
                 [](std::size_t, std::size_t i, std::size_t j) { return j <= i ? 0.0 : -kInf; });
    expect_near(y.to_vector(), want, 1e-14);
    // the first query sees key 0 only: its output is value row 0
    EXPECT_NEAR(y.to_vector()[0], v.to_vector()[0], 1e-15);
}

TEST(ScaledDotProductAttention, FullyMaskedRowIsNaNAsPyTorch) {
    Tensor q = rand64({2, 2}, 13), k = rand64({3, 2}, 14), v = rand64({3, 2}, 15);
    const Tensor mask = tensor({1, 1, 0, 0, 0, 0}, Shape{2, 3}, bool_);  // row 1: nothing kept
    const std::vector<double> y = F::scaled_dot_product_attention(q, k, v, mask).to_vector();
    EXPECT_FALSE(std::isnan(y[0]));
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_TRUE(std::isnan(y[3]));
}

TEST(ScaledDotProductAttention, DropoutOneZeroesAndDropoutKeepsTheExpectation) {
    Tensor q = rand64({4, 2}, 16), k = rand64({4, 2}, 17), v = rand64({4, 3}, 18);
    for (double x : F::scaled_dot_product_attention(q, k, v, {}, 1.0).to_vector()) EXPECT_EQ(x, 0);
    manual_seed(3);
    const std::vector<double> a = F::scaled_dot_product_attention(q, k, v, {}, 0.5).to_vector();
    manual_seed(3);
    const std::vector<double> b = F::scaled_dot_product_attention(q, k, v, {}, 0.5).to_vector();
    EXPECT_EQ(a, b);  // the same seed, the same mask
    EXPECT_NE(a, F::scaled_dot_product_attention(q, k, v).to_vector());
}

TEST(ScaledDotProductAttention, GradcheckAndGradgradcheckWithMasks) {
    const Tensor keep = tensor({1, 0, 1, 1, 1, 0, 1, 1, 0}, Shape{3, 3}, bool_);
    const Tensor add = tensor(vals(9, 1.0), Shape{3, 3}, f64);
    const std::vector<Tensor> in = {rand64({2, 3, 2}, 19), rand64({2, 3, 2}, 20),
                                    rand64({2, 3, 2}, 21)};
    const std::vector<std::function<Tensor(const std::vector<Tensor>&)>> fs = {
        [&](const std::vector<Tensor>& x) {
            return F::scaled_dot_product_attention(x[0], x[1], x[2], keep);
        },
        [&](const std::vector<Tensor>& x) {
            return F::scaled_dot_product_attention(x[0], x[1], x[2], add, 0.0, false, 0.8);
        },
        [&](const std::vector<Tensor>& x) {
            return F::scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true);
        }};
    for (const auto& f : fs) {
        EXPECT_TRUE(grad_ok(f, in));
        const GradcheckResult r = gradgradcheck(f, in);
        EXPECT_TRUE(r) << r.message;
    }
}

TEST(ScaledDotProductAttention, BadInputsThrowNamingTheShapes) {
    Tensor q = rand64({2, 3, 4}, 1), k = rand64({2, 5, 4}, 2), v = rand64({2, 5, 6}, 3);
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, rand64({2, 5, 3}, 4), v),
                     std::invalid_argument, "scaled_dot_product_attention", "(2,3,4)", "(2,5,3)");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, rand64({2, 4, 6}, 4)),
                     std::invalid_argument, "sequence dims", "(2,4,6)");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, v, ones(Shape{3, 4}, bool_)),
                     std::invalid_argument, "attn_mask of shape (3,4)",
                     "does not broadcast to the scores' shape (2,3,5)");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, v, ones(Shape{3, 5}, i64)),
                     std::invalid_argument, "attn_mask dtype int64 is not supported",
                     "expected bool or the query's float64");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, v, ones(Shape{3, 5}, f32)),
                     std::invalid_argument, "attn_mask dtype float32");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(q, k, v, ones(Shape{3, 5}, bool_), 0.0, true),
                     std::invalid_argument, "attn_mask should not be set when is_causal=true");
    EXPECT_THROW_MSG(F::scaled_dot_product_attention(rand64({4}, 1), k, v), std::invalid_argument,
                     "at least 2 dims");
}

// ---- MultiheadAttention ----

// MHA(E=4, H=2) with ref_attention.py's parameters. PyTorch's out_proj.weight is (out, in);
// xgrad's Linear stores (in, out): the values are written transposed.
MultiheadAttention reference_mha(bool batch_first = false) {
    const std::size_t E = 4;
    MultiheadAttention m(MultiheadAttentionOptions(E, 2).batch_first(batch_first).dtype(f64));
    init::copy_(m.in_proj_weight(), vals(3 * E * E, 1.0));
    init::copy_(m.in_proj_bias(), vals(3 * E, 2.0));
    const std::vector<double> w = vals(E * E, 3.0);  // (out, in)
    std::vector<double> wt(E * E);
    for (std::size_t o = 0; o < E; ++o) {
        for (std::size_t i = 0; i < E; ++i) wt[i * E + o] = w[o * E + i];
    }
    init::copy_(m.out_proj()->weight(), wt);
    init::copy_(m.out_proj()->bias(), vals(E, 4.0));
    return m;
}

// MultiheadAttention written out with loops from the parameters: returns (out (L, N, E),
// per-head weights (N, H, L, S)). ignore(n, i, j): key_padding/attn Bool masks; add(i, j):
// the float attn_mask.
std::pair<std::vector<double>, std::vector<double>> ref_mha(
    const MultiheadAttention& m, const std::vector<double>& q, const std::vector<double>& k,
    const std::vector<double>& v, std::size_t L, std::size_t S, std::size_t N,
    const std::function<double(std::size_t, std::size_t, std::size_t, std::size_t)>& add) {
    const std::size_t E = m.options().embed_dim(), H = m.options().num_heads(), hd = E / H;
    const std::vector<double> W = m.in_proj_weight().to_vector(), b = m.in_proj_bias().to_vector();
    const std::vector<double> Wo = m.out_proj()->weight().to_vector();  // (in, out)
    const std::vector<double> bo = m.out_proj()->bias().to_vector();
    auto project = [&](const std::vector<double>& x, std::size_t T, std::size_t part) {
        std::vector<double> p(T * N * E);  // (T, N, E)
        for (std::size_t r = 0; r < T * N; ++r) {
            for (std::size_t o = 0; o < E; ++o) {
                double s = b[part * E + o];
                for (std::size_t i = 0; i < E; ++i) s += x[r * E + i] * W[(part * E + o) * E + i];
                p[r * E + o] = s;
            }
        }
        return p;
    };
    const std::vector<double> qp = project(q, L, 0), kp = project(k, S, 1), vp = project(v, S, 2);
    std::vector<double> heads(L * N * E, 0.0), weights(N * H * L * S);
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t h = 0; h < H; ++h) {
            for (std::size_t i = 0; i < L; ++i) {
                std::vector<double> s(S);
                double mx = -kInf, z = 0;
                for (std::size_t j = 0; j < S; ++j) {
                    double d = 0;
                    for (std::size_t e = 0; e < hd; ++e) {
                        d += qp[(i * N + n) * E + h * hd + e] * kp[(j * N + n) * E + h * hd + e];
                    }
                    s[j] = d / std::sqrt(static_cast<double>(hd)) + add(n, h, i, j);
                    mx = std::max(mx, s[j]);
                }
                for (std::size_t j = 0; j < S; ++j) z += (s[j] = std::exp(s[j] - mx));
                for (std::size_t j = 0; j < S; ++j) {
                    weights[((n * H + h) * L + i) * S + j] = s[j] / z;
                    for (std::size_t e = 0; e < hd; ++e) {
                        heads[(i * N + n) * E + h * hd + e] +=
                            s[j] / z * vp[(j * N + n) * E + h * hd + e];
                    }
                }
            }
        }
    }
    std::vector<double> out(L * N * E);
    for (std::size_t r = 0; r < L * N; ++r) {
        for (std::size_t o = 0; o < E; ++o) {
            double s = bo[o];
            for (std::size_t i = 0; i < E; ++i) s += heads[r * E + i] * Wo[i * E + o];
            out[r * E + o] = s;
        }
    }
    return {out, weights};
}

const std::size_t kL = 3, kS = 4, kN = 2, kE = 4, kH = 2;
const std::vector<double> kPad = {0, 0, 0, 1, 0, 1, 0, 0};  // (N, S), true = ignore

TEST(MultiheadAttention, MatchesPyTorchWithKeyPaddingAndFloatAttnMask) {
    MultiheadAttention m = reference_mha();
    const Tensor q = tensor(vals(kL * kN * kE, 5.0), Shape{kL, kN, kE}, f64);
    const Tensor k = tensor(vals(kS * kN * kE, 6.0), Shape{kS, kN, kE}, f64);
    const Tensor v = tensor(vals(kS * kN * kE, 7.0), Shape{kS, kN, kE}, f64);
    const Tensor kpm = tensor(kPad, Shape{kN, kS}, bool_);
    const Tensor am = tensor(vals(kL * kS, 8.0), Shape{kL, kS}, f64);
    auto [out, w] = m.forward(q, k, v, kpm, true, am);
    EXPECT_EQ(out.shape(), (Shape{kL, kN, kE}));
    EXPECT_EQ(w.shape(), (Shape{kN, kL, kS}));
    expect_near(out.to_vector(), ref::kMhaOut, 1e-14);
    expect_near(w.to_vector(), ref::kMhaWeights, 1e-14);
    auto [out2, wh] = m.forward(q, k, v, kpm, true, am, /*average_attn_weights=*/false);
    EXPECT_EQ(wh.shape(), (Shape{kN, kH, kL, kS}));
    expect_near(wh.to_vector(), ref::kMhaHeadWeights, 1e-14);
    expect_near(out2.to_vector(), out.to_vector(), 0);
    auto [out3, none] = m.forward(q, k, v, kpm, /*need_weights=*/false, am);
    EXPECT_FALSE(none.defined());
    expect_near(out3.to_vector(), out.to_vector(), 1e-15);
}

TEST(MultiheadAttention, MatchesLoopsWithBoolAttnMaskPerHeadAndPadding) {
    manual_seed(5);
    MultiheadAttention m(MultiheadAttentionOptions(kE, kH).dtype(f64));
    init::uniform_(m.in_proj_bias(), -0.5, 0.5, 1);
    init::uniform_(m.out_proj()->bias(), -0.5, 0.5, 2);
    const Tensor q = uniform(Shape{kL, kN, kE}, -1, 1, 3, f64);
    const Tensor k = uniform(Shape{kS, kN, kE}, -1, 1, 4, f64);
    const Tensor v = uniform(Shape{kS, kN, kE}, -1, 1, 5, f64);
    // (N*H, L, S) Bool, true = ignore: head h of batch n ignores key (i + n + h) % S for query i.
    std::vector<double> am(kN * kH * kL * kS, 0.0);
    for (std::size_t n = 0; n < kN; ++n) {
        for (std::size_t h = 0; h < kH; ++h) {
            for (std::size_t i = 0; i < kL; ++i)
                am[((n * kH + h) * kL + i) * kS + (i + n + h) % kS] = 1;
        }
    }
    auto [out, wh] = m.forward(q, k, v, tensor(kPad, Shape{kN, kS}, bool_), true,
                               tensor(am, Shape{kN * kH, kL, kS}, bool_), false);
    auto [want, want_w] = ref_mha(m, q.to_vector(), k.to_vector(), v.to_vector(), kL, kS, kN,
                                  [&](std::size_t n, std::size_t h, std::size_t i, std::size_t j) {
                                      const bool ignore = kPad[n * kS + j] != 0 ||
                                                          am[((n * kH + h) * kL + i) * kS + j] != 0;
                                      return ignore ? -kInf : 0.0;
                                  });
    expect_near(out.to_vector(), want, 1e-14);
    expect_near(wh.to_vector(), want_w, 1e-14);
    // A float key_padding_mask of -inf and 0 is the same mask.
    Tensor fpad = masked_fill(zeros(Shape{kN, kS}, f64), tensor(kPad, Shape{kN, kS}, bool_), -kInf);
    auto [out_f, w_f] =
        m.forward(q, k, v, fpad, true, tensor(am, Shape{kN * kH, kL, kS}, bool_), false);
    expect_near(out_f.to_vector(), want, 1e-14);
}

TEST(MultiheadAttention, CausalSelfAttentionBatchFirstAndUnbatched) {
    manual_seed(6);
    MultiheadAttention m(MultiheadAttentionOptions(kE, kH).dtype(f64));
    const Tensor x = uniform(Shape{kL, kN, kE}, -1, 1, 7, f64);
    auto [out, w] = m.forward(x, x, x, {}, true, {}, true, /*is_causal=*/true);
    auto [want, want_w] = ref_mha(m, x.to_vector(), x.to_vector(), x.to_vector(), kL, kL, kN,
                                  [](std::size_t, std::size_t, std::size_t i, std::size_t j) {
                                      return j <= i ? 0.0 : -kInf;
                                  });
    expect_near(out.to_vector(), want, 1e-14);
    // the same layer read batch-first: the same numbers with L and N swapped
    MultiheadAttention mb(MultiheadAttentionOptions(kE, kH).batch_first(true).dtype(f64));
    for (std::size_t p = 0; p < m.parameters().size(); ++p)
        init::copy_(mb.parameters()[p], m.parameters()[p]);
    const Tensor xb = transpose(x, 0, 1);
    auto [outb, wb] = mb.forward(xb, xb, xb, {}, true, {}, true, true);
    EXPECT_EQ(outb.shape(), (Shape{kN, kL, kE}));
    expect_near(transpose(outb, 0, 1).to_vector(), want, 1e-14);
    expect_near(wb.to_vector(), w.to_vector(), 1e-14);
    // unbatched (L, E): batch 1 of the batched result
    const Tensor x1 = select(x, 1, 1);
    auto [out1, w1] = m.forward(x1, x1, x1, {}, true, {}, true, true);
    EXPECT_EQ(out1.shape(), (Shape{kL, kE}));
    EXPECT_EQ(w1.shape(), (Shape{kL, kL}));
    expect_near(out1.to_vector(), select(out, 1, 1).to_vector(), 1e-14);
    expect_near(w1.to_vector(), select(w, 0, 1).to_vector(), 1e-14);
}

TEST(MultiheadAttention, ParametersAsPyTorch) {
    manual_seed(1);
    MultiheadAttention m(MultiheadAttentionOptions(64, 4));
    std::size_t count = 0;
    std::vector<std::string> names;
    for (const auto& [name, p] : m.named_parameters()) {
        count += p.numel();
        names.push_back(name);
    }
    EXPECT_EQ(count, 16640u);  // PyTorch: 4 * 64 * 64 + 4 * 64 (ref_attention.py prints it)
    EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                               "out_proj.bias"}));
    EXPECT_EQ(m.in_proj_weight().shape(), (Shape{192, 64}));
    // init: xavier_uniform_ bound sqrt(6 / (64 + 192)), zero biases
    const double a = std::sqrt(6.0 / 256.0);
    double mx = 0;
    for (double x : m.in_proj_weight().to_vector()) mx = std::max(mx, std::abs(x));
    EXPECT_LE(mx, a);
    EXPECT_GT(mx, 0.95 * a);
    for (double x : m.in_proj_bias().to_vector()) EXPECT_EQ(x, 0);
    for (double x : m.out_proj()->bias().to_vector()) EXPECT_EQ(x, 0);
    double mo = 0;
    for (double x : m.out_proj()->weight().to_vector()) mo = std::max(mo, std::abs(x));
    EXPECT_LE(mo, 1 / 8.0);  // a Linear's U(-1/sqrt(64), 1/sqrt(64))
    EXPECT_GT(mo, 0.95 / 8.0);
    // kdim/vdim: separate projections, as PyTorch
    MultiheadAttention c(MultiheadAttentionOptions(8, 2).kdim(3).vdim(5).bias(false));
    EXPECT_FALSE(c.in_proj_weight().defined());
    EXPECT_EQ(c.k_proj_weight().shape(), (Shape{8, 3}));
    EXPECT_EQ(c.v_proj_weight().shape(), (Shape{8, 5}));
    EXPECT_EQ(c.parameters().size(), 4u);  // q, k, v, out_proj.weight
    auto [y, w] = c.forward(ones(Shape{2, 1, 8}), ones(Shape{4, 1, 3}), ones(Shape{4, 1, 5}));
    EXPECT_EQ(y.shape(), (Shape{2, 1, 8}));
    EXPECT_EQ(w.shape(), (Shape{1, 2, 4}));
    EXPECT_EQ(to_string(m),
              "MultiheadAttention(\n  (out_proj): Linear(in=64, out=64, bias=true)\n)");
}

// kdim 3, vdim 5: separate q, k, v projections (PyTorch's q_proj_weight, k_proj_weight,
// v_proj_weight), with a boolean causal mask; then gradcheck through those weights.
TEST(MultiheadAttention, KdimAndVdimMatchPyTorch) {
    const std::size_t KD = 3, VD = 5;
    MultiheadAttention m(MultiheadAttentionOptions(kE, kH).kdim(KD).vdim(VD).dtype(f64));
    init::copy_(m.q_proj_weight(), vals(kE * kE, 11.0));
    init::copy_(m.k_proj_weight(), vals(kE * KD, 12.0));
    init::copy_(m.v_proj_weight(), vals(kE * VD, 13.0));
    init::copy_(m.in_proj_bias(), vals(3 * kE, 2.0));
    const std::vector<double> w = vals(kE * kE, 3.0);  // (out, in)
    std::vector<double> wt(kE * kE);
    for (std::size_t o = 0; o < kE; ++o) {
        for (std::size_t i = 0; i < kE; ++i) wt[i * kE + o] = w[o * kE + i];
    }
    init::copy_(m.out_proj()->weight(), wt);
    init::copy_(m.out_proj()->bias(), vals(kE, 4.0));
    const Tensor q = tensor(vals(kL * kN * kE, 5.0), Shape{kL, kN, kE}, f64);
    const Tensor k = tensor(vals(kS * kN * KD, 6.0), Shape{kS, kN, KD}, f64);
    const Tensor v = tensor(vals(kS * kN * VD, 7.0), Shape{kS, kN, VD}, f64);
    std::vector<double> causal(kL * kS);
    for (std::size_t i = 0; i < kL; ++i) {
        for (std::size_t j = 0; j < kS; ++j) causal[i * kS + j] = j > i ? 1 : 0;
    }
    const Tensor am = tensor(causal, Shape{kL, kS}, bool_);
    auto [out, attn] = m.forward(q, k, v, {}, true, am);
    EXPECT_EQ(out.shape(), (Shape{kL, kN, kE}));
    expect_near(out.to_vector(), ref::kMhaKdimVdimOut, 1e-14);
    expect_near(attn.to_vector(), ref::kMhaKdimVdimWeights, 1e-14);
    auto f = [&](const std::vector<Tensor>& x) {
        return std::get<0>(m.forward(x[0], x[1], x[2], {}, false, am));
    };
    const std::vector<Tensor> in{rand64({kL, kN, kE}, 1), rand64({kS, kN, KD}, 2),
                                 rand64({kS, kN, VD}, 3)};
    auto r = gradcheck(f, in);
    EXPECT_TRUE(r.ok) << r.message;
    // The projections' own gradients against central differences of a loss seeded with fixed
    // random weights, each element of q_proj_weight, k_proj_weight and v_proj_weight perturbed.
    const Tensor seed = rand64({kL, kN, kE}, 4).detach();
    auto loss = [&] {
        return sum(
            std::get<0>(m.forward(in[0].detach(), in[1].detach(), in[2].detach(), {}, false, am)) *
            seed);
    };
    m.zero_grad();  // gradcheck's backward passes added into them
    loss().backward();
    for (const Tensor* p : {&m.q_proj_weight(), &m.k_proj_weight(), &m.v_proj_weight()}) {
        const std::vector<double> analytic = p->grad().to_vector();
        std::vector<double> values = p->to_vector();
        for (std::size_t i = 0; i < values.size(); ++i) {
            const double h = 1e-6, keep = values[i];
            values[i] = keep + h;
            init::copy_(*p, values);
            const double up = loss().item();
            values[i] = keep - h;
            init::copy_(*p, values);
            const double down = loss().item();
            values[i] = keep;
            init::copy_(*p, values);
            EXPECT_NEAR(analytic[i], (up - down) / (2 * h), 1e-8) << i;
        }
    }
}

TEST(MultiheadAttention, GradcheckAndGradgradcheckThroughTheLayer) {
    manual_seed(7);
    MultiheadAttention m(MultiheadAttentionOptions(4, 2).dtype(f64));
    init::uniform_(m.in_proj_bias(), -0.5, 0.5, 1);
    const Tensor kpm = tensor({0, 0, 1, 0, 0, 0}, Shape{2, 3}, bool_);
    auto f = [&](const std::vector<Tensor>& x) {
        return std::get<0>(m.forward(x[0], x[1], x[1], kpm, false, {}, true, false));
    };
    const std::vector<Tensor> in = {rand64({2, 2, 4}, 8), rand64({3, 2, 4}, 9)};
    EXPECT_TRUE(grad_ok(f, in));
    const GradcheckResult r = gradgradcheck(f, in);
    EXPECT_TRUE(r) << r.message;
    // every parameter gets a gradient
    m.zero_grad();
    Tensor y = std::get<0>(m.forward(in[0], in[1], in[1], kpm, false));
    sum(y * y).backward();
    for (const auto& [name, p] : m.named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

TEST(MultiheadAttention, BadInputsThrowNamingTheLayerAndShapes) {
    EXPECT_THROW_MSG(MultiheadAttention(MultiheadAttentionOptions(10, 3)), std::invalid_argument,
                     "MultiheadAttention: embed_dim must be divisible by num_heads",
                     "embed_dim=10, num_heads=3");
    MultiheadAttention m(MultiheadAttentionOptions(4, 2));
    const Tensor x = ones(Shape{3, 2, 4}), k = ones(Shape{5, 2, 4});
    EXPECT_THROW_MSG(m.forward(ones(Shape{3, 2, 6}), k, k), std::invalid_argument,
                     "MultiheadAttention: query's feature size 6 differs from embed_dim 4",
                     "(3,2,6)");
    EXPECT_THROW_MSG(m.forward(x, k, k, {}, true, ones(Shape{3, 3}, bool_)), std::invalid_argument,
                     "MultiheadAttention: attn_mask of shape (3,3) does not fit: expected (3,5) "
                     "(L, S) or (4,3,5) (N*num_heads, L, S)");
    EXPECT_THROW_MSG(m.forward(x, k, k, ones(Shape{2, 3}, bool_)), std::invalid_argument,
                     "MultiheadAttention: key_padding_mask of shape (2,3) does not fit: expected "
                     "(2,5) (N, S)");
    EXPECT_THROW_MSG(m.forward(x, k, k, {}, true, ones(Shape{3, 5}, i64)), std::invalid_argument,
                     "MultiheadAttention: attn_mask dtype int64 is not supported: expected bool or "
                     "the query's float32");
    EXPECT_THROW_MSG(m.forward(x, k, k, ones(Shape{2, 5}, f64)), std::invalid_argument,
                     "MultiheadAttention: key_padding_mask dtype float64 is not supported");
    EXPECT_THROW_MSG(m.forward(x, k, ones(Shape{4, 2, 4})), std::invalid_argument,
                     "key and value differ in (S, N)", "(4,2,4)");
    EXPECT_THROW_MSG(m.forward(ones(Shape{4}), k, k), std::invalid_argument,
                     "expected query, key and value of 3 dims (L, N, E) or 2 dims (L, E)");
}

}  // namespace
}  // namespace xgrad::nn
