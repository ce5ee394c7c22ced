#pragma once
// Recurrent layers with LibTorch's names and Options: RNNCell, LSTMCell, GRUCell, and RNN, LSTM,
// GRU over sequences (num_layers, batch_first, dropout between layers, bidirectional).
//
// How they compute (nn/rnn.cpp): per layer and direction, the input projection of every time
// step is one GEMM, (T N, in) . W_ih^T -> (T, N, G H) for G gates; then one record,
// recurrent_scan, runs the time loop: per step one GEMM h . W_hh^T for all gates and one fused
// loop for the gate nonlinearities and the new state. Its fast backward is the mirror loop (one
// GEMM per step for dh, two GEMMs at the end for dW_hh); its recorded rule is the same
// back-propagation through time written in ops, so gradients can be differentiated again.
// Weights are PyTorch's: weight_ih_l0 (G H, in), weight_hh_l0 (G H, H), bias_ih_l0 and
// bias_hh_l0 (G H), gate order i, f, g, o (LSTM) and r, z, n (GRU).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

/// RNN's nonlinearity, as LibTorch's torch::kTanh and torch::kReLU.
enum class RNNNonlinearity { kTanh, kReLU };
inline constexpr RNNNonlinearity kTanh = RNNNonlinearity::kTanh;
inline constexpr RNNNonlinearity kReLU = RNNNonlinearity::kReLU;

namespace detail {

/// What the recurrent modules share: the cell kind.
enum class RecurrentMode { kRnnTanh, kRnnRelu, kLstm, kGru };

/// The options of RNN, LSTM and GRU, LibTorch's names and defaults:
/// (input_size, hidden_size).num_layers(1).bias(true).batch_first(false).dropout(0)
/// .bidirectional(false). Setters return the derived options (D).
template <class D>
class RecurrentOptions {
public:
    RecurrentOptions(std::size_t input_size, std::size_t hidden_size)
        : input_(input_size), hidden_(hidden_size) {}
    D& num_layers(std::size_t v) {
        num_layers_ = v;
        return self();
    }
    D& bias(bool v) {
        bias_ = v;
        return self();
    }
    D& batch_first(bool v) {
        batch_first_ = v;
        return self();
    }
    D& dropout(double v) {
        dropout_ = v;
        return self();
    }
    D& bidirectional(bool v) {
        bidirectional_ = v;
        return self();
    }
    /// NOTE: not a LibTorch option (it converts with .to()); as Linear's dtype argument.
    D& dtype(DType v) {
        dtype_ = v;
        return self();
    }
    std::size_t input_size() const { return input_; }
    std::size_t hidden_size() const { return hidden_; }
    std::size_t num_layers() const { return num_layers_; }
    bool bias() const { return bias_; }
    bool batch_first() const { return batch_first_; }
    double dropout() const { return dropout_; }
    bool bidirectional() const { return bidirectional_; }
    DType dtype() const { return dtype_; }

private:
    D& self() { return static_cast<D&>(*this); }
    std::size_t input_, hidden_;
    std::size_t num_layers_ = 1;
    bool bias_ = true;
    bool batch_first_ = false;
    double dropout_ = 0.0;
    bool bidirectional_ = false;
    DType dtype_ = f32;
};

/// The options of the cells: (input_size, hidden_size).bias(true).
template <class D>
class CellOptions {
public:
    CellOptions(std::size_t input_size, std::size_t hidden_size)
        : input_(input_size), hidden_(hidden_size) {}
    D& bias(bool v) {
        bias_ = v;
        return static_cast<D&>(*this);
    }
    D& dtype(DType v) {
        dtype_ = v;
        return static_cast<D&>(*this);
    }
    std::size_t input_size() const { return input_; }
    std::size_t hidden_size() const { return hidden_; }
    bool bias() const { return bias_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t input_, hidden_;
    bool bias_ = true;
    DType dtype_ = f32;
};

/// The settings every recurrent module is built from.
struct RecurrentConfig {
    RecurrentMode mode = RecurrentMode::kLstm;
    std::size_t input_size = 0, hidden_size = 0, num_layers = 1;
    bool bias = true, batch_first = false, bidirectional = false;
    double dropout = 0.0;
    DType dtype = f32;
};

/// The shared implementation of RNN, LSTM and GRU: parameters, init, the layer loop.
class RecurrentBase : public Module {
public:
    const RecurrentConfig& config() const { return config_; }
    /// Every parameter of layer l, direction d (0 forward, 1 reverse): weight_ih, weight_hh,
    /// bias_ih, bias_hh (the biases undefined without bias).
    const Tensor& weight_ih(std::size_t layer, std::size_t direction = 0) const {
        return weight("weight_ih", layer, direction);
    }
    const Tensor& weight_hh(std::size_t layer, std::size_t direction = 0) const {
        return weight("weight_hh", layer, direction);
    }
    const Tensor& bias_ih(std::size_t layer, std::size_t direction = 0) const {
        return weight("bias_ih", layer, direction);
    }
    const Tensor& bias_hh(std::size_t layer, std::size_t direction = 0) const {
        return weight("bias_hh", layer, direction);
    }
    /// "LSTM(10, 20, num_layers=2, bidirectional=True)", PyTorch's repr.
    void pretty_print(std::ostream& os) const override;
    /// The dropout generator's state when dropout > 0 (masks replay after a resume).
    Tensor get_extra_state() const override;
    void set_extra_state(const Tensor& state) override;

protected:
    RecurrentBase(const char* name, const RecurrentConfig& config);
    void reseed_default(std::uint64_t seed) override;
    /// (output, h_n, c_n) for input (T, N, in) (or (N, T, in) batch_first, or (T, in)
    /// unbatched) and initial states (L D, N, H) or undefined (zeros); c only for LSTM.
    std::tuple<Tensor, Tensor, Tensor> run(const Tensor& input, const Tensor& h0, const Tensor& c0);

private:
    const Tensor& weight(const char* kind, std::size_t layer, std::size_t direction) const;
    RecurrentConfig config_;
    std::mt19937_64 gen_;  // dropout masks between layers
};

/// The shared implementation of the cells.
class CellBase : public Module {
public:
    const Tensor& weight_ih() const { return w_ih_; }
    const Tensor& weight_hh() const { return w_hh_; }
    const Tensor& bias_ih() const { return b_ih_; }
    const Tensor& bias_hh() const { return b_hh_; }
    const RecurrentConfig& config() const { return config_; }
    /// "LSTMCell(10, 20)", "RNNCell(10, 20, nonlinearity=relu)", PyTorch's repr.
    void pretty_print(std::ostream& os) const override;

protected:
    CellBase(const char* name, const RecurrentConfig& config);
    void reseed_default(std::uint64_t seed) override;
    /// (h', c') for input (N, in) or (in) and states (N, H) or (H) (undefined: zeros).
    std::tuple<Tensor, Tensor> step(const Tensor& input, const Tensor& h, const Tensor& c);

private:
    RecurrentConfig config_;
    Tensor w_ih_, w_hh_, b_ih_, b_hh_;
};

}  // namespace detail

/// RNNOptions(input_size, hidden_size).num_layers().nonlinearity(kTanh).bias().batch_first()
/// .dropout().bidirectional().
class RNNOptions : public detail::RecurrentOptions<RNNOptions> {
public:
    using RecurrentOptions::RecurrentOptions;
    RNNOptions& nonlinearity(RNNNonlinearity v) {
        nonlinearity_ = v;
        return *this;
    }
    RNNNonlinearity nonlinearity() const { return nonlinearity_; }

private:
    RNNNonlinearity nonlinearity_ = kTanh;
};
/// LSTMOptions(input_size, hidden_size).num_layers().bias().batch_first().dropout()
/// .bidirectional(). NOTE: LibTorch's proj_size is not supported.
class LSTMOptions : public detail::RecurrentOptions<LSTMOptions> {
public:
    using RecurrentOptions::RecurrentOptions;
};
/// GRUOptions(input_size, hidden_size).num_layers().bias().batch_first().dropout()
/// .bidirectional().
class GRUOptions : public detail::RecurrentOptions<GRUOptions> {
public:
    using RecurrentOptions::RecurrentOptions;
};
/// RNNCellOptions(input_size, hidden_size).bias().nonlinearity(kTanh).
class RNNCellOptions : public detail::CellOptions<RNNCellOptions> {
public:
    using CellOptions::CellOptions;
    RNNCellOptions& nonlinearity(RNNNonlinearity v) {
        nonlinearity_ = v;
        return *this;
    }
    RNNNonlinearity nonlinearity() const { return nonlinearity_; }

private:
    RNNNonlinearity nonlinearity_ = kTanh;
};
class LSTMCellOptions : public detail::CellOptions<LSTMCellOptions> {
public:
    using CellOptions::CellOptions;
};
class GRUCellOptions : public detail::CellOptions<GRUCellOptions> {
public:
    using CellOptions::CellOptions;
};

// NOTE: RNN, LSTM, GRU and LSTMCell return LibTorch's tuples from forward(input, ...), so they
// hide Module::forward(const Tensor&) on purpose (module(x) through Module throws
// std::logic_error, as for any module without a one-tensor forward); clang's
// -Woverloaded-virtual is silenced for these declarations only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

/// Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu. Every
/// parameter U(-1/sqrt(H), 1/sqrt(H)) from nn::manual_seed's stream, as PyTorch.
///
/// Example:
///   nn::RNN rnn(nn::RNNOptions(10, 20).num_layers(2));
///   auto [out, h_n] = rnn.forward(x);   // x (T, N, 10) -> out (T, N, 20), h_n (2, N, 20)
class RNN : public detail::RecurrentBase {
public:
    explicit RNN(const RNNOptions& options);
    /// input (T, N, in), (N, T, in) when batch_first, or (T, in); h0 (L D, N, H) or (L D, H),
    /// undefined for zeros -> (output (T, N, D H), h_n (L D, N, H)), LibTorch's tuple.
    std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h0 = {});
    const RNNOptions& options() const { return options_; }

private:
    RNNOptions options_;
};

/// LSTM: i, f, g, o = sigma, sigma, tanh, sigma of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh (in
/// that order along the gate dim), c_t = f c_{t-1} + i g, h_t = o tanh(c_t).
///
/// Example:
///   nn::LSTM lstm(nn::LSTMOptions(10, 20).num_layers(2).batch_first(true));
///   auto [out, state] = lstm.forward(x);   // x (N, T, 10) -> out (N, T, 20)
///   auto [h_n, c_n] = state;               // (2, N, 20) each
class LSTM : public detail::RecurrentBase {
public:
    explicit LSTM(const LSTMOptions& options);
    /// As RNN::forward, with the initial state (h0, c0) (each (L D, N, H)) or none (zeros) ->
    /// (output, (h_n, c_n)).
    std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(
        const Tensor& input, const std::optional<std::tuple<Tensor, Tensor>>& hx = std::nullopt);
    const LSTMOptions& options() const { return options_; }

private:
    LSTMOptions options_;
};

/// GRU: r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h, as PyTorch.
class GRU : public detail::RecurrentBase {
public:
    explicit GRU(const GRUOptions& options);
    /// As RNN::forward.
    std::tuple<Tensor, Tensor> forward(const Tensor& input, const Tensor& h0 = {});
    const GRUOptions& options() const { return options_; }

private:
    GRUOptions options_;
};

/// One RNN step: h' = act(W_ih x + b_ih + W_hh h + b_hh). Parameters weight_ih (H, in),
/// weight_hh (H, H), bias_ih, bias_hh (H), U(-1/sqrt(H), 1/sqrt(H)).
class RNNCell : public detail::CellBase {
public:
    explicit RNNCell(const RNNCellOptions& options);
    /// input (N, in) or (in), hx (N, H) or (H) (undefined: zeros) -> h'.
    Tensor forward(const Tensor& input, const Tensor& hx);
    Tensor forward(const Tensor& input) override { return forward(input, Tensor()); }
    const RNNCellOptions& options() const { return options_; }

private:
    RNNCellOptions options_;
};

/// One LSTM step (LSTM's equations) -> (h', c').
/// Example: auto [h, c] = cell.forward(x, std::make_tuple(h, c));
class LSTMCell : public detail::CellBase {
public:
    explicit LSTMCell(const LSTMCellOptions& options);
    std::tuple<Tensor, Tensor> forward(
        const Tensor& input, const std::optional<std::tuple<Tensor, Tensor>>& hx = std::nullopt);
    const LSTMCellOptions& options() const { return options_; }

private:
    LSTMCellOptions options_;
};

#pragma GCC diagnostic pop

/// One GRU step (GRU's equations) -> h'.
class GRUCell : public detail::CellBase {
public:
    explicit GRUCell(const GRUCellOptions& options);
    Tensor forward(const Tensor& input, const Tensor& hx);
    Tensor forward(const Tensor& input) override { return forward(input, Tensor()); }
    const GRUCellOptions& options() const { return options_; }

private:
    GRUCellOptions options_;
};

}  // namespace xgrad::nn
