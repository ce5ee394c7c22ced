// A character-level language model on Debian's wamerican word list: the counted bigram
// baseline, an LSTM and a small causal Transformer, their dev losses in nats per character and
// 20 sampled words from each (examples/char_lm.h).
//
//   ./build/examples/char_lm [--model lstm|transformer|both] [--epochs N] [--batch N] [--lr X]
//                            [--seed N] [--train-limit N] [--dev-limit N] [--samples N]
//                            [--words FILE]
//
// OPENBLAS_NUM_THREADS=1 is the intended setting on small machines.

#include "examples/char_lm.h"

#include <cstdio>
#include <exception>

#include "examples/cli.h"

int main(int argc, char** argv) {
    xgrad::examples::CharLmOptions opts;
    xgrad::examples::Cli cli(
        "usage: char_lm [--model lstm|transformer|both] [--epochs N] [--batch N] [--lr X] "
        "[--seed N] [--train-limit N] [--dev-limit N] [--samples N] [--words FILE]");
    cli.text("--model", opts.model)
        .count("--epochs", opts.epochs)
        .count("--batch", opts.batch_size)
        .count("--seed", opts.seed)
        .count("--train-limit", opts.train_limit)
        .count("--dev-limit", opts.dev_limit)
        .count("--samples", opts.samples)
        .real("--lr", opts.lr)
        .text("--words", opts.words_path);
    if (!cli.parse(argc, argv)) return 2;
    try {
        xgrad::examples::run_char_lm(opts);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
