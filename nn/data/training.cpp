#include "nn/data/training.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/grad_mode.h"
#include "nn/data/metrics.h"

namespace xgrad::data {

namespace {

EpochStats averaged(double loss_sum, std::size_t correct, std::size_t count, double seconds) {
    EpochStats s;
    s.count = count;
    s.loss = count == 0 ? 0.0 : loss_sum / static_cast<double>(count);
    s.accuracy = count == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(count);
    s.seconds = seconds;
    return s;
}

// A loader without batches would report loss 0 and accuracy 0 (a mean over nothing).
void check_has_batches(const char* op, const char* which, const DataLoader& loader) {
    if (loader.num_batches() != 0) return;
    throw std::invalid_argument(
        std::string(op) + ": the " + which + " loader yields no batches (got a dataset of " +
        std::to_string(loader.dataset().size()) + " rows, batch_size " +
        std::to_string(loader.options().batch_size) +
        (loader.options().drop_last ? ", drop_last" : "") + "; expected at least one batch)");
}

}  // namespace

EpochStats train_epoch(const DataLoader& loader, std::size_t epoch,
                       const std::function<StepResult(const Batch&)>& step,
                       ProgressOptions progress) {
    check_has_batches("train_epoch", "training", loader);
    ProgressBar bar(loader.num_batches(), std::move(progress));
    double loss_sum = 0;
    std::size_t correct = 0, count = 0;
    for (const Batch& batch : loader.epoch(epoch)) {
        const StepResult r = step(batch);
        loss_sum += r.loss * static_cast<double>(batch.size());
        correct += r.correct;
        count += batch.size();
        bar.step(r.loss);
    }
    const EpochStats stats = averaged(loss_sum, correct, count, bar.elapsed());
    bar.finish();
    return stats;
}

EpochStats evaluate(const DataLoader& loader,
                    const std::function<Tensor(const Tensor& features)>& forward,
                    const std::function<Tensor(const Tensor& logits, const Tensor& labels)>& loss) {
    check_has_batches("evaluate", "evaluation", loader);
    const auto start = std::chrono::steady_clock::now();
    NoGradGuard no_grad;
    double loss_sum = 0;
    std::size_t correct = 0, count = 0;
    for (const Batch& batch : loader.epoch(0)) {
        const Tensor logits = forward(batch.features);
        loss_sum += loss(logits, batch.labels).item() * static_cast<double>(batch.size());
        correct += count_correct(logits, batch.labels);
        count += batch.size();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return averaged(loss_sum, correct, count, seconds);
}

}  // namespace xgrad::data
