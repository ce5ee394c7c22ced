#pragma once
// Internal to xgrad::nn (and its tests): the recurrent layers' computation with the weights
// given explicitly, so that tests can gradcheck it with respect to every weight.

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "nn/rnn.h"

namespace xgrad::nn::detail {

/// Y (S, T, N, H) of one layer and direction: Y[0][t] = h_t, Y[1][t] = c_t (LSTM, S = 2),
/// from xp (T, N, G H) = x_t W_ih^T, h0 (N, H), w_hh (G H, H), c0 (N, H) (LSTM only), b_ih and
/// b_hh (G H) or undefined; with reverse the steps run from t = T-1 down. One record.
Tensor recurrent_scan(const std::string& layer, RecurrentMode mode, const Tensor& xp,
                      const Tensor& h0, const Tensor& w_hh, const Tensor& c0, const Tensor& b_ih,
                      const Tensor& b_hh, bool reverse);

/// RNN/LSTM/GRU's forward with `params` in the modules' registration order (per layer, per
/// direction: weight_ih, weight_hh[, bias_ih, bias_hh]) -> (output, h_n, c_n) (c_n undefined
/// but for LSTM). Dropout between layers draws from `dropout` (null: none, as in eval mode).
std::tuple<Tensor, Tensor, Tensor> recurrent_forward(const std::string& layer,
                                                     const RecurrentConfig& config,
                                                     const std::vector<Tensor>& params,
                                                     const Tensor& input, const Tensor& h0,
                                                     const Tensor& c0, std::mt19937_64* dropout);

/// One cell step with params (weight_ih, weight_hh[, bias_ih, bias_hh]) -> (h', c') (c' undefined
/// but for LSTM).
std::tuple<Tensor, Tensor> cell_forward(const std::string& layer, const RecurrentConfig& config,
                                        const std::vector<Tensor>& params, const Tensor& input,
                                        const Tensor& h, const Tensor& c);

}  // namespace xgrad::nn::detail
