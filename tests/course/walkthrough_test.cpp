// The course walkthrough (examples/walkthrough.h): every number it computes, checked against
// values computed here independently with plain double arithmetic (std::exp, loops), and its
// text checked for each "the notes print ..." line.

#include "examples/walkthrough.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace xgrad::examples {
namespace {

using Vec = std::vector<double>;

double sigma(double z) { return 1 / (1 + std::exp(-z)); }

// The walkthrough runs once; every test reads its results and its text.
class Walkthrough : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::ostringstream out;
        results_ = new WalkthroughResults(run_walkthrough(out));
        text_ = new std::string(out.str());
    }
    static void TearDownTestSuite() {
        delete results_;
        delete text_;
    }
    static const WalkthroughResults& w() { return *results_; }
    static const std::string& text() { return *text_; }
    static bool printed(const std::string& s) { return text_->find(s) != std::string::npos; }

private:
    static WalkthroughResults* results_;
    static std::string* text_;
};
WalkthroughResults* Walkthrough::results_ = nullptr;
std::string* Walkthrough::text_ = nullptr;

void expect_near(const Vec& got, const Vec& want, double tol, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << i;
}

// ---- Note 000 ----

TEST_F(Walkthrough, Note000FirstScoreIsMinusSixNotMinusFive) {
    const double score = 2 * -1 + -2 * 2;
    EXPECT_EQ(score, -6.0);
    EXPECT_EQ(w().perceptron.first.score, score);
    EXPECT_EQ(w().perceptron.first.predicted, -1);
    EXPECT_FALSE(w().perceptron.first.correct);
    EXPECT_EQ(w().perceptron.weights_after_first, (Vec{1, 0}));  // (2, -2) + (-1, 2)
    EXPECT_TRUE(printed("g(-6) = -1"));
    EXPECT_TRUE(printed("NOTE: the notes print g(2 * -1 + -2 * 2) = g(-5); exact: g(-6)"));
}

TEST_F(Walkthrough, Note000DataIsNotSeparableSoThePerceptronNeverConverges) {
    // A certificate independent of the perceptron: 5 p1 + 4 p4 = 7 n3 puts a non-negative
    // combination of positives on a negative, so no w (without bias) separates them.
    const Vec p1 = {-1, 2}, p4 = {3, 1}, n3 = {1, 2};
    for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(5 * p1[k] + 4 * p4[k], 7 * n3[k]);
    EXPECT_TRUE(w().perceptron.fit.never());
    EXPECT_TRUE(printed("Q2. Steps to convergence: never."));
}

TEST_F(Walkthrough, Note000StepNeuronHasZeroGradientAndKeepsItsWeights) {
    const StepNeuron& s = w().step_neuron;
    EXPECT_EQ(s.loss, 0.5 * (-1 - 1) * (-1 - 1));  // g(-6) = -1, y* = 1
    EXPECT_EQ(s.grad, (Vec{0, 0}));
    EXPECT_EQ(s.weights_after, (Vec{2, -2}));
    EXPECT_EQ(s.perceptron_weights, (Vec{1, 0}));  // the perceptron's update w + y* x
    // The sigmoid neuron, 100 steps of rate 1 on 1/2 (sigma(w.x) - 1)^2, in plain doubles.
    double w1 = 2, w2 = -2;
    for (int i = 0; i < 100; ++i) {
        const double a = sigma(-w1 + 2 * w2), d = (a - 1) * a * (1 - a);
        w1 -= d * -1;
        w2 -= d * 2;
    }
    expect_near(s.sigmoid_weights, {w1, w2}, 1e-12, "sigmoid weight ");
    EXPECT_NEAR(s.sigmoid_loss_before, 0.5 * std::pow(sigma(-6) - 1, 2), 1e-15);
    EXPECT_LT(s.sigmoid_loss_after, s.sigmoid_loss_before);
    EXPECT_TRUE(printed("NOTE: the notes print \"w_i <- w_i - alpha dLoss/dw_1\""));
}

void expect_two_weight_net(const TwoWeightNet& n, const TwoWeightNetInput& in) {
    const double z1 = in.x * in.w1, a1 = sigma(z1), z2 = a1 * in.w2, a2 = sigma(z2);
    EXPECT_NEAR(n.z1, z1, 1e-15);
    EXPECT_NEAR(n.a1, a1, 1e-15);
    EXPECT_NEAR(n.z2, z2, 1e-15);
    EXPECT_NEAR(n.a2, a2, 1e-15);
    EXPECT_NEAR(n.loss, 0.5 * (a2 - in.y_star) * (a2 - in.y_star), 1e-15);
    // Part 4: (a2 - y*) a2 (1 - a2) a1; part 6: ... w2 a1 (1 - a1) x.
    const double dw2 = (a2 - in.y_star) * a2 * (1 - a2) * a1;
    const double dw1 = (a2 - in.y_star) * a2 * (1 - a2) * in.w2 * a1 * (1 - a1) * in.x;
    EXPECT_NEAR(n.dloss_dw2, dw2, 1e-14);
    EXPECT_NEAR(n.dloss_dw1, dw1, 1e-14);
    EXPECT_NEAR(n.engine_dw2, dw2, 1e-14);
    EXPECT_NEAR(n.engine_dw1, dw1, 1e-14);
    EXPECT_NEAR(n.engine_dz1, dw1 / in.x, 1e-14);  // dLoss/dz1 = dLoss/dw1 / x
    EXPECT_EQ(n.dz2_da1, in.w2);
    EXPECT_EQ(n.dz1_dw1, in.x);
    // Part 7.
    EXPECT_NEAR(n.w1_new, in.w1 - in.alpha * dw1, 1e-14);
    EXPECT_NEAR(n.w2_new, in.w2 - in.alpha * dw2, 1e-14);
    const double a2_new = sigma(sigma(in.x * n.w1_new) * n.w2_new);
    EXPECT_NEAR(n.loss_new, 0.5 * (a2_new - in.y_star) * (a2_new - in.y_star), 1e-15);
    EXPECT_LT(n.loss_new, n.loss);
}

TEST_F(Walkthrough, Note000TwoWeightNetChainRuleProductsMatchPlainArithmetic) {
    expect_two_weight_net(w().two_weight_net, kTwoWeightNet000);
    EXPECT_TRUE(printed("NOTE: the notes print \"dz1/da1 = x\"; meant: dz1/dw1 = x"));
    EXPECT_TRUE(printed("NOTE: the notes print \"Loss(q_2(w_2 * q_1(w_1 * x)), y*)\""));
}

TEST_F(Walkthrough, Note000QuadraticFormGradientsAreXXtAndASymmetricX) {
    const QuadraticForm& q = w().quadratic_form;
    ASSERT_EQ(q.A.size(), 9u);
    ASSERT_EQ(q.x.size(), 3u);
    double c = 0;
    Vec dA(9), dx(3, 0.0);
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            c += q.A[i * 3 + j] * q.x[i] * q.x[j];
            dA[i * 3 + j] = q.x[i] * q.x[j];
            dx[i] += (q.A[i * 3 + j] + q.A[j * 3 + i]) * q.x[j];
        }
    }
    EXPECT_EQ(q.c, c);  // small integers: exact
    EXPECT_EQ(q.dA_engine, dA);
    EXPECT_EQ(q.dA_formula, dA);
    EXPECT_EQ(q.dx_engine, dx);
    EXPECT_EQ(q.dx_formula, dx);
    EXPECT_EQ(q.largest_difference, 0.0);
}

// ---- Note 001 ----

TEST_F(Walkthrough, Note001UpdateMovesTheActivationByFDotF) {
    EXPECT_EQ(w().update.activation, 10.0);
    EXPECT_EQ(w().update.new_weights, (Vec{-2, 2, 1}));
    EXPECT_EQ(w().update.new_activation, 10.0 - (16 + 0 + 1));
}

// Note 001's algorithm as a plain loop, bias first: the oracle for the trace and the fit.
struct PlainRun {
    std::vector<double> scores;  // of the first pass
    Vec weights_after_pass, final_weights;
    std::size_t steps = 0;
};
PlainRun plain_perceptron(const std::vector<Vec>& xs, const std::vector<int>& ys, Vec w) {
    PlainRun r;
    for (bool mistake = true; mistake && r.steps < 100000;) {
        mistake = false;
        for (std::size_t i = 0; i < xs.size(); ++i, ++r.steps) {
            const Vec f = {1, xs[i][0], xs[i][1]};
            const double s = w[0] * f[0] + w[1] * f[1] + w[2] * f[2];
            if (r.steps < xs.size()) r.scores.push_back(s);
            if ((s >= 0 ? 1 : -1) != ys[i]) {
                for (std::size_t k = 0; k < 3; ++k) w[k] += ys[i] * f[k];
                mistake = true;
            }
        }
        if (r.steps == xs.size()) r.weights_after_pass = w;
    }
    r.final_weights = w;
    return r;
}

TEST_F(Walkthrough, Note001TraceTableAndRunToConvergence) {
    const std::vector<Vec> xs = {{1, 1}, {3, 2}, {2, 4}, {3, 4}, {2, 3}};
    const std::vector<int> ys = {-1, +1, +1, +1, -1};
    const PlainRun plain = plain_perceptron(xs, ys, {-1, 0, 0});
    EXPECT_EQ(plain.scores, (Vec{-1, -1, 14, 17, 12}));  // the notes' Score column
    const PerceptronPass& p = w().pass;
    ASSERT_EQ(p.rows.size(), 5u);
    const std::vector<bool> correct = {true, false, true, true, false};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(p.rows[i].score, plain.scores[i]) << i;
        EXPECT_EQ(p.rows[i].correct, correct[i]) << i;
    }
    EXPECT_EQ(p.rows[1].update, (Vec{1, 3, 2}));
    EXPECT_EQ(p.rows[4].update, (Vec{-1, -2, -3}));
    EXPECT_EQ(p.weights_after_pass, (Vec{-1, 1, -1}));
    EXPECT_EQ(plain.weights_after_pass, (Vec{-1, 1, -1}));
    EXPECT_TRUE(p.fit.converged());
    EXPECT_EQ(p.fit.steps, plain.steps);
    EXPECT_EQ(p.final_weights, plain.final_weights);
    EXPECT_TRUE(printed("6     [-1, 1, -1]"));
}

TEST_F(Walkthrough, Note001MulticlassScoresAndUpdatedRows) {
    const MulticlassExample& m = w().multiclass;
    EXPECT_EQ(m.scores,
              (Vec{-2 * -2 + 2 * 3 + 1 * 1, 0 * -2 + 3 * 3 + 4 * 1, 1 * -2 + 4 * 3 - 2 * 1}));
    EXPECT_EQ(m.scores, (Vec{11, 13, 8}));
    EXPECT_EQ(m.predicted, 1u);
    EXPECT_EQ(m.weights_after, (std::vector<Vec>{{-2, 2, 1}, {2, 0, 3}, {-1, 7, -1}}));
    EXPECT_TRUE(printed("scores s0 = 11, s1 = 13, s2 = 8"));
}

TEST_F(Walkthrough, Note001AccuracySoftmaxAndLogLikelihood) {
    const AccuracyAndLikelihood& a = w().likelihood;
    const std::vector<Vec> f = {{1, 1, 1}, {1, 3, 2}, {1, 2, 4}, {1, 3, 4}, {1, 2, 3}};
    const Vec y = {-1, 1, 1, 1, -1}, wv = {-1, 1, -1};
    double ll = 0;
    Vec grad(3, 0.0), scores, probs;
    for (std::size_t i = 0; i < 5; ++i) {
        const double s = wv[0] * f[i][0] + wv[1] * f[i][1] + wv[2] * f[i][2];
        scores.push_back(s);
        probs.push_back(sigma(y[i] * s));
        ll += std::log(sigma(y[i] * s));
        // d/dw log sigma(y s) = (1 - sigma(y s)) y f
        for (std::size_t k = 0; k < 3; ++k) grad[k] += (1 - sigma(y[i] * s)) * y[i] * f[i][k];
    }
    EXPECT_EQ(a.scores, scores);
    EXPECT_EQ(a.accuracy, 3.0 / 5);      // point 2 has score 0, counted positive
    EXPECT_EQ(a.accuracy_sgn, 2.0 / 5);  // sgn(0) = 0 matches no label
    expect_near(a.probabilities, probs, 1e-15, "P ");
    EXPECT_NEAR(a.log_likelihood, ll, 1e-14);
    EXPECT_NEAR(a.likelihood, std::exp(ll), 1e-15);
    expect_near(a.gradient, grad, 1e-14, "grad ");
    EXPECT_GT(a.log_likelihood_after, a.log_likelihood);  // an ascent step
    // softmax(11, 13, 8) and log P(class 2), before and after the perceptron update.
    const double zb = std::exp(11) + std::exp(13) + std::exp(8);
    expect_near(a.softmax, {std::exp(11) / zb, std::exp(13) / zb, std::exp(8) / zb}, 1e-15,
                "softmax ");
    EXPECT_NEAR(a.log_p_true, 8 - std::log(zb), 1e-13);
    // rows [-2, 2, 1], [2, 0, 3], [-1, 7, -1] give scores 11, -1, 22.
    const double za = std::exp(11) + std::exp(-1) + std::exp(22);
    EXPECT_NEAR(a.log_p_true_after, 22 - std::log(za), 1e-13);
    EXPECT_NEAR(a.softmax_after[2], std::exp(22) / za, 1e-15);
}

TEST_F(Walkthrough, Note001Figures4And5) {
    const Figure4& f4 = w().figure4;
    EXPECT_EQ(f4.g, 5.0);
    EXPECT_EQ(f4.f, 20.0);
    EXPECT_EQ(f4.df_dg, 4.0);
    EXPECT_EQ(f4.df_dz, 5.0);
    EXPECT_EQ(f4.df_dx, 4.0);
    EXPECT_EQ(f4.df_dy, 4.0);
    const Figure5& f5 = w().figure5;
    EXPECT_EQ(f5.f, (2.0 + 3 + 2 * 3) * 4);
    EXPECT_EQ(f5.df_dx, 4 * 1 + 4 * 3.0);  // the notes' 16
    EXPECT_EQ(f5.df_dy, 4 * 1 + 4 * 2.0);
    EXPECT_EQ(f5.df_dz, 11.0);
    EXPECT_TRUE(printed("df/dx = df/dh * 1 + df/di * y = 4 * 1 + 4 * 3 = 16"));
}

// ---- Note 002 ----

TEST_F(Walkthrough, Note002TwoWeightNetAtAClassZeroExample) {
    expect_two_weight_net(w().two_weight_net_002, kTwoWeightNet002);
}

// ---- Note 003 ----

TEST_F(Walkthrough, Note003PerceptronCannotLearnXorButAndOfOrAndNandIs) {
    const XorByPerceptrons& g = w().xor_perceptrons;
    EXPECT_TRUE(g.xor_fit.never());
    EXPECT_TRUE(g.or_fit.converged());
    EXPECT_TRUE(g.nand_fit.converged());
    EXPECT_TRUE(g.and_fit.converged());
    const std::vector<Vec> xs = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    auto out = [](const Vec& wt, double x1, double x2) {
        return wt[0] + wt[1] * x1 + wt[2] * x2 >= 0 ? 1 : -1;
    };
    const std::vector<int> want_or = {-1, 1, 1, 1}, want_nand = {1, 1, 1, -1};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(out(g.or_weights, xs[i][0], xs[i][1]), want_or[i]) << i;
        EXPECT_EQ(out(g.nand_weights, xs[i][0], xs[i][1]), want_nand[i]) << i;
        EXPECT_EQ(out(g.and_weights, xs[i][0], xs[i][1]), i == 3 ? 1 : -1) << i;
    }
    EXPECT_EQ(g.composed, (std::vector<int>{-1, 1, 1, -1}));
}

// C = 1/2 sum_i (y_i - a_i)^2 of a sigmoid MLP with parameters in nn order (per layer: weight
// (in, out) row-major, then bias), in plain doubles.
double plain_cost(const std::vector<std::size_t>& units, const Vec& params) {
    const Vec x = {0, 0, 0, 1, 1, 0, 1, 1}, y = {0, 1, 1, 0};
    double c = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        Vec a = {x[2 * i], x[2 * i + 1]};
        std::size_t off = 0;
        for (std::size_t l = 0; l + 1 < units.size(); ++l) {
            const std::size_t in = units[l], out = units[l + 1];
            Vec next(out);
            for (std::size_t j = 0; j < out; ++j) {
                double z = params[off + in * out + j];
                for (std::size_t k = 0; k < in; ++k) z += a[k] * params[off + k * out + j];
                next[j] = sigma(z);
            }
            off += in * out + out;
            a = next;
        }
        c += 0.5 * (y[i] - a[0]) * (y[i] - a[0]);
    }
    return c;
}

// The delta gradients equal central differences of plain_cost, parameter by parameter.
void expect_delta_matches_finite_differences(const std::vector<std::size_t>& units,
                                             const Vec& params, const DeltaCheck& d) {
    EXPECT_NEAR(d.cost, plain_cost(units, params), 1e-14);
    EXPECT_LT(d.largest_difference, 1e-12);
    Vec grads;
    for (const LayerGradients& g : d.layers) {
        grads.insert(grads.end(), g.dw_delta.begin(), g.dw_delta.end());
        grads.insert(grads.end(), g.db_delta.begin(), g.db_delta.end());
    }
    ASSERT_EQ(grads.size(), params.size());
    const double eps = 1e-6;
    for (std::size_t k = 0; k < params.size(); ++k) {
        Vec plus = params, minus = params;
        plus[k] += eps;
        minus[k] -= eps;
        const double numeric = (plain_cost(units, plus) - plain_cost(units, minus)) / (2 * eps);
        EXPECT_NEAR(grads[k], numeric, 1e-9) << "parameter " << k;
    }
}

TEST_F(Walkthrough, Note003DeltaRecursionMatchesFiniteDifferencesAndEngine) {
    ASSERT_EQ(w().xor_initial_parameters.size(), 9u);
    for (double p : w().xor_initial_parameters) {
        EXPECT_GE(p, -1.0);
        EXPECT_LE(p, 1.0);
    }
    expect_delta_matches_finite_differences({2, 2, 1}, w().xor_initial_parameters, w().xor_delta);
    expect_delta_matches_finite_differences({2, 3, 2, 1}, w().deep_initial_parameters,
                                            w().deep_delta);
}

TEST_F(Walkthrough, Note003XorNetLearnsXorAndStopsByTheSlidesRule) {
    const XorTraining& t = w().xor_training;
    EXPECT_NEAR(t.initial_cost, w().xor_delta.cost, 1e-15);
    EXPECT_EQ(t.correct, 4);
    EXPECT_LT(t.final_cost, 0.01);
    EXPECT_LT(t.epochs, kXorMaxEpochs);  // |C - C_prev| < epsilon stopped it
    const Vec y = {0, 1, 1, 0};
    for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(t.outputs[i], y[i], 0.1) << i;
}

// ---- Note 004 ----

TEST_F(Walkthrough, Note004EveryQuantityIsExact) {
    const Net221& n = w().net_221;
    // W1 = [[-1, 2], [-2, 1], [1, 4]], W2 = [1, 2, -4], x = (1, 2, 5) with the bias.
    const double a11 = -1 * 1 + -2 * 2 + 1 * 5, a12 = 2 * 1 + 1 * 2 + 4 * 5;
    expect_near(n.alpha1, {a11, a12}, 0, "alpha1 ");
    EXPECT_EQ(n.alpha1, (Vec{0, 24}));
    const double b1 = sigma(a11), b2 = sigma(a12);
    expect_near(n.beta1, {b1, b2}, 1e-16, "beta1 ");
    const double alpha2 = 1 + 2 * b1 - 4 * b2, yhat = sigma(alpha2);
    EXPECT_NEAR(n.alpha2, alpha2, 1e-15);
    EXPECT_NEAR(n.yhat, yhat, 1e-15);
    EXPECT_EQ(n.predicted_class, 0);
    EXPECT_NEAR(n.loss, 0.5 * (1 - yhat) * (1 - yhat), 1e-15);
    const double delta = -(1 - yhat) * yhat * (1 - yhat);
    EXPECT_NEAR(n.dl_dyhat, -(1 - yhat), 1e-15);
    EXPECT_NEAR(n.dyhat_dalpha2, yhat * (1 - yhat), 1e-15);
    EXPECT_EQ(n.dalpha2_dW2_11, 0.5);
    EXPECT_NEAR(n.dl_dW2_11, delta * b1, 1e-15);
    EXPECT_NEAR(n.engine_dW2_11, delta * b1, 1e-15);
    EXPECT_EQ(n.dalpha2_dbeta1_1, 2.0);
    EXPECT_EQ(n.dbeta1_1_dalpha1_1, 0.25);
    EXPECT_EQ(n.dalpha1_1_dW1_21, 5.0);
    EXPECT_NEAR(n.dl_dW1_21, delta * 2 * b1 * (1 - b1) * 5, 1e-15);  // question 8's answer
    EXPECT_NEAR(n.engine_dW1_21, delta * 2 * b1 * (1 - b1) * 5, 1e-15);
    EXPECT_NEAR(n.W2_11_new, 2 - 2 * delta * b1, 1e-14);
    EXPECT_NEAR(n.W1_21_new, 1 - 2 * delta * 2 * b1 * (1 - b1) * 5, 1e-14);
    // Written out (Python's decimal module, 40 digits):
    EXPECT_NEAR(n.yhat, 0.11920292203797215, 1e-15);
    EXPECT_NEAR(n.loss, 0.38790174627322328, 1e-15);
    EXPECT_NEAR(n.dl_dW2_11, -0.04623902161940029, 1e-15);
    EXPECT_NEAR(n.dl_dW1_21, -0.23119510809700145, 1e-15);
    EXPECT_NEAR(n.W2_11_new, 2.0924780432388006, 1e-15);
    EXPECT_NEAR(n.W1_21_new, 1.4623902161940029, 1e-15);
}

TEST_F(Walkthrough, Note004RoundedChainReproducesThePrintedNumbers) {
    const Net221& n = w().net_221;
    EXPECT_NEAR(n.rounded_alpha2, -1.996, 1e-15);
    EXPECT_NEAR(n.rounded_yhat, 0.119623, 1e-6);
    EXPECT_NEAR(n.rounded_loss, 0.38753, 1e-5);
    EXPECT_NEAR(n.rounded_dW2_11, -0.04635772, 1e-6);
    EXPECT_NEAR(n.rounded_dW1_21, -0.23178, 2e-5);
    EXPECT_NEAR(n.rounded_W2_11, 2.0927, 1e-4);
    EXPECT_NEAR(n.rounded_W1_21, 1.4636, 1e-4);
    for (const char* line :
         {"NOTE: the notes print 0.999; exact: 0.99999999996225",
          "NOTE: the notes print 1 + 1 - 3.996 = -1.996; exact: -1.99999999984899",
          "NOTE: the notes print 1/(1 + e^1.996) = 0.119623; exact: 0.119202922",
          "NOTE: the notes print 0.38753; exact: 0.3879017463",
          "NOTE: the notes print -0.04635772; exact: -0.04623902162",
          "NOTE: the notes print -0.23178; exact: -0.2311951081",
          "NOTE: the notes print 2.0927; exact: 2.092478043",
          "NOTE: the notes print 1.4636; exact: 1.462390216"}) {
        EXPECT_TRUE(printed(line)) << line;
    }
}

// ---- The text ----

TEST_F(Walkthrough, NotesAppearInOrderWithTheirSections) {
    std::size_t at = 0;
    for (const char* header :
         {"######## Note 000", "== Note 000 | Section 1: Perceptron ==", "== Note 000 | Section 3",
          "######## Note 001", "== Note 001 | Example: Single Perceptron Update Pass",
          "== Note 001 | Multiclass Perceptron", "Figure 5", "######## Note 002",
          "######## Note 003", "######## Note 004", "######## Where the notes differ"}) {
        const std::size_t next = text().find(header, at);
        ASSERT_NE(next, std::string::npos) << header;
        at = next;
    }
}

TEST_F(Walkthrough, EveryDiscrepancyIsPrintedAndListed) {
    const std::vector<Discrepancy>& d = w().discrepancies;
    EXPECT_EQ(d.size(), 24u);
    std::size_t per_note[5] = {};
    for (const Discrepancy& x : d) {
        EXPECT_TRUE(printed("NOTE: the notes print " + x.printed)) << x.printed;
        EXPECT_TRUE(printed("  " + x.note + ", " + x.where + ": ")) << x.where;
        ASSERT_EQ(x.note.size(), 3u);
        ++per_note[x.note[2] - '0'];
    }
    EXPECT_EQ(per_note[0], 4u);
    EXPECT_EQ(per_note[1], 4u);
    EXPECT_EQ(per_note[2], 1u);
    EXPECT_EQ(per_note[3], 6u);
    EXPECT_EQ(per_note[4], 9u);
}

}  // namespace
}  // namespace xgrad::examples
