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

    std::printf("\n");
    examples::print_traced_two_weight_net(std::cout);
    return 0;
}
