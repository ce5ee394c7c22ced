// RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU: forward against the cell equations in plain loops
// (hand-unrolled over time, stacked for several layers and directions), gradcheck and
// gradgradcheck in float64 with respect to the input, the states and every weight, parameter
// names and counts as PyTorch's, batch_first, dropout between layers, every error message.

#include "nn/rnn.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "autograd/gradcheck.h"
#include "nn/detail/rnn_ops.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using detail::RecurrentConfig;
using detail::RecurrentMode;
using V = std::vector<double>;

std::size_t gates(RecurrentMode m) {
    return m == RecurrentMode::kLstm ? 4 : m == RecurrentMode::kGru ? 3 : 1;
}
double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// The weights of one cell as plain vectors: wih (G H, in), whh (G H, H), bih, bhh (G H) (zeros
// without bias).
struct CellW {
    V wih, whh, bih, bhh;
    std::size_t in, h;
};

CellW cell_w(const Tensor& wih, const Tensor& whh, const Tensor& bih, const Tensor& bhh) {
    CellW w;
    w.in = wih.shape()[1];
    w.h = whh.shape()[1];
    w.wih = wih.to_vector();
    w.whh = whh.to_vector();
    w.bih = bih.defined() ? bih.to_vector() : V(wih.shape()[0], 0.0);
    w.bhh = bhh.defined() ? bhh.to_vector() : V(wih.shape()[0], 0.0);
    return w;
}

// One step of one sample, the equations as PyTorch's documentation writes them.
void ref_step(RecurrentMode m, const CellW& w, const double* x, const double* h, const double* c,
              double* h_out, double* c_out) {
    const std::size_t H = w.h, G = gates(m);
    V ai(G * H), ah(G * H);  // W_ih x + b_ih, W_hh h + b_hh
    for (std::size_t r = 0; r < G * H; ++r) {
        ai[r] = w.bih[r];
        ah[r] = w.bhh[r];
        for (std::size_t k = 0; k < w.in; ++k) ai[r] += w.wih[r * w.in + k] * x[k];
        for (std::size_t k = 0; k < H; ++k) ah[r] += w.whh[r * H + k] * h[k];
    }
    for (std::size_t j = 0; j < H; ++j) {
        if (m == RecurrentMode::kRnnTanh) {
            h_out[j] = std::tanh(ai[j] + ah[j]);
        } else if (m == RecurrentMode::kRnnRelu) {
            h_out[j] = std::max(0.0, ai[j] + ah[j]);
        } else if (m == RecurrentMode::kLstm) {
            const double i = sig(ai[j] + ah[j]), f = sig(ai[H + j] + ah[H + j]);
            const double g = std::tanh(ai[2 * H + j] + ah[2 * H + j]);
            const double o = sig(ai[3 * H + j] + ah[3 * H + j]);
            c_out[j] = f * c[j] + i * g;
            h_out[j] = o * std::tanh(c_out[j]);
        } else {
            const double r = sig(ai[j] + ah[j]), z = sig(ai[H + j] + ah[H + j]);
            const double n = std::tanh(ai[2 * H + j] + r * ah[2 * H + j]);
            h_out[j] = (1 - z) * n + z * h[j];
        }
    }
}

// One layer, one direction, unrolled over time: x (T, N, in) -> out (T, N, H); h, c (N, H) in
// and out (the final state).
V ref_layer(RecurrentMode m, const CellW& w, const V& x, std::size_t T, std::size_t N, V& h, V& c,
            bool reverse) {
    const std::size_t H = w.h;
    V out(T * N * H);
    for (std::size_t s = 0; s < T; ++s) {
        const std::size_t t = reverse ? T - 1 - s : s;
        for (std::size_t n = 0; n < N; ++n) {
            V hn(H), cn(H);
            ref_step(m, w, &x[(t * N + n) * w.in], &h[n * H], &c[n * H], hn.data(), cn.data());
            for (std::size_t j = 0; j < H; ++j) {
                out[(t * N + n) * H + j] = hn[j];
                h[n * H + j] = hn[j];
                c[n * H + j] = cn[j];
            }
        }
    }
    return out;
}

struct RefOut {
    V out, h_n, c_n;
};

// Layers stacked, directions concatenated along the features, as PyTorch's definition.
// x (T, N, in); h0, c0 (L D, N, H) (empty: zeros).
RefOut ref_stack(RecurrentMode m, const detail::RecurrentBase& mod, V x, std::size_t T,
                 std::size_t N, const V& h0, const V& c0) {
    const auto& cfg = mod.config();
    const std::size_t D = cfg.bidirectional ? 2 : 1, H = cfg.hidden_size;
    RefOut r;
    for (std::size_t l = 0; l < cfg.num_layers; ++l) {
        std::vector<V> outs;
        for (std::size_t d = 0; d < D; ++d) {
            const CellW w = cell_w(mod.weight_ih(l, d), mod.weight_hh(l, d), mod.bias_ih(l, d),
                                   mod.bias_hh(l, d));
            const std::size_t k = l * D + d;
            V h = h0.empty() ? V(N * H, 0.0)
                             : V(h0.begin() + long(k * N * H), h0.begin() + long((k + 1) * N * H));
            V c = c0.empty() ? V(N * H, 0.0)
                             : V(c0.begin() + long(k * N * H), c0.begin() + long((k + 1) * N * H));
            outs.push_back(ref_layer(m, w, x, T, N, h, c, d == 1));
            r.h_n.insert(r.h_n.end(), h.begin(), h.end());
            r.c_n.insert(r.c_n.end(), c.begin(), c.end());
        }
        x.assign(T * N * D * H, 0.0);
        for (std::size_t tn = 0; tn < T * N; ++tn)
            for (std::size_t d = 0; d < D; ++d)
                for (std::size_t j = 0; j < H; ++j) x[(tn * D + d) * H + j] = outs[d][tn * H + j];
    }
    r.out = x;
    return r;
}

void expect_near_all(const V& got, const V& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

std::size_t count_parameters(const Module& m) {
    std::size_t n = 0;
    for (const Tensor& p : m.parameters()) n += p.numel();
    return n;
}

std::string print(const Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

// ---- Cells ----

TEST(LSTMCell, ForwardMatchesTheEquationsInLoops) {
    LSTMCell cell(LSTMCellOptions(4, 5).dtype(f64));
    const Tensor x = uniform({3, 4}, -1, 1, 1, f64), h = uniform({3, 5}, -1, 1, 2, f64);
    const Tensor c = uniform({3, 5}, -1, 1, 3, f64);
    auto [h1, c1] = cell.forward(x, std::make_tuple(h, c));
    ASSERT_EQ(h1.shape(), (Shape{3, 5}));
    ASSERT_EQ(c1.shape(), (Shape{3, 5}));
    const CellW w = cell_w(cell.weight_ih(), cell.weight_hh(), cell.bias_ih(), cell.bias_hh());
    const V xv = x.to_vector(), hv = h.to_vector(), cv = c.to_vector();
    V hw(15), cw(15);
    for (std::size_t n = 0; n < 3; ++n) {
        ref_step(RecurrentMode::kLstm, w, &xv[n * 4], &hv[n * 5], &cv[n * 5], &hw[n * 5],
                 &cw[n * 5]);
    }
    expect_near_all(h1.to_vector(), hw, 1e-12);
    expect_near_all(c1.to_vector(), cw, 1e-12);
    // No state: zeros; unbatched input (in) -> (H).
    auto [h2, c2] = cell.forward(select(x, 0, 1));
    EXPECT_EQ(h2.shape(), (Shape{5}));
    V z(5, 0.0), hz(5), cz(5);
    ref_step(RecurrentMode::kLstm, w, &xv[4], z.data(), z.data(), hz.data(), cz.data());
    expect_near_all(h2.to_vector(), hz, 1e-12);
    expect_near_all(c2.to_vector(), cz, 1e-12);
}

TEST(RNNCellAndGRUCell, ForwardMatchesTheEquationsInLoops) {
    const Tensor x = uniform({3, 4}, -1, 1, 4, f64), h = uniform({3, 5}, -1, 1, 5, f64);
    const V xv = x.to_vector(), hv = h.to_vector();
    RNNCell tanh_cell(RNNCellOptions(4, 5).dtype(f64));
    RNNCell relu_cell(RNNCellOptions(4, 5).nonlinearity(kReLU).bias(false).dtype(f64));
    GRUCell gru(GRUCellOptions(4, 5).dtype(f64));
    const std::pair<detail::CellBase*, RecurrentMode> cases[] = {
        {&tanh_cell, RecurrentMode::kRnnTanh},
        {&relu_cell, RecurrentMode::kRnnRelu},
        {&gru, RecurrentMode::kGru}};
    for (auto [cell, mode] : cases) {
        const CellW w =
            cell_w(cell->weight_ih(), cell->weight_hh(), cell->bias_ih(), cell->bias_hh());
        V want(15), unused(15);
        for (std::size_t n = 0; n < 3; ++n) {
            ref_step(mode, w, &xv[n * 4], &hv[n * 5], &hv[n * 5], &want[n * 5], &unused[n * 5]);
        }
        const Tensor got =
            cell == &gru ? gru.forward(x, h) : static_cast<RNNCell*>(cell)->forward(x, h);
        expect_near_all(got.to_vector(), want, 1e-12);
    }
    EXPECT_EQ(relu_cell.parameters().size(), 2u);
}

TEST(Cells, GradcheckAndGradgradcheckEveryInputAndWeight) {
    for (RecurrentMode mode : {RecurrentMode::kRnnTanh, RecurrentMode::kRnnRelu,
                               RecurrentMode::kLstm, RecurrentMode::kGru}) {
        RecurrentConfig cfg;
        cfg.mode = mode;
        cfg.input_size = 3;
        cfg.hidden_size = 2;
        cfg.dtype = f64;
        const std::size_t GH = gates(mode) * 2;
        const bool lstm = mode == RecurrentMode::kLstm;
        std::vector<Tensor> in{testing::rand64({2, 3}, 10),  testing::rand64({2, 2}, 11),
                               testing::rand64({2, 2}, 12),  testing::rand64({GH, 3}, 13),
                               testing::rand64({GH, 2}, 14), testing::rand64({GH}, 15),
                               testing::rand64({GH}, 16)};
        const auto f = [&](const std::vector<Tensor>& v) {
            auto [h, c] = detail::cell_forward("cell", cfg, {v[3], v[4], v[5], v[6]}, v[0], v[1],
                                               lstm ? v[2] : Tensor());
            return lstm ? h * c + c : h;  // c' reaches the output too
        };
        if (!lstm) in[2] = in[2].detach();
        EXPECT_TRUE(testing::grad_ok(f, in)) << int(mode);
        const auto r = gradgradcheck(f, in);
        EXPECT_TRUE(r.ok) << int(mode) << ": " << r.message;
    }
}

// ---- Layers ----

struct LayerCase {
    RecurrentMode mode;
    std::size_t layers;
    bool bidirectional;
};

std::shared_ptr<detail::RecurrentBase> make_layer(RecurrentMode mode, std::size_t in,
                                                  std::size_t hidden, std::size_t layers,
                                                  bool bidirectional, bool batch_first = false,
                                                  double dropout = 0.0) {
    switch (mode) {
        case RecurrentMode::kLstm:
            return std::make_shared<LSTM>(LSTMOptions(in, hidden)
                                              .num_layers(layers)
                                              .bidirectional(bidirectional)
                                              .batch_first(batch_first)
                                              .dropout(dropout)
                                              .dtype(f64));
        case RecurrentMode::kGru:
            return std::make_shared<GRU>(GRUOptions(in, hidden)
                                             .num_layers(layers)
                                             .bidirectional(bidirectional)
                                             .batch_first(batch_first)
                                             .dropout(dropout)
                                             .dtype(f64));
        default:
            return std::make_shared<RNN>(
                RNNOptions(in, hidden)
                    .num_layers(layers)
                    .bidirectional(bidirectional)
                    .batch_first(batch_first)
                    .dropout(dropout)
                    .nonlinearity(mode == RecurrentMode::kRnnRelu ? kReLU : kTanh)
                    .dtype(f64));
    }
}

// (output, h_n, c_n) through the module's own forward.
std::tuple<Tensor, Tensor, Tensor> run(detail::RecurrentBase& m, const Tensor& x,
                                       const Tensor& h0 = {}, const Tensor& c0 = {}) {
    if (auto* lstm = dynamic_cast<LSTM*>(&m)) {
        std::optional<std::tuple<Tensor, Tensor>> hx;
        if (h0.defined()) hx = std::make_tuple(h0, c0);
        auto [out, s] = lstm->forward(x, hx);
        return {out, std::get<0>(s), std::get<1>(s)};
    }
    if (auto* gru = dynamic_cast<GRU*>(&m)) {
        auto [out, h] = gru->forward(x, h0);
        return {out, h, Tensor()};
    }
    auto [out, h] = static_cast<RNN&>(m).forward(x, h0);
    return {out, h, Tensor()};
}

TEST(RecurrentLayers, ForwardMatchesCellsUnrolledAndStacked) {
    const LayerCase cases[] = {
        {RecurrentMode::kLstm, 1, false},   {RecurrentMode::kLstm, 2, true},
        {RecurrentMode::kGru, 1, false},    {RecurrentMode::kGru, 2, true},
        {RecurrentMode::kRnnTanh, 2, true}, {RecurrentMode::kRnnRelu, 2, false}};
    const std::size_t T = 4, N = 3, IN = 5, H = 3;
    for (const auto& k : cases) {
        auto m = make_layer(k.mode, IN, H, k.layers, k.bidirectional);
        const std::size_t LD = k.layers * (k.bidirectional ? 2 : 1);
        const Tensor x = uniform({T, N, IN}, -1, 1, 20, f64);
        const Tensor h0 = uniform({LD, N, H}, -1, 1, 21, f64),
                     c0 = uniform({LD, N, H}, -1, 1, 22, f64);
        const bool lstm = k.mode == RecurrentMode::kLstm;
        auto [out, h_n, c_n] = run(*m, x, h0, lstm ? c0 : Tensor());
        const RefOut want =
            ref_stack(k.mode, *m, x.to_vector(), T, N, h0.to_vector(), lstm ? c0.to_vector() : V());
        const std::size_t D = k.bidirectional ? 2 : 1;
        EXPECT_EQ(out.shape(), (Shape{T, N, D * H}));
        EXPECT_EQ(h_n.shape(), (Shape{LD, N, H}));
        expect_near_all(out.to_vector(), want.out, 1e-12);
        expect_near_all(h_n.to_vector(), want.h_n, 1e-12);
        if (lstm) expect_near_all(c_n.to_vector(), want.c_n, 1e-12);
        // No initial state: zeros.
        auto [out0, h0n, c0n] = run(*m, x);
        const RefOut want0 = ref_stack(k.mode, *m, x.to_vector(), T, N, {}, {});
        expect_near_all(out0.to_vector(), want0.out, 1e-12);
        expect_near_all(h0n.to_vector(), want0.h_n, 1e-12);
    }
}

// gradcheck and gradgradcheck of a layer with respect to the input, the states and every weight
// (T steps, batch N; the stacked cases small, so that they stay fast under the sanitizers).
void check_layer_grads(const LayerCase& k, std::size_t T, std::size_t N, std::size_t H = 2) {
    const std::size_t IN = 2;
    {
        auto m = make_layer(k.mode, IN, H, k.layers, k.bidirectional);
        const bool lstm = k.mode == RecurrentMode::kLstm;
        const std::size_t LD = k.layers * (k.bidirectional ? 2 : 1);
        std::vector<Tensor> in{testing::rand64({T, N, IN}, 30), testing::rand64({LD, N, H}, 31),
                               testing::rand64({LD, N, H}, 32)};
        if (!lstm) in[2] = in[2].detach();
        const std::size_t np = m->parameters().size();
        std::uint64_t seed = 40;
        for (const Tensor& p : m->parameters()) in.push_back(testing::rand64(p.shape(), seed++));
        const auto& cfg = m->config();
        const auto f = [&](const std::vector<Tensor>& v) {
            const std::vector<Tensor> ps(v.begin() + 3, v.begin() + 3 + long(np));
            auto [out, h_n, c_n] = detail::recurrent_forward("layer", cfg, ps, v[0], v[1],
                                                             lstm ? v[2] : Tensor(), nullptr);
            // Every output reaches the loss: out, h_n (and c_n) with different weights.
            Tensor y = sum(out * out) + sum(h_n * 0.5);
            return lstm ? y + sum(c_n * c_n) : y;
        };
        const std::string what = "mode " + std::to_string(int(k.mode)) + " layers " +
                                 std::to_string(k.layers) + " bidirectional " +
                                 std::to_string(k.bidirectional);
        EXPECT_TRUE(testing::grad_ok(f, in)) << what;
        const auto r = gradgradcheck(f, in);
        EXPECT_TRUE(r.ok) << what << ": " << r.message;
    }
}

TEST(RecurrentLayerGrads, LstmOneLayer) {
    check_layer_grads({RecurrentMode::kLstm, 1, false}, 3, 2);
}
TEST(RecurrentLayerGrads, LstmTwoLayersBidirectional) {
    check_layer_grads({RecurrentMode::kLstm, 2, true}, 2, 1, /*H=*/1);
}
TEST(RecurrentLayerGrads, GruOneLayer) { check_layer_grads({RecurrentMode::kGru, 1, false}, 3, 2); }
TEST(RecurrentLayerGrads, GruTwoLayersBidirectional) {
    check_layer_grads({RecurrentMode::kGru, 2, true}, 2, 1, /*H=*/1);
}
TEST(RecurrentLayerGrads, RnnTanhBidirectional) {
    check_layer_grads({RecurrentMode::kRnnTanh, 1, true}, 3, 1);
}
TEST(RecurrentLayerGrads, RnnReluTwoLayers) {
    check_layer_grads({RecurrentMode::kRnnRelu, 2, false}, 2, 2);
}

TEST(RecurrentLayers, BackwardThroughTheModuleReachesEveryParameter) {
    LSTM lstm(LSTMOptions(3, 4).num_layers(2).bidirectional(true).dtype(f64));
    Tensor x = uniform({5, 2, 3}, -1, 1, 50, f64, true);
    auto [out, state] = lstm.forward(x);
    sum(out).backward();
    for (const auto& [name, p] : lstm.named_parameters()) {
        double norm = 0;
        for (double v : p.grad().to_vector()) norm += v * v;
        EXPECT_GT(norm, 0.0) << name;
    }
    EXPECT_EQ(x.grad().shape(), x.shape());
}

TEST(RecurrentLayers, BatchFirstGivesTheTransposedResult) {
    for (RecurrentMode mode :
         {RecurrentMode::kLstm, RecurrentMode::kGru, RecurrentMode::kRnnTanh}) {
        manual_seed(3);
        auto a = make_layer(mode, 4, 3, 2, true, /*batch_first=*/false);
        manual_seed(3);
        auto b = make_layer(mode, 4, 3, 2, true, /*batch_first=*/true);
        const Tensor x = uniform({5, 2, 4}, -1, 1, 60, f64);
        auto [oa, ha, ca] = run(*a, x);
        auto [ob, hb, cb] = run(*b, transpose(x, 0, 1));
        EXPECT_EQ(ob.shape(), (Shape{2, 5, 6}));
        expect_near_all(transpose(ob, 0, 1).to_vector(), oa.to_vector(), 0.0);
        expect_near_all(hb.to_vector(), ha.to_vector(), 0.0);  // states are never batch-first
    }
}

TEST(RecurrentLayers, UnbatchedInputIsOneSequence) {
    GRU gru(GRUOptions(4, 3).num_layers(2).dtype(f64));
    const Tensor x = uniform({5, 4}, -1, 1, 61, f64), h0 = uniform({2, 3}, -1, 1, 62, f64);
    auto [out, h_n] = gru.forward(x, h0);
    EXPECT_EQ(out.shape(), (Shape{5, 3}));
    EXPECT_EQ(h_n.shape(), (Shape{2, 3}));
    auto [ob, hb] = gru.forward(unsqueeze(x, 1), unsqueeze(h0, 1));
    expect_near_all(out.to_vector(), ob.to_vector(), 0.0);
    expect_near_all(h_n.to_vector(), hb.to_vector(), 0.0);
}

TEST(RecurrentLayers, DropoutActsBetweenLayersOnlyInTraining) {
    const Tensor x = uniform({4, 3, 5}, -1, 1, 70, f64);
    // One layer: nothing between layers, so training changes nothing (PyTorch warns).
    manual_seed(5);
    LSTM one(LSTMOptions(5, 4).dropout(0.5).dtype(f64));
    auto [o1, s1] = one.forward(x);
    one.eval();
    auto [o1e, s1e] = one.forward(x);
    expect_near_all(o1.to_vector(), o1e.to_vector(), 0.0);
    // Two layers: training output differs; eval equals the stacked cells without dropout.
    manual_seed(5);
    LSTM two(LSTMOptions(5, 4).num_layers(2).dropout(0.5).dtype(f64));
    auto [o2, s2] = two.forward(x);
    two.eval();
    auto [o2e, s2e] = two.forward(x);
    const RefOut want = ref_stack(RecurrentMode::kLstm, two, x.to_vector(), 4, 3, {}, {});
    expect_near_all(o2e.to_vector(), want.out, 1e-12);
    double diff = 0;
    const V a = o2.to_vector(), b = o2e.to_vector();
    for (std::size_t i = 0; i < a.size(); ++i) diff += std::abs(a[i] - b[i]);
    EXPECT_GT(diff, 1e-3);
    // The first layer's final state is the same in both: the mask comes after it.
    const V ht = std::get<0>(s2).to_vector(), he = std::get<0>(s2e).to_vector();
    for (std::size_t i = 0; i < 12; ++i) EXPECT_DOUBLE_EQ(ht[i], he[i]);
    EXPECT_NE(ht[12], he[12]);
}

TEST(RecurrentLayers, ParameterNamesCountsAndInitAsPyTorch) {
    manual_seed(0);
    LSTM lstm(LSTMOptions(10, 20).num_layers(2));
    // PyTorch: 4*20*(10+20+2) + 4*20*(20+20+2) = 2560 + 3360.
    EXPECT_EQ(count_parameters(lstm), 5920u);
    std::vector<std::string> names;
    for (const auto& [name, p] : lstm.named_parameters()) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                               "bias_hh_l0", "weight_ih_l1", "weight_hh_l1",
                                               "bias_ih_l1", "bias_hh_l1"}));
    EXPECT_EQ(lstm.weight_ih(0).shape(), (Shape{80, 10}));
    EXPECT_EQ(lstm.weight_hh(1).shape(), (Shape{80, 20}));
    // U(-1/sqrt(20), 1/sqrt(20)) for every parameter, spread over the bound.
    const double k = 1.0 / std::sqrt(20.0);
    double lo = 1, hi = -1;
    for (const Tensor& p : lstm.parameters())
        for (double v : p.to_vector()) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    EXPECT_GE(lo, -k);
    EXPECT_LE(hi, k);
    EXPECT_LT(lo, -0.95 * k);
    EXPECT_GT(hi, 0.95 * k);
    // PyTorch: GRU(10, 20, bidirectional=True): 2 * 3*20*(10+20+2) = 3840; its second layer
    // reads 2*20 features: + 2 * 3*20*(40+20+2) = 7440.
    GRU gru(GRUOptions(10, 20).num_layers(2).bidirectional(true));
    EXPECT_EQ(count_parameters(gru), 3840u + 7440u);
    EXPECT_EQ(gru.named_parameters()[4].first, "weight_ih_l0_reverse");
    EXPECT_EQ(gru.weight_ih(1, 1).shape(), (Shape{60, 40}));
    // RNN(10, 20, bias=False): 20*10 + 20*20 = 600.
    RNN rnn(RNNOptions(10, 20).bias(false));
    EXPECT_EQ(count_parameters(rnn), 600u);
    EXPECT_FALSE(rnn.bias_ih(0).defined());
    // Cells: LSTMCell(10, 20) = 4*20*(10+20+2) = 2560, GRUCell = 1920, RNNCell = 640.
    EXPECT_EQ(count_parameters(LSTMCell(LSTMCellOptions(10, 20))), 2560u);
    EXPECT_EQ(count_parameters(GRUCell(GRUCellOptions(10, 20))), 1920u);
    EXPECT_EQ(count_parameters(RNNCell(RNNCellOptions(10, 20))), 640u);
    LSTMCell cell(LSTMCellOptions(10, 20));
    EXPECT_EQ(cell.named_parameters()[0].first, "weight_ih");
    EXPECT_EQ(cell.named_parameters()[3].first, "bias_hh");
    // The seed stream: the same seed gives the same weights.
    manual_seed(0);
    LSTM again(LSTMOptions(10, 20).num_layers(2));
    EXPECT_EQ(again.weight_hh(1).to_vector(), lstm.weight_hh(1).to_vector());
}

TEST(RecurrentLayers, PrintAsPyTorch) {
    EXPECT_EQ(print(LSTM(LSTMOptions(10, 20).num_layers(2))), "LSTM(10, 20, num_layers=2)");
    EXPECT_EQ(
        print(GRU(GRUOptions(3, 4).bias(false).batch_first(true).dropout(0.5).bidirectional(true))),
        "GRU(3, 4, bias=False, batch_first=True, dropout=0.5, bidirectional=True)");
    EXPECT_EQ(print(RNN(RNNOptions(3, 4))), "RNN(3, 4)");
    EXPECT_EQ(print(LSTMCell(LSTMCellOptions(3, 4))), "LSTMCell(3, 4)");
    EXPECT_EQ(print(RNNCell(RNNCellOptions(3, 4).nonlinearity(kReLU))),
              "RNNCell(3, 4, nonlinearity=relu)");
}

TEST(RecurrentLayers, ErrorsNameTheLayerAndTheShapes) {
    LSTM lstm(LSTMOptions(10, 20).num_layers(2));
    EXPECT_THROW_MSG(lstm.forward(zeros({5, 3, 7})), std::invalid_argument,
                     "LSTM: input feature size 7 differs from input_size=10 (expected (5,3,10), "
                     "got (5,3,7))");
    EXPECT_THROW_MSG(lstm.forward(zeros({5, 3, 2, 10})), std::invalid_argument,
                     "LSTM: expected a 3-D input (T, N, input_size) or a 2-D unbatched one "
                     "(T, input_size) (got (5,3,2,10))");
    EXPECT_THROW_MSG(lstm.forward(zeros({10})), std::invalid_argument, "LSTM: expected a 3-D",
                     "(got (10))");
    EXPECT_THROW_MSG(
        lstm.forward(zeros({5, 3, 10}), std::make_tuple(zeros({1, 3, 20}), zeros({2, 3, 20}))),
        std::invalid_argument,
        "LSTM: expected h0 of shape (2,3,20) (got (1,3,20) for input (5,3,10))");
    EXPECT_THROW_MSG(
        lstm.forward(zeros({5, 3, 10}), std::make_tuple(zeros({2, 3, 20}), zeros({2, 4, 20}))),
        std::invalid_argument, "LSTM: expected c0 of shape (2,3,20) (got (2,4,20)");
    EXPECT_THROW_MSG(lstm.forward(zeros({5, 3, 10}, f64)), std::invalid_argument,
                     "LSTM: input dtype float64 differs from the weights' float32");
    GRU gru(GRUOptions(4, 3).batch_first(true));
    EXPECT_THROW_MSG(gru.forward(zeros({2, 5, 6})), std::invalid_argument,
                     "GRU: input feature size 6 differs from input_size=4 (expected (2,5,4), got "
                     "(2,5,6))");
    EXPECT_THROW_MSG(gru.forward(zeros({2, 5, 4}), zeros({1, 5, 3})), std::invalid_argument,
                     "GRU: expected h0 of shape (1,2,3) (got (1,5,3)");
    EXPECT_THROW_MSG(gru.forward(zeros({2, 0, 4})), std::invalid_argument,
                     "GRU: expected a sequence of at least one step (got (2,0,4))");
    LSTMCell cell(LSTMCellOptions(4, 3));
    EXPECT_THROW_MSG(cell.forward(zeros({2, 5})), std::invalid_argument,
                     "LSTMCell: input feature size 5 differs from input_size=4 (expected (2,4), "
                     "got (2,5))");
    EXPECT_THROW_MSG(cell.forward(zeros({2, 4}), std::make_tuple(zeros({2, 4}), zeros({2, 3}))),
                     std::invalid_argument, "LSTMCell: expected hx of shape (2,3) (got (2,4)");
    EXPECT_THROW_MSG(RNNCell(RNNCellOptions(4, 3)).forward(zeros({1, 2, 4})), std::invalid_argument,
                     "RNNCell: expected a 2-D input (N, input_size)");
    EXPECT_THROW_MSG(LSTM(LSTMOptions(4, 3).dropout(1.5)), std::invalid_argument,
                     "LSTM: dropout must be in [0, 1] (got 1.5");
}

// ---- Against PyTorch ----

// Parameters, input and states as tests/nn/ref_rnn.py sets them; the expected numbers are that
// script's output (PyTorch 1.13, float64).
void fill_as_ref(Module& m) {
    std::size_t k = 0;
    for (const Tensor& p : m.parameters()) {
        V v(p.numel());
        for (std::size_t i = 0; i < v.size(); ++i) {
            v[i] = 0.5 * std::sin(0.37 * double(i + 1) + 0.11 * double(k));
        }
        init::copy_(p, v);
        ++k;
    }
}

Tensor ref_seq(Shape s, bool cosine, double scale, double freq) {
    V v(s.numel());
    for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = scale * (cosine ? std::cos(freq * double(i + 1)) : std::sin(freq * double(i + 1)));
    }
    return tensor(v, std::move(s), f64);
}

TEST(PyTorchReference, LstmTwoLayersBidirectionalOutputsStatesAndInputGradient) {
    LSTM lstm(LSTMOptions(3, 2).num_layers(2).bidirectional(true).dtype(f64));
    fill_as_ref(lstm);
    Tensor x = ref_seq({3, 2, 3}, false, 1.0, 0.5).set_requires_grad();
    const Tensor h0 = ref_seq({4, 2, 2}, true, 0.5, 0.3);
    auto [out, state] = lstm.forward(x, std::make_tuple(h0, h0 * 0.5));
    expect_near_all(
        out.to_vector(),
        {0.109022763755101, -0.0184618139588908,  0.0051548047447926,   -0.168034179412122,
         0.104605905570799, -0.00783198385802086, -0.00176778942490271, -0.159132168188316,
         0.129879539096658, -0.0549106572126443,  0.00991216396101869,  -0.133484354468688,
         0.128285349171793, -0.0455274457897837,  -0.0029539977421339,  -0.129745597304518,
         0.154133436777668, -0.0557087355699385,  0.0400801810176724,   -0.0756431113846281,
         0.153046959088016, -0.0582181285141738,  0.00813533970261928,  -0.0879344255572638},
        1e-12);
    expect_near_all(
        std::get<0>(state).to_vector(),
        {0.255057363154233, 0.389796196713339, 0.21661764578721, 0.356654120636588,
         0.15174328345641, 0.25047346912256, 0.126335175414674, 0.201435114240488,
         0.154133436777668, -0.0557087355699385, 0.153046959088016, -0.0582181285141738,
         0.0051548047447926, -0.168034179412122, -0.00176778942490271, -0.159132168188316},
        1e-12);
    expect_near_all(
        std::get<1>(state).to_vector(),
        {0.365433335613847, 0.751421733352684, 0.302922530745279, 0.586861705815184,
         0.21702162359319, 0.58223599971482, 0.200733850393029, 0.433134886309483,
         0.646167929801311, -0.215344578334385, 0.601967937900779, -0.218204898651877,
         0.0214280881642478, -0.705490588263725, -0.00727257322804039, -0.682657158449013},
        1e-12);
    sum(out).backward();
    expect_near_all(
        x.grad().to_vector(),
        {-0.1862218999361, -0.141525157464101, -0.0776736488538618, -0.180826344950984,
         -0.127486659103096, -0.0568922520125579, 0.0169828644464769, 0.0362641391648717,
         0.0506372327700685, 0.0257373408766925, 0.0469604212855798, 0.061827628974759,
         -0.0879573108014186, -0.0658337579421713, -0.0347999147855708, -0.120757920060287,
         -0.0869661152970663, -0.0414038548048779},
        1e-12);
}

TEST(PyTorchReference, GruBidirectionalAndReluRnn) {
    const Tensor x = ref_seq({3, 2, 3}, false, 1.0, 0.5);
    const Tensor h0 = ref_seq({4, 2, 2}, true, 0.5, 0.3);
    GRU gru(GRUOptions(3, 2).bidirectional(true).dtype(f64));
    fill_as_ref(gru);
    auto [out, h_n] = gru.forward(x, narrow(h0, 0, 0, 2));
    expect_near_all(out.to_vector(),
                    {0.327595488146598, 0.35880107832799,  0.0555586177785039,  0.382291516950337,
                     0.235424547388107, 0.200687308173057, 0.00922827669980797, 0.221223584994683,
                     0.457629501770862, 0.335972385830301, 0.188645559157706,   0.158003861310019,
                     0.432381708499928, 0.238416635751033, 0.0752080799097472,  0.134668075233293,
                     0.346425597385108, 0.349052293507131, 0.0609159930275999,  0.257704098079688,
                     0.30236295799952,  0.222170979945003, -0.173921092876888,  0.182979890169992},
                    1e-12);
    expect_near_all(h_n.to_vector(),
                    {0.346425597385108, 0.349052293507131, 0.30236295799952, 0.222170979945003,
                     0.0555586177785039, 0.382291516950337, 0.00922827669980797, 0.221223584994683},
                    1e-12);
    RNN rnn(RNNOptions(3, 2).nonlinearity(kReLU).dtype(f64));
    fill_as_ref(rnn);
    auto [ro, rh] = rnn.forward(x, narrow(h0, 0, 0, 1));
    expect_near_all(ro.to_vector(),
                    {1.68270076531647, 2.31923384919487, 1.1694888197586, 1.88133697536857,
                     1.10364299199553, 1.8699604933008, 1.04063233760309, 1.40994144064716,
                     2.23801845674458, 3.09769769637869, 2.00284691636666, 3.08222942151961},
                    1e-12);
    expect_near_all(rh.to_vector(),
                    {2.23801845674458, 3.09769769637869, 2.00284691636666, 3.08222942151961},
                    1e-12);
}

}  // namespace
}  // namespace xgrad::nn
