#include "nn/dropout.h"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/detail/random.h"
#include "nn/detail/rng_state.h"

namespace xgrad::nn {

namespace {
double checked_p(double p, const char* layer = "Dropout") {
    if (!(p >= 0.0 && p <= 1.0)) {
        throw std::invalid_argument(std::string(layer) + ": p must be in [0, 1] (got " +
                                    std::to_string(p) + ")");
    }
    return p;
}

// input * mask, mask of `mask_shape` (broadcast over the rest): 1/(1-p) with probability 1-p,
// else 0, from `gen`; a constant, so d/dx = mask. p = 1 drops everything (mask 0) rather than
// dividing by zero. The checkpoint replays it (note_generator).
Tensor masked(const Tensor& input, const Shape& mask_shape, double p, std::mt19937_64& gen) {
    const double keep = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
    detail::note_generator(gen);
    Array mask = Array::empty(input.dtype(), mask_shape);
    dispatch(mask.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* m = mask.data<T>();
        for (std::size_t i = 0, n = mask.numel(); i < n; ++i) {
            const double u = static_cast<double>(gen() >> 11) * 0x1.0p-53;  // U[0, 1)
            m[i] = u < p ? T(0) : static_cast<T>(keep);
        }
    });
    return input * Tensor(std::move(mask));
}

// (N, C, 1, 1) or (C, 1, 1): one draw per channel of a 4-D or 3-D input.
Shape channel_mask_shape(const Tensor& input, const char* op) {
    if (input.ndim() != 3 && input.ndim() != 4) {
        throw std::invalid_argument(std::string(op) +
                                    ": expected a 3-D (C, H, W) or 4-D (N, C, H, W) input (got " +
                                    input.shape().str() + ")");
    }
    std::vector<std::size_t> dims(input.ndim(), 1);
    const std::size_t lead = input.ndim() - 2;  // N and C, or C
    for (std::size_t d = 0; d < lead; ++d) dims[d] = input.shape()[d];
    return Shape(dims);
}

// The generator a functional call draws from: the caller's, or one seeded from manual_seed's
// stream (kept in `own`).
std::mt19937_64& generator_or_default(std::mt19937_64* gen, std::mt19937_64& own) {
    if (gen != nullptr) return *gen;
    own.seed(detail::next_default_seed());
    return own;
}
}  // namespace

Dropout::Dropout(double p) : Dropout("Dropout", p) {}

Dropout::Dropout(double p, std::uint64_t seed) : Dropout("Dropout", p, seed) {}

Dropout::Dropout(const char* name, double p) : Dropout(name, p, 0) {
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

Dropout::Dropout(const char* name, double p, std::uint64_t seed)
    : Module(name), p_(checked_p(p, name)), gen_(seed) {}

void Dropout::reseed_default(std::uint64_t seed) { gen_.seed(seed); }

bool Dropout::default_state_untouched() const {
    return !drew_mask_ && Module::default_state_untouched();
}

Shape Dropout::mask_shape(const Tensor& input) const { return input.shape(); }

Tensor Dropout::forward(const Tensor& input) {
    if (!input.defined()) throw std::invalid_argument(name() + ": undefined input");
    const Shape shape = mask_shape(input);
    if (!is_training() || p_ == 0.0) return input;
    drew_mask_ = true;
    return masked(input, shape, p_, gen_);
}

Tensor Dropout::get_extra_state() const { return detail::encode_generator(gen_); }

void Dropout::set_extra_state(const Tensor& state) {
    gen_ = detail::decode_generator(state, (name() + "::set_extra_state").c_str());
    drew_mask_ = true;  // no longer the generator its seed made
}

void Dropout::pretty_print(std::ostream& os) const { os << name() << "(p=" << p_ << ")"; }

Shape Dropout2d::mask_shape(const Tensor& input) const {
    return channel_mask_shape(input, "Dropout2d");
}

namespace functional {

Tensor dropout(const Tensor& input, const DropoutFuncOptions& options, std::mt19937_64* generator) {
    if (!input.defined()) throw std::invalid_argument("dropout: undefined input");
    const double p = checked_p(options.p_, "dropout");
    if (!options.training_ || p == 0.0) return input;
    std::mt19937_64 own;
    return masked(input, input.shape(), p, generator_or_default(generator, own));
}

Tensor dropout2d(const Tensor& input, const Dropout2dFuncOptions& options,
                 std::mt19937_64* generator) {
    if (!input.defined()) throw std::invalid_argument("dropout2d: undefined input");
    const double p = checked_p(options.p_, "dropout2d");
    const Shape mask_shape = channel_mask_shape(input, "dropout2d");
    if (!options.training_ || p == 0.0) return input;
    std::mt19937_64 own;
    return masked(input, mask_shape, p, generator_or_default(generator, own));
}

}  // namespace functional

}  // namespace xgrad::nn
