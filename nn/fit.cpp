#include "nn/fit.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "nn/checkpoint.h"
#include "nn/data/training.h"
#include "nn/loss.h"

namespace xgrad::nn {

namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// Restores a module's training mode when leaving a scope, also by an exception.
class TrainingModeGuard {
public:
    explicit TrainingModeGuard(Module& m) : module_(m), was_training_(m.is_training()) {}
    ~TrainingModeGuard() { module_.train(was_training_); }
    TrainingModeGuard(const TrainingModeGuard&) = delete;
    TrainingModeGuard& operator=(const TrainingModeGuard&) = delete;

private:
    Module& module_;
    bool was_training_;
};

}  // namespace

std::vector<data::EpochMetrics> fit(Module& model, optim::Optimizer& optimizer,
                                    const data::DataLoader& train, const data::DataLoader* test,
                                    const FitOptions& options) {
    if (options.first_epoch > options.epochs) {
        throw std::invalid_argument("fit: first_epoch is past the last epoch (got first_epoch " +
                                    std::to_string(options.first_epoch) + " and epochs " +
                                    std::to_string(options.epochs) + ")");
    }
    // Checked before anything is written (the metrics file, a checkpoint): an empty loader
    // would report loss 0 and accuracy 0.
    for (const auto& [loader, which] : {std::pair{&train, "training"}, std::pair{test, "test"}}) {
        if (loader == nullptr || loader->num_batches() != 0) continue;
        throw std::invalid_argument(
            std::string("fit: the ") + which + " loader yields no batches (got a dataset of " +
            std::to_string(loader->dataset().size()) + " rows, batch_size " +
            std::to_string(loader->options().batch_size) +
            (loader->options().drop_last ? ", drop_last" : "") + "; expected at least one batch)");
    }
    const auto loss_fn =
        options.loss ? options.loss : [](const Tensor& logits, const Tensor& labels) {
            return cross_entropy(logits, labels);
        };
    std::ostream& out = options.out != nullptr ? *options.out : std::cout;
    std::unique_ptr<data::MetricsLog> log;
    if (!options.metrics_path.empty()) {
        log = std::make_unique<data::MetricsLog>(options.metrics_path);
    }
    TrainingModeGuard restore_mode(model);

    std::vector<data::EpochMetrics> history;
    for (std::size_t e = options.first_epoch; e < options.epochs; ++e) {
        const auto start = std::chrono::steady_clock::now();
        const std::string label =
            "epoch " + std::to_string(e + 1) + "/" + std::to_string(options.epochs);
        data::ProgressOptions progress;
        progress.label = label;
        progress.out = &out;
        progress.style = options.progress;

        model.train();
        const data::EpochStats tr = data::train_epoch(
            train, e,
            [&](const data::Batch& batch) {
                optimizer.zero_grad();
                const Tensor logits = model.forward(batch.features);
                const Tensor loss = loss_fn(logits, batch.labels);
                loss.backward();
                optimizer.step();
                return data::StepResult{loss.item(), data::count_correct(logits, batch.labels)};
            },
            progress);

        data::EpochMetrics m;
        m.epoch = e + 1;
        m.train_loss = tr.loss;
        m.train_accuracy = tr.accuracy;
        std::string line =
            label + ": train loss " + fixed(m.train_loss, 4) + " acc " + fixed(m.train_accuracy, 4);
        if (test != nullptr) {
            model.eval();
            const data::EpochStats te = data::evaluate(
                *test, [&](const Tensor& x) { return model.forward(x); }, loss_fn);
            m.test_loss = te.loss;
            m.test_accuracy = te.accuracy;
            line += " | test loss " + fixed(m.test_loss, 4) + " acc " + fixed(m.test_accuracy, 4);
        }
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out << line << " | " << fixed(m.seconds, 1) << " s\n";
        out.flush();

        if (log) log->append(m);
        if (!options.checkpoint_path.empty()) {
            save_checkpoint(options.checkpoint_path, model, &optimizer);
        }
        history.push_back(m);
        if (options.on_epoch) options.on_epoch(m);
    }
    return history;
}

}  // namespace xgrad::nn
