#pragma once
// fit(): the training loop of a classifier over DataLoaders, built from xgrad::data's pieces
// (train_epoch with its progress bar, evaluate, MetricsLog) and checkpoints.

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/data/dataset.h"
#include "nn/data/metrics.h"
#include "nn/data/progress.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace xgrad::nn {

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
    /// The CSV metrics log (data::MetricsLog), created or truncated; empty means none.
    std::string metrics_path;
    /// Where save_checkpoint(model, optimizer) writes after every epoch; empty means nowhere.
    std::string checkpoint_path;
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
/// epoch's batches, as the steps saw them (dropout active, weights changing). The model's
/// training mode is restored at the end. Returns one row per epoch trained.
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
