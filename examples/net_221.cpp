// Seed 004: the 2-2-1 sigmoid network, worked through as the solution does, with the engine's
// exact numbers next to the solution's printed (rounded) ones.
//
//   ./build/examples/net_221

#include <cstdio>
#include <string>

#include "nn/nn.h"

using namespace xgrad;

namespace {
template <class... A>
std::string fmt(const char* f, A... args) {
    char buf[96];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}
void row(const char* what, const std::string& exact, const char* printed) {
    std::printf("%-38s %-26s %s\n", what, exact.c_str(), printed);
}
}  // namespace

int main() {
    // W1 (3x2) and W2 (3x1) with the bias as first row; Linear keeps the bias apart.
    auto net =
        std::make_shared<nn::Sequential>(nn::Linear(2, 2, /*bias=*/true, f64), nn::Sigmoid(),
                                         nn::Linear(2, 1, /*bias=*/true, f64), nn::Sigmoid());
    auto l1 = net->at<nn::Linear>(0), l2 = net->at<nn::Linear>(2);
    nn::init::copy_(l1->bias(), {-1, 2});
    nn::init::copy_(l1->weight(), {-2, 1, 1, 4});
    nn::init::copy_(l2->bias(), {1});
    nn::init::copy_(l2->weight(), {2, -4});
    const Tensor x = tensor({2, 5}, Shape{1, 2}, f64), y = tensor({1}, Shape{1, 1}, f64);

    std::printf("Seed 004: 2-2-1 sigmoid network, x = (2, 5), y = 1, loss l = 1/2 (y - yhat)^2\n");
    std::printf("W1 = [[-1, 2], [-2, 1], [1, 4]], W2 = [1, 2, -4] (first rows: bias)\n\n");
    std::printf("%s\n\n", nn::to_string(*net).c_str());

    // Forward, step by step as the solution asks.
    const Tensor alpha1 = l1->forward(x), beta1 = sigmoid(alpha1);
    const Tensor alpha2 = l2->forward(beta1), yhat = sigmoid(alpha2);
    const Tensor loss = nn::half_squared_error(yhat, y);
    std::printf("%-38s %-26s %s\n", "", "exact", "solution");
    row("3. alpha1 = W1^T x", fmt("[%g, %g]", alpha1.at({0, 0}), alpha1.at({0, 1})), "[0, 24]");
    row("4. beta1 = sigma(alpha1)", fmt("[%g, %.14g]", beta1.at({0, 0}), beta1.at({0, 1})),
        "[0.5, 0.999]");
    row("5. alpha2 = W2^T (1, beta1)", fmt("%.15g", alpha2.item()), "-1.996");
    row("6. yhat = sigma(alpha2)", fmt("%.12g", yhat.item()), "0.119623");
    row("7. class = [yhat > 0.5]", fmt("%d", yhat.item() > 0.5 ? 1 : 0), "0");
    row("8. loss = 1/2 (y - yhat)^2", fmt("%.12g", loss.item()), "0.38753");

    // Backward and one SGD step with rate 2.
    nn::optim::SGD opt(net->parameters(), nn::optim::SGDOptions(2.0));
    opt.zero_grad();
    nn::half_squared_error(net->forward(x), y).backward();
    // W2_11: hidden unit 1 -> output, weight[0][0]; W1_21: x_2 -> hidden unit 1, weight[1][0].
    row("dl/dW2_11", fmt("%.12g", l2->weight().grad().at({0, 0})), "-0.04635772");
    row("dl/dW1_21", fmt("%.12g", l1->weight().grad().at({1, 0})), "-0.23178");
    opt.step();
    row("9. rate 2: W2_11 = 2 - 2 dl/dW2_11", fmt("%.12g", l2->weight().at({0, 0})), "2.0927");
    row("         W1_21 = 1 - 2 dl/dW1_21", fmt("%.12g", l1->weight().at({1, 0})), "1.4636");
    std::printf(
        "\ndl/dW2_11 = -(y - yhat) yhat (1 - yhat) beta1_1\n"
        "dl/dW1_21 = -(y - yhat) yhat (1 - yhat) W2_11 beta1_1 (1 - beta1_1) x_2\n"
        "The solution rounds sigma(24) = 0.99999999996 to 0.999; every number after it carries\n"
        "that rounding from the third or fourth digit on.\n");
    return 0;
}
