#include "nn/fit.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <utility>

#include "nn/checkpoint.h"
#include "nn/data/training.h"
#include "nn/detail/checkpoint_io.h"
#include "nn/init.h"
#include "nn/loss.h"
#include "nn/serialize.h"

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

// Where ranks other than 0 print: nowhere.
class NullBuffer : public std::streambuf {
protected:
    int overflow(int c) override { return c; }
};

// Where the run stands: the next batch to train is batch `batch` of epoch `epoch`.
struct Position {
    std::size_t epoch = 0;
    std::size_t batch = 0;
    std::size_t global_step = 0;
    bool stopped = false;  // an epoch callback asked to stop
};

// The running sums of the epoch in progress (over every rank once reduced).
struct Partial {
    double loss_sum = 0;  // sum of batch mean loss x batch rows
    double correct = 0;
    double count = 0;
};

// A u64 as two exact halves in doubles.
std::pair<double, double> halves(std::uint64_t v) {
    return {static_cast<double>(v & 0xffffffffULL), static_cast<double>(v >> 32)};
}

// What identifies the train loader's batches: the seed, shuffling, the global batch (per-rank
// batch x ranks), the dataset size, drop_last, and the world size.
std::vector<double> loader_record(const data::DataLoader& train, int world) {
    const data::LoaderOptions& o = train.options();
    const data::DistributedSampler* s = train.sampler();
    const std::uint64_t seed = s ? s->seed() : o.seed;
    const bool shuffle = s ? s->shuffle() : o.shuffle;
    const auto [lo, hi] = halves(seed);
    return {lo,
            hi,
            shuffle ? 1.0 : 0.0,
            static_cast<double>(o.batch_size) * world,
            static_cast<double>(train.dataset().size()),
            (s ? s->drop_last() : o.drop_last) ? 1.0 : 0.0,
            static_cast<double>(world)};
}

Tensor history_tensor(const std::vector<data::EpochMetrics>& history) {
    std::vector<double> v;
    for (const auto& m : history) {
        v.insert(v.end(), {static_cast<double>(m.epoch), m.train_loss, m.train_accuracy,
                           m.test_loss, m.test_accuracy, m.seconds});
    }
    return tensor(v, Shape{history.size(), 6}, f64);
}

io::NamedTensors callback_records(const std::vector<Callback*>& callbacks) {
    io::NamedTensors out;
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
        for (auto& [name, t] : callbacks[i]->state()) {
            out.emplace_back(detail::kFit + "callback." + std::to_string(i) + "." + name, t);
        }
    }
    return out;
}

void save_fit_checkpoint(const std::string& path, const Module& model,
                         const optim::Optimizer& optimizer, const FitOptions& options,
                         const data::DataLoader& train, int world, const Position& pos,
                         const Partial& partial, const std::vector<data::EpochMetrics>& history) {
    io::NamedTensors records = detail::checkpoint_records(model, &optimizer);
    const std::string f = detail::kFit;
    records.emplace_back(f + "position",
                         tensor({static_cast<double>(pos.epoch), static_cast<double>(pos.batch),
                                 static_cast<double>(pos.global_step), pos.stopped ? 1.0 : 0.0},
                                f64));
    records.emplace_back(f + "loader", tensor(loader_record(train, world), f64));
    records.emplace_back(f + "lr", scalar(optimizer.lr(), f64));
    records.emplace_back(f + "rng", get_rng_state());
    records.emplace_back(f + "history", history_tensor(history));
    records.emplace_back(f + "partial",
                         tensor({partial.loss_sum, partial.correct, partial.count}, f64));
    for (auto& r : callback_records(options.callbacks)) records.push_back(std::move(r));
    io::save(path, records);
}

std::string describe_loader(const std::vector<double>& r) {
    const auto seed = static_cast<std::uint64_t>(r[0]) | (static_cast<std::uint64_t>(r[1]) << 32);
    return "seed " + std::to_string(seed) + ", shuffle " + (r[2] != 0 ? "on" : "off") +
           ", global batch " + fixed(r[3], 0) + ", " + fixed(r[4], 0) + " rows, drop_last " +
           (r[5] != 0 ? "on" : "off");
}

// Reads a fit checkpoint into everything it holds. Checks every record first; throws
// std::runtime_error and changes nothing when the file does not fit this run.
void resume(const std::string& path, Module& model, optim::Optimizer& optimizer,
            const FitOptions& options, const data::DataLoader& train, int world, Position& pos,
            Partial& partial, std::vector<data::EpochMetrics>& history) {
    const std::string context = "fit: resume_from " + path;
    const io::NamedTensors file = io::load(path);
    auto find = [&](const std::string& name) -> const Tensor* {
        for (const auto& [n, t] : file) {
            if (n == detail::kFit + name) return &t;
        }
        return nullptr;
    };
    const Tensor* position = find("position");
    const Tensor* loader = find("loader");
    const Tensor* history_rec = find("history");
    if (position == nullptr || loader == nullptr || history_rec == nullptr ||
        position->numel() != 4 || loader->numel() != 7 || history_rec->ndim() != 2 ||
        history_rec->shape()[1] != 6) {
        throw std::runtime_error(context +
                                 ": not a checkpoint written by fit (no valid fit.position, "
                                 "fit.loader and fit.history records); nothing was changed");
    }
    const std::vector<double> p = position->to_vector();
    const std::vector<double> saved = loader->to_vector();
    const std::vector<double> here = loader_record(train, world);
    const auto saved_world = static_cast<int>(saved[6]);
    if (saved_world != world && p[1] != 0) {
        throw std::runtime_error(
            context + ": the checkpoint was written mid-epoch by a run of " +
            std::to_string(saved_world) + " rank(s) (got world size " + std::to_string(world) +
            "); a mid-epoch position is per-rank, so resume it with " +
            std::to_string(saved_world) +
            " rank(s), or resume an epoch-end checkpoint; nothing was changed");
    }
    for (std::size_t i = 0; i < 6; ++i) {
        if (saved[i] != here[i]) {
            throw std::runtime_error(context + ": the train loader differs (got " +
                                     describe_loader(here) + ", the checkpoint has " +
                                     describe_loader(saved) + "); nothing was changed");
        }
    }
    if (p[0] > static_cast<double>(options.epochs)) {
        throw std::runtime_error(context + ": the checkpoint is at epoch " + fixed(p[0], 0) +
                                 ", past epochs = " + std::to_string(options.epochs) +
                                 "; nothing was changed");
    }
    if (p[1] >= static_cast<double>(train.num_batches()) && p[1] != 0) {
        throw std::runtime_error(context + ": the checkpoint's batch " + fixed(p[1], 0) +
                                 " is past the epoch's " + std::to_string(train.num_batches()) +
                                 " batches; nothing was changed");
    }

    // Targets for the records: fit's own, then each callback's state.
    const std::string f = detail::kFit;
    Tensor position_t = zeros({4}, f64), loader_t = zeros({7}, f64), lr_t = scalar(0, f64);
    Tensor rng_t = get_rng_state(), partial_t = zeros({3}, f64);
    Tensor history_t = zeros(history_rec->shape(), f64);
    io::NamedTensors extra{
        {f + "position", position_t}, {f + "loader", loader_t},   {f + "lr", lr_t},
        {f + "rng", rng_t},           {f + "history", history_t}, {f + "partial", partial_t}};
    std::vector<std::vector<NamedTensor>> callback_state(options.callbacks.size());
    for (std::size_t i = 0; i < options.callbacks.size(); ++i) {
        for (auto& [name, t] : options.callbacks[i]->state()) {
            Tensor target(t.value());
            extra.emplace_back(f + "callback." + std::to_string(i) + "." + name, target);
            callback_state[i].emplace_back(name, target);
        }
    }
    // Checks every record against its target and copies all or nothing.
    detail::restore_checkpoint(file, context, model, &optimizer, extra);

    optimizer.set_lr(lr_t.item());
    set_rng_state(rng_t);
    for (std::size_t i = 0; i < options.callbacks.size(); ++i) {
        options.callbacks[i]->load_state(callback_state[i]);
    }
    pos.epoch = static_cast<std::size_t>(p[0]);
    pos.batch = static_cast<std::size_t>(p[1]);
    pos.global_step = static_cast<std::size_t>(p[2]);
    pos.stopped = p[3] != 0;
    const std::vector<double> s = partial_t.to_vector();
    partial = {s[0], s[1], s[2]};
    const std::vector<double> h = history_t.to_vector();
    history.clear();
    for (std::size_t r = 0; r < history_t.shape()[0]; ++r) {
        const double* row = h.data() + 6 * r;
        data::EpochMetrics m;
        m.epoch = static_cast<std::size_t>(row[0]);
        m.train_loss = row[1];
        m.train_accuracy = row[2];
        m.test_loss = row[3];
        m.test_accuracy = row[4];
        m.seconds = row[5];
        history.push_back(m);
    }
}

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
    for (std::size_t i = 0; i < options.callbacks.size(); ++i) {
        if (options.callbacks[i] == nullptr) {
            throw std::invalid_argument("fit: callback " + std::to_string(i) +
                                        " is a null pointer");
        }
    }
    DataParallel* dp = options.distributed;
    const int world = dp != nullptr ? dp->world_size() : 1;
    const bool main_process = dp == nullptr || dp->rank() == 0;
    const auto loss_fn =
        options.loss ? options.loss : [](const Tensor& logits, const Tensor& labels) {
            return cross_entropy(logits, labels);
        };
    NullBuffer null_buffer;
    std::ostream null_out(&null_buffer);
    std::ostream& out = !main_process            ? null_out
                        : options.out != nullptr ? *options.out
                                                 : std::cout;
    TrainingModeGuard restore_mode(model);

    Position pos;
    pos.epoch = options.first_epoch;
    Partial partial;
    std::vector<data::EpochMetrics> history;
    try {
        if (!options.resume_from.empty()) {
            resume(options.resume_from, model, optimizer, options, train, world, pos, partial,
                   history);
            // The file holds the sums over every rank: rank 0 carries them, the others start at 0.
            if (!main_process) partial = Partial{};
        }
        // Before the first step: the same model everywhere, rank 0's values.
        if (dp != nullptr) dp->broadcast_parameters(model, 0);
        std::unique_ptr<data::MetricsLog> log;
        if (main_process && !options.metrics_path.empty()) {
            log = options.resume_from.empty()
                      ? std::make_unique<data::MetricsLog>(options.metrics_path)
                      : std::make_unique<data::MetricsLog>(options.metrics_path, history.size());
        }
        auto save = [&](const Position& at, const Partial& sums) {
            if (main_process && !options.checkpoint_path.empty()) {
                save_fit_checkpoint(options.checkpoint_path, model, optimizer, options, train,
                                    world, at, sums, history);
            }
        };
        auto reduced = [&](const Partial& local) {
            if (dp == nullptr) return local;
            std::vector<double> v{local.loss_sum, local.correct, local.count};
            dp->allreduce_sum(v);
            return Partial{v[0], v[1], v[2]};
        };

        for (std::size_t e = pos.epoch; e < options.epochs && !pos.stopped; ++e) {
            const auto start = std::chrono::steady_clock::now();
            const std::string label =
                "epoch " + std::to_string(e + 1) + "/" + std::to_string(options.epochs);
            data::ProgressOptions progress;
            progress.label = label;
            progress.out = &out;
            progress.style = options.progress;

            model.train();
            const data::DataLoader::Epoch batches = train.epoch(e);
            const std::size_t first = e == pos.epoch ? pos.batch : 0;
            if (first == 0) partial = Partial{};
            data::ProgressBar bar(batches.size() - first, progress);
            for (std::size_t k = first; k < batches.size(); ++k) {
                const data::Batch batch = batches.batch(k);
                optimizer.zero_grad();
                const Tensor logits = model.forward(batch.features);
                const Tensor loss = loss_fn(logits, batch.labels);
                if (dp != nullptr) dp->before_backward(model);
                loss.backward();
                if (dp != nullptr) dp->allreduce_gradients(model);
                StepContext step{model, optimizer, e, k, pos.global_step, loss, main_process};
                for (Callback* c : options.callbacks) c->on_after_backward(step);
                optimizer.step();
                ++pos.global_step;
                const double l = loss.item();
                partial.loss_sum += l * static_cast<double>(batch.size());
                partial.correct += static_cast<double>(data::count_correct(logits, batch.labels));
                partial.count += static_cast<double>(batch.size());
                bar.step(l);
                if (options.checkpoint_every != 0 && (k + 1) % options.checkpoint_every == 0 &&
                    k + 1 < batches.size()) {
                    save(Position{e, k + 1, pos.global_step, false}, reduced(partial));
                }
            }
            bar.finish();
            const Partial sums = reduced(partial);

            data::EpochMetrics m;
            m.epoch = e + 1;
            m.train_loss = sums.count == 0 ? 0.0 : sums.loss_sum / sums.count;
            m.train_accuracy = sums.count == 0 ? 0.0 : sums.correct / sums.count;
            std::string line = label + ": train loss " + fixed(m.train_loss, 4) + " acc " +
                               fixed(m.train_accuracy, 4);
            if (test != nullptr) {
                // Every rank evaluates the whole test set with the same weights: the same
                // numbers everywhere, so epoch callbacks decide alike on every rank.
                model.eval();
                const data::EpochStats te = data::evaluate(
                    *test, [&](const Tensor& x) { return model.forward(x); }, loss_fn);
                m.test_loss = te.loss;
                m.test_accuracy = te.accuracy;
                line +=
                    " | test loss " + fixed(m.test_loss, 4) + " acc " + fixed(m.test_accuracy, 4);
            }
            m.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            out << line << " | " << fixed(m.seconds, 1) << " s\n";
            out.flush();

            if (log) log->append(m);
            history.push_back(m);
            EpochContext ctx{model, optimizer, history.back(), history, main_process};
            for (Callback* c : options.callbacks) c->on_epoch_end(ctx);
            pos.stopped = ctx.stop;
            save(Position{e + 1, 0, pos.global_step, pos.stopped}, Partial{});
            if (options.on_epoch) options.on_epoch(m);
        }
    } catch (const std::exception& ex) {
        if (dp != nullptr) dp->abort(ex.what());
        throw;
    }
    return history;
}

}  // namespace xgrad::nn
