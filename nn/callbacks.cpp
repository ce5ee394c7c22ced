#include "nn/callbacks.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/checkpoint.h"
#include "nn/clip_grad.h"

namespace xgrad::nn {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The loss an epoch callback watches: the test loss, or the train loss without a test pass.
double monitored(const data::EpochMetrics& m) {
    return std::isnan(m.test_loss) ? m.train_loss : m.test_loss;
}

double value_of(const std::vector<NamedTensor>& state, const std::string& name, const char* who) {
    for (const auto& [n, t] : state) {
        if (n == name && t.numel() == 1) return t.item();
    }
    throw std::invalid_argument(std::string(who) + ": load_state: no one-element \"" + name +
                                "\" entry");
}

}  // namespace

ClipGradNorm::ClipGradNorm(double max_norm) : max_norm_(max_norm) {
    if (!(max_norm >= 0)) {
        throw std::invalid_argument("ClipGradNorm: max_norm must be >= 0 (got " +
                                    std::to_string(max_norm) + ")");
    }
}

void ClipGradNorm::on_after_backward(StepContext& ctx) {
    last_norm_ = clip_grad_norm_(ctx.model.parameters(), max_norm_);
}

void LRSchedulerCallback::on_epoch_end(EpochContext&) { scheduler_.step(); }

std::vector<NamedTensor> LRSchedulerCallback::state() const {
    return {{"last_step", scalar(static_cast<double>(scheduler_.last_step()), f64)}};
}

void LRSchedulerCallback::load_state(const std::vector<NamedTensor>& state) {
    scheduler_.set_last_step(
        static_cast<std::size_t>(value_of(state, "last_step", "LRSchedulerCallback")));
}

EarlyStopping::EarlyStopping(std::size_t patience, double min_delta)
    : patience_(patience), min_delta_(min_delta), best_(kInf) {
    if (!(min_delta >= 0)) {
        throw std::invalid_argument("EarlyStopping: min_delta must be >= 0 (got " +
                                    std::to_string(min_delta) + ")");
    }
}

void EarlyStopping::on_epoch_end(EpochContext& ctx) {
    const double loss = monitored(ctx.metrics);
    if (loss < best_ - min_delta_) {
        best_ = loss;
        bad_epochs_ = 0;
    } else if (++bad_epochs_ >= patience_) {
        ctx.stop = true;
    }
}

std::vector<NamedTensor> EarlyStopping::state() const {
    return {{"best", scalar(best_, f64)},
            {"bad_epochs", scalar(static_cast<double>(bad_epochs_), f64)}};
}

void EarlyStopping::load_state(const std::vector<NamedTensor>& state) {
    best_ = value_of(state, "best", "EarlyStopping");
    bad_epochs_ = static_cast<std::size_t>(value_of(state, "bad_epochs", "EarlyStopping"));
}

BestModelCheckpoint::BestModelCheckpoint(std::string path) : path_(std::move(path)), best_(kInf) {
    if (path_.empty()) throw std::invalid_argument("BestModelCheckpoint: the path is empty");
}

void BestModelCheckpoint::on_epoch_end(EpochContext& ctx) {
    const double loss = monitored(ctx.metrics);
    if (!(loss < best_)) return;
    best_ = loss;
    if (ctx.main_process) save_checkpoint(path_, ctx.model);
}

std::vector<NamedTensor> BestModelCheckpoint::state() const {
    return {{"best", scalar(best_, f64)}};
}

void BestModelCheckpoint::load_state(const std::vector<NamedTensor>& state) {
    best_ = value_of(state, "best", "BestModelCheckpoint");
}

}  // namespace xgrad::nn
