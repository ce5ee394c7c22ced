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
#include <cstdlib>
#include <exception>
#include <string>

namespace {

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--model lstm|transformer|both] [--epochs N] [--batch N] [--lr X] "
                 "[--seed N] [--train-limit N] [--dev-limit N] [--samples N] [--words FILE]\n",
                 argv0);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    xgrad::examples::CharLmOptions opts;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        auto number = [&]() { return std::strtoull(argv[++i], nullptr, 10); };
        if (arg == "--model" && has_value) {
            opts.model = argv[++i];
        } else if (arg == "--epochs" && has_value) {
            opts.epochs = number();
        } else if (arg == "--batch" && has_value) {
            opts.batch_size = number();
        } else if (arg == "--seed" && has_value) {
            opts.seed = number();
        } else if (arg == "--train-limit" && has_value) {
            opts.train_limit = number();
        } else if (arg == "--dev-limit" && has_value) {
            opts.dev_limit = number();
        } else if (arg == "--samples" && has_value) {
            opts.samples = number();
        } else if (arg == "--lr" && has_value) {
            opts.lr = std::strtod(argv[++i], nullptr);
        } else if (arg == "--words" && has_value) {
            opts.words_path = argv[++i];
        } else {
            return usage(argv[0]);
        }
    }
    try {
        xgrad::examples::run_char_lm(opts);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
