#pragma once
// Activation modules: parameter-free wrappers of the engine's activation ops, so they can sit in
// a Sequential.

#include <iosfwd>

#include "nn/module.h"

namespace xgrad::nn {

/// 1 / (1 + e^-x) element-wise (the course's g). Example: Sequential(Linear(2, 2), Sigmoid()).
class Sigmoid : public Module {
public:
    Sigmoid() : Module("Sigmoid") {}
    Tensor forward(const Tensor& input) override;
};

/// tanh(x) element-wise.
class Tanh : public Module {
public:
    Tanh() : Module("Tanh") {}
    Tensor forward(const Tensor& input) override;
};

/// max(x, 0) element-wise; relu'(0) := 0.
class ReLU : public Module {
public:
    ReLU() : Module("ReLU") {}
    Tensor forward(const Tensor& input) override;
};

/// The perceptron's sign activation: 1 if x >= 0 else -1; its gradient is 0 everywhere, so
/// nothing before it learns by backpropagation.
class Step : public Module {
public:
    Step() : Module("Step") {}
    Tensor forward(const Tensor& input) override;
};

/// softmax along `axis` (default: the last, the class axis of (N, C) logits).
/// Example: Softmax()(logits) gives rows that sum to 1.
class Softmax : public Module {
public:
    explicit Softmax(int axis = -1) : Module("Softmax"), axis_(axis) {}
    Tensor forward(const Tensor& input) override;
    /// "Softmax(axis=-1)".
    void pretty_print(std::ostream& os) const override;

private:
    int axis_;
};

/// log(softmax(x)) along `axis`, computed stably; pair it with nll_loss.
class LogSoftmax : public Module {
public:
    explicit LogSoftmax(int axis = -1) : Module("LogSoftmax"), axis_(axis) {}
    Tensor forward(const Tensor& input) override;
    /// "LogSoftmax(axis=-1)".
    void pretty_print(std::ostream& os) const override;

private:
    int axis_;
};

}  // namespace xgrad::nn
