// Seed 004: the 2-2-1 sigmoid network with bias, given weights, one example, half squared error,
// one SGD step with rate 2. Every quantity the solution asks for, checked to 1e-9 against exact
// values computed here with plain double arithmetic (std::exp), independently of the engine.
//
// Where the printed solution rounds: it takes sigma(24) = 0.999 (exactly 0.99999999996224), so
// its alpha^2 = -1.996 (exact -1.99999999984899) and everything downstream differs from the exact
// values from the third or fourth digit on:
//   yhat       0.119623     exact 0.119202922038
//   loss       0.38753      exact 0.387901746273
//   dl/dW2_11 -0.04635772   exact -0.0462390216194
//   dl/dW1_21 -0.23178      exact -0.231195108097
//   W2_11      2.0927       exact 2.09247804324
//   W1_21      1.4636       exact 1.46239021619
// The tests pin the exact values, and check that the printed ones are what the same formulas give
// with sigma(24) rounded to 0.999.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "nn/nn.h"

namespace xgrad {
namespace {

double sigma(double z) { return 1 / (1 + std::exp(-z)); }

// The solution's chain, written out with the notes' names: the hand computation the engine must
// reproduce.
struct Exact {
    // W^1 (3x2) and W^2 (3x1), first row the bias; x = (1, 2, 5) with the bias feature.
    double W1[3][2] = {{-1, 2}, {-2, 1}, {1, 4}};
    double W2[3] = {1, 2, -4};
    double x[3] = {1, 2, 5};
    double y = 1;

    double alpha1[2], beta1[2], alpha2, yhat, loss, dW2_11, dW1_21, W2_11_new, W1_21_new;

    Exact() {
        for (int j = 0; j < 2; ++j) {
            alpha1[j] = W1[0][j] * x[0] + W1[1][j] * x[1] + W1[2][j] * x[2];  // W^1T x
            beta1[j] = sigma(alpha1[j]);
        }
        alpha2 = W2[0] * 1 + W2[1] * beta1[0] + W2[2] * beta1[1];  // W^2T (1, beta^1)
        yhat = sigma(alpha2);
        loss = 0.5 * (y - yhat) * (y - yhat);
        const double dl_dalpha2 = -(y - yhat) * yhat * (1 - yhat);  // dl/dyhat dyhat/dalpha^2
        dW2_11 = dl_dalpha2 * beta1[0];                             // dalpha^2/dW2_11 = beta^1_1
        // dalpha^2/dbeta^1_1 = W2_11, dbeta^1_1/dalpha^1_1 = beta(1 - beta), dalpha^1_1/dW1_21 =
        // x_2
        dW1_21 = dl_dalpha2 * W2[1] * beta1[0] * (1 - beta1[0]) * x[2];
        W2_11_new = W2[1] - 2 * dW2_11;
        W1_21_new = W1[2][0] - 2 * dW1_21;
    }
};

class Net221 : public ::testing::Test {
protected:
    Net221() {
        // Linear keeps the bias apart: weight = rows 1-2 of W, bias = row 0.
        auto l1 = net->at<nn::Linear>(0), l2 = net->at<nn::Linear>(2);
        nn::init::copy_(l1->weight(), {-2, 1, 1, 4});
        nn::init::copy_(l1->bias(), {-1, 2});
        nn::init::copy_(l2->weight(), {2, -4});
        nn::init::copy_(l2->bias(), {1});
        l1_ = l1;
        l2_ = l2;
    }
    std::shared_ptr<nn::Sequential> net = std::make_shared<nn::Sequential>(
        nn::Linear(2, 2, true, f64), nn::Sigmoid(), nn::Linear(2, 1, true, f64), nn::Sigmoid());
    std::shared_ptr<nn::Linear> l1_, l2_;
    Tensor x = tensor({2, 5}, Shape{1, 2}, f64);
    Tensor y = tensor({1}, Shape{1, 1}, f64);
    Exact e;
};

TEST_F(Net221, HiddenInputsAreZeroAndTwentyFour) {
    Tensor alpha1 = l1_->forward(x);
    EXPECT_EQ(alpha1.to_vector(), (std::vector<double>{0, 24}));  // exact in binary
    EXPECT_EQ(e.alpha1[0], 0.0);
    EXPECT_EQ(e.alpha1[1], 24.0);
}

TEST_F(Net221, HiddenOutputsYhatAndLossAreExact) {
    Tensor beta1 = sigmoid(l1_->forward(x));
    EXPECT_NEAR(beta1.at({0, 0}), 0.5, 1e-15);
    EXPECT_NEAR(beta1.at({0, 1}), e.beta1[1], 1e-15);
    EXPECT_NEAR(e.beta1[1], 0.9999999999622486, 1e-15);  // the solution's 0.999
    Tensor yhat = net->forward(x);
    EXPECT_NEAR(yhat.item(), e.yhat, 1e-9);
    EXPECT_NEAR(e.yhat, 0.119202922038, 1e-12);
    EXPECT_NEAR(e.alpha2, -1.9999999998489946, 1e-14);  // the solution's -1.996
    EXPECT_NEAR(nn::half_squared_error(yhat, y).item(), e.loss, 1e-9);
    EXPECT_NEAR(e.loss, 0.387901746273, 1e-12);
    // The printed numbers are the exact ones with sigma(24) rounded to 0.999:
    EXPECT_NEAR(sigma(1 + 2 * 0.5 - 4 * 0.999), 0.119623, 1e-6);
    EXPECT_NEAR(0.5 * (1 - 0.119623) * (1 - 0.119623), 0.38753, 1e-5);
    EXPECT_LT(yhat.item(), 0.5);  // "What does our model classify x as?" 0
}

TEST_F(Net221, GradientsOfTheTwoAskedWeightsAreExact) {
    nn::half_squared_error(net->forward(x), y).backward();
    // W2_11 is the second layer's weight from hidden unit 1: weight[0][0].
    EXPECT_NEAR(l2_->weight().grad().at({0, 0}), e.dW2_11, 1e-9);
    // W1_21 is the first layer's weight from x_2 to hidden unit 1: weight[1][0].
    EXPECT_NEAR(l1_->weight().grad().at({1, 0}), e.dW1_21, 1e-9);
    EXPECT_NEAR(e.dW2_11, -0.0462390216194, 1e-12);
    EXPECT_NEAR(e.dW1_21, -0.231195108097, 1e-12);
    // the solution's -0.04635772 is the same formula at its rounded yhat
    const double yr = 0.119623;
    EXPECT_NEAR(-(1 - yr) * yr * (1 - yr) * 0.5, -0.04635772, 1e-8);
    EXPECT_NEAR(-(1 - yr) * yr * (1 - yr) * 2 * 0.25 * 5, -0.23178, 1e-5);
}

TEST_F(Net221, OneSgdStepWithRateTwoGivesTheUpdatedWeights) {
    nn::optim::SGD opt(net->parameters(), nn::optim::SGDOptions(2.0));
    opt.zero_grad();
    nn::half_squared_error(net->forward(x), y).backward();
    opt.step();
    EXPECT_NEAR(l2_->weight().at({0, 0}), e.W2_11_new, 1e-9);
    EXPECT_NEAR(l1_->weight().at({1, 0}), e.W1_21_new, 1e-9);
    EXPECT_NEAR(e.W2_11_new, 2.09247804324, 1e-11);
    EXPECT_NEAR(e.W1_21_new, 1.46239021619, 1e-11);
    std::printf(
        "seed 004, exact: alpha1 = (%g, %g), beta1 = (%.17g, %.17g), alpha2 = %.17g,\n"
        "  yhat = %.17g, loss = %.17g, dl/dW2_11 = %.17g, dl/dW1_21 = %.17g,\n"
        "  W2_11 = %.17g, W1_21 = %.17g\n",
        e.alpha1[0], e.alpha1[1], e.beta1[0], e.beta1[1], e.alpha2, e.yhat, e.loss, e.dW2_11,
        e.dW1_21, e.W2_11_new, e.W1_21_new);
    // printed: 2.0927 and 1.4636, from the rounded gradients
    EXPECT_NEAR(2 - 2 * -0.04635772, 2.0927, 1e-4);
    EXPECT_NEAR(1 - 2 * -0.23178, 1.4636, 1e-4);
}

}  // namespace
}  // namespace xgrad
