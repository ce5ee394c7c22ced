// The perceptron exercises of the course notes, answered by xgrad: note 000's perceptron
// questions (and its "Perceptron -> Neural Nets" part), note 001's single update pass and its
// multiclass example. Where the notes' arithmetic differs from the exact value, both are printed.
//
//   ./build/examples/perceptron

#include "nn/perceptron.h"

#include <cstddef>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/autograd.h"

using xgrad::f64;
using xgrad::Tensor;
namespace nn = xgrad::nn;

namespace {

std::string vec(const std::vector<double>& v) {
    std::ostringstream os;
    os << "[";
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << "]";
    return os.str();
}

std::string label(int y) { return y > 0 ? "+1" : "-1"; }

void note000_perceptron() {
    std::cout << "== Note 000, section 1: Perceptron ==\n";
    const std::vector<std::vector<double>> xs = {{-1, 2}, {3, -1}, {1, 2}, {3, 1}};
    const std::vector<int> ys = {+1, -1, -1, +1};
    std::cout << "Training data (x1, x2): y*  ";
    for (std::size_t i = 0; i < xs.size(); ++i) {
        std::cout << (i ? ", " : "") << "(" << xs[i][0] << ", " << xs[i][1]
                  << "): " << label(ys[i]);
    }
    std::cout << "\nStart: w1 = 2, w2 = -2 (no bias)\n\n";

    nn::Perceptron p({2, -2}, /*bias=*/false);
    const nn::PerceptronStep s = p.step(xs[0], ys[0]);
    std::ostringstream terms;  // w1 x1 + w2 x2 from the step itself
    for (std::size_t i = 0; i < s.weights.size(); ++i) {
        terms << (i ? " + " : "") << s.weights[i] << " * " << s.features[i];
    }
    std::cout << "Q1. First point: y = g(w1 x1 + w2 x2) = g(" << terms.str() << ") = g(" << s.score
              << ") = " << label(s.predicted) << ", label " << label(s.label) << ": "
              << (s.correct ? "correct" : "misclassified") << ".\n";
    std::cout << "    NOTE: the notes print g(2 * -1 + -2 * 2) = g(-5); the exact value is "
              << s.score << " (same sign, so the same answer).\n";
    std::cout << "    Update w <- w + y* f(x): w1 = 2 + (" << s.update[0]
              << ") = " << p.weights()[0] << ", w2 = -2 + " << s.update[1] << " = "
              << p.weights()[1] << "\n";

    nn::Perceptron q({2, -2}, /*bias=*/false);
    const nn::PerceptronFit r = q.fit(xs, ys);
    std::cout << "Q2. Steps to convergence: " << (r.never() ? "never" : std::to_string(r.steps))
              << ".\n    xgrad: " << r.str() << ".\n    (The notes: \"The data is not "
              << "separable, so it will never converge.\")\n\n";
}

void note000_neural() {
    std::cout << "== Note 000: Perceptron -> Neural Nets ==\n";
    std::cout << "Q1. dLoss/dw1 = (g(w1 x1 + w2 x2) - y*) g'(w1 x1 + w2 x2) x1\n";
    const Tensor f = xgrad::tensor({-1, 2}, f64);

    Tensor w = xgrad::tensor({2, -2}, f64, /*requires_grad=*/true);
    const Tensor loss = nn::neuron_squared_loss(w, f, /*target=*/1, nn::NeuronActivation::Step);
    loss.backward();
    const std::vector<double> grad = w.grad().to_vector();
    nn::neuron_gradient_step(w, /*lr=*/0.1);
    std::cout << "Q2. Step activation g (1 if z >= 0, else -1) on the first point: Loss = "
              << loss.item() << ", dLoss/dw = " << vec(grad) << ";\n    after w <- w - alpha "
              << "dLoss/dw the weights stay w1 = " << w.to_vector()[0]
              << ", w2 = " << w.to_vector()[1] << ".\n";

    Tensor ws = xgrad::tensor({2, -2}, f64, /*requires_grad=*/true);
    const double before = nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).item();
    for (int i = 0; i < 100; ++i) {
        nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).backward();
        nn::neuron_gradient_step(ws, /*lr=*/1.0);
    }
    const double after = nn::neuron_squared_loss(ws, f, 1, nn::NeuronActivation::Sigmoid).item();
    std::cout << "    Next to it, a sigmoid neuron (100 steps, alpha = 1) moves w to "
              << vec(ws.to_vector()) << "\n    and the loss from " << before << " to " << after
              << ".\n";

    Tensor wp = xgrad::tensor({2, -2}, f64, /*requires_grad=*/true);
    nn::neuron_perceptron_loss(wp, f, +1).backward();
    nn::neuron_gradient_step(wp, /*lr=*/1.0);
    std::cout << "    And one gradient step (alpha = 1) on the perceptron loss max(0, -y* z)\n"
              << "    gives w = " << vec(wp.to_vector()) << ": the perceptron's update.\n";
    std::cout << "Q3. The gradient of the step activation is zero, so the weights never update.\n";
    std::cout << "\n";
}

void note001_pass() {
    std::cout << "== Note 001, Example: Single Perceptron Update Pass ==\n";
    const std::vector<std::vector<double>> xs = {{1, 1}, {3, 2}, {2, 4}, {3, 4}, {2, 3}};
    const std::vector<int> ys = {-1, +1, +1, +1, -1};
    std::cout << "Training set (f1, f2, y*): ";
    for (std::size_t i = 0; i < xs.size(); ++i) {
        std::cout << (i ? ", " : "") << "(" << xs[i][0] << ", " << xs[i][1] << ", "
                  << (ys[i] > 0 ? "+" : "-") << ")";
    }
    std::cout << "\nStart [w0, w1, w2] = [-1, 0, 0], w0 the bias weight (f0 = 1)\n\n";
    nn::Perceptron p({-1, 0, 0}, /*bias=*/true);
    std::cout << nn::format_trace(p.trace(xs, ys, xs.size())) << "\n";

    nn::Perceptron q({-1, 0, 0}, /*bias=*/true);
    const nn::PerceptronFit r = q.fit(xs, ys);
    std::cout << "The notes stop after one pass (\"many more passes\" are needed). Run to the "
              << "end:\n"
              << r.str() << ";\nfinal weights " << vec(q.weights()) << ".\n\n";
}

void note001_multiclass() {
    std::cout << "== Note 001: Multiclass Perceptron ==\n";
    const std::vector<double> fx = {-2, 3, 1};
    nn::MulticlassPerceptron m({{-2, 2, 1}, {0, 3, 4}, {1, 4, -2}}, /*bias=*/false);
    for (std::size_t k = 0; k < m.num_classes(); ++k) {
        std::cout << "w" << k << " = " << vec(m.weights()[k]) << "\n";
    }
    const std::vector<double> s = m.scores(fx);
    std::cout << "f(x) = " << vec(fx) << ": scores s0 = " << s[0] << ", s1 = " << s[1]
              << ", s2 = " << s[2] << "; argmax(W f(x)) = " << m.predict(fx)
              << " (ties go to the lowest class)\n";
    const std::vector<std::vector<double>> old = m.weights();
    const nn::MulticlassStep st = m.step(fx, /*label=*/2);
    std::cout << "True class 2, predicted " << st.predicted << ":\n";
    std::cout << "  w" << st.predicted << " = " << vec(old[st.predicted]) << " - " << vec(fx)
              << " = " << vec(m.weights()[st.predicted]) << "\n";
    std::cout << "  w2 = " << vec(old[2]) << " + " << vec(fx) << " = " << vec(m.weights()[2])
              << "\n";
}

}  // namespace

int main() {
    note000_perceptron();
    note000_neural();
    note001_pass();
    note001_multiclass();
}
