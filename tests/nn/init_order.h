#pragma once
// Networks built two ways after the same manual_seed(): from one argument list, whose
// evaluation order the compiler chooses (g++ right to left, clang left to right), and module
// by module in registration order. Issue 12: the same seed must give the same network either
// way, with every compiler. Shared by the gtest and by init_order_main.cpp, which is compiled
// with clang too.

#include <cstdint>
#include <memory>
#include <vector>

#include "nn/nn.h"

namespace xgrad::testing {

/// Every parameter value of `net`, then its training-mode output on a fixed input (which also
/// shows the Dropout masks).
inline std::vector<double> fingerprint_values(nn::Module& net, std::size_t in) {
    std::vector<double> out;
    for (const Tensor& p : net.parameters()) {
        for (double v : p.to_vector()) out.push_back(v);
    }
    net.train();
    const Tensor x = uniform(Shape{3, in}, -1, 1, /*seed=*/5);
    for (double v : net.forward(x).to_vector()) out.push_back(v);
    return out;
}

/// The README's 784-128-10 MLP, from one argument list.
inline std::vector<double> mlp_from_arguments(std::uint64_t seed) {
    nn::manual_seed(seed);
    auto net =
        std::make_shared<nn::Sequential>(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
    return fingerprint_values(*net, 784);
}

/// The same MLP, layer by layer.
inline std::vector<double> mlp_one_by_one(std::uint64_t seed) {
    nn::manual_seed(seed);
    auto net = std::make_shared<nn::Sequential>();
    net->push_back(nn::Linear(784, 128));
    net->push_back(nn::ReLU());
    net->push_back(nn::Linear(128, 10));
    return fingerprint_values(*net, 784);
}

/// Nested containers and Dropout layers (which draw their mask seeds from the same stream),
/// from argument lists.
inline std::vector<double> nested_from_arguments(std::uint64_t seed) {
    nn::manual_seed(seed);
    auto net = std::make_shared<nn::Sequential>(
        nn::Sequential(nn::Linear(5, 4), nn::Dropout(0.5), nn::Linear(4, 4)), nn::Tanh(),
        std::make_shared<nn::Linear>(4, 3), nn::Dropout(0.25), nn::Linear(3, 2));
    return fingerprint_values(*net, 5);
}

/// The same, module by module.
inline std::vector<double> nested_one_by_one(std::uint64_t seed) {
    nn::manual_seed(seed);
    auto inner = std::make_shared<nn::Sequential>();
    inner->push_back(nn::Linear(5, 4));
    inner->push_back(nn::Dropout(0.5));
    inner->push_back(nn::Linear(4, 4));
    auto net = std::make_shared<nn::Sequential>();
    net->push_back(inner);
    net->push_back(nn::Tanh());
    net->push_back(std::make_shared<nn::Linear>(4, 3));
    net->push_back(nn::Dropout(0.25));
    net->push_back(nn::Linear(3, 2));
    return fingerprint_values(*net, 5);
}

}  // namespace xgrad::testing
