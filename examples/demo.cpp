// The README's demo: the course notes worked through by the engine, the course's graphs drawn,
// a 784-128-10 MLP trained on Fashion-MNIST, saved, reloaded and checked, then a LeNet-5 CNN,
// then an LSTM and a small Transformer on a word list, against a counted bigram model.
//   demo [output dir]   (default: out/)

#include <exception>
#include <iostream>
#include <string>

#include "examples/char_lm.h"
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
    // LeNet-5's layout, wider (16 and 32 channels), with BatchNorm and a cosine schedule: LeNet's
    // own 6 and 16 channels stay near 0.89-0.90 test accuracy in 10 epochs.
    cnn.batch_norm = true;
    cnn.conv1_channels = 16;
    cnn.conv2_channels = 32;
    cnn.cosine_lr = true;
    const int conv = examples::run_fashion_mnist(out, cnn);
    std::cout << "\n============ 5. A character-level language model (wamerican) ============\n";
    int lm = 0;
    try {
        examples::CharLmOptions lm_opts;
        lm_opts.epochs = 1;  // a few minutes for both models; the standalone run trains 2
        examples::run_char_lm(lm_opts);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        lm = 1;
    }
    return mlp != 0 ? mlp : conv != 0 ? conv : lm;
}
