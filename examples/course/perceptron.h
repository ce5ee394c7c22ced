#pragma once
// The perceptron exercises of the course notes, answered by xgrad: note 000's perceptron
// questions and its "Perceptron -> Neural Nets" part, note 001's weight-update example, its
// single update pass and its multiclass example. Each function prints one exercise to a Report
// and returns what it computed. Used by examples/perceptron.cpp and the walkthrough.

#include <cstddef>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "examples/course/report.h"
#include "nn/perceptron.h"

namespace xgrad::examples {

/// "+1" or "-1".
inline std::string label_str(int y) { return y > 0 ? "+1" : "-1"; }

/// Note 000, section 1: the first step and the convergence question.
struct PerceptronQuestions {
    nn::PerceptronStep first;                 ///< the step on the first point (score -6)
    std::vector<double> weights_after_first;  ///< (1, 0)
    nn::PerceptronFit fit;                    ///< from (2, -2): never converges
};

/// Note 000, section 1, questions 1 and 2.
inline PerceptronQuestions note000_perceptron(Report& r) {
    const std::vector<std::vector<double>> xs = {{-1, 2}, {3, -1}, {1, 2}, {3, 1}};
    const std::vector<int> ys = {+1, -1, -1, +1};
    r << "Training data (x1, x2): y*  ";
    for (std::size_t i = 0; i < xs.size(); ++i) {
        r << (i ? ", " : "") << "(" << num(xs[i][0]) << ", " << num(xs[i][1])
          << "): " << label_str(ys[i]);
    }
    r << "\nStart: w1 = 2, w2 = -2 (no bias)\n";

    PerceptronQuestions q;
    nn::Perceptron p({2, -2}, /*bias=*/false);
    q.first = p.step(xs[0], ys[0]);
    q.weights_after_first = p.weights();
    const nn::PerceptronStep& s = q.first;
    std::string terms;  // w1 * x1 + w2 * x2 from the step itself
    for (std::size_t i = 0; i < s.weights.size(); ++i) {
        terms += (i ? " + " : "") + num(s.weights[i]) + " * " + num(s.features[i]);
    }
    r << "Q1. First point: y = g(w1 x1 + w2 x2) = g(" << terms << ") = g(" << num(s.score)
      << ") = " << label_str(s.predicted) << ", label " << label_str(s.label) << ": "
      << (s.correct ? "correct" : "misclassified") << ".\n";
    r.notes_print("section 1, Q1", "g(2 * -1 + -2 * 2) = g(-5)", "g(" + num(s.score) + ")",
                  "same sign, so the same answer");
    r << "    Update w <- w + y* f(x): w1 = 2 + (" << num(s.update[0])
      << ") = " << num(p.weights()[0]) << ", w2 = -2 + " << num(s.update[1]) << " = "
      << num(p.weights()[1]) << "\n";

    nn::Perceptron fresh({2, -2}, /*bias=*/false);
    q.fit = fresh.fit(xs, ys);
    r << "Q2. Steps to convergence: " << (q.fit.never() ? "never" : std::to_string(q.fit.steps))
      << ".\n    xgrad: " << q.fit.str() << ".\n    (The notes: \"The data is not "
      << "separable, so it will never converge.\")\n";
    return q;
}

/// Note 000, "Perceptron -> Neural Nets": the step neuron's zero gradient, and for comparison a
/// sigmoid neuron and the perceptron criterion on the same point.
struct StepNeuron {
    double loss;                          ///< 1/2 (g(-6) - 1)^2 = 2
    std::vector<double> grad;             ///< dLoss/dw = (0, 0)
    std::vector<double> weights_after;    ///< (2, -2)
    std::vector<double> sigmoid_weights;  ///< after 100 steps of rate 1 with g = sigmoid
    double sigmoid_loss_before, sigmoid_loss_after;
    std::vector<double> perceptron_weights;  ///< one step on max(0, -y* z): (1, 0)
};

/// Note 000, "Perceptron -> Neural Nets", questions 1-3.
inline StepNeuron note000_neural(Report& r) {
    r << "Q1. dLoss/dw1 = (g(w1 x1 + w2 x2) - y*) g'(w1 x1 + w2 x2) x1\n";
    const Tensor f = tensor({-1, 2}, f64);
    const double alpha = 0.1;

    StepNeuron s;
    Tensor w = tensor({2, -2}, f64, /*requires_grad=*/true);
    const Tensor loss = nn::neuron_squared_loss(w, f, /*target=*/1, nn::NeuronActivation::Step);
    loss.backward();
    s.loss = loss.item();
    s.grad = w.grad().to_vector();
    nn::neuron_gradient_step(w, alpha);
    s.weights_after = w.to_vector();
    r << "Q2. Step activation g (1 if z >= 0, else -1) on the first point: Loss = " << num(s.loss)
      << ", dLoss/dw = " << vec(s.grad)
      << ";\n    after w <- w - alpha dLoss/dw (alpha = " << num(alpha)
      << ") the weights stay w1 = " << num(s.weights_after[0])
      << ", w2 = " << num(s.weights_after[1]) << ".\n";
    r.notes_mean("Perceptron -> Neural Nets, Q2", "\"w_i <- w_i - alpha dLoss/dw_1\"",
                 "w_i <- w_i - alpha dLoss/dw_i");

    Tensor ws = tensor({2, -2}, f64, /*requires_grad=*/true);
    s.sigmoid_loss_before = nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).item();
    for (int i = 0; i < 100; ++i) {
        nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).backward();
        nn::neuron_gradient_step(ws, /*lr=*/1.0);
    }
    s.sigmoid_weights = ws.to_vector();
    s.sigmoid_loss_after = nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).item();
    r << "    Next to it, a sigmoid neuron (100 steps, alpha = 1) moves w to "
      << vec(s.sigmoid_weights) << "\n    and the loss from " << num(s.sigmoid_loss_before)
      << " to " << num(s.sigmoid_loss_after) << ".\n";

    Tensor wp = tensor({2, -2}, f64, /*requires_grad=*/true);
    nn::neuron_perceptron_loss(wp, f, +1).backward();
    nn::neuron_gradient_step(wp, /*lr=*/1.0);
    s.perceptron_weights = wp.to_vector();
    r << "    And one gradient step (alpha = 1) on the perceptron loss max(0, -y* z)\n"
      << "    gives w = " << vec(s.perceptron_weights) << ": the perceptron's update.\n";
    r << "Q3. The gradient of the step activation is zero, so the weights never update.\n";
    return s;
}

/// Note 001, "Updating weights": w = [2, 2, 2], f(x) = [4, 0, 1], y* = -1.
struct UpdateExample {
    double activation;                ///< 10
    std::vector<double> new_weights;  ///< w - f(x) = [-2, 2, 1]
    double new_activation;            ///< 10 - f.f = -7
};

/// Note 001, "Updating weights": the activation before and after w <- w + y* f(x) moves by
/// y* f(x).f(x).
inline UpdateExample note001_update(Report& r) {
    const Tensor w = tensor({2, 2, 2}, f64), f = tensor({4, 0, 1}, f64);
    const Tensor w_new = w - f;  // y* = -1
    UpdateExample u{matmul(w, f).item(), w_new.to_vector(), matmul(w_new, f).item()};
    r << "w = [2, 2, 2], f(x) = [4, 0, 1], y* = -1: activation = (2*4) + (2*0) + (2*1) = "
      << num(u.activation) << "\n  update w <- w - f(x) = " << vec(u.new_weights)
      << ": the first weight moves most, the second not at all;\n  new activation = "
      << num(u.new_activation) << " = " << num(u.activation)
      << " - f(x).f(x) = " << num(u.activation) << " - " << num(u.activation - u.new_activation)
      << "\n";
    r.notes_mean("Updating weights", "\"activation_{w+x}(x) = (w + f(x))^T x\"",
                 "activation_{w+f(x)}(x) = (w + f(x))^T f(x)");
    return u;
}

/// Note 001, "Example: Single Perceptron Update Pass", and the run to the end.
struct PerceptronPass {
    std::vector<nn::PerceptronStep> rows;    ///< the table, 5 steps
    std::vector<double> weights_after_pass;  ///< [-1, 1, -1]
    nn::PerceptronFit fit;                   ///< from [-1, 0, 0] to convergence
    std::vector<double> final_weights;
};

/// The training set of note 001's example: (f1, f2), bias feature added by the perceptron.
inline std::vector<std::vector<double>> note001_points() {
    return {{1, 1}, {3, 2}, {2, 4}, {3, 4}, {2, 3}};
}
inline std::vector<int> note001_labels() { return {-1, +1, +1, +1, -1}; }

/// Note 001's update pass from [w0, w1, w2] = [-1, 0, 0], printed as the notes' table.
inline PerceptronPass note001_pass(Report& r) {
    const std::vector<std::vector<double>> xs = note001_points();
    const std::vector<int> ys = note001_labels();
    r << "Training set (f1, f2, y*): ";
    for (std::size_t i = 0; i < xs.size(); ++i) {
        r << (i ? ", " : "") << "(" << num(xs[i][0]) << ", " << num(xs[i][1]) << ", "
          << (ys[i] > 0 ? "+" : "-") << ")";
    }
    r << "\nStart [w0, w1, w2] = [-1, 0, 0], w0 the bias weight (f0 = 1)\n\n";
    PerceptronPass pass;
    nn::Perceptron p({-1, 0, 0}, /*bias=*/true);
    pass.rows = p.trace(xs, ys, xs.size());
    pass.weights_after_pass = p.weights();
    r << nn::format_trace(pass.rows) << "\n";

    nn::Perceptron q({-1, 0, 0}, /*bias=*/true);
    pass.fit = q.fit(xs, ys);
    pass.final_weights = q.weights();
    r << "The notes stop after one pass (\"many more passes\" are needed). Run to the "
      << "end:\n"
      << pass.fit.str() << ";\nfinal weights " << vec(pass.final_weights) << ".\n";
    return pass;
}

/// Note 001, "Multiclass Perceptron": scores, prediction and the update for true class 2.
struct MulticlassExample {
    std::vector<double> scores;                      ///< 11, 13, 8
    std::size_t predicted;                           ///< 1
    std::vector<std::vector<double>> weights_after;  ///< rows 1, 2: [2, 0, 3], [-1, 7, -1]
};

/// Note 001's multiclass example: f(x) = [-2, 3, 1], three weight rows, true class 2.
inline MulticlassExample note001_multiclass(Report& r) {
    const std::vector<double> fx = {-2, 3, 1};
    nn::MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
    for (std::size_t k = 0; k < m.num_classes(); ++k) {
        r << "w" << k << " = " << vec(m.weights()[k]) << "\n";
    }
    MulticlassExample e;
    e.scores = m.scores(fx);
    e.predicted = m.predict(fx);
    r << "f(x) = " << vec(fx) << ": scores s0 = " << num(e.scores[0])
      << ", s1 = " << num(e.scores[1]) << ", s2 = " << num(e.scores[2])
      << "; argmax(W f(x)) = " << e.predicted << " (ties go to the lowest class)\n";
    const std::vector<std::vector<double>> old = m.weights();
    const nn::MulticlassStep st = m.step(fx, /*label=*/2);
    e.weights_after = m.weights();
    r << "True class 2, predicted " << st.predicted << ":\n";
    r << "  w" << st.predicted << " = " << vec(old[st.predicted]) << " - " << vec(fx) << " = "
      << vec(e.weights_after[st.predicted]) << "\n";
    r << "  w2 = " << vec(old[2]) << " + " << vec(fx) << " = " << vec(e.weights_after[2]) << "\n";
    return e;
}

/// Note 003, "Learning XOR Operator": a perceptron cannot learn XOR, but perceptrons for OR,
/// NAND and AND can, and AND(OR, NAND) is XOR.
struct XorByPerceptrons {
    nn::PerceptronFit xor_fit;                    ///< never converges
    nn::PerceptronFit or_fit, nand_fit, and_fit;  ///< each converges
    std::vector<double> or_weights, nand_weights, and_weights;
    std::vector<int> composed;  ///< AND(OR(x), NAND(x)) on the four inputs, as +-1
};

/// Note 003's two XOR slides, with perceptrons (bias feature, start at zero, labels +-1).
inline XorByPerceptrons note003_xor_perceptrons(Report& r) {
    const std::vector<std::vector<double>> xs = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    XorByPerceptrons g;
    auto fit = [&](const char* name, const std::vector<int>& ys, nn::PerceptronFit& result,
                   std::vector<double>* weights) {
        nn::Perceptron p = nn::Perceptron::zeros(2, /*bias=*/true);
        result = p.fit(xs, ys);
        r << "  " << name << " (labels";
        for (int y : ys) r << " " << label_str(y);
        r << "): " << result.str();
        if (weights) {
            *weights = p.weights();
            r << "; w = " << vec(*weights);
        }
        r << "\n";
        return p;
    };
    r << "A perceptron with a bias on the four inputs (0,0), (0,1), (1,0), (1,1), from w = 0:\n";
    fit("XOR", {-1, +1, +1, -1}, g.xor_fit, nullptr);
    const nn::Perceptron p_or = fit("OR", {-1, +1, +1, +1}, g.or_fit, &g.or_weights);
    const nn::Perceptron p_nand = fit("NAND", {+1, +1, +1, -1}, g.nand_fit, &g.nand_weights);
    const nn::Perceptron p_and = fit("AND", {-1, -1, -1, +1}, g.and_fit, &g.and_weights);
    r << "  AND(OR(x), NAND(x)), the hidden outputs mapped from -1/+1 to 0/1:";
    for (const std::vector<double>& x : xs) {
        const double h1 = (p_or.predict(x) + 1) / 2, h2 = (p_nand.predict(x) + 1) / 2;
        g.composed.push_back(p_and.predict({h1, h2}));
        r << " " << label_str(g.composed.back());
    }
    r << ": XOR\n";
    return g;
}

}  // namespace xgrad::examples
