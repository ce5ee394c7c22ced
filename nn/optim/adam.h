#pragma once
// Adam and AdamW (decoupled weight decay), as PyTorch formulates them.

#include <vector>

#include "nn/optim/optimizer.h"

namespace xgrad::nn::optim {

/// Adam hyperparameters, set by chained calls: AdamOptions(1e-3).betas(0.9, 0.99).eps(1e-6).
class AdamOptions {
public:
    explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
    AdamOptions& lr(double v) { return lr_ = v, *this; }
    AdamOptions& betas(double beta1, double beta2) { return beta1_ = beta1, beta2_ = beta2, *this; }
    AdamOptions& eps(double v) { return eps_ = v, *this; }
    AdamOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
    double lr() const { return lr_; }
    double beta1() const { return beta1_; }
    double beta2() const { return beta2_; }
    double eps() const { return eps_; }
    double weight_decay() const { return weight_decay_; }

private:
    double lr_;
    double beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

/// AdamOptions with AdamW's default weight decay, 1e-2.
class AdamWOptions : public AdamOptions {
public:
    explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay(1e-2); }
};

/// For each parameter p with gradient g, at its t-th step:
///   d = g + weight_decay p                      (Adam: L2 penalty in the gradient)
///   m = beta1 m + (1 - beta1) d,   v = beta2 v + (1 - beta2) d^2
///   p = p - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
/// State: "<parameter>.step" (a float64 scalar), ".exp_avg" (m), ".exp_avg_sq" (v), created at
/// the parameter's first step. Throws std::invalid_argument for a NaN or negative lr, betas
/// outside [0, 1), eps < 0, or negative weight decay.
///
/// Example:
///   optim::Adam opt(net->parameters(), optim::AdamOptions(1e-3));
class Adam : public Optimizer {
public:
    Adam(std::vector<Tensor> params, const AdamOptions& options = AdamOptions());
    Adam(const std::vector<NamedTensor>& params, const AdamOptions& options = AdamOptions());
    void step() override;
    const AdamOptions& options() const { return options_; }

protected:
    Adam(const char* name, std::vector<Tensor> params, const AdamOptions& options, bool decoupled);
    Adam(const char* name, const std::vector<NamedTensor>& params, const AdamOptions& options,
         bool decoupled);
    std::vector<BufferSpec> buffer_specs() const override {
        return {{"step", true}, {"exp_avg", false}, {"exp_avg_sq", false}};
    }

private:
    void validate();
    AdamOptions options_;
    bool decoupled_;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter): p = p (1 - lr weight_decay) before
/// the Adam update, which then uses d = g. Same state as Adam.
/// Example:
///   optim::AdamW opt(net->parameters(), optim::AdamWOptions(1e-3));   // weight decay 1e-2
class AdamW : public Adam {
public:
    AdamW(std::vector<Tensor> params, const AdamOptions& options = AdamWOptions());
    AdamW(const std::vector<NamedTensor>& params, const AdamOptions& options = AdamWOptions());
};

}  // namespace xgrad::nn::optim
