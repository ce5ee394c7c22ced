// Draws figures 4 and 5 of course note 001 from the engine, and prints the backward trace of
// the two-weight sigmoid net of notes 000/002.
//   course_figures [output dir]   (default: the current directory)

#include "examples/course_figures.h"

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    using namespace xgrad;
    const std::string dir = argc > 1 ? argv[1] : ".";
    for (const std::string& path : examples::write_course_figures(dir)) {
        std::printf("wrote %s\n", path.c_str());
    }
    if (!graphviz_available()) {
        std::printf(
            "Graphviz's 'dot' is not installed: only the .dot files were written "
            "(sudo apt-get install graphviz)\n");
    }

    std::printf("\nThe two-weight sigmoid net of notes 000/002, backward traced:\n\n");
    Tensor x = scalar(1.0, f64).set_name("x");
    Tensor w1 = scalar(0.5, f64, true).set_name("w1");
    Tensor w2 = scalar(-1.5, f64, true).set_name("w2");
    Tensor ystar = scalar(1.0, f64).set_name("y*");
    Tensor z1 = (x * w1).set_name("z1");
    Tensor a1 = sigmoid(z1).set_name("a1");
    Tensor z2 = (a1 * w2).set_name("z2");
    Tensor a2 = sigmoid(z2).set_name("a2");
    Tensor loss = (0.5 * square((a2 - ystar).set_name("a2 - y*"))).set_name("Loss");
    BackwardTraceGuard trace(std::cout);
    loss.backward();
    return 0;
}
