// Seed 003: the L-layer backpropagation algorithm. Computes the slides' deltas for a 3-layer
// sigmoid network with plain loops and prints them next to the gradients the engine computes
// (the recursion is in examples/course/backprop_delta.h).
//
//   ./build/examples/backprop_delta

#include "examples/course/backprop_delta.h"

#include <iostream>

#include "examples/course/xor.h"

using namespace xgrad;

int main() {
    // m, m^(1), m^(2), m^(L) = 1, weights and biases from Unif[-1, 1]
    nn::Sequential net = examples::sigmoid_mlp({2, 3, 2, 1}, /*seed=*/3);
    examples::Report r(std::cout);
    r << nn::to_string(net) << "\n\n";
    const examples::DeltaCheck d =
        examples::delta_check(r, net, examples::xor_inputs(), examples::xor_targets());
    return d.largest_difference < 1e-12 ? 0 : 1;
}
