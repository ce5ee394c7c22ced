// The README's demo: the course notes worked through by the engine, the course's graphs drawn,
// a 784-128-10 MLP trained on Fashion-MNIST, saved, reloaded and checked, then a LeNet-5 CNN.
//   demo [output dir]   (default: out/)

#include <iostream>
#include <string>

#include "examples/course_figures.h"
#include "examples/fashion_mnist.h"
#include "examples/walkthrough.h"

int main(int argc, char** argv) {
    using namespace xgrad;
    const std::string out = argc > 1 ? argv[1] : "out";

    std::cout << "==================== 1. The course notes, every exercise ====================\n";
    examples::run_walkthrough(std::cout);

    std::cout << "\n==================== 2. The course's graphs, drawn ====================\n";
    for (const std::string& path : examples::write_course_figures(out)) {
        std::cout << "wrote " << path << "\n";
    }
    if (!graphviz_available()) {
        std::cout << "(Graphviz's dot is not installed: only the .dot files were written)\n";
    }
    std::cout << "\n";
    examples::print_traced_two_weight_net(std::cout);

    std::cout << "\n==================== 3. Fashion-MNIST ====================\n";
    const int mlp = examples::run_fashion_mnist(out);
    std::cout << "\n==================== 4. Fashion-MNIST, a CNN ====================\n";
    examples::FashionOptions cnn;
    cnn.cnn = true;
    cnn.epochs = 10;
    const int conv = examples::run_fashion_mnist(out, cnn);
    return mlp != 0 ? mlp : conv;
}
