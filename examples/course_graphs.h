#pragma once
// The computation graphs of the course notes, computed by xgrad and printed with every number.
// Each function prints one exercise to a Report and returns the numbers it computed. Shared by
// the demo and the walkthrough (examples/walkthrough.h).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "examples/course/report.h"

namespace xgrad::examples {

/// Note 001, figure 4: f = g * z with g = x + y.
struct Figure4 {
    double g, f, df_dg, df_dz, df_dx, df_dy;
};

/// Note 001, figure 4: f = (x + y) * z at x = 2, y = 3, z = 4.
inline Figure4 figure4(Report& r) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor g = x + y;
    g.retain_grad();
    Tensor f = g * z;
    f.backward();
    const Figure4 v{g.item(),        f.item(),        g.grad().item(),
                    z.grad().item(), x.grad().item(), y.grad().item()};
    r << "Figure 4: f = (x + y) * z at x = 2, y = 3, z = 4\n"
      << "  forward:  g = x + y = " << num(v.g) << ", f = g * z = " << num(v.f) << "\n"
      << "  backward: df/df = 1, df/dg = z = " << num(v.df_dg) << ", df/dz = g = " << num(v.df_dz)
      << "\n            df/dx = df/dg * dg/dx = " << num(v.df_dg) << " * 1 = " << num(v.df_dx)
      << ", df/dy = df/dg * dg/dy = " << num(v.df_dg) << " * 1 = " << num(v.df_dy) << "\n";
    return v;
}

/// Note 001, figure 5: f = g * z with g = h + i, h = x + y, i = x * y.
struct Figure5 {
    double h, i, g, f, df_dg, df_dh, df_di, df_dz, df_dx, df_dy;
};

/// Note 001, figure 5: f = ((x + y) + (x * y)) * z at x = 2, y = 3, z = 4: x and y each feed two
/// nodes, so their gradients add at the junction.
inline Figure5 figure5(Report& r) {
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor h = x + y, i = x * y;
    Tensor g = h + i;
    Tensor f = g * z;
    for (Tensor* t : {&h, &i, &g}) t->retain_grad();
    f.backward();
    const Figure5 v{h.item(),        i.item(),        g.item(),        f.item(),
                    g.grad().item(), h.grad().item(), i.grad().item(), z.grad().item(),
                    x.grad().item(), y.grad().item()};
    r << "Figure 5: f = ((x + y) + (x * y)) * z at x = 2, y = 3, z = 4\n"
      << "  forward:  h = x + y = " << num(v.h) << ", i = x * y = " << num(v.i)
      << ", g = h + i = " << num(v.g) << ", f = g * z = " << num(v.f) << "\n"
      << "  backward: df/dg = " << num(v.df_dg) << ", df/dh = " << num(v.df_dh)
      << ", df/di = " << num(v.df_di) << ", df/dz = " << num(v.df_dz) << "\n"
      << "            df/dx = df/dh * 1 + df/di * y = " << num(v.df_dh) << " * 1 + " << num(v.df_di)
      << " * 3 = " << num(v.df_dx) << "\n"
      << "            df/dy = df/dh * 1 + df/di * x = " << num(v.df_dh) << " * 1 + " << num(v.df_di)
      << " * 2 = " << num(v.df_dy) << "\n";
    return v;
}

/// Note 000, section 3: c = x^T A x and its gradients, from the engine and from the formulas.
struct QuadraticForm {
    std::vector<double> A, x;  ///< A: (3, 3) row-major, x: (3)
    double c;
    std::vector<double> dA_engine, dx_engine;    ///< backward() with f = c
    std::vector<double> dA_formula, dx_formula;  ///< x x^T and (A + A^T) x
    double largest_difference;                   ///< between engine and formulas
};

/// Note 000, section 3, questions 1-4: c = x^T A x with f = c (df/dc = 1); dA = x x^T and
/// dx = (A + A^T) x, each checked against the engine's backward.
inline QuadraticForm quadratic_form(Report& r) {
    Tensor A = tensor({1, 2, 0, -1, 3, 1, 2, 0, 1}, {3, 3}, f64, true);
    Tensor x = tensor({1, -2, 3}, f64, true);
    Tensor c = matmul(x, matmul(A, x));  // (3)·((3,3)·(3)) -> ()
    c.backward();
    // The formulas, with the engine's ops on constants: x x^T is (3,1)·(1,3).
    const Tensor xc = x.detach(), Ac = A.detach();
    const Tensor outer = matmul(reshape(xc, Shape{3, 1}), reshape(xc, Shape{1, 3}));
    const Tensor sym = matmul(Ac + transpose(Ac), xc);
    QuadraticForm q{A.to_vector(),        x.to_vector(),     c.item(),        A.grad().to_vector(),
                    x.grad().to_vector(), outer.to_vector(), sym.to_vector(), 0.0};
    for (std::size_t k = 0; k < 9; ++k) {
        q.largest_difference =
            std::max(q.largest_difference, std::abs(q.dA_engine[k] - q.dA_formula[k]));
    }
    for (std::size_t k = 0; k < 3; ++k) {
        q.largest_difference =
            std::max(q.largest_difference, std::abs(q.dx_engine[k] - q.dx_formula[k]));
    }
    r << "c = x^T A x = sum_ij A_ij x_i x_j with A = " << format_values(A.value())
      << ", x = " << format_values(x.value()) << ",\n  and f = c (so df/dc = 1): c = " << num(q.c)
      << "\n"
      << "  Q1. df/dA_ij = df/dc x_i x_j; e.g. df/dA_12 = x_1 x_2 = " << num(q.x[0] * q.x[1])
      << " (engine: " << num(q.dA_engine[1]) << ")\n"
      << "  Q2. df/dA = df/dc x x^T = " << format_values(outer.value())
      << "\n      engine:              " << format_values(A.grad().value()) << "\n"
      << "  Q3. df/dx_k = df/dc sum_j (A_kj + A_jk) x_j; e.g. df/dx_1 = " << num(q.dx_formula[0])
      << " (engine: " << num(q.dx_engine[0]) << ")\n"
      << "  Q4. df/dx = df/dc (A + A^T) x = " << format_values(sym.value())
      << "\n      engine:                    " << format_values(x.grad().value()) << "\n"
      << "  largest difference, formulas vs engine: " << num(q.largest_difference) << "\n";
    return q;
}

/// Notes 000/002, section 2: the values chosen for the two-weight net, and the step size.
struct TwoWeightNetInput {
    double x, w1, w2, y_star, alpha;
};

/// Notes 000/002, section 2: forward values, the chain-rule factors and products, the engine's
/// gradients, and one gradient-descent step.
struct TwoWeightNet {
    TwoWeightNetInput in;
    double z1, a1, z2, a2, loss;                ///< part 1 and 2
    double dloss_da2, da2_dz2, dz2_dw2;         ///< part 4's factors
    double dz2_da1, da1_dz1, dz1_dw1;           ///< part 6's further factors
    double dloss_dw2, dloss_dw1;                ///< the products of parts 4 and 6
    double engine_dw2, engine_dw1;              ///< backward()
    double engine_dz2, engine_da1, engine_dz1;  ///< dLoss/d(node) from backward()
    double w1_new, w2_new, loss_new;            ///< part 7, both weights stepped
};

/// Notes 000/002, section 2, parts 1-7: z1 = x w1, a1 = sigmoid(z1), z2 = a1 w2,
/// a2 = sigmoid(z2), Loss = 1/2 (a2 - y*)^2, at the given values. `part2_printed`: the note's
/// misprinted part-2 formula, if it has one (recorded as a discrepancy).
inline TwoWeightNet two_weight_net(Report& r, const TwoWeightNetInput& in,
                                   const std::string& part2_printed = "") {
    Tensor x = scalar(in.x, f64), w1 = scalar(in.w1, f64, true), w2 = scalar(in.w2, f64, true);
    Tensor z1 = x * w1, a1 = sigmoid(z1), z2 = a1 * w2, a2 = sigmoid(z2);
    Tensor loss = 0.5 * square(a2 - in.y_star);
    for (Tensor* t : {&z1, &a1, &z2}) t->retain_grad();
    loss.backward();

    TwoWeightNet n{};
    n.in = in;
    n.z1 = z1.item(), n.a1 = a1.item(), n.z2 = z2.item(), n.a2 = a2.item(), n.loss = loss.item();
    n.dloss_da2 = n.a2 - in.y_star, n.da2_dz2 = n.a2 * (1 - n.a2), n.dz2_dw2 = n.a1;
    n.dz2_da1 = in.w2, n.da1_dz1 = n.a1 * (1 - n.a1), n.dz1_dw1 = in.x;
    n.dloss_dw2 = n.dloss_da2 * n.da2_dz2 * n.dz2_dw2;
    n.dloss_dw1 = n.dloss_da2 * n.da2_dz2 * n.dz2_da1 * n.da1_dz1 * n.dz1_dw1;
    n.engine_dw2 = w2.grad().item(), n.engine_dw1 = w1.grad().item();
    n.engine_dz2 = z2.grad().item(), n.engine_da1 = a1.grad().item();
    n.engine_dz1 = z1.grad().item();
    n.w1_new = in.w1 - in.alpha * n.engine_dw1;
    n.w2_new = in.w2 - in.alpha * n.engine_dw2;
    const Tensor stepped =
        0.5 * square(sigmoid(sigmoid(x * n.w1_new) * n.w2_new) - in.y_star);  // a constant graph
    n.loss_new = stepped.item();

    r << "Values chosen here: x = " << num(in.x) << ", w1 = " << num(in.w1)
      << ", w2 = " << num(in.w2) << ", y* = " << num(in.y_star)
      << ", step size alpha = " << num(in.alpha) << "; g1 = g2 = sigmoid\n";
    r << "Part 1. z1 = x * w1 = " << num(n.z1) << ", a1 = g1(z1) = " << num(n.a1)
      << ",\n        z2 = a1 * w2 = " << num(n.z2) << ", a2 = g2(z2) = " << num(n.a2) << "\n";
    r << "Part 2. Loss(a2, y*) = Loss(g2(w2 * g1(w1 * x)), y*) = 1/2 (a2 - y*)^2 = " << num(n.loss)
      << "\n";
    if (!part2_printed.empty()) {
        r.notes_mean("section 2, part 2", part2_printed, "Loss(g_2(w_2 * g_1(w_1 * x)), y*)");
    }
    r << "Part 3. dLoss/dw2 = dLoss/da2 * da2/dz2 * dz2/dw2\n";
    r << "Part 4. dLoss/da2 = a2 - y* = " << num(n.dloss_da2)
      << "\n        da2/dz2 = a2 (1 - a2) = " << num(n.da2_dz2)
      << "\n        dz2/dw2 = a1 = " << num(n.dz2_dw2)
      << "\n        dLoss/dw2 = (a2 - y*) * a2(1 - a2) * a1 = " << num(n.dloss_da2) << " * "
      << num(n.da2_dz2) << " * " << num(n.dz2_dw2) << " = " << num(n.dloss_dw2)
      << "\n        engine: dLoss/dw2 = " << num(n.engine_dw2) << "\n";
    r << "Part 5. dLoss/dw1 = dLoss/da2 * da2/dz2 * dz2/da1 * da1/dz1 * dz1/dw1\n";
    r << "Part 6. dz2/da1 = w2 = " << num(n.dz2_da1)
      << ", da1/dz1 = a1 (1 - a1) = " << num(n.da1_dz1) << ", dz1/dw1 = x = " << num(n.dz1_dw1)
      << "\n";
    r.notes_mean("section 2, part 6", "\"dz1/da1 = x\"", "dz1/dw1 = x",
                 "z1 = x * w1 does not depend on a1; the chain of part 5 needs dz1/dw1");
    r << "        dLoss/dw1 = (a2 - y*) * a2(1 - a2) * w2 * a1(1 - a1) * x\n"
      << "                  = " << num(n.dloss_da2) << " * " << num(n.da2_dz2) << " * "
      << num(n.dz2_da1) << " * " << num(n.da1_dz1) << " * " << num(n.dz1_dw1) << " = "
      << num(n.dloss_dw1) << "\n        engine: dLoss/dw1 = " << num(n.engine_dw1)
      << "; on the way it holds dLoss/dz2 = " << num(n.engine_dz2)
      << ", dLoss/da1 = " << num(n.engine_da1) << ", dLoss/dz1 = " << num(n.engine_dz1) << "\n";
    r << "Part 7. w1 <- w1 - alpha (a2 - y*) * a2(1 - a2) * w2 * a1(1 - a1) * x = " << num(in.w1)
      << " - " << num(in.alpha) << " * " << num(n.engine_dw1) << " = " << num(n.w1_new)
      << "\n        (and w2 <- w2 - alpha dLoss/dw2 = " << num(n.w2_new) << "): the loss goes from "
      << num(n.loss) << " to " << num(n.loss_new) << "\n";
    return n;
}

}  // namespace xgrad::examples
