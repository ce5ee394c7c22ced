#include "nn/dropout.h"

#include <ostream>
#include <stdexcept>
#include <string>

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
}  // namespace

Dropout::Dropout(double p) : Dropout(p, 0) {
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

Dropout::Dropout(double p, std::uint64_t seed) : Module("Dropout"), p_(checked_p(p)), gen_(seed) {}

void Dropout::reseed_default(std::uint64_t seed) { gen_.seed(seed); }

bool Dropout::default_state_untouched() const {
    return !drew_mask_ && Module::default_state_untouched();
}

Tensor Dropout::forward(const Tensor& input) {
    if (!input.defined()) throw std::invalid_argument("Dropout: undefined input");
    if (!is_training() || p_ == 0.0) return input;
    // mask_i = 1/(1-p) with probability 1-p, else 0; a constant, so y = x * mask has dy/dx = mask.
    // NOTE: p = 1 drops everything (mask 0), rather than dividing by zero.
    const double keep = p_ < 1.0 ? 1.0 / (1.0 - p_) : 0.0;
    drew_mask_ = true;
    detail::note_generator(gen_);  // a checkpointed forward replays the same mask
    Array mask = Array::empty(input.dtype(), input.shape());
    dispatch(mask.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* m = mask.data<T>();
        for (std::size_t i = 0, n = mask.numel(); i < n; ++i) {
            const double u = static_cast<double>(gen_() >> 11) * 0x1.0p-53;  // U[0, 1)
            m[i] = u < p_ ? T(0) : static_cast<T>(keep);
        }
    });
    return input * Tensor(std::move(mask));
}

Tensor Dropout::get_extra_state() const { return detail::encode_generator(gen_); }

void Dropout::set_extra_state(const Tensor& state) {
    gen_ = detail::decode_generator(state, "Dropout::set_extra_state");
    drew_mask_ = true;  // no longer the generator its seed made
}

void Dropout::pretty_print(std::ostream& os) const { os << "Dropout(p=" << p_ << ")"; }

Dropout2d::Dropout2d(double p) : Dropout2d(p, 0) {
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

Dropout2d::Dropout2d(double p, std::uint64_t seed)
    : Module("Dropout2d"), p_(checked_p(p, "Dropout2d")), gen_(seed) {}

void Dropout2d::reseed_default(std::uint64_t seed) { gen_.seed(seed); }

bool Dropout2d::default_state_untouched() const {
    return !drew_mask_ && Module::default_state_untouched();
}

Tensor Dropout2d::forward(const Tensor& input) {
    if (!input.defined()) throw std::invalid_argument("Dropout2d: undefined input");
    if (input.ndim() != 3 && input.ndim() != 4) {
        throw std::invalid_argument(
            "Dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input (got " +
            input.shape().str() + ")");
    }
    if (!is_training() || p_ == 0.0) return input;
    const double keep = p_ < 1.0 ? 1.0 / (1.0 - p_) : 0.0;
    drew_mask_ = true;
    detail::note_generator(gen_);
    // One draw per channel: mask (N, C, 1, 1) or (C, 1, 1), broadcast over the plane.
    std::vector<std::size_t> dims(input.ndim(), 1);
    const std::size_t lead = input.ndim() - 2;  // N and C, or C
    for (std::size_t d = 0; d < lead; ++d) dims[d] = input.shape()[d];
    Array mask = Array::empty(input.dtype(), Shape(dims));
    dispatch(mask.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* m = mask.data<T>();
        for (std::size_t i = 0, n = mask.numel(); i < n; ++i) {
            const double u = static_cast<double>(gen_() >> 11) * 0x1.0p-53;  // U[0, 1)
            m[i] = u < p_ ? T(0) : static_cast<T>(keep);
        }
    });
    return input * Tensor(std::move(mask));
}

Tensor Dropout2d::get_extra_state() const { return detail::encode_generator(gen_); }

void Dropout2d::set_extra_state(const Tensor& state) {
    gen_ = detail::decode_generator(state, "Dropout2d::set_extra_state");
    drew_mask_ = true;
}

void Dropout2d::pretty_print(std::ostream& os) const { os << "Dropout2d(p=" << p_ << ")"; }

}  // namespace xgrad::nn
