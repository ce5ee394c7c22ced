#include "nn/init.h"

#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

#include "nn/detail/random.h"
#include "nn/detail/rng_state.h"

namespace xgrad::nn {

namespace {
constexpr std::uint64_t kDefaultSeed = 20230620;  // the date of seed 003's notes

std::mutex& default_mutex() {
    static std::mutex m;
    return m;
}
detail::Rng& default_rng() {
    static detail::Rng rng(kDefaultSeed);
    return rng;
}
// Where the stream is: which manual_seed() started it, and how many draws since. Under
// default_mutex().
detail::SeedDraw& default_position() {
    static detail::SeedDraw position;
    return position;
}
}  // namespace

void manual_seed(std::uint64_t seed) {
    std::lock_guard<std::mutex> lock(default_mutex());
    default_rng() = detail::Rng(seed);
    detail::SeedDraw& at = default_position();
    ++at.stream;
    at.index = 0;
}

Tensor get_rng_state() {
    std::lock_guard<std::mutex> lock(default_mutex());
    const detail::Rng& rng = default_rng();
    std::vector<double> v = detail::encode_generator(rng.generator()).to_vector();
    v.push_back(rng.spare());
    v.push_back(rng.has_spare() ? 1.0 : 0.0);
    // Where the stream is (which manual_seed, how many draws since): Sequential deals seeds by
    // it. Counters far below 2^53, exact in a double.
    v.push_back(static_cast<double>(default_position().stream));
    v.push_back(static_cast<double>(default_position().index));
    return tensor(v, Shape{v.size()}, f64);
}

void set_rng_state(const Tensor& state) {
    const std::size_t n = detail::generator_state_size() + 4;
    if (!state.defined() || state.dtype() != f64 || state.shape() != Shape{n}) {
        throw std::invalid_argument("set_rng_state: not a state of manual_seed's stream (got " +
                                    (state.defined()
                                         ? state.shape().str() + " " + dtype_name(state.dtype())
                                         : std::string("an undefined tensor")) +
                                    ", expected (" + std::to_string(n) + ") float64)");
    }
    std::vector<double> v = state.to_vector();
    const double spare = v[n - 4], has_spare = v[n - 3], stream = v[n - 2], index = v[n - 1];
    if (has_spare != 0.0 && has_spare != 1.0) {
        throw std::invalid_argument("set_rng_state: the last value must be 0 or 1 (got " +
                                    std::to_string(has_spare) + ")");
    }
    for (double c : {stream, index}) {
        if (!(c >= 0 && c < 9007199254740992.0) || std::floor(c) != c) {
            throw std::invalid_argument(
                "set_rng_state: the stream position must be integers in [0, 2^53) (got " +
                std::to_string(c) + ")");
        }
    }
    v.resize(n - 4);
    const std::mt19937_64 gen =
        detail::decode_generator(tensor(v, Shape{v.size()}, f64), "set_rng_state");
    std::lock_guard<std::mutex> lock(default_mutex());
    default_rng().restore(gen, spare, has_spare == 1.0);
    default_position().stream = static_cast<std::uint64_t>(stream);
    default_position().index = static_cast<std::uint64_t>(index);
}

detail::SeedDraw detail::next_default_draw() {
    std::lock_guard<std::mutex> lock(default_mutex());
    detail::SeedDraw draw = default_position();
    draw.seed = default_rng().next();
    ++default_position().index;
    return draw;
}

std::uint64_t detail::next_default_seed() { return next_default_draw().seed; }

detail::SeedDraw detail::default_stream_position() {
    std::lock_guard<std::mutex> lock(default_mutex());
    return default_position();
}

namespace init {

namespace {

MutableValue values_of(Tensor& t, const char* op) {
    if (!t.defined()) throw std::invalid_argument(std::string(op) + ": undefined tensor");
    return t.mutable_value();
}

// Writes f() into every element of t, in row-major order.
template <class F>
void fill_with(Tensor& t, const char* op, F&& f) {
    MutableValue a = values_of(t, op);
    dispatch(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        T* p = a.data<T>();
        for (std::size_t i = 0, n = a.numel(); i < n; ++i) p[i] = static_cast<T>(f());
    });
}

void check_finite(const char* op, const char* what, double v) {
    if (!std::isfinite(v)) {
        throw std::invalid_argument(std::string(op) + ": " + what + " must be finite (got " +
                                    std::to_string(v) + ")");
    }
}

double fan(const Tensor& w, FanMode mode, const char* op) {
    const auto [in, out] = fan_in_and_fan_out(w, op);
    const std::size_t f = mode == FanMode::kFanIn ? in : out;
    if (f == 0) {
        throw std::invalid_argument(std::string(op) + ": fan is 0 for weight of shape " +
                                    w.shape().str());
    }
    return static_cast<double>(f);
}

}  // namespace

std::pair<std::size_t, std::size_t> fan_in_and_fan_out(const Tensor& weight, const char* op) {
    if (!weight.defined()) throw std::invalid_argument(std::string(op) + ": undefined tensor");
    if (weight.ndim() != 2) {
        throw std::invalid_argument(std::string(op) + ": needs a 2-D weight (in, out) (got shape " +
                                    weight.shape().str() + ")");
    }
    return {weight.shape()[0], weight.shape()[1]};
}

Tensor uniform_(Tensor t, double low, double high, std::uint64_t seed) {
    uniform_(std::vector<Tensor>{t}, low, high, seed);
    return t;
}

void uniform_(const std::vector<Tensor>& ts, double low, double high, std::uint64_t seed) {
    check_finite("uniform_", "low", low);
    check_finite("uniform_", "high", high);
    if (!(low <= high)) {
        throw std::invalid_argument("uniform_: need low <= high (got " + std::to_string(low) +
                                    " and " + std::to_string(high) + ")");
    }
    detail::Rng rng(seed);
    for (Tensor t : ts) fill_with(t, "uniform_", [&] { return rng.uniform(low, high); });
}

Tensor normal_(Tensor t, double mean, double stddev, std::uint64_t seed) {
    check_finite("normal_", "mean", mean);
    check_finite("normal_", "stddev", stddev);
    if (stddev < 0) {
        throw std::invalid_argument("normal_: stddev must be >= 0 (got " + std::to_string(stddev) +
                                    ")");
    }
    detail::Rng rng(seed);
    fill_with(t, "normal_", [&] { return mean + stddev * rng.normal(); });
    return t;
}

Tensor xavier_uniform_(Tensor weight, std::uint64_t seed, double gain) {
    const auto [in, out] = fan_in_and_fan_out(weight, "xavier_uniform_");
    const double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
    return uniform_(weight, -a, a, seed);
}

Tensor xavier_normal_(Tensor weight, std::uint64_t seed, double gain) {
    const auto [in, out] = fan_in_and_fan_out(weight, "xavier_normal_");
    return normal_(weight, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), seed);
}

Tensor kaiming_uniform_(Tensor weight, std::uint64_t seed, double gain, FanMode mode) {
    const double b = gain * std::sqrt(3.0 / fan(weight, mode, "kaiming_uniform_"));
    return uniform_(weight, -b, b, seed);
}

Tensor kaiming_normal_(Tensor weight, std::uint64_t seed, double gain, FanMode mode) {
    return normal_(weight, 0.0, gain / std::sqrt(fan(weight, mode, "kaiming_normal_")), seed);
}

Tensor zeros_(Tensor t) { return constant_(t, 0.0); }

Tensor constant_(Tensor t, double value) {
    values_of(t, "constant_").fill(value);
    return t;
}

Tensor copy_(Tensor t, const std::vector<double>& values) {
    MutableValue a = values_of(t, "copy_");
    if (values.size() != a.numel()) {
        throw std::invalid_argument("copy_: value count differs (got " +
                                    std::to_string(values.size()) + " values for shape " +
                                    a.shape().str() + ", expected " + std::to_string(a.numel()) +
                                    ")");
    }
    for (std::size_t i = 0; i < values.size(); ++i) a.set(i, values[i]);
    return t;
}

Tensor copy_(Tensor t, const Tensor& source) {
    if (!source.defined()) throw std::invalid_argument("copy_: undefined source tensor");
    MutableValue a = values_of(t, "copy_");
    if (source.shape() != a.shape()) {
        throw std::invalid_argument("copy_: shapes differ (got source " + source.shape().str() +
                                    " for tensor " + a.shape().str() + ")");
    }
    a = source.value().cast(a.dtype());
    return t;
}

}  // namespace init
}  // namespace xgrad::nn
