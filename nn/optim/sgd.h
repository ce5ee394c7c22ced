#pragma once
// Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's
// formulation).

#include <vector>

#include "nn/optim/optimizer.h"

namespace xgrad::nn::optim {

/// SGD hyperparameters, set by chained calls: SGDOptions(0.1).momentum(0.9).nesterov(true).
class SGDOptions {
public:
    explicit SGDOptions(double lr) : lr_(lr) {}
    SGDOptions& lr(double v) { return lr_ = v, *this; }
    SGDOptions& momentum(double v) { return momentum_ = v, *this; }
    SGDOptions& dampening(double v) { return dampening_ = v, *this; }
    SGDOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
    SGDOptions& nesterov(bool v) { return nesterov_ = v, *this; }
    double lr() const { return lr_; }
    double momentum() const { return momentum_; }
    double dampening() const { return dampening_; }
    double weight_decay() const { return weight_decay_; }
    bool nesterov() const { return nesterov_; }

private:
    double lr_;
    double momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
    bool nesterov_ = false;
};

/// For each parameter p with gradient g:
///   d = g + weight_decay p
///   b = d at the first step, then b = momentum b + (1 - dampening) d   (if momentum > 0)
///   d = d + momentum b if nesterov, else b                              (if momentum > 0)
///   p = p - lr d
/// State: "<parameter>.momentum_buffer" (b), created at the first step when momentum > 0.
/// Throws std::invalid_argument for a NaN or negative lr, momentum outside [0, 1], dampening
/// outside [0, 1], negative weight decay, or nesterov without momentum or with dampening.
///
/// Example (seed 004: one step with rate 2):
///   optim::SGD opt(net->parameters(), optim::SGDOptions(2.0));
///   loss.backward();  opt.step();
class SGD : public Optimizer {
public:
    SGD(std::vector<Tensor> params, const SGDOptions& options);
    SGD(const std::vector<NamedTensor>& params, const SGDOptions& options);
    void step() override;
    const SGDOptions& options() const { return options_; }

protected:
    std::vector<BufferSpec> buffer_specs() const override { return {{"momentum_buffer", false}}; }

private:
    void validate();
    SGDOptions options_;
};

}  // namespace xgrad::nn::optim
