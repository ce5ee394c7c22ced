#pragma once
// Note 003: XOR, learned by full-batch gradient descent on C = 1/2 sum_i (y_i - a_i)^2 from the
// current weights (the slides draw them from Unif[-1, 1]). Used by examples/xor.cpp and the
// walkthrough.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "examples/course/report.h"
#include "nn/nn.h"

namespace xgrad::examples {

/// The four XOR inputs (x1, x2), shape (4, 2).
inline Tensor xor_inputs() { return tensor({0, 0, 0, 1, 1, 0, 1, 1}, Shape{4, 2}, f64); }
/// Their labels, shape (4, 1).
inline Tensor xor_targets() { return tensor({0, 1, 1, 0}, Shape{4, 1}, f64); }

/// What train_xor did.
struct XorTraining {
    double initial_cost, final_cost;
    int epochs;                   ///< gradient steps taken
    std::vector<double> outputs;  ///< a_i after training, one per input
    int correct;                  ///< inputs with [a_i > 0.5] == y_i
};

/// Trains `net` (4 x 2 -> 4 x 1) on XOR with SGD at rate `lr` for at most `max_epochs` steps,
/// stopping early when |C - C_prev| < tolerance (the slides' rule; 0: never early). Prints C
/// every `print_every` steps (0: max_epochs / 5), at the last step, and the final outputs.
inline XorTraining train_xor(Report& r, nn::Module& net, double lr, int max_epochs,
                             double tolerance = 0, int print_every = 0) {
    const Tensor x = xor_inputs(), y = xor_targets();
    nn::optim::SGD opt(net.parameters(), nn::optim::SGDOptions(lr));
    XorTraining t{0, 0, 0, {}, 0};
    double previous = 0;
    const int every = print_every > 0 ? print_every : std::max(1, max_epochs / 5);
    for (int epoch = 0; epoch <= max_epochs; ++epoch) {
        opt.zero_grad();
        const Tensor c = nn::half_squared_error(net.forward(x), y);  // C = 1/2 sum (y_i - a_i)^2
        const double cost = c.item();
        const bool converged = epoch > 0 && std::abs(cost - previous) < tolerance;
        if (epoch == 0) t.initial_cost = cost;
        if (epoch % every == 0 || converged || epoch == max_epochs) {
            r << fmt("  epoch %5d  C = %.6f\n", epoch, cost);
        }
        t.final_cost = cost;
        t.epochs = epoch;
        if (converged || epoch == max_epochs) break;
        previous = cost;
        c.backward();
        opt.step();
    }
    t.outputs = net.forward(x).to_vector();
    const std::vector<double> labels = y.to_vector();
    r << "  x1 x2 | y | a        | yhat\n";
    for (std::size_t i = 0; i < 4; ++i) {
        const int yi = static_cast<int>(labels[i]), yhat = t.outputs[i] > 0.5;
        t.correct += yi == yhat;
        r << fmt("   %g  %g | %d | %.6f | %d\n", x.at({i, 0}), x.at({i, 1}), yi, t.outputs[i],
                 yhat);
    }
    r << "  " << t.correct << " of 4 correct\n";
    return t;
}

}  // namespace xgrad::examples
