#include "nn/detail/rng_state.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace xgrad::nn::detail {

namespace {
thread_local CheckpointContext* t_checkpoint = nullptr;

std::vector<std::uint64_t> words_of(const std::mt19937_64& gen) {
    std::ostringstream os;
    os << gen;
    std::istringstream is(os.str());
    std::vector<std::uint64_t> words;
    for (std::uint64_t w = 0; is >> w;) words.push_back(w);
    return words;
}
}  // namespace

std::size_t generator_state_size() {
    static const std::size_t n = 2 * words_of(std::mt19937_64()).size();
    return n;
}

Tensor encode_generator(const std::mt19937_64& gen) {
    std::vector<double> halves;
    for (std::uint64_t w : words_of(gen)) {
        halves.push_back(static_cast<double>(w & 0xffffffffULL));
        halves.push_back(static_cast<double>(w >> 32));
    }
    return tensor(halves, Shape{halves.size()}, f64);
}

std::mt19937_64 decode_generator(const Tensor& state, const char* op) {
    const std::size_t n = generator_state_size();
    if (!state.defined() || state.dtype() != f64 || state.shape() != Shape{n}) {
        throw std::invalid_argument(std::string(op) + ": not a generator state (got " +
                                    (state.defined()
                                         ? state.shape().str() + " " + dtype_name(state.dtype())
                                         : std::string("an undefined tensor")) +
                                    ", expected (" + std::to_string(n) + ") float64)");
    }
    const std::vector<double> v = state.to_vector();
    std::ostringstream os;
    for (std::size_t i = 0; i < n / 2; ++i) {
        const double lo = v[2 * i], hi = v[2 * i + 1];
        for (double h : {lo, hi}) {
            if (!(h >= 0 && h < 4294967296.0) || std::floor(h) != h) {
                throw std::invalid_argument(
                    std::string(op) + ": not a generator state (got a word half " +
                    std::to_string(h) + ", expected an integer in [0, 2^32))");
            }
        }
        os << ((static_cast<std::uint64_t>(hi) << 32) | static_cast<std::uint64_t>(lo)) << ' ';
    }
    std::istringstream is(os.str());
    std::mt19937_64 gen;
    is >> gen;
    if (!is) throw std::invalid_argument(std::string(op) + ": not a generator state (unreadable)");
    return gen;
}

CheckpointContext* current_checkpoint() { return t_checkpoint; }

CheckpointScope::CheckpointScope(CheckpointContext* ctx) : previous_(t_checkpoint) {
    ctx->parent = previous_;
    t_checkpoint = ctx;
}
CheckpointScope::~CheckpointScope() { t_checkpoint = previous_; }

void note_generator(std::mt19937_64& gen) {
    for (CheckpointContext* ctx = t_checkpoint; ctx != nullptr && !ctx->recomputing;
         ctx = ctx->parent) {
        bool seen = false;
        for (const auto& s : ctx->generators) seen = seen || s.generator == &gen;
        if (!seen) ctx->generators.push_back({&gen, gen});
    }
}

bool recomputing() {
    for (CheckpointContext* ctx = t_checkpoint; ctx != nullptr; ctx = ctx->parent) {
        if (ctx->recomputing) return true;
    }
    return false;
}

}  // namespace xgrad::nn::detail
