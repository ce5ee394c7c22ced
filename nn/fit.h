#pragma once
// fit(): the training loop of a classifier over DataLoaders, built from xgrad::data's pieces
// (train_epoch with its progress bar, evaluate, MetricsLog) and checkpoints.

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/data/dataset.h"
#include "nn/data/metrics.h"
#include "nn/data/progress.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace xgrad::nn {

/// What a per-step callback sees: after backward (and, distributed, after the gradients were
/// averaged over the ranks), before the optimizer's step.
struct StepContext {
    Module& model;
    optim::Optimizer& optimizer;
    std::size_t epoch;        // counted from 0
    std::size_t batch;        // index of the batch within the epoch
    std::size_t global_step;  // optimizer steps taken before this one, over the whole run
    const Tensor& loss;       // this batch's mean loss
    bool main_process;        // rank 0 (always true without `distributed`)
};

/// What a per-epoch callback sees, after the epoch's metrics and log row, before fit's
/// checkpoint. Set `stop` to end training after this epoch.
struct EpochContext {
    Module& model;
    optim::Optimizer& optimizer;
    const data::EpochMetrics& metrics;
    const std::vector<data::EpochMetrics>& history;  // every epoch so far, this one included
    bool main_process;
    bool stop = false;
};

/// A hook into fit() (clipping, schedules, early stopping, best-model files; nn/callbacks.h has
/// those). A callback that decides anything from the past keeps that memory in state(), so a
/// resumed run continues exactly.
class Callback {
public:
    virtual ~Callback() = default;
    /// After backward, before optimizer.step().
    virtual void on_after_backward(StepContext&) {}
    /// After each epoch.
    virtual void on_epoch_end(EpochContext&) {}
    /// Saved in fit's checkpoints as "fit.callback.<index>.<name>"; empty means stateless.
    virtual std::vector<NamedTensor> state() const { return {}; }
    /// Receives tensors shaped as state() returned them, read from a checkpoint.
    virtual void load_state(const std::vector<NamedTensor>&) {}
};

/// What fit() needs from a data-parallel backend; xgrad::dist (dist/dist.h) implements it over
/// MPI. Every rank runs fit() on its own shard of the data (data::DistributedSampler).
class DataParallel {
public:
    virtual ~DataParallel() = default;
    virtual int rank() const = 0;
    virtual int world_size() const = 0;
    /// Checks that every rank holds the same model, then copies rank `root`'s parameters and
    /// buffers to every rank. Throws on every rank when they disagree.
    virtual void broadcast_parameters(Module& model, int root) = 0;
    /// Called just before each backward (e.g. to start reducing gradients as backward
    /// completes them); the default does nothing.
    virtual void before_backward(Module& model) { (void)model; }
    /// Replaces every parameter's gradient by its mean over the ranks.
    virtual void allreduce_gradients(Module& model) = 0;
    /// Sums `values` over the ranks, in place (the epoch's metrics).
    virtual void allreduce_sum(std::vector<double>& values) = 0;
    /// Tells the other ranks that this one failed with `what`, so they stop with a clear error
    /// instead of waiting for it.
    virtual void abort(const std::string& what) = 0;
};

/// How fit() trains and what it reports.
struct FitOptions {
    /// Trains epochs first_epoch .. epochs-1 (counted from 0). Epoch e takes the loader's
    /// batches of epoch(e), so a run resumed from a checkpoint with first_epoch = k sees the
    /// same batches as an uninterrupted one.
    std::size_t epochs = 1;
    std::size_t first_epoch = 0;
    /// The batch loss from logits (B, C) and labels (B): a one-element mean. Empty means
    /// cross_entropy (softmax cross-entropy, mean over the batch).
    std::function<Tensor(const Tensor& logits, const Tensor& labels)> loss;
    /// The CSV metrics log (data::MetricsLog), created or truncated; empty means none. When
    /// resuming, the log is continued: the rows of the epochs the checkpoint holds are kept.
    std::string metrics_path;
    /// Where fit writes its checkpoint after every epoch (and every `checkpoint_every` steps):
    /// the model, its buffers and extra state (Dropout's generator), the optimizer's state and
    /// lr, each callback's state, the epoch and step, manual_seed's stream, the loader's seed
    /// and the metrics so far; empty means nowhere.
    std::string checkpoint_path;
    /// Also checkpoint after every this many steps within an epoch; 0 means at epoch ends only.
    std::size_t checkpoint_every = 0;
    /// A checkpoint written by fit to resume from: training continues at its epoch and step and
    /// ends bit-identical to a run that was never interrupted (first_epoch is then ignored).
    /// Incompatible files (another model, optimizer, loader, callbacks or, mid-epoch, another
    /// world size) are refused with nothing changed.
    std::string resume_from;
    /// Hooks called per step and per epoch, in order (not owned).
    std::vector<Callback*> callbacks;
    /// Data-parallel training: every rank trains its shard, gradients are averaged after each
    /// backward, and only rank 0 prints, writes the metrics log and saves checkpoints. nullptr
    /// means one process.
    DataParallel* distributed = nullptr;
    /// The progress bars and epoch lines; nullptr means std::cout.
    std::ostream* out = nullptr;
    /// Bar redrawn in place on a terminal, plain lines elsewhere (see data::ProgressStyle).
    data::ProgressStyle progress = data::ProgressStyle::Auto;
    /// Called after every epoch with its metrics (after the log row and the checkpoint).
    std::function<void(const data::EpochMetrics&)> on_epoch;
};

/// Trains a classifier: for each epoch, a pass over `train` (zero_grad, forward, loss,
/// backward, step) in training mode with a progress bar (batches, mean loss, rate, time left),
/// then an evaluation of `test` (if given) in eval mode without a graph, then one line
///   epoch 2/5: train loss 0.4151 acc 0.8507 | test loss 0.4271 acc 0.8466 | 3.1 s
/// and one row of the metrics log. The train loss and accuracy are the running means over the
/// epoch's batches, as the steps saw them (dropout active, weights changing). Each step is
/// zero_grad, forward, loss, backward, [allreduce], callbacks' on_after_backward, step; each
/// epoch ends with the metrics, the log row, callbacks' on_epoch_end, the checkpoint and
/// on_epoch. The model's training mode is restored at the end. Returns one row per epoch, the
/// rows restored from `resume_from` included.
/// Example:
///   data::DataLoader train(train_set, {128, /*shuffle=*/true, /*seed=*/1});
///   data::DataLoader test(test_set, {1000});
///   nn::FitOptions fo;
///   fo.epochs = 5;
///   fo.metrics_path = "out/metrics.csv";
///   std::vector<data::EpochMetrics> m = nn::fit(*net, adam, train, &test, fo);
std::vector<data::EpochMetrics> fit(Module& model, optim::Optimizer& optimizer,
                                    const data::DataLoader& train,
                                    const data::DataLoader* test = nullptr,
                                    const FitOptions& options = {});

}  // namespace xgrad::nn
