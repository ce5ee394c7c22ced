// The course perceptron (notes 000 and 001): binary, multiclass, trace, convergence, and the
// perceptron as one neuron of the engine.

#include "nn/perceptron.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using Points = std::vector<std::vector<double>>;
using Vec = std::vector<double>;

// Note 000, section 1: four labelled points, no bias, start w = (2, -2).
const Points kNote000Points = {{-1, 2}, {3, -1}, {1, 2}, {3, 1}};
const std::vector<int> kNote000Labels = {+1, -1, -1, +1};

// Note 001, "Training Set": bias feature first, start w = [-1, 0, 0].
const Points kNote001Points = {{1, 1}, {3, 2}, {2, 4}, {3, 4}, {2, 3}};
const std::vector<int> kNote001Labels = {-1, +1, +1, +1, -1};

/// An independent oracle: note 001's algorithm as a plain loop, bias first, in double (exact for
/// the small integers used with it). Stops at a mistake-free pass or after max_steps steps.
struct Plain {
    std::size_t steps = 0, last_update = 0, mistakes = 0;
    bool converged = false;
    Vec w;
};
Plain plain_perceptron(const Points& xs, const std::vector<int>& ys, Vec w, bool bias,
                       std::size_t max_steps) {
    Plain r;
    while (r.steps < max_steps) {
        bool mistake = false;
        for (std::size_t i = 0; i < xs.size() && r.steps < max_steps; ++i) {
            Vec f;
            if (bias) f.push_back(1);
            f.insert(f.end(), xs[i].begin(), xs[i].end());
            double s = 0;
            for (std::size_t j = 0; j < f.size(); ++j) s += w[j] * f[j];
            ++r.steps;
            if ((s >= 0 ? 1 : -1) != ys[i]) {
                for (std::size_t j = 0; j < f.size(); ++j) w[j] += ys[i] * f[j];
                mistake = true;
                ++r.mistakes;
                r.last_update = r.steps;
            }
        }
        if (!mistake && r.steps % xs.size() == 0) {
            r.converged = true;
            break;
        }
    }
    r.w = w;
    return r;
}

// ---- Binary perceptron: classification and one step ----

TEST(Perceptron, ZerosStartsAtZeroWithBiasWeightFirst) {
    Perceptron p = Perceptron::zeros(2, /*bias=*/true);
    EXPECT_EQ(p.weights(), (Vec{0, 0, 0}));
    EXPECT_EQ(p.num_features(), 2u);
    EXPECT_EQ(p.features({3, 2}), (Vec{1, 3, 2}));
    EXPECT_EQ(Perceptron::zeros(2, /*bias=*/false).features({3, 2}), (Vec{3, 2}));
}

TEST(Perceptron, PointOnTheBoundaryIsClassifiedPositive) {
    Perceptron p = Perceptron::zeros(2, /*bias=*/false);
    EXPECT_EQ(p.score({5, -7}), 0.0);
    EXPECT_EQ(p.predict({5, -7}), +1);
    // Hence a negative point on the boundary is a mistake and moves w by -f(x).
    const PerceptronStep s = p.step({5, -7}, -1);
    EXPECT_FALSE(s.correct);
    EXPECT_EQ(s.predicted, +1);
    EXPECT_EQ(p.weights(), (Vec{-5, 7}));
}

TEST(Perceptron, Note000FirstPointScoreIsMinusSix) {
    Perceptron p({2, -2}, /*bias=*/false);
    const PerceptronStep s = p.step(kNote000Points[0], kNote000Labels[0]);
    // The notes print "y = g(w1x1 + w2x2) = g(2 · -1 + -2 · 2) = g(-5) = -1": the arithmetic is
    // 2·(-1) + (-2)·2 = -2 - 4 = -6. Same sign, so the same classification and update.
    EXPECT_EQ(s.score, -6.0);
    EXPECT_EQ(s.predicted, -1);
    EXPECT_FALSE(s.correct);
}

TEST(Perceptron, Note000FirstUpdateGivesOneZero) {
    Perceptron p({2, -2}, /*bias=*/false);
    const PerceptronStep s = p.step(kNote000Points[0], kNote000Labels[0]);
    EXPECT_EQ(s.update, (Vec{-1, 2}));
    EXPECT_EQ(p.weights(), (Vec{1, 0}));  // w1 = 2 + (-1) = 1, w2 = -2 + 2 = 0
}

// ---- Trace: note 001's "Single Perceptron Update Pass" ----

TEST(Perceptron, Note001TraceReproducesEveryRowOfTheUpdatePassTable) {
    Perceptron p({-1, 0, 0}, /*bias=*/true);
    const std::vector<PerceptronStep> rows = p.trace(kNote001Points, kNote001Labels, 5);
    ASSERT_EQ(rows.size(), 5u);
    struct Row {
        Vec weights, features;
        double score;
        bool correct;
        Vec update;
    };
    const std::vector<Row> table = {
        {{-1, 0, 0}, {1, 1, 1}, -1, true, {}},
        {{-1, 0, 0}, {1, 3, 2}, -1, false, {1, 3, 2}},
        {{0, 3, 2}, {1, 2, 4}, 14, true, {}},
        {{0, 3, 2}, {1, 3, 4}, 17, true, {}},
        {{0, 3, 2}, {1, 2, 3}, 12, false, {-1, -2, -3}},
    };
    for (std::size_t i = 0; i < table.size(); ++i) {
        SCOPED_TRACE("step " + std::to_string(i + 1));
        EXPECT_EQ(rows[i].step, i + 1);
        EXPECT_EQ(rows[i].point, i);
        EXPECT_EQ(rows[i].weights, table[i].weights);
        EXPECT_EQ(rows[i].features, table[i].features);
        EXPECT_EQ(rows[i].score, table[i].score);
        EXPECT_EQ(rows[i].label, kNote001Labels[i]);
        EXPECT_EQ(rows[i].correct, table[i].correct);
        EXPECT_EQ(rows[i].update, table[i].update);
    }
    EXPECT_EQ(p.weights(), (Vec{-1, 1, -1}));  // row 6 of the table
}

TEST(Perceptron, Note001TracePrintsAsTheNotesTable) {
    Perceptron p({-1, 0, 0}, /*bias=*/true);
    const std::string table = format_trace(p.trace(kNote001Points, kNote001Labels, 5));
    const std::string expected =
        "step  Weights      Score                  Correct?  Update\n"
        "1     [-1, 0, 0]   -1*1 + 0*1 + 0*1 = -1  yes       none\n"
        "2     [-1, 0, 0]   -1*1 + 0*3 + 0*2 = -1  no        +[1, 3, 2]\n"
        "3     [0, 3, 2]    0*1 + 3*2 + 2*4 = 14   yes       none\n"
        "4     [0, 3, 2]    0*1 + 3*3 + 2*4 = 17   yes       none\n"
        "5     [0, 3, 2]    0*1 + 3*2 + 2*3 = 12   no        -[1, 2, 3]\n"
        "6     [-1, 1, -1]\n";
    EXPECT_EQ(table, expected);
}

TEST(Perceptron, TraceWrapsAroundThePointsAndContinuesFromTheWeights) {
    Perceptron p({-1, 0, 0}, /*bias=*/true);
    const std::vector<PerceptronStep> rows = p.trace(kNote001Points, kNote001Labels, 7);
    ASSERT_EQ(rows.size(), 7u);
    EXPECT_EQ(rows[5].point, 0u);
    EXPECT_EQ(rows[5].weights, (Vec{-1, 1, -1}));
    const Plain oracle = plain_perceptron(kNote001Points, kNote001Labels, {-1, 0, 0}, true, 7);
    EXPECT_EQ(p.weights(), oracle.w);
}

// ---- fit: convergence, never, step limit ----

TEST(PerceptronFit, Note000NeverConvergesProvedByARepeatedState) {
    Perceptron p({2, -2}, /*bias=*/false);
    const PerceptronFit r = p.fit(kNote000Points, kNote000Labels);
    EXPECT_TRUE(r.never()) << r.str();  // the notes: "not separable, so it will never converge"
    EXPECT_TRUE(r.exact);
    // The weights at the start of pass 8 (after step 28) equal those of pass 3 (after step 8).
    EXPECT_EQ(r.steps, 28u);
    EXPECT_EQ(r.cycle_start, 8u);
    EXPECT_EQ(r.cycle_length, 20u);
    EXPECT_EQ(p.weights(), (Vec{0, 2}));
    // Independent check: the plain loop from step 8 is back at the same weights at step 28.
    const Plain at8 = plain_perceptron(kNote000Points, kNote000Labels, {2, -2}, false, 8);
    const Plain at28 = plain_perceptron(kNote000Points, kNote000Labels, {2, -2}, false, 28);
    EXPECT_EQ(at8.w, at28.w);
    EXPECT_FALSE(at28.converged);
    EXPECT_NE(r.str().find("never converges"), std::string::npos) << r.str();
}

TEST(PerceptronFit, Note001DataConvergesAfter880StepsAsAPlainLoop) {
    Perceptron p({-1, 0, 0}, /*bias=*/true);
    const PerceptronFit r = p.fit(kNote001Points, kNote001Labels);
    const Plain oracle =
        plain_perceptron(kNote001Points, kNote001Labels, {-1, 0, 0}, true, 1'000'000);
    ASSERT_TRUE(oracle.converged);
    EXPECT_TRUE(r.converged()) << r.str();
    EXPECT_TRUE(r.exact);
    EXPECT_EQ(r.steps, oracle.steps);
    EXPECT_EQ(r.last_update_step, oracle.last_update);
    EXPECT_EQ(r.mistakes, oracle.mistakes);
    EXPECT_EQ(p.weights(), oracle.w);
    // The numbers themselves, as computed (the notes only say "many more passes").
    EXPECT_EQ(r.steps, 880u);
    EXPECT_EQ(r.passes, 176u);
    EXPECT_EQ(r.last_update_step, 875u);
    EXPECT_EQ(p.weights(), (Vec{-24, 10, 1}));
    for (std::size_t i = 0; i < kNote001Points.size(); ++i) {
        EXPECT_EQ(p.predict(kNote001Points[i]), kNote001Labels[i]) << "point " << i;
    }
}

TEST(PerceptronFit, AlreadySeparatingWeightsConvergeInOnePass) {
    Perceptron p({-24, 10, 1}, /*bias=*/true);
    const PerceptronFit r = p.fit(kNote001Points, kNote001Labels);
    EXPECT_TRUE(r.converged());
    EXPECT_EQ(r.steps, 5u);
    EXPECT_EQ(r.mistakes, 0u);
    EXPECT_EQ(r.last_update_step, 0u);
}

TEST(PerceptronFit, SeparableRealValuedDataConverges) {
    // Separated by x2 = 0.4 x1 + 0.1 with margin; decimals with no exact short binary form.
    const Points xs = {{0.3, 0.9}, {1.7, 1.2}, {-0.6, 0.05}, {2.2, 0.3}, {0.1, -0.45}, {-1.3, 0.7}};
    const std::vector<int> ys = {+1, +1, +1, -1, -1, +1};
    for (PerceptronArithmetic mode : {PerceptronArithmetic::Auto, PerceptronArithmetic::Floating}) {
        Perceptron p = Perceptron::zeros(2, /*bias=*/true);
        const PerceptronFit r = p.fit(xs, ys, {/*max_steps=*/10'000, mode});
        EXPECT_TRUE(r.converged()) << r.str();
        // As doubles these decimals are binary fractions within 62 bits: Auto runs exactly.
        EXPECT_EQ(r.exact, mode == PerceptronArithmetic::Auto);
        EXPECT_EQ(r.steps, 30u);
        EXPECT_EQ(r.steps % xs.size(), 0u);
        for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(p.predict(xs[i]), ys[i]);
        const Plain oracle = plain_perceptron(xs, ys, {0, 0, 0}, true, 10'000);
        EXPECT_EQ(r.steps, oracle.steps);
    }
}

TEST(PerceptronFit, StepLimitIsHonoured) {
    Perceptron p({-1, 0, 0}, /*bias=*/true);
    const PerceptronFit r = p.fit(kNote001Points, kNote001Labels, {/*max_steps=*/103});
    EXPECT_EQ(r.status, PerceptronStatus::StepLimit);
    EXPECT_EQ(r.steps, 103u);
    EXPECT_EQ(r.passes, 21u);
    const Plain oracle = plain_perceptron(kNote001Points, kNote001Labels, {-1, 0, 0}, true, 103);
    EXPECT_EQ(p.weights(), oracle.w);
    EXPECT_NE(r.str().find("step limit"), std::string::npos) << r.str();
}

TEST(PerceptronFit, DoubleArithmeticStopsAtTheLimitAndSaysItCannotProveNever) {
    Perceptron p({2, -2}, /*bias=*/false);
    const PerceptronFit r =
        p.fit(kNote000Points, kNote000Labels, {/*max_steps=*/400, PerceptronArithmetic::Floating});
    EXPECT_EQ(r.status, PerceptronStatus::StepLimit);
    EXPECT_FALSE(r.exact);
    EXPECT_EQ(r.steps, 400u);
    EXPECT_NE(r.str().find("no cycle proof"), std::string::npos) << r.str();
}

TEST(PerceptronFit, WideRangeRealDataRunsInDoubleAndStopsAtTheLimit) {
    // 1e-300 and 1e300 need ~2000 binary digits at one scale: no exact integer form.
    const Points xs = {{1e300, 1e-300}, {1e300, 1e-300}};
    const std::vector<int> ys = {+1, -1};  // the same point with both labels: not separable
    Perceptron p = Perceptron::zeros(2, /*bias=*/false);
    const PerceptronFit r = p.fit(xs, ys, {/*max_steps=*/50});
    EXPECT_EQ(r.status, PerceptronStatus::StepLimit);
    EXPECT_FALSE(r.exact);
    EXPECT_NE(r.note.find("binary digits"), std::string::npos) << r.note;
    EXPECT_THROW_MSG(p.fit(xs, ys, {50, PerceptronArithmetic::Exact}), std::invalid_argument,
                     "Perceptron::fit", "no exact integer form");
}

TEST(PerceptronFit, DyadicDataIsExactAndScaleInvariant) {
    // Note 000's data halved: every value is a multiple of 1/2, so it runs exactly, and the run
    // is the same as the integer one (scores scale by 1/4).
    Points halves = kNote000Points;
    for (auto& x : halves) {
        for (double& v : x) v *= 0.5;
    }
    Perceptron p({1, -1}, /*bias=*/false);
    const PerceptronFit r = p.fit(halves, kNote000Labels);
    EXPECT_TRUE(r.never()) << r.str();
    EXPECT_TRUE(r.exact);
    EXPECT_EQ(r.steps, 28u);
    EXPECT_EQ(r.cycle_start, 8u);
    EXPECT_EQ(p.weights(), (Vec{0, 1}));
}

TEST(PerceptronFit, OverflowFallsBackToDoubleOrThrowsWhenExactIsRequired) {
    // 64 features of 2^61 against weights of 2^61: the first score is 2^128, beyond __int128.
    const double big = std::ldexp(1.0, 61);
    const Points xs = {Vec(64, big)};
    Perceptron p(Vec(64, big), /*bias=*/false);
    const PerceptronFit r = p.fit(xs, {+1});
    EXPECT_TRUE(r.converged()) << r.str();
    EXPECT_FALSE(r.exact);
    EXPECT_NE(r.note.find("overflow"), std::string::npos) << r.note;
    EXPECT_THROW_MSG(p.fit(xs, {+1}, {10, PerceptronArithmetic::Exact}), std::overflow_error,
                     "Perceptron::fit", "step 1");
}

TEST(PerceptronFit, EmptyDataConvergesInZeroSteps) {
    Perceptron p = Perceptron::zeros(2, /*bias=*/true);
    const PerceptronFit r = p.fit({}, {});
    EXPECT_TRUE(r.converged());
    EXPECT_EQ(r.steps, 0u);
}

TEST(Perceptron, InvalidInputThrowsWithWhatItGot) {
    Perceptron p = Perceptron::zeros(2, /*bias=*/true);
    EXPECT_THROW_MSG(p.fit({{1, 2}}, {0}), std::invalid_argument, "label of point 0", "got 0",
                     "expected +1 or -1");
    EXPECT_THROW_MSG(p.fit({{1, 2, 3}}, {1}), std::invalid_argument, "point 0", "got 3",
                     "expected 2");
    EXPECT_THROW_MSG(p.fit({{1, 2}}, {1, -1}), std::invalid_argument, "got 1 points and 2 labels");
    EXPECT_THROW_MSG(p.fit({{1, NAN}}, {1}), std::invalid_argument, "feature 1", "not finite");
    EXPECT_THROW_MSG(p.trace({}, {}, 3), std::invalid_argument, "no points");
    EXPECT_THROW_MSG(Perceptron({}, /*bias=*/false), std::invalid_argument, "no weights");
    EXPECT_THROW_MSG(Perceptron({1, INFINITY}, /*bias=*/false), std::invalid_argument, "weight 1",
                     "not finite");
}

// ---- Multiclass perceptron ----

TEST(MulticlassPerceptron, Note001ExampleScoresAndPredictsClassOne) {
    MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
    EXPECT_EQ(m.scores({-2, 3, 1}), (Vec{11, 13, 8}));
    EXPECT_EQ(m.predict({-2, 3, 1}), 1u);
    // The notes' matrix form: argmax(W x) with the engine's matmul gives the same scores.
    const Tensor wx = matmul(m.weight_matrix(), tensor({-2, 3, 1}, f64));
    EXPECT_EQ(wx.to_vector(), (Vec{11, 13, 8}));
}

TEST(MulticlassPerceptron, Note001MistakeMovesTrueRowUpAndPredictedRowDown) {
    MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
    const MulticlassStep s = m.step({-2, 3, 1}, /*label=*/2);
    EXPECT_EQ(s.scores, (Vec{11, 13, 8}));
    EXPECT_EQ(s.predicted, 1u);
    EXPECT_FALSE(s.correct);
    EXPECT_EQ(m.weights()[0], (Vec{-2, 2, 1}));   // other rows are left alone
    EXPECT_EQ(m.weights()[1], (Vec{2, 0, 3}));    // [0, 3, 4] - [-2, 3, 1]
    EXPECT_EQ(m.weights()[2], (Vec{-1, 7, -1}));  // [1, 4, -2] + [-2, 3, 1]
}

TEST(MulticlassPerceptron, TiedScoresPredictTheLowestClass) {
    MulticlassPerceptron m = MulticlassPerceptron::zeros(3, 2, /*bias=*/true);
    EXPECT_EQ(m.predict({4, -1}), 0u);
    MulticlassPerceptron tie({{0, 0}, {1, 1}, {2, 0}}, /*bias=*/false);
    EXPECT_EQ(tie.scores({1, 1}), (Vec{0, 2, 2}));
    EXPECT_EQ(tie.predict({1, 1}), 1u);
}

TEST(MulticlassPerceptron, CorrectStepLeavesWeightsUnchanged) {
    MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
    const MulticlassStep s = m.step({-2, 3, 1}, /*label=*/1);
    EXPECT_TRUE(s.correct);
    EXPECT_EQ(m.weights()[1], (Vec{0, 3, 4}));
}

TEST(MulticlassPerceptron, SeparableDataConvergesAndClassifiesEveryPoint) {
    // Three clusters around (3, 0), (0, 3), (-3, -3).
    const Points xs = {{3, 0}, {0, 3}, {-3, -3}, {4, 1}, {1, 4}, {-2, -4}, {3, -1}, {-1, 3}};
    const std::vector<std::size_t> ys = {0, 1, 2, 0, 1, 2, 0, 1};
    MulticlassPerceptron m = MulticlassPerceptron::zeros(3, 2, /*bias=*/true);
    const PerceptronFit r = m.fit(xs, ys);
    EXPECT_TRUE(r.converged()) << r.str();
    EXPECT_TRUE(r.exact);
    for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(m.predict(xs[i]), ys[i]) << i;
}

TEST(MulticlassPerceptron, ContradictoryLabelsNeverConverge) {
    const Points xs = {{1, 2}, {1, 2}, {0, 1}};
    const std::vector<std::size_t> ys = {0, 1, 2};
    MulticlassPerceptron m = MulticlassPerceptron::zeros(3, 2, /*bias=*/true);
    const PerceptronFit r = m.fit(xs, ys);
    EXPECT_TRUE(r.never()) << r.str();
    EXPECT_EQ(r.cycle_length % xs.size(), 0u);
}

TEST(MulticlassPerceptron, InvalidInputThrowsWithWhatItGot) {
    MulticlassPerceptron m = MulticlassPerceptron::zeros(3, 2, /*bias=*/false);
    EXPECT_THROW_MSG(m.fit({{1, 2}}, {3}), std::invalid_argument, "got 3",
                     "expected a class in [0, 3)");
    EXPECT_THROW_MSG(MulticlassPerceptron({{1, 2}, {1}}, /*bias=*/false), std::invalid_argument,
                     "weight row 1", "got 1, expected 2");
    EXPECT_THROW_MSG(MulticlassPerceptron({}, /*bias=*/false), std::invalid_argument, "no classes");
}

// ---- The perceptron as one neuron of the engine (note 000, "Perceptron -> Neural Nets") ----

TEST(PerceptronNeuron, StepActivationGradientIsExactlyZeroAndLeavesWeights) {
    Tensor w = tensor({2, -2}, f64, /*requires_grad=*/true);
    const Tensor f = tensor({-1, 2}, f64);
    const Tensor loss = neuron_squared_loss(w, f, /*target=*/+1, NeuronActivation::Step);
    EXPECT_EQ(loss.item(), 2.0);  // 1/2 (g(-6) - 1)^2 = 1/2 (-2)^2
    loss.backward();
    EXPECT_EQ(w.grad().to_vector(), (Vec{0, 0}));  // g'(z) = 0: the notes' "critical problem"
    neuron_gradient_step(w, /*lr=*/0.5);
    EXPECT_EQ(w.to_vector(), (Vec{2, -2}));  // the weights stay w1 = 2, w2 = -2
}

TEST(PerceptronNeuron, SigmoidGradientIsNote000ChainRuleProduct) {
    Tensor w = tensor({2, -2}, f64, /*requires_grad=*/true);
    const Tensor f = tensor({-1, 2}, f64);
    neuron_squared_loss(w, f, /*target=*/1, NeuronActivation::Sigmoid).backward();
    // dLoss/dw_i = (g(z) - y*) g'(z) x_i with z = -6, g = sigmoid, g' = g (1 - g).
    const double g = 1 / (1 + std::exp(6.0));
    const Vec grad = w.grad().to_vector();
    EXPECT_NEAR(grad[0], (g - 1) * g * (1 - g) * -1, 1e-15);
    EXPECT_NEAR(grad[1], (g - 1) * g * (1 - g) * 2, 1e-15);
}

TEST(PerceptronNeuron, SigmoidNeuronGradientDescentMovesWeightsAndReducesLoss) {
    // Note 001's data with a bias; sigmoid targets are 0/1 (label -1 -> 0).
    Tensor w = tensor({-1, 0, 0}, f64, /*requires_grad=*/true);
    auto total_loss = [&] {
        Tensor sum_loss = scalar(0, f64);
        for (std::size_t i = 0; i < kNote001Points.size(); ++i) {
            const Tensor f = tensor({1, kNote001Points[i][0], kNote001Points[i][1]}, f64);
            sum_loss = sum_loss + neuron_squared_loss(w, f, kNote001Labels[i] > 0 ? 1 : 0,
                                                      NeuronActivation::Sigmoid);
        }
        return sum_loss;
    };
    const double before = total_loss().item();
    for (int epoch = 0; epoch < 200; ++epoch) {
        total_loss().backward();
        neuron_gradient_step(w, /*lr=*/0.5);
    }
    const double after = total_loss().item();
    EXPECT_LT(after, 0.5 * before) << "before " << before << ", after " << after;
    EXPECT_NE(w.to_vector(), (Vec{-1, 0, 0}));
}

TEST(PerceptronNeuron, PerceptronLossGradientStepIsThePerceptronUpdate) {
    // relu(-y* z) with learning rate 1 on a strict mistake: w - (-y* f) = w + y* f.
    Tensor w = tensor({2, -2}, f64, /*requires_grad=*/true);
    const Tensor f = tensor({-1, 2}, f64);
    const Tensor loss = neuron_perceptron_loss(w, f, +1);
    EXPECT_EQ(loss.item(), 6.0);
    loss.backward();
    neuron_gradient_step(w, /*lr=*/1.0);
    EXPECT_EQ(w.to_vector(), (Vec{1, 0}));  // the perceptron's first update of note 000
}

TEST(PerceptronNeuron, HingeLossTrainingSeparatesNote001DataWithMargin) {
    // SGD on max(0, 1 - y* w·f) with rate 1 is the perceptron with margin 1: it updates while
    // y* z < 1, and on separable data stops updating (here within 300 passes).
    Tensor w = tensor({-1, 0, 0}, f64, /*requires_grad=*/true);
    auto f_of = [](std::size_t i) {
        return tensor({1, kNote001Points[i][0], kNote001Points[i][1]}, f64);
    };
    double first_pass_loss = 0, last_pass_loss = 0;
    for (int epoch = 0; epoch < 300; ++epoch) {
        last_pass_loss = 0;
        for (std::size_t i = 0; i < kNote001Points.size(); ++i) {
            const Tensor loss = neuron_hinge_loss(w, f_of(i), kNote001Labels[i]);
            last_pass_loss += loss.item();
            loss.backward();
            neuron_gradient_step(w, /*lr=*/1.0);
        }
        if (epoch == 0) first_pass_loss = last_pass_loss;
    }
    EXPECT_GT(first_pass_loss, 0.0);
    EXPECT_EQ(last_pass_loss, 0.0);
    const Perceptron p(w.to_vector(), /*bias=*/true);
    for (std::size_t i = 0; i < kNote001Points.size(); ++i) {
        EXPECT_EQ(p.predict(kNote001Points[i]), kNote001Labels[i]) << "point " << i;
        EXPECT_GE(kNote001Labels[i] * p.score(kNote001Points[i]), 1.0) << "point " << i;
    }
}

TEST(PerceptronNeuron, GradientStepWithoutRequiresGradThrows) {
    Tensor w = tensor({1, 2}, f64);
    EXPECT_THROW_MSG(neuron_gradient_step(w, 0.1), std::logic_error, "neuron_gradient_step",
                     "requires_grad");
}

}  // namespace
}  // namespace xgrad::nn
