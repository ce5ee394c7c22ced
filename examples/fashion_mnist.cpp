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

#include <string>

#include "examples/cli.h"

int main(int argc, char** argv) {
    xgrad::examples::FashionOptions opts;
    std::string out_dir = "out";
    xgrad::examples::Cli cli(
        "usage: fashion_mnist [out_dir] [--epochs N] [--batch N] [--lr X] [--seed N] "
        "[--train-limit N] [--test-limit N] [--data DIR] [--svg] [--cnn] [--batch-norm] "
        "[--channels C1 C2] [--cosine]");
    cli.positional(out_dir)
        .flag("--cnn", [&] { opts.cnn = true; })
        .flag("--batch-norm",
              [&] {
                  opts.cnn = true;
                  opts.batch_norm = true;
              })
        .values("--channels", 2,
                [&](char** v) {
                    opts.cnn = true;
                    return xgrad::examples::Cli::to_count(v[0], opts.conv1_channels) &&
                           xgrad::examples::Cli::to_count(v[1], opts.conv2_channels);
                })
        .flag("--cosine", [&] { opts.cosine_lr = true; })
        .flag("--svg", [&] { opts.plot = xgrad::data::PlotFormat::Svg; })
        .count("--epochs", opts.epochs)
        .count("--batch", opts.batch_size)
        .count("--seed", opts.seed)
        .count("--train-limit", opts.train_limit)
        .count("--test-limit", opts.test_limit)
        .real("--lr", opts.lr)
        .text("--data", opts.data_dir);
    if (!cli.parse(argc, argv)) return 2;
    return xgrad::examples::run_fashion_mnist(out_dir, opts);
}
