#include "nn/module.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nn/nn.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using NameList = std::vector<std::string>;

NameList names_of(const std::vector<NamedTensor>& named) {
    NameList out;
    for (const auto& p : named) out.push_back(p.first);
    return out;
}

// A model of one's own: two named submodules and a parameter of its own.
struct TwoLayer : Module {
    TwoLayer() : Module("TwoLayer") {
        fc1 = register_module("fc1", std::make_shared<Linear>(2, 3));
        fc2 = register_module("fc2", std::make_shared<Linear>(3, 1, /*bias=*/false));
        scale = register_parameter("scale", ones(Shape{1}));
    }
    Tensor forward(const Tensor& x) override {
        return fc2->forward(sigmoid(fc1->forward(x))) * scale;
    }
    std::shared_ptr<Linear> fc1, fc2;
    Tensor scale;
};

TEST(Module, NamedParametersUseDottedNamesInRegistrationOrder) {
    auto net = std::make_shared<Sequential>(Linear(2, 3), ReLU(), Linear(3, 1));
    EXPECT_EQ(names_of(net->named_parameters()),
              (NameList{"0.weight", "0.bias", "2.weight", "2.bias"}));
    EXPECT_EQ(net->parameters().size(), 4u);
}

TEST(Module, OwnParametersComeBeforeSubmodules) {
    TwoLayer net;
    EXPECT_EQ(names_of(net.named_parameters()),
              (NameList{"scale", "fc1.weight", "fc1.bias", "fc2.weight"}));
    EXPECT_EQ(names_of(net.named_parameters(/*recurse=*/false)), (NameList{"scale"}));
}

TEST(Module, ParametersAreTheModulesOwnNodes) {
    TwoLayer net;
    std::vector<Tensor> ps = net.parameters();
    init::constant_(ps[1], 0.25);  // fc1.weight through the returned handle
    EXPECT_EQ(net.fc1->weight().at({1, 2}), 0.25);
    EXPECT_EQ(ps[1].node(), net.fc1->weight().node());
}

TEST(Module, RegisteredParametersRequireGrad) {
    TwoLayer net;
    for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
    Module m("M");
    Tensor frozen = m.register_parameter("frozen", zeros(Shape{2}), /*requires_grad=*/false);
    EXPECT_FALSE(frozen.requires_grad());
    EXPECT_EQ(m.parameter("frozen").node(), frozen.node());
}

TEST(Module, RegisterRejectsBadNamesAndNonLeaves) {
    Module m("M");
    m.register_parameter("w", zeros(Shape{2}));
    EXPECT_THROW_MSG(m.register_parameter("w", zeros(Shape{2})), std::invalid_argument, "M",
                     "\"w\" is already registered");
    EXPECT_THROW_MSG(m.register_module("w", std::make_shared<ReLU>()), std::invalid_argument,
                     "already registered");
    EXPECT_THROW_MSG(m.register_parameter("a.b", zeros(Shape{2})), std::invalid_argument, "a.b");
    EXPECT_THROW_MSG(m.register_parameter("", zeros(Shape{2})), std::invalid_argument, "non-empty");
    Tensor x = ones(Shape{2}, f32, true);
    EXPECT_THROW_MSG(m.register_parameter("y", x * 2.0), std::invalid_argument, "leaf", "mul");
    EXPECT_THROW_MSG(m.register_parameter("u", Tensor()), std::invalid_argument, "undefined");
    EXPECT_THROW_MSG(m.register_module("n", std::shared_ptr<Module>()), std::invalid_argument,
                     "null");
    EXPECT_THROW_MSG(m.parameter("nope"), std::invalid_argument, "no parameter named \"nope\"");
}

TEST(Module, ZeroGradClearsEveryParameterRecursively) {
    TwoLayer net;
    sum(net.forward(ones(Shape{4, 2}))).backward();
    for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.has_grad());
    net.zero_grad();
    for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.has_grad());
}

TEST(Module, TrainAndEvalReachEverySubmodule) {
    auto inner = std::make_shared<Sequential>(Dropout(0.5, /*seed=*/1));
    auto net = std::make_shared<Sequential>(Linear(2, 2), inner);
    EXPECT_TRUE(net->is_training());
    net->eval();
    EXPECT_FALSE(net->is_training());
    EXPECT_FALSE((*inner)[0]->is_training());
    net->train();
    EXPECT_TRUE((*inner)[0]->is_training());
}

TEST(Module, PrintsTheModelAsATree) {
    auto net = std::make_shared<Sequential>(Linear(2, 2), Sigmoid(), Linear(2, 1, /*bias=*/false),
                                            std::make_shared<Sequential>(Softmax(), Dropout(0.25)));
    EXPECT_EQ(to_string(*net),
              "Sequential(\n"
              "  (0): Linear(in=2, out=2, bias=true)\n"
              "  (1): Sigmoid()\n"
              "  (2): Linear(in=2, out=1, bias=false)\n"
              "  (3): Sequential(\n"
              "    (0): Softmax(dim=-1)\n"
              "    (1): Dropout(p=0.25)\n"
              "  )\n"
              ")");
    std::ostringstream os;
    os << TwoLayer();
    EXPECT_EQ(os.str(),
              "TwoLayer(\n  (fc1): Linear(in=2, out=3, bias=true)\n"
              "  (fc2): Linear(in=3, out=1, bias=false)\n)");
}

TEST(Module, ToConvertsEveryParameterInPlace) {
    TwoLayer net;
    const double w = net.fc1->weight().at({0, 0});
    net.to(f64);
    for (const Tensor& p : net.parameters()) EXPECT_EQ(p.dtype(), f64);
    EXPECT_EQ(net.fc1->weight().at({0, 0}), w);  // float -> double is exact
    Tensor y = net.forward(ones(Shape{1, 2}, f64));
    EXPECT_EQ(y.dtype(), f64);
}

// Running statistics and a step counter, as BatchNorm keeps them.
struct WithBuffers : Module {
    WithBuffers() : Module("WithBuffers") {
        register_parameter("w", ones(Shape{2}));
        mean = register_buffer("running_mean", full(Shape{2}, 0.25));
        steps = register_buffer("steps", Tensor(Array::from_vector<std::int64_t>({3}, Shape{1})));
    }
    Tensor mean, steps;
};

TEST(Module, ToConvertsFloatingBuffersAndKeepsIntegerOnes) {
    WithBuffers m;
    m.to(f64);
    const auto buffers = m.named_buffers();
    ASSERT_EQ(names_of(buffers), (NameList{"running_mean", "steps"}));
    EXPECT_EQ(buffers[0].second.dtype(), f64);
    EXPECT_EQ(buffers[0].second.at({1}), 0.25);
    EXPECT_EQ(buffers[1].second.dtype(), DType::Int64);  // as PyTorch: a counter stays int64
    EXPECT_EQ(buffers[1].second.at({0}), 3.0);
    EXPECT_FALSE(buffers[0].second.requires_grad());
    m.to(f32);
    EXPECT_EQ(m.named_buffers()[0].second.dtype(), f32);
}

TEST(Module, MoveCarriesTheBuffers) {
    WithBuffers a;
    WithBuffers b(std::move(a));
    EXPECT_EQ(b.named_buffers().size(), 2u);
    EXPECT_EQ(b.named_buffers()[0].second.node(), b.mean.node());
}

TEST(Module, DefaultForwardIsAMisuse) {
    Module m("Custom");
    EXPECT_THROW_MSG(m.forward(ones(Shape{1})), std::logic_error, "Custom",
                     "no single-input forward");
}

TEST(Module, ChildrenAreListedInOrder) {
    TwoLayer net;
    ASSERT_EQ(net.children().size(), 2u);
    EXPECT_EQ(net.children()[0].get(), net.fc1.get());
    EXPECT_EQ(net.named_children()[1].first, "fc2");
}

}  // namespace
}  // namespace xgrad::nn
