#pragma once
// Training-loop building blocks that need no particular model type: a model is any callable
// from a feature batch to logits, a training step any callable that updates the parameters.

#include <cstddef>
#include <functional>

#include "autograd/tensor.h"
#include "nn/data/dataset.h"
#include "nn/data/progress.h"

namespace xgrad::data {

/// The mean loss (weighted by batch size) and the accuracy over one pass of the data.
struct EpochStats {
    double loss = 0;
    double accuracy = 0;
    std::size_t count = 0;  // rows seen
    double seconds = 0;
};

/// What a training step reports about its batch.
struct StepResult {
    double loss = 0;          // the batch's mean loss
    std::size_t correct = 0;  // rows predicted right (count_correct)
};

/// Runs `step` on every batch of `loader.epoch(epoch)` with a progress bar, and returns the
/// epoch's mean loss and accuracy as the steps reported them.
/// Example:
///   EpochStats s = train_epoch(train, e, [&](const Batch& b) {
///       Tensor logits = model(b.features);
///       Tensor loss = cross_entropy(logits, b.labels);
///       optimizer.zero_grad();
///       loss.backward();
///       optimizer.step();
///       return StepResult{loss.item(), count_correct(logits, b.labels)};
///   }, {"epoch " + std::to_string(e + 1)});
EpochStats train_epoch(const DataLoader& loader, std::size_t epoch,
                       const std::function<StepResult(const Batch&)>& step,
                       ProgressOptions progress = {});

/// The mean loss and accuracy of `forward` over `loader.epoch(0)`, with no graph recorded
/// (NoGradGuard). `loss(logits, labels)` returns the batch's mean loss as a one-element tensor.
EpochStats evaluate(const DataLoader& loader,
                    const std::function<Tensor(const Tensor& features)>& forward,
                    const std::function<Tensor(const Tensor& logits, const Tensor& labels)>& loss);

}  // namespace xgrad::data
