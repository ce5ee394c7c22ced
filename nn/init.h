#pragma once
// Parameter initialisation. Every random initialiser takes an explicit seed: the same seed gives
// the same values on every platform. They write in place into a leaf (the trailing underscore, as
// in PyTorch's torch::nn::init) and return the same handle.
//
// NOTE: xgrad stores a Linear weight as (in, out) (y = x W + b, the course's W^T x), so
// fan_in = shape[0] and fan_out = shape[1]; PyTorch's (out, in) weights read the other way.

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn {

/// Restarts the process-wide seed stream used where no seed is given (Linear's default
/// initialisation, Dropout(p) without a seed), as torch::manual_seed. Thread-safe.
void manual_seed(std::uint64_t seed);
/// The state of manual_seed's stream (630 float64 values with libstdc++: the generator, the spare
/// normal, the stream position), for checkpoints; as torch::get_rng_state.
Tensor get_rng_state();
/// Restores a state get_rng_state() returned. Throws std::invalid_argument when `state` is not
/// one (and changes nothing).
void set_rng_state(const Tensor& state);

namespace init {

/// Which fan Kaiming initialisation scales by.
enum class FanMode { kFanIn, kFanOut };

/// (fan_in, fan_out) = (shape[0], shape[1]) of a 2-D weight (in, out). Throws
/// std::invalid_argument naming `op` for another rank.
std::pair<std::size_t, std::size_t> fan_in_and_fan_out(const Tensor& weight,
                                                       const char* op = "fan_in_and_fan_out");

/// U[low, high), e.g. the course's Unif[-1, 1] (seed 003's backpropagation algorithm).
Tensor uniform_(Tensor t, double low, double high, std::uint64_t seed);
/// U[low, high) over several tensors from one stream, in order: one seed initialises a whole
/// model, e.g. `uniform_(net->parameters(), -1, 1, /*seed=*/7)`.
void uniform_(const std::vector<Tensor>& ts, double low, double high, std::uint64_t seed);
/// N(mean, stddev^2).
Tensor normal_(Tensor t, double mean, double stddev, std::uint64_t seed);
/// Xavier/Glorot uniform: U[-a, a] with a = gain sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor weight, std::uint64_t seed, double gain = 1.0);
/// Xavier/Glorot normal: N(0, s^2) with s = gain sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor weight, std::uint64_t seed, double gain = 1.0);
/// He/Kaiming uniform: U[-b, b] with b = gain sqrt(3 / fan); gain sqrt(2) suits ReLU.
Tensor kaiming_uniform_(Tensor weight, std::uint64_t seed, double gain = std::sqrt(2.0),
                        FanMode mode = FanMode::kFanIn);
/// He/Kaiming normal: N(0, s^2) with s = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor weight, std::uint64_t seed, double gain = std::sqrt(2.0),
                       FanMode mode = FanMode::kFanIn);
/// All zeros.
Tensor zeros_(Tensor t);
/// All `value`.
Tensor constant_(Tensor t, double value);
/// Given values in row-major order (the course nets start from given weights). Throws
/// std::invalid_argument if the count differs from the tensor's.
Tensor copy_(Tensor t, const std::vector<double>& values);
/// The values of `source` (same shape; converted to t's dtype). Throws std::invalid_argument
/// naming both shapes if they differ.
Tensor copy_(Tensor t, const Tensor& source);

}  // namespace init
}  // namespace xgrad::nn
