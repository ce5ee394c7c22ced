#include "nn/optim/lr_scheduler.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xgrad::nn::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr()) {}

void LRScheduler::step() {
    // set_lr validates: a schedule that yields NaN or a negative lr is refused there.
    optimizer_.set_lr(lr_at(step_ + 1));
    ++step_;
}

void LRScheduler::set_last_step(std::size_t t) {
    optimizer_.set_lr(t == 0 ? base_lr_ : lr_at(t));
    step_ = t;
}

StepLR::StepLR(Optimizer& optimizer, std::size_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    if (step_size == 0) throw std::invalid_argument("StepLR: step_size must be > 0 (got 0)");
    if (!std::isfinite(gamma) || gamma < 0) {
        throw std::invalid_argument("StepLR: gamma must be a finite number >= 0 (got " +
                                    std::to_string(gamma) + ")");
    }
}

double StepLR::lr_at(std::size_t t) const {
    return base_lr() * std::pow(gamma_, static_cast<double>(t / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::size_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
    if (t_max == 0) throw std::invalid_argument("CosineAnnealingLR: t_max must be > 0 (got 0)");
    if (!std::isfinite(eta_min) || eta_min < 0) {
        throw std::invalid_argument(
            "CosineAnnealingLR: eta_min must be a finite number >= 0 (got " +
            std::to_string(eta_min) + ")");
    }
}

double CosineAnnealingLR::lr_at(std::size_t t) const {
    const double x = M_PI * static_cast<double>(t) / static_cast<double>(t_max_);
    return eta_min_ + (base_lr() - eta_min_) * (1 + std::cos(x)) / 2;
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(std::size_t)> factor)
    : LRScheduler(optimizer), factor_(std::move(factor)) {
    if (!factor_) throw std::invalid_argument("LambdaLR: empty factor function");
}

double LambdaLR::lr_at(std::size_t t) const { return base_lr() * factor_(t); }

}  // namespace xgrad::nn::optim
