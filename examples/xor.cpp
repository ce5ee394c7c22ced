// Seed 003: XOR cannot be modelled by a single perceptron; a 2-2-1 sigmoid network learns it by
// backpropagation from Unif[-1, 1] weights.
//
//   ./build/examples/xor [seed]

#include <cstdio>
#include <cstdlib>

#include "nn/nn.h"

using namespace xgrad;

namespace {

const Tensor kX = tensor({0, 0, 0, 1, 1, 0, 1, 1}, Shape{4, 2}, f64);
const Tensor kY = tensor({0, 1, 1, 0}, Shape{4, 1}, f64);

void train(nn::Module& net, const char* title, std::uint64_t seed) {
    nn::init::uniform_(net.parameters(), -1, 1, seed);  // w, b ~ Unif[-1, 1]
    nn::optim::SGD opt(net.parameters(), nn::optim::SGDOptions(/*lr=*/2.0));
    std::printf("%s, seed %llu\n%s\n", title, static_cast<unsigned long long>(seed),
                nn::to_string(net).c_str());
    for (int epoch = 0; epoch <= 2000; ++epoch) {
        opt.zero_grad();
        Tensor c = nn::half_squared_error(net.forward(kX), kY);  // C = 1/2 sum (y_i - a_i)^2
        if (epoch % 400 == 0) std::printf("  epoch %4d  C = %.6f\n", epoch, c.item());
        c.backward();
        opt.step();
    }
    const std::vector<double> a = net.forward(kX).to_vector();
    std::printf("  x1 x2 | y | a        | yhat\n");
    int correct = 0;
    for (int i = 0; i < 4; ++i) {
        const int y = static_cast<int>(kY.to_vector()[i]), yhat = a[i] > 0.5;
        correct += y == yhat;
        std::printf("   %g  %g | %d | %.6f | %d\n", kX.at({std::size_t(i), 0}),
                    kX.at({std::size_t(i), 1}), y, a[i], yhat);
    }
    std::printf("  %d of 4 correct\n\n", correct);
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
