// Seed 003: XOR cannot be modelled by a single perceptron; a 2-2-1 sigmoid network learns it by
// backpropagation from Unif[-1, 1] weights. (The training loop is in examples/course/xor.h.)
//
//   ./build/examples/xor [seed]

#include "examples/course/xor.h"

#include <cstdlib>
#include <iostream>

using namespace xgrad;

namespace {

void train(nn::Module& net, const char* title, std::uint64_t seed) {
    nn::init::uniform_(net.parameters(), -1, 1, seed);  // w, b ~ Unif[-1, 1]
    examples::Report r(std::cout);
    r << title << ", seed " << seed << "\n" << nn::to_string(net) << "\n";
    examples::train_xor(r, net, /*lr=*/2.0, /*max_epochs=*/2000);
    r << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 0;
    nn::Sequential mlp(nn::Linear(2, 2, true, f64), nn::Sigmoid(), nn::Linear(2, 1, true, f64),
                       nn::Sigmoid());
    train(mlp, "2-2-1 sigmoid network", seed);
    nn::Sequential single(nn::Linear(2, 1, true, f64), nn::Sigmoid());
    train(single, "single sigmoid unit (a linear boundary)", seed);
    return 0;
}
