// Seed 003: XOR cannot be modelled by a single perceptron, but a 2-2-1 sigmoid network learns it
// by backpropagation from Unif[-1, 1] weights.

#include <gtest/gtest.h>

#include "nn/nn.h"

namespace xgrad {
namespace {

const Tensor kX = tensor({0, 0, 0, 1, 1, 0, 1, 1}, Shape{4, 2}, f64);
const Tensor kY = tensor({0, 1, 1, 0}, Shape{4, 1}, f64);

// Full-batch gradient descent on C = 1/2 sum_i (y_i - a_i)^2; returns the final loss.
double train(nn::Module& net, double lr, int epochs) {
    nn::optim::SGD opt(net.parameters(), nn::optim::SGDOptions(lr));
    double loss = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
        opt.zero_grad();
        Tensor c = nn::half_squared_error(net.forward(kX), kY);
        loss = c.item();
        c.backward();
        opt.step();
    }
    return loss;
}

int correct(nn::Module& net) {
    const std::vector<double> a = net.forward(kX).to_vector(), y = kY.to_vector();
    int n = 0;
    for (int i = 0; i < 4; ++i) n += (a[i] > 0.5) == (y[i] == 1);
    return n;
}

TEST(Xor, TwoTwoOneSigmoidMlpLearnsXorFromSeededUniformInit) {
    nn::Sequential net(nn::Linear(2, 2, true, f64), nn::Sigmoid(), nn::Linear(2, 1, true, f64),
                       nn::Sigmoid());
    // NOTE: with rate 2 and 2000 epochs, 35 of seeds 0..39 reach all four; the other 5 stall in
    // the known local minimum where one input pattern sits at 0.5. Seed 0 is one of the 35.
    nn::init::uniform_(net.parameters(), -1, 1, /*seed=*/0);
    const double loss = train(net, /*lr=*/2.0, /*epochs=*/2000);
    EXPECT_LT(loss, 0.01);
    EXPECT_EQ(correct(net), 4);
}

TEST(Xor, SingleLinearLayerCannotLearnXor) {
    nn::Sequential net(nn::Linear(2, 1, true, f64), nn::Sigmoid());
    nn::init::uniform_(net.parameters(), -1, 1, /*seed=*/0);
    const double loss = train(net, 2.0, 2000);
    EXPECT_LE(correct(net), 3);
    // The best a linear unit can do is 1/2 everywhere: C = 4 * 1/2 * (1/2)^2 = 0.5.
    EXPECT_GT(loss, 0.49);
}

TEST(Xor, NoPerceptronWeightsOnAGridSeparateXor) {
    // A linear threshold unit (Linear + Step, outputs +-1) tried with every weight on a grid:
    // none gives XOR's signs (-1, 1, 1, -1). (b < 0, w1 + b >= 0, w2 + b >= 0 would force
    // w1 + w2 + b >= -b > 0.)
    nn::Sequential perceptron(nn::Linear(2, 1, true, f64), nn::Step());
    auto fc = perceptron.at<nn::Linear>(0);
    const std::vector<double> want = {-1, 1, 1, -1};
    int tried = 0;
    for (double w1 = -4; w1 <= 4; w1 += 0.5) {
        for (double w2 = -4; w2 <= 4; w2 += 0.5) {
            for (double b = -4; b <= 4; b += 0.5) {
                nn::init::copy_(fc->weight(), {w1, w2});
                nn::init::copy_(fc->bias(), {b});
                ASSERT_NE(perceptron.forward(kX).to_vector(), want) << w1 << " " << w2 << " " << b;
                ++tried;
            }
        }
    }
    EXPECT_EQ(tried, 17 * 17 * 17);
}

}  // namespace
}  // namespace xgrad
