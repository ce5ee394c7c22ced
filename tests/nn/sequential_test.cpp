#include "nn/sequential.h"

#include <gtest/gtest.h>

#include "nn/nn.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

TEST(Sequential, ForwardAppliesModulesInOrder) {
    Sequential seq(Linear(2, 2, /*bias=*/true, f64), ReLU());
    auto fc = seq.at<Linear>(0);
    init::copy_(fc->weight(), {1, -1, 1, -1});
    init::copy_(fc->bias(), {0, 0});
    // x W = (3, -3) -> relu -> (3, 0)
    EXPECT_EQ(seq.forward(tensor({1, 2}, Shape{1, 2}, f64)).to_vector(),
              (std::vector<double>{3, 0}));
}

TEST(Sequential, TakesSharedPointersAndValuesAlike) {
    auto fc = std::make_shared<Linear>(3, 3);
    Sequential seq(fc, Tanh());
    seq.push_back(std::make_shared<Sigmoid>());
    seq.push_back(Step());
    EXPECT_EQ(seq.size(), 4u);
    EXPECT_EQ(seq[0].get(), fc.get());  // the same module, not a copy
    EXPECT_EQ(seq[3]->name(), "Step");
    EXPECT_EQ(seq.named_children()[3].first, "3");
}

TEST(Sequential, EmptySequentialReturnsItsInput) {
    Sequential seq;
    Tensor x = ones(Shape{2});
    EXPECT_EQ(seq.forward(x).node(), x.node());
}

TEST(Sequential, IndexErrorsNameTheIndexAndTheType) {
    Sequential seq(Linear(2, 2), ReLU());
    EXPECT_THROW_MSG(seq[2], std::out_of_range, "index 2", "size 2");
    EXPECT_THROW_MSG(seq.at<Linear>(1), std::invalid_argument, "module 1 is a ReLU");
}

TEST(Sequential, NestedSequentialsGiveNestedNames) {
    auto inner = std::make_shared<Sequential>(Linear(2, 2));
    Sequential outer(inner, Linear(2, 1));
    std::vector<std::string> names;
    for (const auto& p : outer.named_parameters()) names.push_back(p.first);
    EXPECT_EQ(names, (std::vector<std::string>{"0.0.weight", "0.0.bias", "1.weight", "1.bias"}));
}

}  // namespace
}  // namespace xgrad::nn
