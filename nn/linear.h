#pragma once
// Linear: y = x W + b, the course's W^T x with the weight stored (in, out).

#include <cstddef>
#include <cstdint>
#include <iosfwd>

#include "nn/module.h"

namespace xgrad::nn {

/// A fully connected layer. The weight is (in, out) and the bias (out), both initialised
/// U(-1/sqrt(in), 1/sqrt(in)) from the seed stream of nn::manual_seed (PyTorch's default);
/// re-initialise them with nn::init for a chosen seed or given values.
///
/// Example (seed 004's first layer: W1's first row is the bias, the rest the weight):
///   auto fc = std::make_shared<nn::Linear>(2, 2, /*bias=*/true, f64);
///   nn::init::copy_(fc->weight(), {-2, 1, 1, 4});   // (in=2, out=2)
///   nn::init::copy_(fc->bias(), {-1, 2});
///   Tensor a1 = fc->forward(tensor({2, 5}, Shape{1, 2}, f64));   // [[0, 24]]
class Linear : public Module {
public:
    Linear(std::size_t in, std::size_t out, bool bias = true, DType dtype = f32);

    /// x: (N, in) -> (N, out), or (in) -> (out). Throws std::invalid_argument naming the shapes
    /// when x's last dimension is not `in`, or when its dtype differs from the weight's.
    Tensor forward(const Tensor& x) override;

    /// (in, out).
    const Tensor& weight() const { return weight_; }
    /// (out); an undefined tensor for a layer without bias.
    const Tensor& bias() const { return bias_; }
    std::size_t in_features() const { return in_; }
    std::size_t out_features() const { return out_; }
    bool has_bias() const { return bias_.defined(); }

    /// "Linear(in=2, out=3, bias=true)".
    void pretty_print(std::ostream& os) const override;

protected:
    /// U(-1/sqrt(in), 1/sqrt(in)) again, from `seed` (see Module::deal_default_draws).
    void reseed_default(std::uint64_t seed) override;

private:
    std::size_t in_, out_;
    Tensor weight_, bias_;
};

}  // namespace xgrad::nn
