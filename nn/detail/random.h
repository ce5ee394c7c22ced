#pragma once
// Internal to xgrad::nn: the random stream behind init and Dropout. The same algorithm as the
// engine's uniform() and normal() (64-bit Mersenne Twister, 53-bit uniforms, Box-Muller), written
// out because std:: distributions differ between standard libraries: a seed gives the same
// numbers everywhere.

#include <cmath>
#include <cstdint>
#include <random>

#include "nn/module.h"

namespace xgrad::nn::detail {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : gen_(seed) {}
    /// Uniform on [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
    /// Uniform on [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    /// Standard normal by Box-Muller; the second value of each pair is kept for the next call.
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double u1 = 1.0 - uniform(), u2 = uniform();  // 1 - u avoids log(0)
        const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
        spare_ = r * std::sin(theta);
        has_spare_ = true;
        return r * std::cos(theta);
    }
    std::uint64_t next() { return gen_(); }
    /// The generator and the spare normal, for saving and restoring the stream.
    const std::mt19937_64& generator() const { return gen_; }
    double spare() const { return spare_; }
    bool has_spare() const { return has_spare_; }
    void restore(const std::mt19937_64& gen, double spare, bool has_spare) {
        gen_ = gen;
        spare_ = spare;
        has_spare_ = has_spare;
    }

private:
    std::mt19937_64 gen_;
    double spare_ = 0;
    bool has_spare_ = false;
};

/// A seed from the process-wide stream that nn::manual_seed() restarts (thread-safe).
std::uint64_t next_default_seed();
/// The same, with where it came from: `stream` changes at every manual_seed(), `index` counts
/// the draws since (SeedDraw is declared in nn/module.h, which records it).
SeedDraw next_default_draw();
/// The stream's current position: the next draw will have this `stream` and `index`.
SeedDraw default_stream_position();

}  // namespace xgrad::nn::detail
