#include "nn/sequential.h"

#include <gtest/gtest.h>

#include "nn/nn.h"
#include "tests/nn/init_order.h"
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

// Issue 12: with g++ (arguments evaluated right to left) the argument list gave the second
// Linear the first seed. tests/nn/init_order_main.cpp checks the same with clang++.
TEST(Sequential, ArgumentListInitialisesAsIfAddedOneByOne) {
    EXPECT_EQ(xgrad::testing::mlp_from_arguments(1), xgrad::testing::mlp_one_by_one(1));
    EXPECT_EQ(xgrad::testing::nested_from_arguments(7), xgrad::testing::nested_one_by_one(7));
    EXPECT_NE(xgrad::testing::mlp_from_arguments(1), xgrad::testing::mlp_from_arguments(2));
}

TEST(Sequential, ArgumentListKeepsModulesBuiltEarlierOrChangedByHand) {
    manual_seed(3);
    auto shared = std::make_shared<Linear>(2, 2);  // held by the caller too: keeps its values
    const std::vector<double> shared_weight = shared->weight().to_vector();
    Linear custom(2, 2);
    init::copy_(custom.weight(), {1, 2, 3, 4});  // values set by hand are never redrawn
    Sequential seq(Linear(2, 2), shared, std::move(custom), Linear(2, 2));
    EXPECT_EQ(shared->weight().to_vector(), shared_weight);
    EXPECT_EQ(seq.at<Linear>(2)->weight().to_vector(), (std::vector<double>{1, 2, 3, 4}));
}

// A layer changed by hand inside the argument list keeps its values, and the layers around it
// still get the draws of the one-by-one order. (What the changed layer itself kept of its own
// draw, here its bias, does depend on when it was built: it is not redrawn.)
TEST(Sequential, ArgumentListWithALayerChangedByHandInitialisesAsIfAddedOneByOne) {
    const auto modified = [] {
        Linear l(2, 2);
        init::copy_(l.weight(), {1, 2, 3, 4});
        return l;
    };
    const auto values = [](const Sequential& seq, std::size_t i) {
        std::vector<double> v;
        for (const Tensor& p : seq[i]->parameters()) {
            for (double x : p.to_vector()) v.push_back(x);
        }
        return v;
    };
    manual_seed(4);
    Sequential from_arguments(Linear(2, 2), modified(), Linear(2, 2), Dropout(0.5));
    manual_seed(4);
    Sequential one_by_one;
    one_by_one.push_back(Linear(2, 2));
    one_by_one.push_back(modified());
    one_by_one.push_back(Linear(2, 2));
    one_by_one.push_back(Dropout(0.5));
    EXPECT_EQ(values(from_arguments, 0), values(one_by_one, 0));
    EXPECT_EQ(values(from_arguments, 2), values(one_by_one, 2));
    EXPECT_NE(values(from_arguments, 0), values(from_arguments, 2));
    EXPECT_EQ(from_arguments.at<Linear>(1)->weight().to_vector(),
              (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(from_arguments[3]->forward(ones(Shape{64})).to_vector(),
              one_by_one[3]->forward(ones(Shape{64})).to_vector());  // the same Dropout mask
}

TEST(Sequential, AMovedFromSequentialOrLinearIsAClearError) {
    Sequential a(Linear(2, 2), ReLU());
    Sequential b(std::move(a));
    EXPECT_EQ(b.size(), 2u);
    EXPECT_TRUE(a.is_moved_from());
    // Before: a acted as the identity, and a moved-from Linear threw "value: undefined tensor".
    EXPECT_THROW_MSG(a.forward(ones(Shape{1, 2})), std::logic_error,
                     "Sequential: forward on a moved-from module");
    Linear fc(2, 3);
    Linear moved(std::move(fc));
    EXPECT_THROW_MSG(fc.forward(ones(Shape{1, 2})), std::logic_error,
                     "Linear: forward on a moved-from module");
    EXPECT_EQ(moved.forward(ones(Shape{1, 2})).shape(), (Shape{1, 3}));
    EXPECT_TRUE(a.parameters().empty());
}

}  // namespace
}  // namespace xgrad::nn
