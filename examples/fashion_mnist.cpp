// Trains a 784-128-10 MLP on Fashion-MNIST (Debian: dataset-fashion-mnist), saves it, reloads
// it and checks the predictions, and draws the loss curve (examples/fashion_mnist.h).
//
//   ./build/examples/fashion_mnist [out_dir] [--epochs N] [--batch N] [--lr X] [--seed N]
//                                  [--train-limit N] [--test-limit N] [--data DIR] [--svg]
//                                  [--cnn] [--batch-norm] [--channels C1 C2] [--cosine]
// --cnn trains the LeNet-5-style CNN instead of the MLP (--batch-norm: with BatchNorm2d;
// --channels: its two convolutions' widths, LeNet's 6 and 16 by default; --cosine: anneal the
// learning rate to 0 over the epochs). The demo's CNN: --batch-norm --channels 16 32 --cosine.
//
// out_dir defaults to "out". OPENBLAS_NUM_THREADS=1 is the intended setting on small machines.

#include "examples/fashion_mnist.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [out_dir] [--epochs N] [--batch N] [--lr X] [--seed N] "
                 "[--train-limit N] [--test-limit N] [--data DIR] [--svg] [--cnn] [--batch-norm] "
                 "[--channels C1 C2] [--cosine]\n",
                 argv0);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    xgrad::examples::FashionOptions opts;
    std::string out_dir = "out";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        auto number = [&]() { return std::strtoull(argv[++i], nullptr, 10); };
        if (arg == "--cnn") {
            opts.cnn = true;
        } else if (arg == "--batch-norm") {
            opts.cnn = true;
            opts.batch_norm = true;
        } else if (arg == "--channels" && i + 2 < argc) {
            opts.cnn = true;
            opts.conv1_channels = number();
            opts.conv2_channels = number();
        } else if (arg == "--cosine") {
            opts.cosine_lr = true;
        } else if (arg == "--svg") {
            opts.plot = xgrad::data::PlotFormat::Svg;
        } else if (arg == "--epochs" && has_value) {
            opts.epochs = number();
        } else if (arg == "--batch" && has_value) {
            opts.batch_size = number();
        } else if (arg == "--seed" && has_value) {
            opts.seed = number();
        } else if (arg == "--train-limit" && has_value) {
            opts.train_limit = number();
        } else if (arg == "--test-limit" && has_value) {
            opts.test_limit = number();
        } else if (arg == "--lr" && has_value) {
            opts.lr = std::strtod(argv[++i], nullptr);
        } else if (arg == "--data" && has_value) {
            opts.data_dir = argv[++i];
        } else if (!arg.empty() && arg[0] != '-') {
            out_dir = arg;
        } else {
            return usage(argv[0]);
        }
    }
    return xgrad::examples::run_fashion_mnist(out_dir, opts);
}
