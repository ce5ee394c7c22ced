// What every optimizer refuses (issue 12): no parameters, a parameter given twice, and a step
// after Module::to() changed a parameter's dtype under its state.

#include "nn/optim/optimizer.h"

#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "nn/nn.h"
#include "tests/support/check.h"

namespace xgrad::nn::optim {
namespace {

using Values = std::vector<double>;

void set_grad(const Tensor& p, double c) {
    Tensor q = p;
    q.zero_grad();
    sum(q * c).backward();
}

TEST(Optimizer, RejectsAnEmptyParameterList) {
    // ReLU has no parameters: an optimizer over them would silently train nothing.
    EXPECT_THROW_MSG(SGD(ReLU().parameters(), SGDOptions(0.1)), std::invalid_argument, "SGD",
                     "empty parameter list");
    EXPECT_THROW_MSG(Adam(ReLU().named_parameters()), std::invalid_argument, "Adam",
                     "empty parameter list");
    EXPECT_THROW_MSG(AdamW(std::vector<Tensor>{}), std::invalid_argument, "AdamW",
                     "empty parameter list");
}

TEST(Optimizer, RejectsTheSameParameterTwice) {
    Tensor w = tensor({1, 2}, Shape{2}, f64, true), b = tensor({3}, Shape{1}, f64, true);
    // Before the fix SGD({w, w}) stepped w twice per step().
    EXPECT_THROW_MSG(SGD({w, b, w}, SGDOptions(0.1)), std::invalid_argument, "SGD",
                     "parameter 2 (\"2\") is the same tensor as parameter 0 (\"0\")");
    EXPECT_THROW_MSG(Adam(std::vector<NamedTensor>{{"fc.weight", w}, {"tied", w}}),
                     std::invalid_argument, "Adam", "\"tied\"", "\"fc.weight\"");
    // A copy of the handle is the same parameter too.
    Tensor alias = w;
    EXPECT_THROW_MSG(SGD({w, alias}, SGDOptions(0.1)), std::invalid_argument, "same tensor");
    // Equal values in different tensors are fine.
    EXPECT_NO_THROW(SGD({w, tensor({1, 2}, Shape{2}, f64, true)}, SGDOptions(0.1)));
}

// The state of `opt` as plain values, to check that a failed step changed nothing.
std::vector<Values> state_values(const Optimizer& opt) {
    std::vector<Values> out;
    for (const auto& s : opt.state()) out.push_back(s.second.to_vector());
    return out;
}

TEST(Optimizer, StepAfterModuleToNamesTheParameterAndChangesNothing) {
    Linear fc(2, 1, /*bias=*/true);
    Adam adam(fc.named_parameters(), AdamOptions(0.1));
    SGD sgd(fc.named_parameters(), SGDOptions(0.1).momentum(0.9));
    for (const Tensor& p : fc.parameters()) set_grad(p, 1.0);
    adam.step();
    sgd.step();
    fc.to(f64);
    for (const Tensor& p : fc.parameters()) set_grad(p, 1.0);
    const Values weight = fc.weight().to_vector(), bias = fc.bias().to_vector();
    const std::vector<Values> adam_state = state_values(adam), sgd_state = state_values(sgd);

    // Before the fix: "array: element type mismatch (got a request for float64, array is
    // float32)", with Adam's step counter already raised.
    EXPECT_THROW_MSG(adam.step(), std::logic_error, "Adam", "parameter \"weight\"", "float64",
                     "\"weight.exp_avg\"", "float32", "to()");
    EXPECT_THROW_MSG(sgd.step(), std::logic_error, "SGD", "\"weight.momentum_buffer\"");
    EXPECT_EQ(fc.weight().to_vector(), weight);
    EXPECT_EQ(fc.bias().to_vector(), bias);
    EXPECT_EQ(state_values(adam), adam_state);  // incl. "weight.step" still 1
    EXPECT_EQ(adam.state()[0].first, "weight.step");
    EXPECT_EQ(adam.state()[0].second.item(), 1.0);
    EXPECT_EQ(state_values(sgd), sgd_state);

    // An optimizer built after to() steps normally.
    Adam fresh(fc.named_parameters(), AdamOptions(0.1));
    fresh.step();
    EXPECT_NE(fc.weight().to_vector(), weight);
}

}  // namespace
}  // namespace xgrad::nn::optim
