#include "nn/rnn.h"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/op.h"
#include "nn/detail/random.h"
#include "nn/detail/rng_state.h"
#include "nn/detail/rnn_ops.h"
#include "nn/init.h"

namespace xgrad::nn {

namespace detail {

namespace {

std::string str(std::size_t v) { return std::to_string(v); }

[[noreturn]] void fail(const std::string& layer, const std::string& what) {
    throw std::invalid_argument(layer + ": " + what);
}

std::size_t gates_of(RecurrentMode m) {
    switch (m) {
        case RecurrentMode::kLstm:
            return 4;
        case RecurrentMode::kGru:
            return 3;
        default:
            return 1;
    }
}

template <class T>
T sigmoid_of(T v) {
    return T(1) / (T(1) + std::exp(-v));
}

// ---- recurrent_scan: one layer, one direction, the whole sequence, as one record. ----
//
// Inputs: xp (T, N, G H) = x_t W_ih^T for every step (one GEMM before the scan), h0 (N, H),
// W_hh (G H, H), then c0 (N, H) for LSTM and b_ih, b_hh (G H) when the layer has biases.
// Output Y (S, T, N, H): Y[0][t] = h_t, and Y[1][t] = c_t for LSTM (S = 2; else S = 1). With
// reverse the steps run t = T-1 .. 0 (h_{t+1} is the previous state), Y still indexed by t.
// Per step, a = xp_t + b_ih + h W_hh^T + b_hh split into G gates of H:
//   RNN  h' = act(a)
//   LSTM i, f, g, o = sigma, sigma, tanh, sigma (a_k); c' = f c + i g; h' = o tanh(c')
//   GRU  hp = h W_hh^T + b_hh; r = sigma(x_r + hp_r); z = sigma(x_z + hp_z) (x = xp_t + b_ih);
//        n = tanh(x_n + r hp_n); h' = (1 - z) n + z h
// Back-propagation through time with dh, dc the gradients reaching h_t, c_t:
//   RNN  da = dh act'(a) (1 - h'^2 or [h' > 0])
//   LSTM dc_t = dc + dh o (1 - tanh^2 c'); da_i = dc_t g i(1-i); da_f = dc_t c f(1-f);
//        da_g = dc_t i (1-g^2); da_o = dh tanh(c') o(1-o); dc_prev = dc_t f
//   GRU  da_n = dh (1-z)(1-n^2); da_r = da_n hp_n r(1-r); da_z = dh (h - n) z(1-z);
//        dxp = (da_r, da_z, da_n), dhp = (da_r, da_z, da_n r), dh_prev gets dh z too
//   dxp_t = da (GRU: as above); dh_prev += dhp W_hh; dW_hh = sum_t dhp_t^T h_prev;
//   db_ih = sum of dxp over (T, N), db_hh = sum of dhp.
struct ScanParams {
    RecurrentMode mode = RecurrentMode::kLstm;
    bool reverse = false;
    int c0 = -1, b_ih = -1, b_hh = -1;  // input positions, -1 when absent
    Array saved;  // (T, N, 4H): LSTM i, f, g, o; GRU r, z, n, hp_n; for the fast backward
};

template <class T>
struct ScanBuffers {
    std::size_t steps, n, h;
    const T *xp, *h0, *w, *c0, *b_ih, *b_hh;
};

template <class T>
void scan_forward(const ScanParams& p, const ScanBuffers<T>& b, T* Y, T* saved) {
    const std::size_t Ts = b.steps, N = b.n, H = b.h, G = gates_of(p.mode), GH = G * H;
    const std::size_t NH = N * H;
    std::vector<T> pre(N * GH);
    std::vector<T> bx(GH, T(0)), bh(GH, T(0));
    if (b.b_ih != nullptr) std::copy(b.b_ih, b.b_ih + GH, bx.begin());
    if (b.b_hh != nullptr) std::copy(b.b_hh, b.b_hh + GH, bh.begin());
    std::vector<T> bsum(GH);
    for (std::size_t k = 0; k < GH; ++k) bsum[k] = bx[k] + bh[k];
    T* Hs = Y;
    T* Cs = Y + Ts * NH;
    for (std::size_t s = 0; s < Ts; ++s) {
        const std::size_t t = p.reverse ? Ts - 1 - s : s;
        const std::size_t tp = p.reverse ? t + 1 : t - 1;  // the previous step (s > 0)
        const T* hp = s == 0 ? b.h0 : Hs + tp * NH;
        // pre (N, G H) = h_prev (N, H) W_hh^T (H, G H): one GEMM for all gates.
        kernels::gemm<T>(hp, false, b.w, true, pre.data(), N, GH, H);
        const T* x = b.xp + t * N * GH;
        T* h = Hs + t * NH;
        for (std::size_t n = 0; n < N; ++n) {
            const T* xr = x + n * GH;
            const T* pr = pre.data() + n * GH;
            T* hr = h + n * H;
            if (p.mode == RecurrentMode::kRnnTanh) {
                for (std::size_t j = 0; j < H; ++j) hr[j] = std::tanh(xr[j] + pr[j] + bsum[j]);
            } else if (p.mode == RecurrentMode::kRnnRelu) {
                for (std::size_t j = 0; j < H; ++j) {
                    hr[j] = std::max(xr[j] + pr[j] + bsum[j], T(0));
                }
            } else if (p.mode == RecurrentMode::kLstm) {
                const T* cp = (s == 0 ? b.c0 : Cs + tp * NH) + n * H;
                T* cr = Cs + t * NH + n * H;
                T* sv = saved != nullptr ? saved + (t * N + n) * 4 * H : nullptr;
                for (std::size_t j = 0; j < H; ++j) {
                    const T i = sigmoid_of(xr[j] + pr[j] + bsum[j]);
                    const T f = sigmoid_of(xr[H + j] + pr[H + j] + bsum[H + j]);
                    const T g = std::tanh(xr[2 * H + j] + pr[2 * H + j] + bsum[2 * H + j]);
                    const T o = sigmoid_of(xr[3 * H + j] + pr[3 * H + j] + bsum[3 * H + j]);
                    const T c = f * cp[j] + i * g;
                    cr[j] = c;
                    hr[j] = o * std::tanh(c);
                    if (sv != nullptr) {
                        sv[j] = i;
                        sv[H + j] = f;
                        sv[2 * H + j] = g;
                        sv[3 * H + j] = o;
                    }
                }
            } else {
                const T* hpr = hp + n * H;
                T* sv = saved != nullptr ? saved + (t * N + n) * 4 * H : nullptr;
                for (std::size_t j = 0; j < H; ++j) {
                    const T r = sigmoid_of(xr[j] + bsum[j] + pr[j]);
                    const T z = sigmoid_of(xr[H + j] + bsum[H + j] + pr[H + j]);
                    const T hn = pr[2 * H + j] + bh[2 * H + j];
                    const T nv = std::tanh(xr[2 * H + j] + bx[2 * H + j] + r * hn);
                    hr[j] = (T(1) - z) * nv + z * hpr[j];
                    if (sv != nullptr) {
                        sv[j] = r;
                        sv[H + j] = z;
                        sv[2 * H + j] = nv;
                        sv[3 * H + j] = hn;
                    }
                }
            }
        }
    }
}

Grads scan_fast(const Node& self, const Array& grad) {
    const auto& p = self.params<ScanParams>();
    const Array& xpa = self.input(0);
    const std::size_t Ts = xpa.shape()[0], N = xpa.shape()[1], GH = xpa.shape()[2];
    const std::size_t H = self.input(1).shape()[1], NH = N * H;
    const bool lstm = p.mode == RecurrentMode::kLstm, gru = p.mode == RecurrentMode::kGru;
    Grads out = Grads::sized(self.num_inputs());
    dispatch("recurrent_scan", grad.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T* gY = grad.data<T>();
        const T* Y = self.value().data<T>();
        const T* Hs = Y;
        const T* Cs = Y + Ts * NH;
        const T* h0 = self.input(1).data<T>();
        const T* W = self.input(2).data<T>();
        const T* c0 = lstm ? self.input(static_cast<std::size_t>(p.c0)).data<T>() : nullptr;
        const T* sv = p.saved.defined() ? p.saved.data<T>() : nullptr;
        Array dxp = Array::empty(xpa.dtype(), xpa.shape());
        Array dhp_store;  // GRU: the gradient of hp differs from that of xp in the n gate
        if (gru) dhp_store = Array::empty(xpa.dtype(), xpa.shape());
        T* dX = dxp.data<T>();
        T* dHP = gru ? dhp_store.data<T>() : dX;
        std::vector<T> dh(NH, T(0)), dc(lstm ? NH : 0, T(0));
        for (std::size_t s = Ts; s-- > 0;) {
            const std::size_t t = p.reverse ? Ts - 1 - s : s;
            const std::size_t tp = p.reverse ? t + 1 : t - 1;
            const T* hp = s == 0 ? h0 : Hs + tp * NH;
            const T* gh = gY + t * NH;
            for (std::size_t n = 0; n < N; ++n) {
                T* dxr = dX + (t * N + n) * GH;
                T* dhr = dHP + (t * N + n) * GH;
                T* dhn = dh.data() + n * H;
                const T* ghn = gh + n * H;
                const T* hr = Hs + t * NH + n * H;
                if (p.mode == RecurrentMode::kRnnTanh) {
                    for (std::size_t j = 0; j < H; ++j) {
                        dxr[j] = (dhn[j] + ghn[j]) * (T(1) - hr[j] * hr[j]);
                    }
                } else if (p.mode == RecurrentMode::kRnnRelu) {
                    for (std::size_t j = 0; j < H; ++j) {
                        dxr[j] = hr[j] > T(0) ? dhn[j] + ghn[j] : T(0);
                    }
                } else if (lstm) {
                    const T* g = sv + (t * N + n) * 4 * H;
                    const T* cp = (s == 0 ? c0 : Cs + tp * NH) + n * H;
                    const T* cr = Cs + t * NH + n * H;
                    const T* gc = gY + Ts * NH + t * NH + n * H;
                    T* dcn = dc.data() + n * H;
                    for (std::size_t j = 0; j < H; ++j) {
                        const T i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
                        const T dht = dhn[j] + ghn[j];
                        const T tc = std::tanh(cr[j]);
                        const T dct = dcn[j] + gc[j] + dht * o * (T(1) - tc * tc);
                        dxr[j] = dct * gg * i * (T(1) - i);
                        dxr[H + j] = dct * cp[j] * f * (T(1) - f);
                        dxr[2 * H + j] = dct * i * (T(1) - gg * gg);
                        dxr[3 * H + j] = dht * tc * o * (T(1) - o);
                        dcn[j] = dct * f;
                    }
                } else {
                    const T* g = sv + (t * N + n) * 4 * H;
                    const T* hpr = hp + n * H;
                    for (std::size_t j = 0; j < H; ++j) {
                        const T r = g[j], z = g[H + j], nv = g[2 * H + j], hn = g[3 * H + j];
                        const T dht = dhn[j] + ghn[j];
                        const T dan = dht * (T(1) - z) * (T(1) - nv * nv);
                        const T dar = dan * hn * r * (T(1) - r);
                        const T daz = dht * (hpr[j] - nv) * z * (T(1) - z);
                        dxr[j] = dhr[j] = dar;
                        dxr[H + j] = dhr[H + j] = daz;
                        dxr[2 * H + j] = dan;
                        dhr[2 * H + j] = dan * r;
                        dhn[j] = dht * z;  // the direct path h -> h'
                    }
                }
            }
            // dh_prev (N, H) (+)= dhp_t (N, G H) W_hh (G H, H): one GEMM for all gates.
            kernels::gemm<T>(dHP + t * N * GH, false, W, false, dh.data(), N, H, GH,
                             gru ? T(1) : T(0));
        }
        if (self.needs_grad(0)) out[0] = std::move(dxp);
        if (self.needs_grad(1)) out[1] = Array::from_vector(dh, Shape{N, H});
        if (self.needs_grad(2)) {
            // dW_hh (G H, H) = sum_t dhp_t^T h_prev: the steps whose previous state is in Y as one
            // GEMM over (T-1) N rows, the step that starts from h0 as another.
            Array dw = Array::empty(xpa.dtype(), Shape{GH, H});
            T* dW = dw.data<T>();
            const std::size_t first = p.reverse ? Ts - 1 : 0;  // the step reading h0
            if (Ts > 1) {
                const T* dA = dHP + (p.reverse ? 0 : N * GH);
                const T* hprev = Hs + (p.reverse ? NH : 0);
                kernels::gemm<T>(dA, true, hprev, false, dW, GH, H, (Ts - 1) * N);
            }
            kernels::gemm<T>(dHP + first * N * GH, true, h0, false, dW, GH, H, N,
                             Ts > 1 ? T(1) : T(0));
            out[2] = std::move(dw);
        }
        if (lstm && self.needs_grad(static_cast<std::size_t>(p.c0))) {
            out[static_cast<std::size_t>(p.c0)] = Array::from_vector(dc, Shape{N, H});
        }
        auto colsum = [&](const T* a) {
            std::vector<double> acc(GH, 0.0);  // in double: T N terms
            for (std::size_t r = 0; r < Ts * N; ++r) {
                for (std::size_t k = 0; k < GH; ++k) acc[k] += static_cast<double>(a[r * GH + k]);
            }
            std::vector<T> v(GH);
            for (std::size_t k = 0; k < GH; ++k) v[k] = static_cast<T>(acc[k]);
            return Array::from_vector(v, Shape{GH});
        };
        if (p.b_ih >= 0 && self.needs_grad(static_cast<std::size_t>(p.b_ih))) {
            out[static_cast<std::size_t>(p.b_ih)] = colsum(dX);
        }
        if (p.b_hh >= 0 && self.needs_grad(static_cast<std::size_t>(p.b_hh))) {
            out[static_cast<std::size_t>(p.b_hh)] = colsum(dHP);
        }
    });
    return out;
}

// The same back-propagation through time in ops (recorded under create_graph), from the
// forward recomputed in ops: every result is a differentiable function of the inputs and grad.
TensorGrads scan_rule(const OpContext& ctx, const Tensor& grad) {
    const auto& p = ctx.params<ScanParams>();
    const Tensor& xp = ctx.input(0);
    const Tensor& W = ctx.input(2);
    const Tensor b_ih = p.b_ih >= 0 ? ctx.input(static_cast<std::size_t>(p.b_ih)) : Tensor();
    const Tensor b_hh = p.b_hh >= 0 ? ctx.input(static_cast<std::size_t>(p.b_hh)) : Tensor();
    const std::size_t Ts = xp.shape()[0], N = xp.shape()[1], H = ctx.input(1).shape()[1];
    const auto mode = p.mode;
    const bool lstm = mode == RecurrentMode::kLstm, gru = mode == RecurrentMode::kGru;
    const auto idx = [](std::size_t i) { return static_cast<std::int64_t>(i); };
    std::vector<Tensor> hprev(Ts), cprev(Ts), hs(Ts), cs(Ts);
    std::vector<std::vector<Tensor>> gates(Ts);
    Tensor h = ctx.input(1);
    Tensor c = lstm ? ctx.input(static_cast<std::size_t>(p.c0)) : Tensor();
    const Tensor Wt = t(W);
    for (std::size_t s = 0; s < Ts; ++s) {
        const std::size_t ti = p.reverse ? Ts - 1 - s : s;
        Tensor pre = matmul(h, Wt);
        if (b_hh.defined()) pre = pre + b_hh;
        Tensor a = select(xp, 0, idx(ti));
        if (b_ih.defined()) a = a + b_ih;
        hprev[ti] = h;
        cprev[ti] = c;
        if (mode == RecurrentMode::kRnnTanh) {
            h = tanh(a + pre);
        } else if (mode == RecurrentMode::kRnnRelu) {
            h = relu(a + pre);
        } else if (lstm) {
            const auto ch = chunk(a + pre, 4, 1);
            const Tensor i = sigmoid(ch[0]), f = sigmoid(ch[1]), g = tanh(ch[2]);
            const Tensor o = sigmoid(ch[3]);
            c = f * c + i * g;
            h = o * tanh(c);
            gates[ti] = {i, f, g, o};
        } else {
            const auto xa = chunk(a, 3, 1), ha = chunk(pre, 3, 1);
            const Tensor r = sigmoid(xa[0] + ha[0]), z = sigmoid(xa[1] + ha[1]);
            const Tensor n = tanh(xa[2] + r * ha[2]);
            h = (1.0 - z) * n + z * h;
            gates[ti] = {r, z, n, ha[2]};
        }
        hs[ti] = h;
        cs[ti] = c;
    }
    const Tensor gh_all = select(grad, 0, 0);                    // (T, N, H)
    const Tensor gc_all = lstm ? select(grad, 0, 1) : Tensor();  // (T, N, H)
    Tensor dh = zeros(Shape{N, H}, xp.dtype()), dc = dh, dW;
    std::vector<Tensor> dxs(Ts), dhs(Ts);
    for (std::size_t s = Ts; s-- > 0;) {
        const std::size_t ti = p.reverse ? Ts - 1 - s : s;
        dh = dh + select(gh_all, 0, idx(ti));
        Tensor dx, dhh, direct;
        if (mode == RecurrentMode::kRnnTanh) {
            dx = dhh = dh * (1.0 - hs[ti] * hs[ti]);
        } else if (mode == RecurrentMode::kRnnRelu) {
            dx = dhh = dh * positive_mask(hs[ti]);
        } else if (lstm) {
            const Tensor &i = gates[ti][0], &f = gates[ti][1], &g = gates[ti][2];
            const Tensor& o = gates[ti][3];
            const Tensor tc = tanh(cs[ti]);
            const Tensor dct = dc + select(gc_all, 0, idx(ti)) + dh * o * (1.0 - tc * tc);
            dx = dhh = cat({dct * g * i * (1.0 - i), dct * cprev[ti] * f * (1.0 - f),
                            dct * i * (1.0 - g * g), dh * tc * o * (1.0 - o)},
                           1);
            dc = dct * f;
        } else {
            const Tensor &r = gates[ti][0], &z = gates[ti][1], &n = gates[ti][2];
            const Tensor& hn = gates[ti][3];
            const Tensor dan = dh * (1.0 - z) * (1.0 - n * n);
            const Tensor dar = dan * hn * r * (1.0 - r);
            const Tensor daz = dh * (hprev[ti] - n) * z * (1.0 - z);
            dx = cat({dar, daz, dan}, 1);
            dhh = cat({dar, daz, dan * r}, 1);
            direct = dh * z;
        }
        dxs[ti] = dx;
        dhs[ti] = dhh;
        const Tensor dWt = matmul(t(dhh), hprev[ti]);
        dW = dW.defined() ? dW + dWt : dWt;
        dh = matmul(dhh, W);
        if (gru) dh = dh + direct;
    }
    TensorGrads out = TensorGrads::sized(ctx.num_inputs());
    const Tensor dxp = stack(dxs, 0);
    out[0] = dxp;
    out[1] = dh;
    out[2] = dW;
    if (lstm) out[static_cast<std::size_t>(p.c0)] = dc;
    if (p.b_ih >= 0) out[static_cast<std::size_t>(p.b_ih)] = sum(dxp, {0, 1});
    if (p.b_hh >= 0) {
        out[static_cast<std::size_t>(p.b_hh)] = sum(gru ? stack(dhs, 0) : dxp, {0, 1});
    }
    return out;
}

const OpDef kRecurrentScan = [] {
    OpDef d{};
    d.name = "recurrent_scan";
    d.backward = &scan_rule;
    d.backward_fast = &scan_fast;
    d.saves = ~0u;
    d.destroy_params = destroy_params_of<ScanParams>();
    return d;
}();

}  // namespace

/// Y (S, T, N, H) of one layer and direction (see ScanParams). b_ih, b_hh may be undefined.
Tensor recurrent_scan(const std::string& layer, RecurrentMode mode, const Tensor& xp,
                      const Tensor& h0, const Tensor& w_hh, const Tensor& c0, const Tensor& b_ih,
                      const Tensor& b_hh, bool reverse) {
    const std::size_t Ts = xp.shape()[0], N = xp.shape()[1], GH = xp.shape()[2];
    const std::size_t H = w_hh.shape()[1];
    const bool lstm = mode == RecurrentMode::kLstm;
    std::vector<Tensor> inputs{xp, h0, w_hh};
    ScanParams p;
    p.mode = mode;
    p.reverse = reverse;
    if (lstm) {
        p.c0 = static_cast<int>(inputs.size());
        inputs.push_back(c0);
    }
    if (b_ih.defined()) {
        p.b_ih = static_cast<int>(inputs.size());
        inputs.push_back(b_ih);
    }
    if (b_hh.defined()) {
        p.b_hh = static_cast<int>(inputs.size());
        inputs.push_back(b_hh);
    }
    for (const Tensor& in : inputs) {
        if (in.dtype() != xp.dtype()) {
            fail(layer, std::string("dtypes differ (input ") + dtype_name(xp.dtype()) + ", got " +
                            dtype_name(in.dtype()) + " " + in.shape().str() + ")");
        }
    }
    bool grad_wanted = false;
    if (grad_enabled()) {
        for (const Tensor& in : inputs) grad_wanted = grad_wanted || in.requires_grad();
    }
    const std::size_t S = lstm ? 2 : 1;
    Array y = Array::empty(xp.dtype(), Shape{S, Ts, N, H});
    const bool save = grad_wanted && (lstm || mode == RecurrentMode::kGru);
    if (save) p.saved = Array::empty(xp.dtype(), Shape{Ts, N, 4 * H});
    (void)GH;
    dispatch(layer.c_str(), xp.dtype(), [&](auto tag) {
        using T = decltype(tag);
        ScanBuffers<T> b{Ts,
                         N,
                         H,
                         xp.value().data<T>(),
                         h0.value().data<T>(),
                         w_hh.value().data<T>(),
                         lstm ? c0.value().data<T>() : nullptr,
                         b_ih.defined() ? b_ih.value().data<T>() : nullptr,
                         b_hh.defined() ? b_hh.value().data<T>() : nullptr};
        scan_forward<T>(p, b, y.data<T>(), save ? p.saved.data<T>() : nullptr);
    });
    return record(kRecurrentScan, std::move(y), inputs, std::move(p));
}

namespace {

// PyTorch's init for every recurrent parameter: U(-1/sqrt(H), 1/sqrt(H)).
void init_uniform(const std::vector<Tensor>& ps, std::size_t hidden, std::uint64_t seed) {
    const double k = hidden > 0 ? 1.0 / std::sqrt(static_cast<double>(hidden)) : 0.0;
    init::uniform_(ps, -k, k, seed);
}

}  // namespace

// ---- RecurrentBase ----

RecurrentBase::RecurrentBase(const char* name, const RecurrentConfig& config)
    : Module(name), config_(config) {
    const auto& c = config_;
    if (c.hidden_size == 0) fail(name, "hidden_size must be positive (got 0)");
    if (c.num_layers == 0) fail(name, "num_layers must be positive (got 0)");
    if (!(c.dropout >= 0.0 && c.dropout <= 1.0)) {
        fail(name, "dropout must be in [0, 1] (got " + std::to_string(c.dropout) + ")");
    }
    const std::size_t D = c.bidirectional ? 2 : 1, GH = gates_of(c.mode) * c.hidden_size;
    for (std::size_t l = 0; l < c.num_layers; ++l) {
        const std::size_t in = l == 0 ? c.input_size : D * c.hidden_size;
        for (std::size_t d = 0; d < D; ++d) {
            // PyTorch's names and order: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
            // then the same with _reverse for the backward direction.
            const std::string sfx = "_l" + str(l) + (d == 1 ? "_reverse" : "");
            register_parameter("weight_ih" + sfx, zeros(Shape{GH, in}, c.dtype));
            register_parameter("weight_hh" + sfx, zeros(Shape{GH, c.hidden_size}, c.dtype));
            if (c.bias) {
                register_parameter("bias_ih" + sfx, zeros(Shape{GH}, c.dtype));
                register_parameter("bias_hh" + sfx, zeros(Shape{GH}, c.dtype));
            }
        }
    }
    const SeedDraw draw = next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void RecurrentBase::reseed_default(std::uint64_t seed) {
    init_uniform(parameters(/*recurse=*/false), config_.hidden_size, seed);
    // NOTE: the dropout masks come from the same draw (offset), so one seed fixes the module.
    gen_.seed(seed + 1);
}

const Tensor& RecurrentBase::weight(const char* kind, std::size_t layer,
                                    std::size_t direction) const {
    static const Tensor none;
    if (!config_.bias && kind[0] == 'b') return none;
    const std::string sfx = "_l" + str(layer) + (direction == 1 ? "_reverse" : "");
    return parameter(kind + sfx);
}

Tensor RecurrentBase::get_extra_state() const {
    if (config_.dropout == 0.0) return {};
    return encode_generator(gen_);
}

void RecurrentBase::set_extra_state(const Tensor& state) {
    if (config_.dropout == 0.0) {
        Module::set_extra_state(state);
        return;
    }
    gen_ = decode_generator(state, (name() + "::set_extra_state").c_str());
}

void RecurrentBase::pretty_print(std::ostream& os) const {
    const auto& c = config_;
    os << name() << "(" << c.input_size << ", " << c.hidden_size;
    if (c.num_layers != 1) os << ", num_layers=" << c.num_layers;
    if (c.mode == RecurrentMode::kRnnRelu) os << ", nonlinearity=relu";
    if (!c.bias) os << ", bias=False";
    if (c.batch_first) os << ", batch_first=True";
    if (c.dropout != 0.0) os << ", dropout=" << c.dropout;
    if (c.bidirectional) os << ", bidirectional=True";
    os << ")";
}

std::tuple<Tensor, Tensor, Tensor> recurrent_forward(const std::string& layer,
                                                     const RecurrentConfig& c,
                                                     const std::vector<Tensor>& params,
                                                     const Tensor& input, const Tensor& hx,
                                                     const Tensor& cx, std::mt19937_64* dropout) {
    const bool lstm = c.mode == RecurrentMode::kLstm;
    if (!input.defined()) fail(layer, "undefined input");
    if (input.ndim() != 2 && input.ndim() != 3) {
        fail(layer, "expected a 3-D input " +
                        std::string(c.batch_first ? "(N, T, input_size)" : "(T, N, input_size)") +
                        " or a 2-D unbatched one (T, input_size) (got " + input.shape().str() +
                        ")");
    }
    const bool batched = input.ndim() == 3;
    const std::size_t F = input.shape()[input.ndim() - 1];
    if (F != c.input_size) {
        std::vector<std::size_t> want = input.shape().vec();
        want.back() = c.input_size;
        fail(layer, "input feature size " + str(F) +
                        " differs from input_size=" + str(c.input_size) + " (expected " +
                        Shape(want).str() + ", got " + input.shape().str() + ")");
    }
    const std::size_t P = c.bias ? 4 : 2;  // tensors per layer and direction
    if (params.size() != c.num_layers * (c.bidirectional ? 2 : 1) * P) {
        fail(layer, "expected " + str(c.num_layers * (c.bidirectional ? 2 : 1) * P) +
                        " weights (got " + str(params.size()) + ")");
    }
    const DType dt = params[0].dtype();
    if (input.dtype() != dt) {
        fail(layer, std::string("input dtype ") + dtype_name(input.dtype()) +
                        " differs from the weights' " + dtype_name(dt) +
                        " (convert with to(x, dtype) or module.to(dtype))");
    }
    // x: (T, N, F) from here on.
    Tensor x = batched ? (c.batch_first ? transpose(input, 0, 1) : input) : unsqueeze(input, 1);
    const std::size_t Ts = x.shape()[0], N = x.shape()[1], H = c.hidden_size;
    if (Ts == 0)
        fail(layer, "expected a sequence of at least one step (got " + input.shape().str() + ")");
    const std::size_t D = c.bidirectional ? 2 : 1, LD = c.num_layers * D;
    const std::size_t GH = gates_of(c.mode) * H;
    const Shape state = batched ? Shape{LD, N, H} : Shape{LD, H};
    auto check_state = [&](const Tensor& s, const char* what) {
        if (!s.defined()) return Tensor();
        if (s.shape() != state) {
            fail(layer, std::string("expected ") + what + " of shape " + state.str() + " (got " +
                            s.shape().str() + " for input " + input.shape().str() + ")");
        }
        if (s.dtype() != dt) {
            fail(layer, std::string(what) + " dtype " + dtype_name(s.dtype()) +
                            " differs from the weights' " + dtype_name(dt));
        }
        return batched ? s : unsqueeze(s, 1);  // (L D, N, H)
    };
    const Tensor h0 = check_state(hx, "h0");
    const Tensor c0 = check_state(cx, "c0");
    std::vector<Tensor> hn, cn;
    for (std::size_t l = 0; l < c.num_layers; ++l) {
        std::vector<Tensor> outs;
        const std::size_t in = x.shape()[2];
        // The input projection of every step and both directions' inputs: (T N, in).
        const Tensor x2 = reshape(x, Shape{Ts * N, in});
        for (std::size_t d = 0; d < D; ++d) {
            const std::size_t k0 = (l * D + d) * P;
            const Tensor &w_ih = params[k0], &w_hh = params[k0 + 1];
            const Tensor b_ih = c.bias ? params[k0 + 2] : Tensor();
            const Tensor b_hh = c.bias ? params[k0 + 3] : Tensor();
            const auto k = static_cast<std::int64_t>(l * D + d);
            const Tensor hi = h0.defined() ? select(h0, 0, k) : zeros(Shape{N, H}, dt);
            const Tensor ci =
                lstm ? (c0.defined() ? select(c0, 0, k) : zeros(Shape{N, H}, dt)) : Tensor();
            // xp (T, N, G H) = x (T N, in) W_ih^T (in, G H): one GEMM for every step and gate.
            const Tensor xp = reshape(matmul(x2, t(w_ih)), Shape{Ts, N, GH});
            const Tensor y = recurrent_scan(layer, c.mode, xp, hi, w_hh, ci, b_ih, b_hh, d == 1);
            const Tensor out = lstm ? select(y, 0, 0) : reshape(y, Shape{Ts, N, H});
            const auto last = static_cast<std::int64_t>(d == 1 ? 0 : Ts - 1);
            hn.push_back(select(out, 0, last));
            if (lstm) cn.push_back(select(select(y, 0, 1), 0, last));
            outs.push_back(out);
        }
        x = D == 2 ? cat(outs, 2) : outs[0];
        if (c.dropout > 0.0 && dropout != nullptr && l + 1 < c.num_layers) {
            // Dropout between layers (not after the last), as PyTorch; the mask a constant.
            const double keep = c.dropout < 1.0 ? 1.0 / (1.0 - c.dropout) : 0.0;
            note_generator(*dropout);
            Array mask = Array::empty(dt, x.shape());
            dispatch(dt, [&](auto tag) {
                using T = decltype(tag);
                T* m = mask.data<T>();
                for (std::size_t i = 0, n = mask.numel(); i < n; ++i) {
                    const double u = static_cast<double>((*dropout)() >> 11) * 0x1.0p-53;
                    m[i] = u < c.dropout ? T(0) : static_cast<T>(keep);
                }
            });
            x = x * Tensor(std::move(mask));
        }
    }
    Tensor output = batched ? (c.batch_first ? transpose(x, 0, 1) : x) : squeeze(x, 1);
    Tensor h_n = stack(hn, 0);
    Tensor c_n = lstm ? stack(cn, 0) : Tensor();
    if (!batched) {
        h_n = squeeze(h_n, 1);
        if (lstm) c_n = squeeze(c_n, 1);
    }
    return {output, h_n, c_n};
}

std::tuple<Tensor, Tensor, Tensor> RecurrentBase::run(const Tensor& input, const Tensor& h0,
                                                      const Tensor& c0) {
    check_not_moved_from("forward");
    return recurrent_forward(name(), config_, parameters(/*recurse=*/false), input, h0, c0,
                             is_training() ? &gen_ : nullptr);
}

// ---- CellBase ----

CellBase::CellBase(const char* name, const RecurrentConfig& config)
    : Module(name), config_(config) {
    const auto& c = config_;
    if (c.hidden_size == 0) fail(name, "hidden_size must be positive (got 0)");
    const std::size_t GH = gates_of(c.mode) * c.hidden_size;
    w_ih_ = register_parameter("weight_ih", zeros(Shape{GH, c.input_size}, c.dtype));
    w_hh_ = register_parameter("weight_hh", zeros(Shape{GH, c.hidden_size}, c.dtype));
    if (c.bias) {
        b_ih_ = register_parameter("bias_ih", zeros(Shape{GH}, c.dtype));
        b_hh_ = register_parameter("bias_hh", zeros(Shape{GH}, c.dtype));
    }
    const SeedDraw draw = next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void CellBase::reseed_default(std::uint64_t seed) {
    init_uniform(parameters(/*recurse=*/false), config_.hidden_size, seed);
}

void CellBase::pretty_print(std::ostream& os) const {
    const auto& c = config_;
    os << name() << "(" << c.input_size << ", " << c.hidden_size;
    if (!c.bias) os << ", bias=False";
    if (c.mode == RecurrentMode::kRnnRelu) os << ", nonlinearity=relu";
    os << ")";
}

std::tuple<Tensor, Tensor> cell_forward(const std::string& layer, const RecurrentConfig& c,
                                        const std::vector<Tensor>& params, const Tensor& input,
                                        const Tensor& hx, const Tensor& cx) {
    if (params.size() != (c.bias ? 4u : 2u)) {
        fail(layer,
             "expected " + str(c.bias ? 4 : 2) + " weights (got " + str(params.size()) + ")");
    }
    const Tensor &w_ih = params[0], &w_hh = params[1];
    const Tensor b_ih = c.bias ? params[2] : Tensor(), b_hh = c.bias ? params[3] : Tensor();
    const bool lstm = c.mode == RecurrentMode::kLstm;
    if (!input.defined()) fail(layer, "undefined input");
    if (input.ndim() != 1 && input.ndim() != 2) {
        fail(layer, "expected a 2-D input (N, input_size) or a 1-D one (input_size) (got " +
                        input.shape().str() + ")");
    }
    const bool batched = input.ndim() == 2;
    const std::size_t F = input.shape()[input.ndim() - 1];
    if (F != c.input_size) {
        std::vector<std::size_t> want = input.shape().vec();
        want.back() = c.input_size;
        fail(layer, "input feature size " + str(F) +
                        " differs from input_size=" + str(c.input_size) + " (expected " +
                        Shape(want).str() + ", got " + input.shape().str() + ")");
    }
    const DType dt = w_ih.dtype();
    if (input.dtype() != dt) {
        fail(layer, std::string("input dtype ") + dtype_name(input.dtype()) +
                        " differs from the weights' " + dtype_name(dt) +
                        " (convert with to(x, dtype) or module.to(dtype))");
    }
    const Tensor x = batched ? input : unsqueeze(input, 0);
    const std::size_t N = x.shape()[0], H = c.hidden_size, GH = gates_of(c.mode) * H;
    const Shape state = batched ? Shape{N, H} : Shape{H};
    auto check_state = [&](const Tensor& s, const char* what) {
        if (!s.defined()) return zeros(Shape{N, H}, dt);
        if (s.shape() != state) {
            fail(layer, std::string("expected ") + what + " of shape " + state.str() + " (got " +
                            s.shape().str() + " for input " + input.shape().str() + ")");
        }
        if (s.dtype() != dt) {
            fail(layer, std::string(what) + " dtype " + dtype_name(s.dtype()) +
                            " differs from the weights' " + dtype_name(dt));
        }
        return batched ? s : unsqueeze(s, 0);
    };
    const Tensor h0 = check_state(hx, "hx");
    const Tensor c0 = lstm ? check_state(cx, "cx") : Tensor();
    // A one-step scan: xp (1, N, G H) = x W_ih^T, then the fused step.
    const Tensor xp = reshape(matmul(x, t(w_ih)), Shape{1, N, GH});
    const Tensor y = recurrent_scan(layer, c.mode, xp, h0, w_hh, c0, b_ih, b_hh, false);
    const Shape out_shape = batched ? Shape{N, H} : Shape{H};
    if (!lstm) return {reshape(y, out_shape), Tensor()};
    return {reshape(select(y, 0, 0), out_shape), reshape(select(y, 0, 1), out_shape)};
}

std::tuple<Tensor, Tensor> CellBase::step(const Tensor& input, const Tensor& h, const Tensor& c) {
    check_not_moved_from("forward");
    return cell_forward(name(), config_, parameters(/*recurse=*/false), input, h, c);
}

}  // namespace detail

namespace {

detail::RecurrentConfig config_of(detail::RecurrentMode mode, std::size_t in, std::size_t hidden,
                                  std::size_t layers, bool bias, bool batch_first, double dropout,
                                  bool bidirectional, DType dtype) {
    detail::RecurrentConfig c;
    c.mode = mode;
    c.input_size = in;
    c.hidden_size = hidden;
    c.num_layers = layers;
    c.bias = bias;
    c.batch_first = batch_first;
    c.dropout = dropout;
    c.bidirectional = bidirectional;
    c.dtype = dtype;
    return c;
}

template <class O>
detail::RecurrentConfig config_of(detail::RecurrentMode mode, const O& o) {
    return config_of(mode, o.input_size(), o.hidden_size(), o.num_layers(), o.bias(),
                     o.batch_first(), o.dropout(), o.bidirectional(), o.dtype());
}

template <class O>
detail::RecurrentConfig cell_config_of(detail::RecurrentMode mode, const O& o) {
    return config_of(mode, o.input_size(), o.hidden_size(), 1, o.bias(), false, 0.0, false,
                     o.dtype());
}

detail::RecurrentMode rnn_mode(RNNNonlinearity n) {
    return n == kReLU ? detail::RecurrentMode::kRnnRelu : detail::RecurrentMode::kRnnTanh;
}

}  // namespace

RNN::RNN(const RNNOptions& options)
    : RecurrentBase("RNN", config_of(rnn_mode(options.nonlinearity()), options)),
      options_(options) {}

std::tuple<Tensor, Tensor> RNN::forward(const Tensor& input, const Tensor& h0) {
    auto [out, h, c] = run(input, h0, Tensor());
    (void)c;
    return {out, h};
}

LSTM::LSTM(const LSTMOptions& options)
    : RecurrentBase("LSTM", config_of(detail::RecurrentMode::kLstm, options)), options_(options) {}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTM::forward(
    const Tensor& input, const std::optional<std::tuple<Tensor, Tensor>>& hx) {
    Tensor h0, c0;
    if (hx) std::tie(h0, c0) = *hx;
    auto [out, h, c] = run(input, h0, c0);
    return {out, {h, c}};
}

GRU::GRU(const GRUOptions& options)
    : RecurrentBase("GRU", config_of(detail::RecurrentMode::kGru, options)), options_(options) {}

std::tuple<Tensor, Tensor> GRU::forward(const Tensor& input, const Tensor& h0) {
    auto [out, h, c] = run(input, h0, Tensor());
    (void)c;
    return {out, h};
}

RNNCell::RNNCell(const RNNCellOptions& options)
    : CellBase("RNNCell", cell_config_of(rnn_mode(options.nonlinearity()), options)),
      options_(options) {}

Tensor RNNCell::forward(const Tensor& input, const Tensor& hx) {
    return std::get<0>(step(input, hx, Tensor()));
}

LSTMCell::LSTMCell(const LSTMCellOptions& options)
    : CellBase("LSTMCell", cell_config_of(detail::RecurrentMode::kLstm, options)),
      options_(options) {}

std::tuple<Tensor, Tensor> LSTMCell::forward(const Tensor& input,
                                             const std::optional<std::tuple<Tensor, Tensor>>& hx) {
    Tensor h, c;
    if (hx) std::tie(h, c) = *hx;
    return step(input, h, c);
}

GRUCell::GRUCell(const GRUCellOptions& options)
    : CellBase("GRUCell", cell_config_of(detail::RecurrentMode::kGru, options)),
      options_(options) {}

Tensor GRUCell::forward(const Tensor& input, const Tensor& hx) {
    return std::get<0>(step(input, hx, Tensor()));
}

}  // namespace xgrad::nn
