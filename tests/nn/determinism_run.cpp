// One training run for the determinism test (tests/nn/determinism_check.cmake runs it twice,
// as two processes, and compares the files byte for byte):
//   xgrad_determinism_run <out.xgt> <seed>
// trains a 16-32-32-4 MLP with dropout and Adam for 3 epochs on 400 seeded samples, shuffled
// by a seeded loader, and saves the weights and the optimizer state.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>

#include "nn/nn.h"
#include "tests/nn/blobs.h"

int main(int argc, char** argv) {
    using namespace xgrad;
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <out.xgt> <seed>\n", argv[0]);
        return 2;
    }
    try {
        const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
        nn::manual_seed(seed);  // every Linear's initial values
        auto net = std::make_shared<nn::Sequential>(
            nn::Linear(16, 32), nn::ReLU(), nn::Dropout(0.2, /*seed=*/seed + 1), nn::Linear(32, 32),
            nn::ReLU(), nn::Dropout(0.2, /*seed=*/seed + 2), nn::Linear(32, 4));
        nn::optim::Adam adam(net->named_parameters(), nn::optim::AdamOptions(3e-3));
        const data::DataLoader train(xgrad::testing::blobs(400, 16, 4, seed, seed + 3),
                                     {/*batch_size=*/32, /*shuffle=*/true, /*seed=*/seed + 4});
        std::ostringstream log;
        nn::FitOptions fo;
        fo.epochs = 3;
        fo.out = &log;
        const auto history = nn::fit(*net, adam, train, nullptr, fo);
        nn::save_checkpoint(argv[1], *net, &adam);
        std::printf("seed %s: train loss %.6f acc %.4f after %zu epochs, saved %s\n", argv[2],
                    history.back().train_loss, history.back().train_accuracy, history.size(),
                    argv[1]);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "determinism_run: %s\n", e.what());
        return 1;
    }
}
