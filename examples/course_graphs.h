#pragma once
// The computation graphs of the course notes, computed by xgrad and printed with every number.
// Shared by the demo and the walkthrough.

#include <cstdio>
#include <vector>

#include "autograd/autograd.h"

namespace xgrad::examples {

/// Note 001, figure 4: f = (x + y) * z at x = 2, y = 3, z = 4.
inline void print_figure4() {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor g = x + y;
    g.retain_grad();
    Tensor f = g * z;
    f.backward();
    std::printf("Figure 4: f = (x + y) * z at x = 2, y = 3, z = 4\n");
    std::printf("  forward:  g = x + y = %g, f = g * z = %g\n", g.item(), f.item());
    std::printf("  backward: df/df = 1, df/dg = z = %g, df/dz = g = %g\n", g.grad().item(),
                z.grad().item());
    std::printf("            df/dx = df/dg * 1 = %g, df/dy = df/dg * 1 = %g\n\n", x.grad().item(),
                y.grad().item());
}

/// Note 001, figure 5: f = ((x + y) + (x * y)) * z at the same values: gradients add at junctions.
inline void print_figure5() {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor h = x + y, i = x * y;
    h.retain_grad();
    i.retain_grad();
    Tensor g = h + i;
    g.retain_grad();
    Tensor f = g * z;
    f.backward();
    std::printf("Figure 5: f = ((x + y) + (x * y)) * z at x = 2, y = 3, z = 4\n");
    std::printf("  forward:  h = x + y = %g, i = x * y = %g, g = h + i = %g, f = g * z = %g\n",
                h.item(), i.item(), g.item(), f.item());
    std::printf("  backward: df/dg = %g, df/dh = %g, df/di = %g, df/dz = %g\n", g.grad().item(),
                h.grad().item(), i.grad().item(), z.grad().item());
    std::printf("            df/dx = df/dh * 1 + df/di * y = 4 * 1 + 4 * 3 = %g\n",
                x.grad().item());
    std::printf("            df/dy = df/dh * 1 + df/di * x = 4 * 1 + 4 * 2 = %g\n\n",
                y.grad().item());
}

/// Note 000, section 3: c = x^T A x; dc/dA = x x^T and dc/dx = (A + A^T) x.
inline void print_quadratic_form() {
    Tensor A = tensor({1, 2, 0, -1, 3, 1, 2, 0, 1}, {3, 3}, f64, true);
    Tensor x = tensor({1, -2, 3}, f64, true);
    Tensor c = matmul(x, matmul(A, x));
    c.backward();
    std::printf("Note 000 section 3: c = x^T A x with A = %s, x = %s\n",
                format_values(A.value()).c_str(), format_values(x.value()).c_str());
    std::printf("  c = %g\n  dc/dA = x x^T = %s\n  dc/dx = (A + A^T) x = %s\n\n", c.item(),
                format_values(A.grad().value()).c_str(), format_values(x.grad().value()).c_str());
}

/// Notes 000/002: the two-weight sigmoid net and its chain-rule products (parts 4 and 6).
inline void print_two_weight_net(double xv, double w1v, double w2v, double ystar) {
    Tensor x = scalar(xv, f64), w1 = scalar(w1v, f64, true), w2 = scalar(w2v, f64, true);
    Tensor z1 = x * w1, a1 = sigmoid(z1), z2 = a1 * w2, a2 = sigmoid(z2);
    Tensor loss = 0.5 * square(a2 - ystar);
    loss.backward();
    const double A1 = a1.item(), A2 = a2.item();
    std::printf(
        "Notes 000/002: z1 = x*w1, a1 = s(z1), z2 = a1*w2, a2 = s(z2), "
        "Loss = 1/2 (a2 - y*)^2\n");
    std::printf("  at x = %g, w1 = %g, w2 = %g, y* = %g:\n", xv, w1v, w2v, ystar);
    std::printf("  z1 = %.10g, a1 = %.10g, z2 = %.10g, a2 = %.10g, Loss = %.10g\n", z1.item(), A1,
                z2.item(), A2, loss.item());
    std::printf("  dLoss/dw2 = (a2 - y*) * a2(1 - a2) * a1 = %.10g * %.10g * %.10g = %.10g\n",
                A2 - ystar, A2 * (1 - A2), A1, (A2 - ystar) * A2 * (1 - A2) * A1);
    std::printf("            engine: %.10g\n", w2.grad().item());
    std::printf("  dLoss/dw1 = (a2 - y*) * a2(1 - a2) * w2 * a1(1 - a1) * x = %.10g\n",
                (A2 - ystar) * A2 * (1 - A2) * w2v * A1 * (1 - A1) * xv);
    std::printf("            engine: %.10g\n\n", w1.grad().item());
}

/// Note 000: the perceptron as one neuron with the step activation: its gradient is 0.
inline void print_step_neuron() {
    Tensor w = tensor({2, -2}, f64, true);
    Tensor x = tensor({-1, 2}, f64);
    Tensor z = matmul(w, x);
    Tensor loss = 0.5 * square(step(z) - 1.0);
    loss.backward();
    std::printf(
        "Note 000: one neuron, g = step (1 if z >= 0 else -1), w = (2, -2), x = (-1, 2), "
        "y* = 1\n");
    std::printf(
        "  z = w.x = %g (the notes print g(-5); 2*-1 + -2*2 = -6), g(z) = %g, "
        "Loss = %g\n",
        z.item(), step(z).item(), loss.item());
    std::printf("  dLoss/dw = %s: g'(z) = 0, so a gradient step leaves w = (2, -2)\n\n",
                format_values(w.grad().value()).c_str());
}

}  // namespace xgrad::examples
