#pragma once
// Dropout: zeroes elements at random in training mode, the identity in eval mode.

#include <cstdint>
#include <iosfwd>
#include <random>

#include "nn/module.h"

namespace xgrad::nn {

/// In training mode each element is kept with probability 1 - p and scaled by 1 / (1 - p) (so
/// the expected value is unchanged), else zeroed; in eval mode forward is the identity. The mask
/// comes from the module's own generator: the same seed gives the same masks, call after call.
/// d/dx = mask (the same scaled mask).
///
/// Example:
///   auto drop = std::make_shared<nn::Dropout>(0.5, /*seed=*/42);
///   Tensor y = drop->forward(x);   // about half of x zeroed, the rest doubled
///   drop->eval();                  // now forward(x) is x
class Dropout : public Module {
public:
    /// p in [0, 1]; the seed comes from nn::manual_seed's stream. Throws std::invalid_argument.
    explicit Dropout(double p = 0.5);
    /// p in [0, 1], with an explicit seed.
    Dropout(double p, std::uint64_t seed);

    Tensor forward(const Tensor& input) override;
    double p() const { return p_; }
    /// "Dropout(p=0.5)" (with the layer's name).
    void pretty_print(std::ostream& os) const override;
    /// The generator's state (626 float64 values with libstdc++), so a resumed run draws the same
    /// masks.
    Tensor get_extra_state() const override;
    void set_extra_state(const Tensor& state) override;

protected:
    /// A dropout layer named `name` whose masks have mask_shape(input); seed from manual_seed's
    /// stream (the first) or explicit.
    Dropout(const char* name, double p);
    Dropout(const char* name, double p, std::uint64_t seed);
    /// The shape of one mask for `input`, broadcast against it (throws for a bad input).
    virtual Shape mask_shape(const Tensor& input) const;
    /// Restarts the mask generator from `seed` (see Module::deal_default_draws).
    void reseed_default(std::uint64_t seed) override;
    /// True until the first mask is drawn.
    bool default_state_untouched() const override;

private:
    double p_;
    std::mt19937_64 gen_;
    bool drew_mask_ = false;
};

/// Zeroes whole channels: in training mode each channel (n, c) of an (N, C, H, W) or (C, H, W)
/// input is kept with probability 1 - p and scaled by 1 / (1 - p), else zeroed; the identity
/// in eval mode. The mask is (N, C, 1, 1), broadcast over H and W: d/dx = mask.
/// NOTE: PyTorch reads a 3-D input as (N, C, L) for backward compatibility, with a warning;
/// we read it as documented, (C, H, W).
/// Example: nn::Dropout2d drop(0.2);   // after a Conv2d
class Dropout2d : public Dropout {
public:
    /// p in [0, 1]; the seed comes from nn::manual_seed's stream.
    explicit Dropout2d(double p = 0.5) : Dropout("Dropout2d", p) {}
    Dropout2d(double p, std::uint64_t seed) : Dropout("Dropout2d", p, seed) {}

protected:
    Shape mask_shape(const Tensor& input) const override;
};

namespace functional {

/// DropoutFuncOptions().p(0.5).training(true), LibTorch's names and defaults (also for
/// dropout2d).
struct DropoutFuncOptions {
    DropoutFuncOptions& p(double v) {
        p_ = v;
        return *this;
    }
    DropoutFuncOptions& training(bool v) {
        training_ = v;
        return *this;
    }
    double p_ = 0.5;
    bool training_ = true;
};
using Dropout2dFuncOptions = DropoutFuncOptions;

/// Dropout's forward: each element kept with probability 1 - p and scaled by 1 / (1 - p); the
/// identity when not training or p = 0. d/dx = the mask. The mask is drawn from `generator`;
/// without one, from a generator seeded by one draw of nn::manual_seed's stream, so a seeded
/// program gets the same masks.
/// NOTE: LibTorch draws from its global generator; a layer here owns its generator (saved in
/// checkpoints), and the functional form takes one explicitly when the caller keeps the stream.
Tensor dropout(const Tensor& input, const DropoutFuncOptions& options = {},
               std::mt19937_64* generator = nullptr);
/// Dropout2d's forward: whole channels of an (N, C, H, W) or (C, H, W) input.
Tensor dropout2d(const Tensor& input, const Dropout2dFuncOptions& options = {},
                 std::mt19937_64* generator = nullptr);

}  // namespace functional

}  // namespace xgrad::nn
