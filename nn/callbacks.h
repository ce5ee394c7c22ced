#pragma once
// Ready-made nn::fit callbacks (nn/fit.h): gradient clipping, learning-rate schedules, early
// stopping and best-model files. Each keeps what it remembers in state(), so a run resumed from
// fit's checkpoint decides as the uninterrupted run would.

#include <cstddef>
#include <string>
#include <vector>

#include "nn/fit.h"
#include "nn/optim/lr_scheduler.h"

namespace xgrad::nn {

/// Per step: clip_grad_norm_(model.parameters(), max_norm) after backward (after the gradients
/// were averaged over the ranks, when distributed). Throws std::invalid_argument for a NaN or
/// negative max_norm.
/// Example:
///   nn::ClipGradNorm clip(1.0);
///   fo.callbacks = {&clip};
class ClipGradNorm : public Callback {
public:
    explicit ClipGradNorm(double max_norm);
    void on_after_backward(StepContext& ctx) override;
    /// The norm before clipping at the last step.
    double last_norm() const { return last_norm_; }

private:
    double max_norm_;
    double last_norm_ = 0;
};

/// Per epoch: scheduler.step(). Saves the scheduler's step count (state "last_step").
/// Example:
///   optim::StepLR sched(adam, /*step_size=*/3, /*gamma=*/0.5);
///   nn::LRSchedulerCallback schedule(sched);
class LRSchedulerCallback : public Callback {
public:
    explicit LRSchedulerCallback(optim::LRScheduler& scheduler) : scheduler_(scheduler) {}
    void on_epoch_end(EpochContext& ctx) override;
    std::vector<NamedTensor> state() const override;
    void load_state(const std::vector<NamedTensor>& state) override;

private:
    optim::LRScheduler& scheduler_;
};

/// Per epoch: stops training when the test loss (the train loss when fit has no test loader)
/// has not fallen below best - min_delta for `patience` epochs in a row, as Keras's and
/// Lightning's EarlyStopping. State: "best", "bad_epochs". Throws std::invalid_argument for a
/// NaN or negative min_delta.
/// Example:
///   nn::EarlyStopping stop(/*patience=*/3);
class EarlyStopping : public Callback {
public:
    explicit EarlyStopping(std::size_t patience, double min_delta = 0.0);
    void on_epoch_end(EpochContext& ctx) override;
    std::vector<NamedTensor> state() const override;
    void load_state(const std::vector<NamedTensor>& state) override;
    double best() const { return best_; }
    std::size_t bad_epochs() const { return bad_epochs_; }

private:
    std::size_t patience_;
    double min_delta_;
    double best_;
    std::size_t bad_epochs_ = 0;
};

/// Per epoch: saves the model (save_checkpoint, without the optimizer) to `path` whenever the
/// test loss (the train loss without a test loader) is the lowest so far; only rank 0 writes.
/// State: "best".
/// Example:
///   nn::BestModelCheckpoint best("out/best.xgt");
class BestModelCheckpoint : public Callback {
public:
    explicit BestModelCheckpoint(std::string path);
    void on_epoch_end(EpochContext& ctx) override;
    std::vector<NamedTensor> state() const override;
    void load_state(const std::vector<NamedTensor>& state) override;
    double best() const { return best_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    double best_;
};

}  // namespace xgrad::nn
