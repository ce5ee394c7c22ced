#pragma once
// Note 004: the 2-2-1 sigmoid network with bias, worked through question by question as the
// solution does, with the engine's exact numbers and, where the solution rounds, what it prints.
// Used by examples/net_221.cpp and the walkthrough.

#include <cmath>
#include <memory>
#include <vector>

#include "examples/course/report.h"
#include "nn/nn.h"

namespace xgrad::examples {

/// Every quantity note 004 asks for (exact, from the engine), and the solution's rounded chain
/// recomputed from its sigma(24) = 0.999.
struct Net221 {
    std::vector<double> alpha1, beta1;  ///< (0, 24), (0.5, sigma(24))
    double alpha2, yhat, loss;
    int predicted_class;  ///< [yhat > 0.5]
    // dl/dW2_11 = dl/dyhat * dyhat/dalpha2 * dalpha2/dW2_11
    double dl_dyhat, dyhat_dalpha2, dalpha2_dW2_11, dl_dW2_11;
    // dl/dW1_21 = dl/dyhat * dyhat/dalpha2 * dalpha2/dbeta1_1 * dbeta1_1/dalpha1_1 *
    //             dalpha1_1/dW1_21
    double dalpha2_dbeta1_1, dbeta1_1_dalpha1_1, dalpha1_1_dW1_21, dl_dW1_21;
    double engine_dW2_11, engine_dW1_21;  ///< from backward()
    double W2_11_new, W1_21_new;          ///< after one SGD step with rate 2 (nn::optim::SGD)
    // The solution's chain with sigma(24) rounded to 0.999.
    double rounded_alpha2, rounded_yhat, rounded_loss, rounded_dW2_11, rounded_dW1_21,
        rounded_W2_11, rounded_W1_21;
};

/// Note 004, questions 1-8 of the forward pass and 1-9 of the backward pass.
inline Net221 net_221(Report& r) {
    // W1 (3x2) and W2 (3x1) with the bias as first row; Linear keeps the bias apart and stores
    // the rest as (in, out), the notes' W^T x.
    auto net =
        std::make_shared<nn::Sequential>(nn::Linear(2, 2, /*bias=*/true, f64), nn::Sigmoid(),
                                         nn::Linear(2, 1, /*bias=*/true, f64), nn::Sigmoid());
    auto l1 = net->at<nn::Linear>(0), l2 = net->at<nn::Linear>(2);
    nn::init::copy_(l1->bias(), {-1, 2});
    nn::init::copy_(l1->weight(), {-2, 1, 1, 4});
    nn::init::copy_(l2->bias(), {1});
    nn::init::copy_(l2->weight(), {2, -4});
    const Tensor x = tensor({2, 5}, Shape{1, 2}, f64), y = tensor({1}, Shape{1, 1}, f64);
    const double y_value = 1, x2 = 5;

    r << "x = (2, 5), y = 1, squared error l = 1/2 (y - yhat)^2, one hidden layer of two "
         "sigmoid units, all biases\n";
    r << "Q1. x --W1--> alpha1 --sigmoid--> beta1 --W2--> alpha2 --sigmoid--> yhat; in xgrad:\n"
      << nn::to_string(*net) << "\n";
    r << "Q2. W1: 3 x 2, W2: 3 x 1 (first row: bias). xgrad keeps the bias apart: layer 0 "
         "weight (2, 2) + bias (2),\n    layer 2 weight (2, 1) + bias (1).\n";
    r << "    Given W1 = [[-1, 2], [-2, 1], [1, 4]], W2 = [1, 2, -4].\n";

    Net221 n{};
    const Tensor alpha1 = l1->forward(x), beta1 = sigmoid(alpha1);
    const Tensor alpha2 = l2->forward(beta1), yhat = sigmoid(alpha2);
    const Tensor loss = nn::half_squared_error(yhat, y);
    n.alpha1 = alpha1.to_vector(), n.beta1 = beta1.to_vector();
    n.alpha2 = alpha2.item(), n.yhat = yhat.item(), n.loss = loss.item();
    n.predicted_class = n.yhat > 0.5 ? 1 : 0;

    // The solution's rounded chain: sigma(24) printed as 0.999, everything after from it.
    n.rounded_alpha2 = 1 + 2 * 0.5 - 4 * 0.999;
    n.rounded_yhat = sigmoid(scalar(n.rounded_alpha2, f64)).item();
    n.rounded_loss = 0.5 * (y_value - n.rounded_yhat) * (y_value - n.rounded_yhat);
    const double rounded_delta =
        -(y_value - n.rounded_yhat) * n.rounded_yhat * (1 - n.rounded_yhat);
    n.rounded_dW2_11 = rounded_delta * 0.5;
    n.rounded_dW1_21 = rounded_delta * 2 * 0.25 * x2;
    n.rounded_W2_11 = 2 - 2 * n.rounded_dW2_11;
    n.rounded_W1_21 = 1 - 2 * n.rounded_dW1_21;

    r << "Q3. alpha1 = W1^T (1, x) = [-1 - 4 + 5, 2 + 2 + 20] = " << vec(n.alpha1) << "\n";
    r << "Q4. beta1 = sigma(alpha1) = [" << num(n.beta1[0]) << ", " << fmt("%.14f", n.beta1[1])
      << "]; with the bias: (1, beta1)\n";
    r.notes_print("Q4, beta1_2 = sigma(24)", "0.999", fmt("%.14f", n.beta1[1]),
                  "sigma(24) = 1 - " + fmt("%.2g", 1 - n.beta1[1]) +
                      "; to three decimals it is 1.000, not 0.999");
    r << "Q5. alpha2 = W2^T (1, beta1) = 1 + 2 * " << num(n.beta1[0]) << " - 4 * "
      << fmt("%.14f", n.beta1[1]) << " = " << fmt("%.14f", n.alpha2) << "\n";
    r.notes_print("Q5, alpha2", "1 + 1 - 3.996 = -1.996", fmt("%.14f", n.alpha2),
                  "from 0.999 in place of sigma(24)");
    r << "Q6. yhat = sigma(alpha2) = " << num(n.yhat) << "\n";
    r.notes_print("Q6, yhat", "1/(1 + e^1.996) = 0.119623", num(n.yhat),
                  "sigma(-1.996) = " + num(n.rounded_yhat));
    r << "Q7. yhat < 0.5, so x is classified as " << n.predicted_class << " (the notes: 0)\n";
    r << "Q8. l = 1/2 (y - yhat)^2 = 1/2 (1 - " << num(n.yhat) << ")^2 = " << num(n.loss) << "\n";
    r.notes_print("Q8, loss", "0.38753", num(n.loss),
                  "1/2 (1 - 0.119623)^2 = " + num(n.rounded_loss));

    nn::optim::SGD opt(net->parameters(), nn::optim::SGDOptions(/*lr=*/2.0));
    opt.zero_grad();
    nn::half_squared_error(net->forward(x), y).backward();
    // W2_11: hidden unit 1 -> output, weight[0][0]; W1_21: x_2 -> hidden unit 1, weight[1][0].
    n.engine_dW2_11 = l2->weight().grad().at({0, 0});
    n.engine_dW1_21 = l1->weight().grad().at({1, 0});
    n.dl_dyhat = -(y_value - n.yhat);
    n.dyhat_dalpha2 = n.yhat * (1 - n.yhat);
    n.dalpha2_dW2_11 = n.beta1[0];
    n.dl_dW2_11 = n.dl_dyhat * n.dyhat_dalpha2 * n.dalpha2_dW2_11;
    n.dalpha2_dbeta1_1 = l2->weight().at({0, 0});
    n.dbeta1_1_dalpha1_1 = n.beta1[0] * (1 - n.beta1[0]);
    n.dalpha1_1_dW1_21 = x2;
    n.dl_dW1_21 = n.dl_dyhat * n.dyhat_dalpha2 * n.dalpha2_dbeta1_1 * n.dbeta1_1_dalpha1_1 *
                  n.dalpha1_1_dW1_21;

    r << "Backpropagation: dl/dW2_11 and dl/dW1_21\n";
    r.notes_mean("backpropagation intro", "\"the derivatives dl/dW2_11 and dl/dW2_11\"",
                 "dl/dW2_11 and dl/dW1_21");
    r << "  dl/dW2_11 = dl/dyhat * dyhat/dalpha2 * dalpha2/dW2_11\n"
      << "  1. dl/dyhat = -(y - yhat) = " << num(n.dl_dyhat) << "\n"
      << "  2. dyhat/dalpha2 = yhat (1 - yhat) = " << num(n.dyhat_dalpha2) << "\n"
      << "  3. dalpha2/dW2_11 = beta1_1 = " << num(n.dalpha2_dW2_11) << "\n"
      << "  4. dl/dW2_11 = " << num(n.dl_dyhat) << " * " << num(n.dyhat_dalpha2) << " * "
      << num(n.dalpha2_dW2_11) << " = " << num(n.dl_dW2_11)
      << "\n     engine: " << num(n.engine_dW2_11) << "\n";
    r.notes_print("backprop Q4, dl/dW2_11", "-0.04635772", num(n.dl_dW2_11),
                  "the same formula at their yhat 0.119623 gives " + num(n.rounded_dW2_11));
    r << "  dl/dW1_21 = dl/dyhat * dyhat/dalpha2 * dalpha2/dbeta1_1 * dbeta1_1/dalpha1_1 * "
         "dalpha1_1/dW1_21\n"
      << "  5. dalpha2/dbeta1_1 = W2_11 = " << num(n.dalpha2_dbeta1_1) << "\n"
      << "  6. dbeta1_1/dalpha1_1 = beta1_1 (1 - beta1_1) = " << num(n.dbeta1_1_dalpha1_1) << "\n"
      << "  7. dalpha1_1/dW1_21 = x_2 = " << num(n.dalpha1_1_dW1_21) << "\n"
      << "  8. dl/dW1_21 = " << num(n.dl_dyhat) << " * " << num(n.dyhat_dalpha2) << " * "
      << num(n.dalpha2_dbeta1_1) << " * " << num(n.dbeta1_1_dalpha1_1) << " * "
      << num(n.dalpha1_1_dW1_21) << " = " << num(n.dl_dW1_21)
      << "\n     engine: " << num(n.engine_dW1_21)
      << "\n     (the notes leave question 8 blank; question 9 uses -0.23178)\n";
    r.notes_print("backprop Q9, dl/dW1_21", "-0.23178", num(n.dl_dW1_21),
                  "their rounded chain gives " + num(n.rounded_dW1_21) +
                      ", which rounds to -0.23179: the notes cut it off");

    opt.step();
    n.W2_11_new = l2->weight().at({0, 0});
    n.W1_21_new = l1->weight().at({1, 0});
    r << "  9. rate lambda = 2: W2_11 = 2 - 2 * " << num(n.engine_dW2_11) << " = "
      << num(n.W2_11_new) << ", W1_21 = 1 - 2 * " << num(n.engine_dW1_21) << " = "
      << num(n.W1_21_new) << " (nn::optim::SGD)\n";
    r.notes_print("backprop Q9, new W2_11", "2.0927", num(n.W2_11_new),
                  "2 + 2 * 0.04635772 = " + num(n.rounded_W2_11));
    r.notes_print("backprop Q9, new W1_21", "1.4636", num(n.W1_21_new),
                  "1 + 2 * 0.23178 = " + num(1 + 2 * 0.23178));
    return n;
}

}  // namespace xgrad::examples
