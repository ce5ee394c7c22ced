#pragma once
// Figures 4 and 5 of course note 001 drawn from the engine: the graphs are built, every interior
// node keeps its gradient, and the pictures show forward values in green and gradients in red.
// Shared by examples/course_figures.cpp, the demo and the tests.

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "autograd/autograd.h"

namespace xgrad::examples {

/// Note 001, figure 4: f = (x + y) * z at x = 2, y = 3, z = 4, after backward. Returns f, whose
/// graph (kept by backward(true)) holds every value and gradient.
inline Tensor figure4_graph() {
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor y = scalar(3, f64, true).set_name("y");
    Tensor z = scalar(4, f64, true).set_name("z");
    Tensor g = (x + y).set_name("g");
    Tensor f = (g * z).set_name("f");
    retain_grads(f);
    f.backward(/*retain_graph=*/true);
    return f;
}

/// Note 001, figure 5: f = ((x + y) + (x * y)) * z at the same values; x and y feed two ops
/// each, so their gradients add at the junctions (df/dx = 4 * 1 + 4 * 3 = 16).
inline Tensor figure5_graph() {
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor y = scalar(3, f64, true).set_name("y");
    Tensor z = scalar(4, f64, true).set_name("z");
    Tensor h = (x + y).set_name("h");
    Tensor i = (x * y).set_name("i");
    Tensor g = (h + i).set_name("g");
    Tensor f = (g * z).set_name("f");
    retain_grads(f);
    f.backward(/*retain_graph=*/true);
    return f;
}

inline std::string figure4_dot() {
    DotOptions o;
    o.title = "Figure 4: f = (x + y) * z, values in green, gradients in red";
    return to_dot(figure4_graph(), o);
}

inline std::string figure5_dot() {
    DotOptions o;
    o.title = "Figure 5: f = ((x + y) + (x * y)) * z, values in green, gradients in red";
    return to_dot(figure5_graph(), o);
}

/// Writes figure4.dot and figure5.dot into `dir` (created if missing) and, when Graphviz is
/// installed, figure4.svg/.png and figure5.svg/.png. Returns the paths written.
inline std::vector<std::string> write_course_figures(const std::string& dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> written;
    const std::pair<const char*, std::string> figures[] = {{"figure4", figure4_dot()},
                                                           {"figure5", figure5_dot()}};
    for (const auto& [name, dot] : figures) {
        const std::string base = (std::filesystem::path(dir) / name).string();
        {
            std::ofstream(base + ".dot") << dot;
            written.push_back(base + ".dot");
        }
        if (!graphviz_available()) continue;
        for (const char* ext : {".svg", ".png"}) {
            render_dot(dot, base + ext);
            written.push_back(base + ext);
        }
    }
    return written;
}

/// The two-weight sigmoid net of notes 000/002 at x = 1, w1 = 0.5, w2 = -1.5, y* = 1, with its
/// backward traced: the chain rule as the engine applies it.
inline void print_traced_two_weight_net(std::ostream& os) {
    os << "The two-weight sigmoid net of notes 000/002, backward traced:\n\n";
    Tensor x = scalar(1.0, f64).set_name("x");
    Tensor w1 = scalar(0.5, f64, true).set_name("w1");
    Tensor w2 = scalar(-1.5, f64, true).set_name("w2");
    Tensor ystar = scalar(1.0, f64).set_name("y*");
    Tensor z1 = (x * w1).set_name("z1");
    Tensor a1 = sigmoid(z1).set_name("a1");
    Tensor z2 = (a1 * w2).set_name("z2");
    Tensor a2 = sigmoid(z2).set_name("a2");
    Tensor loss = (0.5 * square((a2 - ystar).set_name("a2 - y*"))).set_name("Loss");
    BackwardTraceGuard trace(os);
    loss.backward();
}

}  // namespace xgrad::examples
