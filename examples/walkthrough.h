#pragma once
// The course walkthrough: every exercise of the five course notes (../shared/seeds 000-004), in
// order, answered by xgrad and printed as the notes print it. Where a note rounds, miscomputes
// or mislabels, the exact value is printed next to "the notes print ...", and the place is kept
// in WalkthroughResults::discrepancies. The sections live in examples/course/*.h and
// examples/course_graphs.h, shared with the single-topic examples.
//
// Example:
//   std::ostringstream text;
//   xgrad::examples::WalkthroughResults w = xgrad::examples::run_walkthrough(text);
//   w.net_221.alpha1 == {0, 24};  w.multiclass.scores == {11, 13, 8};

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

#include "examples/course/backprop_delta.h"
#include "examples/course/likelihood.h"
#include "examples/course/net_221.h"
#include "examples/course/perceptron.h"
#include "examples/course/report.h"
#include "examples/course/xor.h"
#include "examples/course_graphs.h"
#include "nn/nn.h"

namespace xgrad::examples {

/// Every number the walkthrough computes, by note.
struct WalkthroughResults {
    // Note 000
    PerceptronQuestions perceptron;  ///< section 1
    StepNeuron step_neuron;          ///< Perceptron -> Neural Nets
    TwoWeightNet two_weight_net;     ///< section 2, at the values in kTwoWeightNet000
    QuadraticForm quadratic_form;    ///< section 3
    // Note 001
    UpdateExample update;
    PerceptronPass pass;
    MulticlassExample multiclass;
    AccuracyAndLikelihood likelihood;
    Figure4 figure4;
    Figure5 figure5;
    // Note 002
    TwoWeightNet two_weight_net_002;  ///< the same questions at kTwoWeightNet002
    // Note 003
    XorByPerceptrons xor_perceptrons;
    std::vector<double> xor_initial_parameters;  ///< W1 (2,2), b1 (2), W2 (2,1), b2 (1)
    DeltaCheck xor_delta;                        ///< at the initial weights
    XorTraining xor_training;
    std::vector<double> deep_initial_parameters;  ///< the 2-3-2-1 net, same order
    DeltaCheck deep_delta;
    // Note 004
    Net221 net_221;
    /// Every place where a note prints something other than the exact value or meant symbol.
    std::vector<Discrepancy> discrepancies;
};

/// The values picked for the two-weight net of note 000 (y* = 1) and note 002 (y* = 0).
constexpr TwoWeightNetInput kTwoWeightNet000{/*x=*/1.0, /*w1=*/0.5, /*w2=*/-1.5,
                                             /*y_star=*/1.0, /*alpha=*/0.5};
constexpr TwoWeightNetInput kTwoWeightNet002{/*x=*/2.0, /*w1=*/-0.5, /*w2=*/1.0,
                                             /*y_star=*/0.0, /*alpha=*/1.0};

/// Note 003's seeds: the XOR net and the deeper net for the delta recursion (Unif[-1, 1]).
constexpr std::uint64_t kXorSeed = 0, kDeepSeed = 3;
/// Note 003's training: rate, step limit, and the stopping rule |C - C_prev| < epsilon.
constexpr double kXorRate = 2.0, kXorEpsilon = 1e-7;
constexpr int kXorMaxEpochs = 20000;

/// Note 000: the perceptron questions, the step neuron, the two-weight net, x^T A x.
inline void walkthrough_note000(Report& r, WalkthroughResults& w) {
    r.begin_note("000", "CS188 Fall 2017, Section 12: Perceptrons / Neural Networks");
    r.section("Section 1: Perceptron");
    w.perceptron = note000_perceptron(r);
    r.section("Section 1: Perceptron -> Neural Nets");
    w.step_neuron = note000_neural(r);
    r.section("Section 2: Neural Nets (the two-weight net)");
    w.two_weight_net = two_weight_net(r, kTwoWeightNet000, "\"Loss(q_2(w_2 * q_1(w_1 * x)), y*)\"");
    r.section("Section 3: Vectorized Gradients");
    w.quadratic_form = quadratic_form(r);
}

/// Note 001: weight update, update pass, multiclass, accuracy and likelihood, figures 4-5.
inline void walkthrough_note001(Report& r, WalkthroughResults& w) {
    r.begin_note("001", "Perceptron (course notes)");
    r.section("Binary Perceptron: Updating weights");
    w.update = note001_update(r);
    r.section("Example: Single Perceptron Update Pass");
    r.notes_mean("Example, Training Set table",
                 "the rows \"2 3 | 3 2 +\" and \"4 5 | 3 4 +\" (two rows merged each)",
                 "points 2-5 = (3, 2, +), (2, 4, +), (3, 4, +), (2, 3, -)",
                 "as the update-pass table uses them");
    w.pass = note001_pass(r);
    r.section("Multiclass Perceptron");
    w.multiclass = note001_multiclass(r);
    r.section("Measuring Accuracy, softmax, (log-)likelihood, gradient ascent");
    w.likelihood = note001_likelihood(
        r, note001_points(), note001_labels(), w.pass.weights_after_pass, {-2, 3, 1},
        {{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, w.multiclass.weights_after, /*true_class=*/2);
    r.section("Backpropagation: Figure 4");
    w.figure4 = figure4(r);
    r.notes_mean("figure 4 text",
                 "\"the amount that a change in x contributes to a change in y the product of "
                 "the amount that a change in y contributes to a change in y\"",
                 "df/dx = df/dg * dg/dx: how much a change in x changes f is how much it "
                 "changes g times how much g changes f");
    r.section("Backpropagation: Figure 5");
    w.figure5 = figure5(r);
}

/// Note 002: the two-weight net's questions again, at a class-0 example.
inline void walkthrough_note002(Report& r, WalkthroughResults& w) {
    r.begin_note("002", "CS188 Summer 2024, Discussion 13: Neural Nets");
    r.section("Parts 1-7 (note 000 section 2 again; here a class-0 example)");
    w.two_weight_net_002 = two_weight_net(r, kTwoWeightNet002);
}

/// Note 003: XOR by perceptrons and by a 2-2-1 net; the delta recursion vs the engine.
inline void walkthrough_note003(Report& r, WalkthroughResults& w) {
    r.begin_note("003", "Neural Networks: backpropagation (Young Wu's slides)");
    r.section("Learning XOR Operator, Parts 1 and 2");
    w.xor_perceptrons = note003_xor_perceptrons(r);

    r.section("Gradient Step, Combined: a 2-2-1 sigmoid net for XOR, delta vs engine");
    nn::Sequential net = sigmoid_mlp({2, 2, 1}, kXorSeed);
    w.xor_initial_parameters = parameter_values(net);
    r << "Weights and biases ~ Unif[-1, 1], seed " << kXorSeed << ": " << nn::to_string(net) << "\n"
      << parameter_lines(net);
    r << "dC/dw_j'j^(1) = sum_i (a_i - y_i) a_i (1 - a_i) w_j^(2) a_ij^(1) (1 - a_ij^(1)) x_ij',"
         " and so on: by the deltas, with plain loops, and by the engine:\n";
    w.xor_delta = delta_check(r, net, xor_inputs(), xor_targets());
    r.notes_mean("Interal Activations", "\"z_i = sum_{i=1}^{m^(1)} a_ij^(1) w_j^(2) + b^(2)\"",
                 "the sum runs over j = 1 .. m^(1)");
    r.notes_mean("Interal Activations", "\"z_ij^(1) = sum_{i'=1}^m x_ij' w_j'j^(1) + b_j^(1)\"",
                 "the sum runs over j' = 1 .. m");
    r.notes_mean("Derivative of Internal Outputs, Part 1", "\"dz_i/dw_i^(2) = a_ij^(1)\"",
                 "dz_i/dw_j^(2) = a_ij^(1)");
    r.notes_mean("Derivative of Internal Outputs, Part 2",
                 "\"z_ij^(1) = sum_j' x'_ij w_j'j^(1) + b_j^(1)\" and \"dz_ij^(1)/dw_i'j^(1) = "
                 "x_ij'\"",
                 "x_ij' in the sum, and dz_ij^(1)/dw_j'j^(1) = x_ij'");

    r.section("Backpropagation, Parts 1-4: train until |C - C_prev| < epsilon");
    r << "Full-batch gradient descent on C = 1/2 sum_i (y_i - a_i)^2, rate " << num(kXorRate)
      << ", epsilon = " << num(kXorEpsilon) << " (at most " << kXorMaxEpochs << " steps):\n";
    w.xor_training = train_xor(r, net, kXorRate, kXorMaxEpochs, kXorEpsilon, /*print_every=*/500);
    r.notes_mean("Backpropagation, Part 4", "\"|C - C|^prev| < epsilon\"",
                 "|C - C^prev| < epsilon");
    r << "The recursion for L = 3 (a 2-3-2-1 net, seed " << kDeepSeed << ", the same XOR data):\n";
    nn::Sequential deep = sigmoid_mlp({2, 3, 2, 1}, kDeepSeed);
    w.deep_initial_parameters = parameter_values(deep);
    w.deep_delta = delta_check(r, deep, xor_inputs(), xor_targets());
    r.notes_mean("Backpropagation, Part 3",
                 "\"delta_ij^(I) = sum_{i'=1}^{m^(I+1)} delta_j'^(I+1) w_jj'^(I+1) a_ij^(I) (1 - "
                 "a_ij^(I))\"",
                 "sum over j' = 1 .. m^(I+1) of delta_ij'^(I+1) w_jj'^(I+1), times a_ij^(I) (1 - "
                 "a_ij^(I))");
}

/// Note 004: the 2-2-1 network, every question.
inline void walkthrough_note004(Report& r, WalkthroughResults& w) {
    r.begin_note("004", "Neural Network (the 2-2-1 network)");
    r.section("Questions 1-8, then backpropagation 1-9");
    w.net_221 = net_221(r);
}

/// Works through every exercise of notes 000-004 in order, printing to `out`; returns the numbers.
inline WalkthroughResults run_walkthrough(std::ostream& out) {
    Report r(out);
    WalkthroughResults w;
    r << "xgrad walks through the course notes: every exercise, computed by the engine.\n"
         "Numbers are exact to the digits shown; \"NOTE: the notes print\" marks each place\n"
         "where a note prints something else.\n";
    walkthrough_note000(r, w);
    walkthrough_note001(r, w);
    walkthrough_note002(r, w);
    walkthrough_note003(r, w);
    walkthrough_note004(r, w);
    w.discrepancies = r.discrepancies();
    r << "\n######## Where the notes differ (" << w.discrepancies.size() << " places)\n";
    for (const Discrepancy& d : w.discrepancies) {
        r << "  " << d.note << ", " << d.where << ": " << d.printed << " -> " << d.exact << "\n";
    }
    return w;
}

}  // namespace xgrad::examples
