#pragma once
// Learning-rate schedules. Each sets its optimizer's lr from the base lr (the optimizer's lr
// when the schedule was made) and a step count: call step() once per epoch (or per batch).

#include <cstddef>
#include <functional>

#include "nn/optim/optimizer.h"

namespace xgrad::nn::optim {

/// Base class. The optimizer must outlive the schedule.
/// Example:
///   optim::SGD opt(net->parameters(), optim::SGDOptions(0.1));
///   optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
///   for (int epoch = 0; epoch < 90; ++epoch) { train_one_epoch(); sched.step(); }
class LRScheduler {
public:
    explicit LRScheduler(Optimizer& optimizer);
    virtual ~LRScheduler() = default;
    /// Advances the step count by one and sets the optimizer's lr to lr_at(count).
    void step();
    /// The learning rate the schedule gives at step t (t = 0 is the base lr for every schedule
    /// here).
    virtual double lr_at(std::size_t t) const = 0;
    std::size_t last_step() const { return step_; }
    /// Restores the step count (from a checkpoint) and sets the optimizer's lr to lr_at(t),
    /// what t calls of step() would have left.
    void set_last_step(std::size_t t);
    double base_lr() const { return base_lr_; }

private:
    Optimizer& optimizer_;
    double base_lr_;
    std::size_t step_ = 0;
};

/// lr = base_lr gamma^floor(t / step_size). Throws std::invalid_argument for step_size 0 or
/// a NaN or negative gamma.
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer& optimizer, std::size_t step_size, double gamma = 0.1);
    double lr_at(std::size_t t) const override;

private:
    std::size_t step_size_;
    double gamma_;
};

/// lr = eta_min + (base_lr - eta_min) (1 + cos(pi t / t_max)) / 2: from base_lr at t = 0 down to
/// eta_min at t = t_max (PyTorch's closed form; past t_max it rises again). Throws
/// std::invalid_argument for t_max 0 or a NaN or negative eta_min.
class CosineAnnealingLR : public LRScheduler {
public:
    CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min = 0.0);
    double lr_at(std::size_t t) const override;

private:
    std::size_t t_max_;
    double eta_min_;
};

/// lr = base_lr factor(t), any function of the step (PyTorch's LambdaLR); with base_lr 1 the
/// function gives the lr itself. A NaN or negative result throws std::invalid_argument from step().
/// Example: warm-up over 100 steps:
///   optim::LambdaLR warmup(opt, [](std::size_t t) { return std::min(1.0, double(t + 1) / 100); });
class LambdaLR : public LRScheduler {
public:
    LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> factor);
    double lr_at(std::size_t t) const override;

private:
    std::function<double(std::size_t)> factor_;
};

}  // namespace xgrad::nn::optim
