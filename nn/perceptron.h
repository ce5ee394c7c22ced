#pragma once
// The perceptron of the course notes (seeds 000 and 001): binary and multiclass, a step-by-step
// trace, and a fit that reports the step count to convergence or proves that the perceptron never
// converges. Also the perceptron as one neuron of the engine, for the notes' gradient questions.
//
// Exactness. Every finite double is a dyadic rational, so a data set (features and initial
// weights) whose values share a power-of-two scale within 62 bits is run in integers: features
// scaled to int64, weights and scores in __int128, every operation overflow-checked. Then every
// classification (including score == 0 on the boundary and argmax ties) is exact, the states are
// finite on non-separable data (the perceptron cycling theorem bounds the weights), and a
// repeated state proves that the perceptron cycles forever. Integer data runs this way, and so
// do decimals of moderate range such as 0.3 and 1.7 (as doubles they are exact binary
// fractions). Data whose values span more than 62 binary digits (1e-300 next to 1e300), or a run
// that overflows, runs in double: it converges or stops at the step limit, never claims "never".

#include <cstddef>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn {

/// How fit, trace and step compute scores.
enum class PerceptronArithmetic {
    Auto,      ///< exact integers when the data allows it, else (or on overflow) double
    Exact,     ///< exact integers; throws std::invalid_argument / std::overflow_error otherwise
    Floating,  ///< double; no cycle proof
};

/// Why fit stopped.
enum class PerceptronStatus {
    Converged,  ///< a whole pass made no mistake
    Never,      ///< a repeated state proves that no pass will ever be mistake-free
    StepLimit,  ///< max_steps reached first
};

struct PerceptronFitOptions {
    /// Stop after this many steps (one step = one point processed).
    std::size_t max_steps = 1'000'000;
    PerceptronArithmetic arithmetic = PerceptronArithmetic::Auto;
};

/// What fit found. Steps are numbered from 1; pass p covers steps (p-1)n+1 .. pn for n points.
struct PerceptronFit {
    PerceptronStatus status = PerceptronStatus::StepLimit;
    /// Steps processed. Converged: up to the end of the mistake-free pass, so a multiple of the
    /// point count (the algorithm of note 001 stops there). Never: up to the repeated state.
    std::size_t steps = 0;
    std::size_t passes = 0;            ///< passes run (the last is partial at the step limit)
    std::size_t mistakes = 0;          ///< updates made
    std::size_t last_update_step = 0;  ///< step of the last update (0: none); no change after it
    /// Never: the state (weights, position 0) after `steps` equals the one after `cycle_start`
    /// steps, so steps cycle_start+1 .. steps repeat forever, each cycle with a mistake.
    std::size_t cycle_start = 0;
    std::size_t cycle_length = 0;  ///< Never: steps - cycle_start, a multiple of the point count
    bool exact = false;            ///< run in exact integer arithmetic
    std::string note;              ///< why the run is not exact, when it is not

    bool converged() const { return status == PerceptronStatus::Converged; }
    bool never() const { return status == PerceptronStatus::Never; }
    /// One sentence: "converged after 880 steps (176 passes; last update at step 875, ...)".
    std::string str() const;
};

/// One step of the binary perceptron: a row of note 001's "Single Perceptron Update Pass".
struct PerceptronStep {
    std::size_t step = 0;          ///< 1-based step number
    std::size_t point = 0;         ///< 0-based index of the point in the data
    std::vector<double> weights;   ///< w before the step (bias weight first)
    std::vector<double> features;  ///< f(x) (bias feature 1 first)
    double score = 0;              ///< w·f(x), from the exact value when exact
    int label = 0;                 ///< y*, +1 or -1
    int predicted = 0;             ///< +1 if score >= 0 (the boundary is positive), else -1
    bool correct = false;
    std::vector<double> update;  ///< y* f(x), added to w; empty when correct
};

/// The binary perceptron of note 001. Weights w (bias weight w0 first when there is a bias);
/// f(x) = [1, x1, ..., xd] with a bias, x otherwise. Classify +1 if w·f(x) >= 0 else -1 (points
/// on the boundary are positive); on a mistake w <- w + y* f(x); points in order, repeated until
/// a whole pass makes no mistake.
///
/// Example (note 001):
///   Perceptron p({-1, 0, 0}, /*bias=*/true);
///   auto rows = p.trace({{1, 1}, {3, 2}, {2, 4}, {3, 4}, {2, 3}}, {-1, 1, 1, 1, -1}, 5);
///   rows[1].score == -1;  rows[1].update == {1, 3, 2};  p.weights() == {-1, 1, -1}
///   std::cout << format_trace(rows);   // the table of the notes
class Perceptron {
public:
    /// Given initial weights: num_features + 1 of them with a bias (bias weight first).
    Perceptron(std::vector<double> weights, bool bias);
    /// All-zero weights (the notes' default start) for `num_features` raw features.
    static Perceptron zeros(std::size_t num_features, bool bias);

    const std::vector<double>& weights() const { return weights_; }
    bool bias() const { return bias_; }
    /// Raw features per point, without the bias feature.
    std::size_t num_features() const { return weights_.size() - (bias_ ? 1 : 0); }

    /// f(x): [1, x...] with a bias, else x. x: (num_features).
    std::vector<double> features(const std::vector<double>& x) const;
    /// w·f(x) (classified exactly; the value is rounded to double only past 2^53).
    double score(const std::vector<double>& x) const;
    /// +1 if w·f(x) >= 0, else -1.
    int predict(const std::vector<double>& x) const;

    /// Processes one point: classify, and update the weights on a mistake.
    PerceptronStep step(const std::vector<double>& x, int label);
    /// Processes `num_steps` points in order from the first, wrapping around, updating the
    /// weights; one row per step.
    std::vector<PerceptronStep> trace(const std::vector<std::vector<double>>& points,
                                      const std::vector<int>& labels, std::size_t num_steps);
    /// Runs the algorithm from the current weights until a pass makes no mistake, a state
    /// repeats (never converges), or the step limit; leaves the final weights in the model.
    PerceptronFit fit(const std::vector<std::vector<double>>& points,
                      const std::vector<int>& labels, const PerceptronFitOptions& options = {});

private:
    std::vector<double> weights_;
    bool bias_;
};

/// The trace as note 001's table: step, Weights, Score (w0*f0 + ... = s), Correct?, Update
/// (+[..] or -[..], none), and a last row with the weights after the final step.
std::string format_trace(const std::vector<PerceptronStep>& steps);

/// One step of the multiclass perceptron.
struct MulticlassStep {
    std::size_t step = 0;                      ///< 1-based step number
    std::size_t point = 0;                     ///< 0-based index of the point
    std::vector<std::vector<double>> weights;  ///< W before the step, one row per class
    std::vector<double> features;              ///< f(x)
    std::vector<double> scores;                ///< W f(x)
    std::size_t label = 0;                     ///< true class y*
    std::size_t predicted = 0;                 ///< argmax of the scores, lowest index on ties
    bool correct = false;
};

/// The multiclass perceptron of note 001: one weight row per class stacked into W (classes x
/// dims); predict argmax W f(x), taking the lowest class index among tied scores (decided
/// exactly, as for the binary perceptron); on a mistake add f(x) to the true class's row and
/// subtract it from the predicted class's row. fit and its convergence proof are as Perceptron's.
///
/// Example (note 001):
///   MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
///   m.scores({-2, 3, 1}) == {11, 13, 8};  m.predict({-2, 3, 1}) == 1;
///   m.step({-2, 3, 1}, /*label=*/2);      // rows 1, 2 become [2, 0, 3], [-1, 7, -1]
class MulticlassPerceptron {
public:
    /// Given weight rows, all of num_features + 1 entries with a bias (bias weight first).
    MulticlassPerceptron(std::vector<std::vector<double>> weights, bool bias);
    static MulticlassPerceptron zeros(std::size_t num_classes, std::size_t num_features, bool bias);

    const std::vector<std::vector<double>>& weights() const { return weights_; }
    /// W as a (classes, dims) float64 tensor.
    Tensor weight_matrix() const;
    bool bias() const { return bias_; }
    std::size_t num_classes() const { return weights_.size(); }
    std::size_t num_features() const { return weights_[0].size() - (bias_ ? 1 : 0); }

    std::vector<double> features(const std::vector<double>& x) const;
    /// W f(x): one score per class.
    std::vector<double> scores(const std::vector<double>& x) const;
    /// argmax W f(x); the lowest class index among equal maxima.
    std::size_t predict(const std::vector<double>& x) const;

    MulticlassStep step(const std::vector<double>& x, std::size_t label);
    std::vector<MulticlassStep> trace(const std::vector<std::vector<double>>& points,
                                      const std::vector<std::size_t>& labels,
                                      std::size_t num_steps);
    PerceptronFit fit(const std::vector<std::vector<double>>& points,
                      const std::vector<std::size_t>& labels,
                      const PerceptronFitOptions& options = {});

private:
    std::vector<std::vector<double>> weights_;
    bool bias_;
};

// ---- The perceptron as one neuron of the engine (note 000, "Perceptron -> Neural Nets") ----

/// The activation g of a single neuron.
enum class NeuronActivation {
    Step,     ///< 1 if z >= 0 else -1; g' = 0 everywhere
    Sigmoid,  ///< 1 / (1 + e^-z); g' = g (1 - g)
    Tanh,     ///< tanh z; g' = 1 - g^2
};

/// z = w·f: w, f of shape (d), a 0-D tensor.
Tensor neuron_score(const Tensor& w, const Tensor& f);
/// Note 000's loss 1/2 (g(w·f) - y*)^2. dL/dw = (g(z) - y*) g'(z) f: exactly 0 with Step.
Tensor neuron_squared_loss(const Tensor& w, const Tensor& f, double target, NeuronActivation g);
/// The perceptron criterion max(0, -y* w·f) = relu(-y* z). dL/dw = -y* f when z y* < 0, else 0,
/// so one gradient step with rate 1 is the perceptron's update on a strict mistake.
/// NOTE: at z = 0 relu'(0) := 0, so a point on the boundary does not move w here, whereas the
/// perceptron (boundary = positive) updates on a negative point with z = 0.
Tensor neuron_perceptron_loss(const Tensor& w, const Tensor& f, int label);
/// The hinge loss max(0, margin - y* w·f).
Tensor neuron_hinge_loss(const Tensor& w, const Tensor& f, int label, double margin = 1.0);
/// Note 000's update w_i <- w_i - lr dLoss/dw_i on a leaf w that requires grad, then clears its
/// gradient. Throws std::logic_error if w does not require grad.
void neuron_gradient_step(Tensor& w, double lr);

}  // namespace xgrad::nn
