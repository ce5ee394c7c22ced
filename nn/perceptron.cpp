// The course perceptron. One engine runs both perceptrons (binary: one weight row, multiclass:
// one per class) over one arithmetic: exact (scaled integers) or double. fit, trace, step,
// score and predict all go through it, so they classify identically.

#include "nn/perceptron.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"

namespace xgrad::nn {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

/// Thrown by exact arithmetic when a value leaves __int128 (or a weight leaves int128 range);
/// the driver reruns in double, or reports it when exact arithmetic was required.
struct Overflow {
    std::size_t step;
};

// ---- Number formatting ----

/// Integers without a decimal point, other values in the shortest form that reads back exactly.
std::string fmt(double v) {
    char buf[64];
    if (v == 0) return "0";  // also -0
    if (std::isfinite(v) && v == std::nearbyint(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

std::string fmt(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt(v[i]);
    return s + "]";
}

// ---- The problem: both perceptrons as rows x dim weights over points x dim features ----

struct Problem {
    std::size_t rows = 1;  // 1 (binary) or the number of classes
    std::size_t dim = 0;   // features per point, the bias feature included
    bool binary = true;
    std::vector<double> weights;   // rows x dim, row-major
    std::vector<double> features;  // points x dim, row-major
    std::vector<int> labels;       // +1/-1 (binary) or the class index
    std::size_t size() const { return labels.size(); }
};

void check_finite(const char* who, const char* what, std::size_t index, double v) {
    if (!std::isfinite(v)) {
        throw std::invalid_argument(std::string(who) + ": " + what + " " + std::to_string(index) +
                                    " is not finite (got " + fmt(v) +
                                    ", expected a finite number: the sign of the score decides)");
    }
}

/// Appends f(x) to `out`: a 1 first with a bias, then x (checked: size and finiteness).
void append_features(const char* who, std::size_t point, const std::vector<double>& x,
                     std::size_t num_features, bool bias, std::vector<double>& out) {
    if (x.size() != num_features) {
        throw std::invalid_argument(std::string(who) + ": point " + std::to_string(point) +
                                    " has the wrong number of features (got " +
                                    std::to_string(x.size()) + ", expected " +
                                    std::to_string(num_features) + ")");
    }
    if (bias) out.push_back(1.0);
    for (std::size_t j = 0; j < x.size(); ++j) {
        if (!std::isfinite(x[j])) {
            throw std::invalid_argument(std::string(who) + ": point " + std::to_string(point) +
                                        " feature " + std::to_string(j) + " is not finite (got " +
                                        fmt(x[j]) + ", expected a finite number)");
        }
        out.push_back(x[j]);
    }
}

void check_counts(const char* who, std::size_t points, std::size_t labels) {
    if (points != labels) {
        throw std::invalid_argument(std::string(who) + ": points and labels differ in count (got " +
                                    std::to_string(points) + " points and " +
                                    std::to_string(labels) + " labels)");
    }
}

void check_binary_label(const char* who, std::size_t point, int label) {
    if (label != 1 && label != -1) {
        throw std::invalid_argument(std::string(who) + ": label of point " + std::to_string(point) +
                                    " is invalid (got " + std::to_string(label) +
                                    ", expected +1 or -1)");
    }
}

void check_class_label(const char* who, std::size_t point, std::size_t label, std::size_t classes) {
    if (label >= classes) {
        throw std::invalid_argument(std::string(who) + ": label of point " + std::to_string(point) +
                                    " is out of range (got " + std::to_string(label) +
                                    ", expected a class in [0, " + std::to_string(classes) + "))");
    }
}

// ---- Exactness: a common power-of-two scale that makes every value an int64 ----

/// The exponent e <= 0 such that every value is an integer multiple of 2^e and |v| 2^-e < 2^62,
/// or nothing when the values span more than 62 binary digits. Every finite double is
/// m 2^(ex-53) with an integer m < 2^53 (frexp), so its lowest set bit is at ex - 53 + ctz(m).
std::optional<int> exact_scale(const Problem& p, std::string* why) {
    int low = 0, high = std::numeric_limits<int>::min();
    for (const std::vector<double>* values : {&p.weights, &p.features}) {
        for (double v : *values) {
            if (v == 0) continue;
            int ex = 0;
            const double m = std::frexp(std::fabs(v), &ex);  // v = m 2^ex, m in [0.5, 1)
            const auto mantissa = static_cast<std::uint64_t>(std::ldexp(m, 53));
            low = std::min(low, ex - 53 + __builtin_ctzll(mantissa));
            high = std::max(high, ex);  // |v| < 2^ex
        }
    }
    if (high == std::numeric_limits<int>::min()) return 0;  // all zeros
    if (high - low > 62) {
        *why = "the values need " + std::to_string(high - low) +
               " binary digits at a common scale (from 2^" + std::to_string(low) + " to 2^" +
               std::to_string(high) + "; exact integers allow 62)";
        return std::nullopt;
    }
    return low;
}

/// Exact arithmetic: features scaled to int64, weights and scores in __int128, all checked.
struct ExactArith {
    using Weight = Int128;
    using Feature = std::int64_t;
    using Score = Int128;
    static Feature feature(double scaled) { return static_cast<Feature>(scaled); }
    static Weight weight(double scaled) { return static_cast<Weight>(scaled); }
    static bool dot(const Weight* w, const Feature* f, std::size_t d, Score* out) {
        Score s = 0;
        for (std::size_t i = 0; i < d; ++i) {
            Score product;
            if (__builtin_mul_overflow(w[i], static_cast<Score>(f[i]), &product) ||
                __builtin_add_overflow(s, product, &s)) {
                return false;
            }
        }
        *out = s;
        return true;
    }
    static bool add(Weight* w, Feature f) {
        return !__builtin_add_overflow(*w, static_cast<Weight>(f), w);
    }
    static bool sub(Weight* w, Feature f) {
        return !__builtin_sub_overflow(*w, static_cast<Weight>(f), w);
    }
};

/// Plain double arithmetic for data without an exact integer form.
struct FloatArith {
    using Weight = double;
    using Feature = double;
    using Score = double;
    static Feature feature(double v) { return v; }
    static Weight weight(double v) { return v; }
    static bool dot(const Weight* w, const Feature* f, std::size_t d, Score* out) {
        double s = 0;
        for (std::size_t i = 0; i < d; ++i) s += w[i] * f[i];
        *out = s;
        return true;
    }
    static bool add(Weight* w, Feature f) { return (*w += f, true); }
    static bool sub(Weight* w, Feature f) { return (*w -= f, true); }
};

/// The perceptron state (weights) and its step, in arithmetic A. Values are held scaled by
/// 2^-scale (features, weights), so scores are scaled by 2^-2 scale; signs and ties are as in
/// the unscaled data because the scale is a positive power of two.
template <class A>
class Engine {
public:
    using Weight = typename A::Weight;
    using Feature = typename A::Feature;
    using Score = typename A::Score;

    Engine(const Problem& p, int scale) : p_(p), scale_(scale), scores_(p.rows) {
        w_.reserve(p.weights.size());
        for (double v : p.weights) w_.push_back(A::weight(std::ldexp(v, -scale)));
        f_.reserve(p.features.size());
        for (double v : p.features) f_.push_back(A::feature(std::ldexp(v, -scale)));
    }

    /// Scores of point i under the current weights; returns the predicted label: +1/-1 when
    /// binary (score >= 0 is positive), else the argmax (the lowest index among ties).
    int classify(std::size_t i) {
        const Feature* f = &f_[i * p_.dim];
        int best = 0;
        for (std::size_t k = 0; k < p_.rows; ++k) {
            if (!A::dot(&w_[k * p_.dim], f, p_.dim, &scores_[k])) throw Overflow{steps_ + 1};
            if (scores_[k] > scores_[static_cast<std::size_t>(best)]) best = static_cast<int>(k);
        }
        if (p_.binary) return scores_[0] >= 0 ? 1 : -1;
        return best;
    }

    /// One step on point i: classify, and on a mistake w <- w + y* f(x) (binary) or
    /// W[y*] += f(x), W[predicted] -= f(x) (multiclass). Returns whether it was correct.
    bool step(std::size_t i, int* predicted = nullptr) {
        const int pred = classify(i);
        ++steps_;
        if (predicted) *predicted = pred;
        const int label = p_.labels[i];
        if (pred == label) return true;
        if (p_.binary) {
            label > 0 ? add_row(0, i) : sub_row(0, i);
        } else {
            add_row(static_cast<std::size_t>(label), i);
            sub_row(static_cast<std::size_t>(pred), i);
        }
        return false;
    }

    const std::vector<Weight>& raw_weights() const { return w_; }
    /// The weights unscaled, as double (exact below 2^53 in magnitude).
    std::vector<double> weights() const {
        std::vector<double> out;
        out.reserve(w_.size());
        for (Weight w : w_) out.push_back(std::ldexp(static_cast<double>(w), scale_));
        return out;
    }
    /// The last classify's scores unscaled, as double.
    std::vector<double> scores() const {
        std::vector<double> out;
        out.reserve(scores_.size());
        for (Score s : scores_) out.push_back(std::ldexp(static_cast<double>(s), 2 * scale_));
        return out;
    }

private:
    void add_row(std::size_t row, std::size_t point) {
        for (std::size_t j = 0; j < p_.dim; ++j) {
            if (!A::add(&w_[row * p_.dim + j], f_[point * p_.dim + j])) throw Overflow{steps_};
        }
    }
    void sub_row(std::size_t row, std::size_t point) {
        for (std::size_t j = 0; j < p_.dim; ++j) {
            if (!A::sub(&w_[row * p_.dim + j], f_[point * p_.dim + j])) throw Overflow{steps_};
        }
    }

    const Problem& p_;
    int scale_;
    std::vector<Weight> w_;
    std::vector<Feature> f_;
    std::vector<Score> scores_;
    std::size_t steps_ = 0;
};

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    // splitmix64 finaliser over the running hash.
    std::uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t hash_weights(const std::vector<Int128>& w) {
    std::uint64_t h = w.size();
    for (Int128 v : w) {
        const auto u = static_cast<UInt128>(v);
        h = mix(mix(h, static_cast<std::uint64_t>(u)), static_cast<std::uint64_t>(u >> 64));
    }
    return h;
}

/// The algorithm of note 001 until a mistake-free pass, a repeated state, or max_steps.
///
/// The state that determines the future is (weights, position in the pass). Every infinite run
/// passes position 0 once per pass, so states are compared there only: when the weights at the
/// start of pass k equal those at the start of an earlier pass j, passes j..k-1 repeat forever.
/// Each of them had a mistake (else the run had converged at the first of them), so no pass is
/// ever mistake-free: the perceptron never converges. Exact arithmetic only: a double run that
/// repeats proves something about rounding, not about the data.
template <class A>
PerceptronFit run_fit(Engine<A>& engine, std::size_t n, std::size_t max_steps) {
    constexpr bool kExact = std::is_same_v<A, ExactArith>;
    PerceptronFit r;
    r.exact = kExact;
    std::unordered_multimap<std::uint64_t, std::size_t> seen;  // hash of weights -> pass index
    std::vector<typename A::Weight> history;                   // weights at each pass start
    const std::size_t width = engine.raw_weights().size();
    for (std::size_t pass = 0;; ++pass) {
        if constexpr (kExact) {
            const auto& w = engine.raw_weights();
            const std::uint64_t h = hash_weights(w);
            const auto [first, last] = seen.equal_range(h);
            for (auto it = first; it != last; ++it) {
                if (std::equal(w.begin(), w.end(),
                               history.begin() + std::ptrdiff_t(it->second * width))) {
                    r.status = PerceptronStatus::Never;
                    r.cycle_start = it->second * n;
                    r.cycle_length = r.steps - r.cycle_start;
                    r.passes = pass;
                    return r;
                }
            }
            seen.emplace(h, pass);
            history.insert(history.end(), w.begin(), w.end());
        }
        bool mistake = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (r.steps == max_steps) {
                r.status = PerceptronStatus::StepLimit;
                r.passes = pass + 1;
                return r;
            }
            ++r.steps;
            if (!engine.step(i)) {
                mistake = true;
                ++r.mistakes;
                r.last_update_step = r.steps;
            }
        }
        if (!mistake) {
            r.status = PerceptronStatus::Converged;
            r.passes = pass + 1;
            return r;
        }
    }
}

struct RawStep {
    std::size_t point = 0;
    std::vector<double> weights;  // before the step
    std::vector<double> scores;
    int predicted = 0;
    bool correct = false;
};

template <class A>
std::vector<RawStep> run_trace(Engine<A>& engine, std::size_t n, std::size_t num_steps) {
    std::vector<RawStep> out;
    out.reserve(num_steps);
    for (std::size_t s = 0; s < num_steps; ++s) {
        RawStep row;
        row.point = s % n;
        row.weights = engine.weights();
        row.correct = engine.step(row.point, &row.predicted);
        row.scores = engine.scores();
        out.push_back(std::move(row));
    }
    return out;
}

/// Runs fn(engine, exact, note) on the exact engine when the mode and data allow it, else (or
/// after an overflow, rerunning from the start) on the double engine.
template <class Fn>
auto with_engine(const char* who, const Problem& p, PerceptronArithmetic mode, Fn&& fn) {
    std::string note;
    if (mode == PerceptronArithmetic::Floating) {
        note = "double arithmetic was requested";
    } else if (const std::optional<int> scale = exact_scale(p, &note)) {
        try {
            Engine<ExactArith> engine(p, *scale);
            return fn(engine, std::string());
        } catch (const Overflow& e) {
            note = "exact arithmetic overflowed __int128 at step " + std::to_string(e.step) +
                   "; reran in double";
            if (mode == PerceptronArithmetic::Exact) {
                throw std::overflow_error(std::string(who) + ": " + note.substr(0, note.find(';')) +
                                          " (got weights or scores beyond 2^127, expected them "
                                          "within; use PerceptronArithmetic::Auto to fall back "
                                          "to double)");
            }
        }
    } else if (mode == PerceptronArithmetic::Exact) {
        throw std::invalid_argument(std::string(who) + ": no exact integer form: " + note);
    } else {
        note += "; ran in double";
    }
    Engine<FloatArith> engine(p, 0);
    return fn(engine, note);
}

Problem binary_problem(const char* who, const std::vector<double>& weights, bool bias,
                       const std::vector<std::vector<double>>& points,
                       const std::vector<int>& labels) {
    check_counts(who, points.size(), labels.size());
    Problem p;
    p.dim = weights.size();
    p.weights = weights;
    p.features.reserve(points.size() * p.dim);
    for (std::size_t i = 0; i < points.size(); ++i) {
        append_features(who, i, points[i], p.dim - (bias ? 1 : 0), bias, p.features);
        check_binary_label(who, i, labels[i]);
    }
    p.labels = labels;
    return p;
}

Problem multiclass_problem(const char* who, const std::vector<std::vector<double>>& weights,
                           bool bias, const std::vector<std::vector<double>>& points,
                           const std::vector<std::size_t>& labels) {
    check_counts(who, points.size(), labels.size());
    Problem p;
    p.binary = false;
    p.rows = weights.size();
    p.dim = weights[0].size();
    for (const auto& row : weights) p.weights.insert(p.weights.end(), row.begin(), row.end());
    p.features.reserve(points.size() * p.dim);
    for (std::size_t i = 0; i < points.size(); ++i) {
        append_features(who, i, points[i], p.dim - (bias ? 1 : 0), bias, p.features);
        check_class_label(who, i, labels[i], p.rows);
        p.labels.push_back(static_cast<int>(labels[i]));
    }
    return p;
}

std::vector<double> feature_row(const Problem& p, std::size_t point) {
    const auto first = p.features.begin() + std::ptrdiff_t(point * p.dim);
    return {first, first + std::ptrdiff_t(p.dim)};
}

std::vector<std::vector<double>> unflatten(const std::vector<double>& flat, std::size_t rows) {
    const std::size_t dim = rows ? flat.size() / rows : 0;
    std::vector<std::vector<double>> out(rows);
    for (std::size_t k = 0; k < rows; ++k) {
        out[k].assign(flat.begin() + std::ptrdiff_t(k * dim),
                      flat.begin() + std::ptrdiff_t((k + 1) * dim));
    }
    return out;
}

void check_weights(const char* who, const std::vector<double>& w, bool bias) {
    if (w.empty()) {
        throw std::invalid_argument(std::string(who) + ": no weights (got " +
                                    std::to_string(w.size()) + ", expected at least " +
                                    (bias ? "1 (the bias weight)" : "1") + ")");
    }
    for (std::size_t i = 0; i < w.size(); ++i) check_finite(who, "weight", i, w[i]);
}

}  // namespace

// ---- PerceptronFit ----

std::string PerceptronFit::str() const {
    std::ostringstream os;
    switch (status) {
        case PerceptronStatus::Converged:
            os << "converged after " << steps << " steps (" << passes << " passes, the last "
               << "without a mistake; " << mistakes << " updates";
            if (last_update_step) os << ", the last at step " << last_update_step;
            os << ")";
            break;
        case PerceptronStatus::Never:
            os << "never converges: after step " << steps << " (a pass boundary) the weights "
               << "equal those after step " << cycle_start << ", so steps " << cycle_start + 1
               << "-" << steps << " (" << cycle_length << " steps, with mistakes) repeat forever";
            break;
        case PerceptronStatus::StepLimit:
            os << "stopped at the step limit after " << steps << " steps without converging";
            if (exact) {
                os << " or repeating a state";
            } else {
                os << " (no cycle proof in double arithmetic)";
            }
            break;
    }
    if (!exact && !note.empty()) os << " [" << note << "]";
    return os.str();
}

// ---- Perceptron ----

Perceptron::Perceptron(std::vector<double> weights, bool bias)
    : weights_(std::move(weights)), bias_(bias) {
    check_weights("Perceptron", weights_, bias_);
}

Perceptron Perceptron::zeros(std::size_t num_features, bool bias) {
    return Perceptron(std::vector<double>(num_features + (bias ? 1 : 0), 0.0), bias);
}

std::vector<double> Perceptron::features(const std::vector<double>& x) const {
    std::vector<double> f;
    append_features("Perceptron::features", 0, x, num_features(), bias_, f);
    return f;
}

double Perceptron::score(const std::vector<double>& x) const {
    const Problem p = binary_problem("Perceptron::score", weights_, bias_, {x}, {1});
    return with_engine("Perceptron::score", p, PerceptronArithmetic::Auto,
                       [](auto& engine, const std::string&) {
                           engine.classify(0);
                           return engine.scores()[0];
                       });
}

int Perceptron::predict(const std::vector<double>& x) const {
    const Problem p = binary_problem("Perceptron::predict", weights_, bias_, {x}, {1});
    return with_engine("Perceptron::predict", p, PerceptronArithmetic::Auto,
                       [](auto& engine, const std::string&) { return engine.classify(0); });
}

namespace {
// A trace of num_steps > 0 steps needs at least one point to step through.
void check_has_points(const char* who, const Problem& p, std::size_t num_steps) {
    if (num_steps > 0 && p.size() == 0) {
        throw std::invalid_argument(std::string(who) + ": no points to step through (got 0, " +
                                    "expected at least 1 for " + std::to_string(num_steps) +
                                    " steps)");
    }
}
}  // namespace

PerceptronStep Perceptron::step(const std::vector<double>& x, int label) {
    return trace({x}, {label}, 1).front();
}

std::vector<PerceptronStep> Perceptron::trace(const std::vector<std::vector<double>>& points,
                                              const std::vector<int>& labels,
                                              std::size_t num_steps) {
    const char* who = "Perceptron::trace";
    const Problem p = binary_problem(who, weights_, bias_, points, labels);
    check_has_points(who, p, num_steps);
    return with_engine(who, p, PerceptronArithmetic::Auto, [&](auto& engine, const std::string&) {
        const std::vector<RawStep> raw = run_trace(engine, p.size(), num_steps);
        std::vector<PerceptronStep> out;
        out.reserve(raw.size());
        for (std::size_t s = 0; s < raw.size(); ++s) {
            PerceptronStep row;
            row.step = s + 1;
            row.point = raw[s].point;
            row.weights = raw[s].weights;
            row.features = feature_row(p, row.point);
            row.score = raw[s].scores[0];
            row.label = p.labels[row.point];
            row.predicted = raw[s].predicted;
            row.correct = raw[s].correct;
            if (!row.correct) {
                for (double v : row.features) row.update.push_back(row.label * v);
            }
            out.push_back(std::move(row));
        }
        weights_ = engine.weights();
        return out;
    });
}

PerceptronFit Perceptron::fit(const std::vector<std::vector<double>>& points,
                              const std::vector<int>& labels, const PerceptronFitOptions& options) {
    const char* who = "Perceptron::fit";
    const Problem p = binary_problem(who, weights_, bias_, points, labels);
    return with_engine(who, p, options.arithmetic, [&](auto& engine, const std::string& note) {
        PerceptronFit r = run_fit(engine, p.size(), options.max_steps);
        r.note = note;
        weights_ = engine.weights();
        return r;
    });
}

// ---- format_trace ----

std::string format_trace(const std::vector<PerceptronStep>& steps) {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"step", "Weights", "Score", "Correct?", "Update"});
    for (const PerceptronStep& s : steps) {
        std::string score;
        for (std::size_t i = 0; i < s.weights.size(); ++i) {
            score += (i ? " + " : "") + fmt(s.weights[i]) + "*" + fmt(s.features[i]);
        }
        score += " = " + fmt(s.score);
        std::string update = "none";
        if (!s.correct) update = (s.label > 0 ? "+" : "-") + fmt(s.features);
        rows.push_back(
            {std::to_string(s.step), fmt(s.weights), score, s.correct ? "yes" : "no", update});
    }
    if (!steps.empty()) {
        const PerceptronStep& last = steps.back();
        std::vector<double> after = last.weights;
        for (std::size_t i = 0; i < last.update.size(); ++i) after[i] += last.update[i];
        rows.push_back({std::to_string(last.step + 1), fmt(after)});
    }
    std::vector<std::size_t> width(5, 0);
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

// ---- MulticlassPerceptron ----

MulticlassPerceptron::MulticlassPerceptron(std::vector<std::vector<double>> weights, bool bias)
    : weights_(std::move(weights)), bias_(bias) {
    const char* who = "MulticlassPerceptron";
    if (weights_.empty()) {
        throw std::invalid_argument(std::string(who) +
                                    ": no classes (got 0 weight rows, expected at least 1)");
    }
    for (std::size_t k = 0; k < weights_.size(); ++k) {
        if (weights_[k].size() != weights_[0].size()) {
            throw std::invalid_argument(std::string(who) + ": weight row " + std::to_string(k) +
                                        " has the wrong length (got " +
                                        std::to_string(weights_[k].size()) + ", expected " +
                                        std::to_string(weights_[0].size()) + " as row 0)");
        }
        check_weights(who, weights_[k], bias_);
    }
}

MulticlassPerceptron MulticlassPerceptron::zeros(std::size_t num_classes, std::size_t num_features,
                                                 bool bias) {
    return MulticlassPerceptron(
        std::vector<std::vector<double>>(num_classes,
                                         std::vector<double>(num_features + (bias ? 1 : 0), 0.0)),
        bias);
}

Tensor MulticlassPerceptron::weight_matrix() const {
    std::vector<double> flat;
    for (const auto& row : weights_) flat.insert(flat.end(), row.begin(), row.end());
    return tensor(flat, Shape{weights_.size(), weights_[0].size()}, f64);
}

std::vector<double> MulticlassPerceptron::features(const std::vector<double>& x) const {
    std::vector<double> f;
    append_features("MulticlassPerceptron::features", 0, x, num_features(), bias_, f);
    return f;
}

std::vector<double> MulticlassPerceptron::scores(const std::vector<double>& x) const {
    const char* who = "MulticlassPerceptron::scores";
    const Problem p = multiclass_problem(who, weights_, bias_, {x}, {0});
    return with_engine(who, p, PerceptronArithmetic::Auto, [](auto& engine, const std::string&) {
        engine.classify(0);
        return engine.scores();
    });
}

std::size_t MulticlassPerceptron::predict(const std::vector<double>& x) const {
    const char* who = "MulticlassPerceptron::predict";
    const Problem p = multiclass_problem(who, weights_, bias_, {x}, {0});
    return with_engine(who, p, PerceptronArithmetic::Auto, [](auto& engine, const std::string&) {
        return static_cast<std::size_t>(engine.classify(0));
    });
}

MulticlassStep MulticlassPerceptron::step(const std::vector<double>& x, std::size_t label) {
    return trace({x}, {label}, 1).front();
}

std::vector<MulticlassStep> MulticlassPerceptron::trace(
    const std::vector<std::vector<double>>& points, const std::vector<std::size_t>& labels,
    std::size_t num_steps) {
    const char* who = "MulticlassPerceptron::trace";
    const Problem p = multiclass_problem(who, weights_, bias_, points, labels);
    check_has_points(who, p, num_steps);
    return with_engine(who, p, PerceptronArithmetic::Auto, [&](auto& engine, const std::string&) {
        const std::vector<RawStep> raw = run_trace(engine, p.size(), num_steps);
        std::vector<MulticlassStep> out;
        out.reserve(raw.size());
        for (std::size_t s = 0; s < raw.size(); ++s) {
            MulticlassStep row;
            row.step = s + 1;
            row.point = raw[s].point;
            row.weights = unflatten(raw[s].weights, p.rows);
            row.features = feature_row(p, row.point);
            row.scores = raw[s].scores;
            row.label = static_cast<std::size_t>(p.labels[row.point]);
            row.predicted = static_cast<std::size_t>(raw[s].predicted);
            row.correct = raw[s].correct;
            out.push_back(std::move(row));
        }
        weights_ = unflatten(engine.weights(), p.rows);
        return out;
    });
}

PerceptronFit MulticlassPerceptron::fit(const std::vector<std::vector<double>>& points,
                                        const std::vector<std::size_t>& labels,
                                        const PerceptronFitOptions& options) {
    const char* who = "MulticlassPerceptron::fit";
    const Problem p = multiclass_problem(who, weights_, bias_, points, labels);
    return with_engine(who, p, options.arithmetic, [&](auto& engine, const std::string& note) {
        PerceptronFit r = run_fit(engine, p.size(), options.max_steps);
        r.note = note;
        weights_ = unflatten(engine.weights(), p.rows);
        return r;
    });
}

// ---- The perceptron as one neuron ----

Tensor neuron_score(const Tensor& w, const Tensor& f) {
    if (w.ndim() != 1 || f.ndim() != 1 || w.numel() != f.numel()) {
        throw std::invalid_argument("neuron_score: w and f must be 1-D of one length (got " +
                                    w.shape().str() + " and " + f.shape().str() + ")");
    }
    return matmul(w, f);  // (d)·(d) -> ()
}

Tensor neuron_squared_loss(const Tensor& w, const Tensor& f, double target, NeuronActivation g) {
    const Tensor z = neuron_score(w, f);
    Tensor y;
    switch (g) {
        case NeuronActivation::Step:
            y = step(z);
            break;
        case NeuronActivation::Sigmoid:
            y = sigmoid(z);
            break;
        case NeuronActivation::Tanh:
            y = tanh(z);
            break;
    }
    return 0.5 * square(y - target);  // dL/dz = (g(z) - y*) g'(z)
}

Tensor neuron_perceptron_loss(const Tensor& w, const Tensor& f, int label) {
    check_binary_label("neuron_perceptron_loss", 0, label);
    return relu(static_cast<double>(-label) * neuron_score(w, f));
}

Tensor neuron_hinge_loss(const Tensor& w, const Tensor& f, int label, double margin) {
    check_binary_label("neuron_hinge_loss", 0, label);
    return relu(margin - static_cast<double>(label) * neuron_score(w, f));
}

void neuron_gradient_step(Tensor& w, double lr) {
    if (!w.defined() || !w.is_leaf() || !w.requires_grad()) {
        throw std::logic_error(
            "neuron_gradient_step: w must be a leaf that requires grad (got " +
            (w.defined() ? std::string(w.op()) + (w.requires_grad() ? "" : " without grad")
                         : std::string("an undefined tensor")) +
            "; did you forget requires_grad?)");
    }
    const Tensor grad = w.grad();
    NoGradGuard no_grad;
    MutableValue value = w.mutable_value();
    for (std::size_t i = 0; i < value.numel(); ++i) {
        value.set(i, value.at(i) - lr * grad.value().at(i));
    }
    w.zero_grad();
}

}  // namespace xgrad::nn
