// The course's computation graphs (../shared/seeds 000, 001, 002) with their exact values.

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::rand64;
using V = std::vector<Tensor>;

// Note 001, figure 4: f = g * z with g = x + y, at x = 2, y = 3, z = 4.
TEST(Course, Figure4AddThenMultiply) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor g = x + y;
    g.retain_grad();
    Tensor f = g * z;
    f.backward();
    EXPECT_EQ(g.item(), 5.0);
    EXPECT_EQ(f.item(), 20.0);
    EXPECT_EQ(g.grad().item(), 4.0);  // df/dg = z
    EXPECT_EQ(x.grad().item(), 4.0);  // df/dg * dg/dx = 4 * 1
    EXPECT_EQ(y.grad().item(), 4.0);
    EXPECT_EQ(z.grad().item(), 5.0);  // df/dz = g
}

// Note 001, figure 5: f = (h + i) * z with h = x + y and i = x * y, at x = 2, y = 3, z = 4.
// x and y each feed two nodes, so their gradients add at the junction.
TEST(Course, Figure5GradientsAddAtJunctions) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor h = x + y, i = x * y;
    Tensor g = h + i;
    Tensor f = g * z;
    for (Tensor* t : {&h, &i, &g}) t->retain_grad();
    f.backward();
    EXPECT_EQ(h.item(), 5.0);
    EXPECT_EQ(i.item(), 6.0);
    EXPECT_EQ(g.item(), 11.0);
    EXPECT_EQ(f.item(), 44.0);
    EXPECT_EQ(g.grad().item(), 4.0);   // df/dg = z
    EXPECT_EQ(h.grad().item(), 4.0);   // df/dh = df/dg * 1
    EXPECT_EQ(i.grad().item(), 4.0);   // df/di = df/dg * 1
    EXPECT_EQ(z.grad().item(), 11.0);  // df/dz = g
    // The notes: df/dx = df/dh dh/dx + df/di di/dx = 4 * 1 + 4 * 3 = 16.
    EXPECT_EQ(x.grad().item(), 16.0);
    // Likewise df/dy = 4 * 1 + 4 * x = 4 + 8 = 12.
    EXPECT_EQ(y.grad().item(), 12.0);
}

// Note 000 section 3: c = x^T A x. dc/dA = x x^T and dc/dx = (A + A^T) x, here with f = c.
TEST(Course, QuadraticFormGradientsMatchTheNotes) {
    constexpr std::size_t m = 4;
    Tensor A = rand64({m, m}, 1), x = rand64({m}, 2);
    const std::vector<double> a = A.to_vector(), v = x.to_vector();
    // Independent oracle: plain loops.
    double c = 0;
    std::vector<double> dA(m * m), dx(m, 0.0);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < m; ++j) {
            c += a[i * m + j] * v[i] * v[j];
            dA[i * m + j] = v[i] * v[j];                    // (x x^T)_ij
            dx[i] += (a[i * m + j] + a[j * m + i]) * v[j];  // ((A + A^T) x)_i
        }
    }
    // Both association orders: x^T (A x) and (x^T A) x.
    for (bool left_first : {false, true}) {
        A.zero_grad();
        x.zero_grad();
        Tensor out = left_first ? matmul(matmul(x, A), x) : matmul(x, matmul(A, x));
        EXPECT_EQ(out.shape(), Shape{});
        EXPECT_NEAR(out.item(), c, 1e-14);
        out.backward();
        const std::vector<double> gA = A.grad().to_vector(), gx = x.grad().to_vector();
        for (std::size_t k = 0; k < m * m; ++k) EXPECT_NEAR(gA[k], dA[k], 1e-14) << k;
        for (std::size_t k = 0; k < m; ++k) EXPECT_NEAR(gx[k], dx[k], 1e-14) << k;
    }
    EXPECT_TRUE(grad_ok([](const V& in) { return matmul(in[1], matmul(in[0], in[1])); },
                        {rand64({m, m}, 3), rand64({m}, 4)}));
}

double sig(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Notes 000 section 2 and 002: z1 = x w1, a1 = sigmoid(z1), z2 = a1 w2, a2 = sigmoid(z2),
// Loss = 1/2 (a2 - y*)^2, and the chain-rule formulas of parts 4 and 6.
TEST(Course, TwoWeightSigmoidNetMatchesBothChainRuleFormulas) {
    const double xv = 1.5, w1v = 0.8, w2v = -1.2, target = 1.0;
    Tensor x = scalar(xv, f64), y_star = scalar(target, f64);
    Tensor w1 = scalar(w1v, f64, true), w2 = scalar(w2v, f64, true);
    Tensor z1 = x * w1, a1 = sigmoid(z1), z2 = a1 * w2, a2 = sigmoid(z2);
    Tensor loss = 0.5 * square(a2 - y_star);
    // Forward values: written out (Python's math module), and the same formulas in doubles.
    EXPECT_NEAR(z1.item(), 1.2, 1e-15);
    EXPECT_NEAR(a1.item(), 0.7685247834990178, 1e-15);
    EXPECT_NEAR(z2.item(), -0.9222297401988213, 1e-15);
    EXPECT_NEAR(a2.item(), 0.2845037872914166, 1e-15);
    EXPECT_NEAR(loss.item(), 0.25596741520016314, 1e-15);
    const double a1v = sig(xv * w1v), a2v = sig(a1v * w2v);
    EXPECT_NEAR(a2.item(), a2v, 1e-15);

    loss.backward();
    // Part 4: dLoss/dw2 = (a2 - y*) a2 (1 - a2) a1.
    const double dw2 = (a2v - target) * a2v * (1 - a2v) * a1v;
    // Part 6: dLoss/dw1 = (a2 - y*) a2 (1 - a2) w2 a1 (1 - a1) x.
    const double dw1 = (a2v - target) * a2v * (1 - a2v) * w2v * a1v * (1 - a1v) * xv;
    EXPECT_NEAR(w2.grad().item(), dw2, 1e-12);
    EXPECT_NEAR(w1.grad().item(), dw1, 1e-12);
    EXPECT_NEAR(dw2, -0.11193363508837176, 1e-15);  // and the formulas' own values
    EXPECT_NEAR(dw1, 0.04663775234848103, 1e-15);

    // Part 7: one gradient-descent step w1 <- w1 - alpha * dLoss/dw1.
    const double alpha = 0.1;
    w1.mutable_value().set(0, w1.item() - alpha * w1.grad().item());
    EXPECT_NEAR(w1.item(), w1v - alpha * dw1, 1e-15);

    EXPECT_TRUE(grad_ok(
        [](const V& p) {
            Tensor out = sigmoid(sigmoid(p[0] * 1.5) * p[1]);
            return 0.5 * square(out - 1.0);
        },
        {scalar(w1v, f64, true), scalar(w2v, f64, true)}));
}

// Note 000 section 1: one neuron with the step activation g(z) = 1 if z >= 0 else -1,
// weights w = (2, -2), first point x = (-1, 2) with label y* = 1, Loss = 1/2 (g(z) - y*)^2.
TEST(Course, StepNeuronHasZeroGradientSoGradientDescentCannotLearn) {
    Tensor w = tensor({2, -2}, f64, true);
    Tensor x = tensor({-1, 2}, f64);
    Tensor z = matmul(w, x);
    // NOTE: the notes print g(2 * -1 + -2 * 2) = g(-5); the score is 2 * -1 + -2 * 2 = -6.
    // Either way it is negative, so the point is misclassified (the conclusion is unchanged).
    EXPECT_EQ(z.item(), -6.0);
    Tensor y = step(z);
    EXPECT_EQ(y.item(), -1.0);
    Tensor loss = 0.5 * square(y - 1.0);
    EXPECT_EQ(loss.item(), 2.0);  // a real error ...
    loss.backward();
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{0, 0}));  // ... and exactly no gradient
    // w <- w - alpha * dLoss/dw leaves the weights at (2, -2).
    const double alpha = 0.5;
    const std::vector<double> g = w.grad().to_vector();
    for (std::size_t k = 0; k < 2; ++k) {
        w.mutable_value().set(k, w.value().at(k) - alpha * g[k]);
    }
    EXPECT_EQ(w.to_vector(), (std::vector<double>{2, -2}));
    // The perceptron update of the same note (w + y* x) would have moved them to (1, 0).
}

}  // namespace
}  // namespace xgrad
