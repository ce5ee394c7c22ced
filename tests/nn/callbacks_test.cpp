// fit()'s callbacks: clipping per step, schedules, early stopping and best-model files per
// epoch, each with its state for resuming.

#include "nn/callbacks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "nn/activation.h"
#include "nn/checkpoint.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/optim/adam.h"
#include "nn/optim/sgd.h"
#include "nn/sequential.h"
#include "nn/serialize.h"
#include "tests/nn/blobs.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::blobs;
using xgrad::testing::TempDir;

std::shared_ptr<Sequential> small_net() {
    manual_seed(3);
    return std::make_shared<Sequential>(Linear(4, 8), ReLU(), Linear(8, 3));
}

double grad_norm(const Module& m) {
    double s = 0;
    for (const Tensor& p : m.parameters()) {
        if (!p.has_grad()) continue;
        for (double g : p.grad().to_vector()) s += g * g;
    }
    return std::sqrt(s);
}

// Records, per step, the gradient norm the optimizer is about to use.
struct NormProbe : Callback {
    void on_after_backward(StepContext& ctx) override { norms.push_back(grad_norm(ctx.model)); }
    std::vector<double> norms;
};

FitOptions quiet(std::ostringstream& out, std::size_t epochs) {
    FitOptions fo;
    fo.epochs = epochs;
    fo.out = &out;
    fo.progress = data::ProgressStyle::Plain;
    return fo;
}

TEST(Callbacks, ClipGradNormRunsAfterBackwardBeforeTheStep) {
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.1));
    const data::DataLoader train(blobs(64, 4, 3, 5), {16});
    ClipGradNorm clip(1e-3);
    NormProbe probe;
    std::ostringstream out;
    FitOptions fo = quiet(out, 1);
    fo.callbacks = {&clip, &probe};
    fit(*net, sgd, train, nullptr, fo);
    ASSERT_EQ(probe.norms.size(), 4u);
    for (double n : probe.norms) EXPECT_LE(n, 1e-3 * (1 + 1e-9));
    EXPECT_GT(clip.last_norm(), 1e-2);  // the unclipped norm was larger: clipping did something
}

TEST(Callbacks, LRSchedulerCallbackStepsOncePerEpochAndSavesItsStep) {
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.8));
    optim::StepLR sched(sgd, /*step_size=*/1, /*gamma=*/0.5);
    LRSchedulerCallback cb(sched);
    const data::DataLoader train(blobs(32, 4, 3, 5), {16});
    std::ostringstream out;
    FitOptions fo = quiet(out, 3);
    fo.callbacks = {&cb};
    fit(*net, sgd, train, nullptr, fo);
    EXPECT_EQ(sgd.lr(), 0.1);
    EXPECT_EQ(cb.state().at(0).second.item(), 3.0);
    cb.load_state({{"last_step", scalar(1, f64)}});
    EXPECT_EQ(sched.last_step(), 1u);
    EXPECT_EQ(sgd.lr(), 0.4);
    EXPECT_THROW_MSG(cb.load_state({}), std::invalid_argument,
                     "LRSchedulerCallback: load_state: no one-element \"last_step\" entry");
}

TEST(Callbacks, EarlyStoppingWaitsPatienceEpochsWithoutImprovement) {
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.1));
    EarlyStopping stop(/*patience=*/2, /*min_delta=*/0.01);
    std::vector<data::EpochMetrics> history;
    std::vector<bool> stopped;
    for (double loss : {1.0, 0.9, 0.895, 0.95, 0.5}) {
        data::EpochMetrics m;
        m.test_loss = loss;
        history.push_back(m);
        EpochContext ctx{*net, sgd, history.back(), history, true};
        stop.on_epoch_end(ctx);
        stopped.push_back(ctx.stop);
    }
    // 0.895 is not below 0.9 - 0.01: bad epoch 1; 0.95: bad epoch 2, stop.
    EXPECT_EQ(stopped, (std::vector<bool>{false, false, false, true, false}));
    EXPECT_EQ(stop.best(), 0.5);
    EarlyStopping other(2);
    other.load_state({{"best", scalar(0.25, f64)}, {"bad_epochs", scalar(1, f64)}});
    EXPECT_EQ(other.best(), 0.25);
    EXPECT_EQ(other.bad_epochs(), 1u);
}

TEST(Callbacks, EarlyStoppingEndsFitOnTheTestLoss) {
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.0));  // never improves
    EarlyStopping stop(/*patience=*/2);
    const data::DataLoader train(blobs(32, 4, 3, 5), {16});
    const data::DataLoader test(blobs(30, 4, 3, 5, 2), {30});
    std::ostringstream out;
    FitOptions fo = quiet(out, 10);
    fo.callbacks = {&stop};
    const auto history = fit(*net, sgd, train, &test, fo);
    EXPECT_EQ(history.size(), 3u);  // the best epoch, then two without improvement
}

TEST(Callbacks, BestModelCheckpointSavesOnlyOnImprovement) {
    TempDir dir;
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.1));
    BestModelCheckpoint best(dir.file("best.xgt"));
    std::vector<data::EpochMetrics> history(1);
    auto epoch = [&](double loss, bool main) {
        history[0].test_loss = loss;
        EpochContext ctx{*net, sgd, history[0], history, main};
        best.on_epoch_end(ctx);
    };
    epoch(1.0, /*main=*/false);  // rank != 0: remembers, writes nothing
    EXPECT_FALSE(std::filesystem::exists(dir.file("best.xgt")));
    epoch(0.5, true);
    const double saved = io::load(dir.file("best.xgt")).at(0).second.to_vector()[0];
    net->parameters()[0].mutable_value().data<float>()[0] += 1.0f;
    epoch(0.7, true);  // worse: the file keeps the best model
    EXPECT_EQ(io::load(dir.file("best.xgt")).at(0).second.to_vector()[0], saved);
    EXPECT_EQ(best.best(), 0.5);
    epoch(0.4, true);
    EXPECT_NE(io::load(dir.file("best.xgt")).at(0).second.to_vector()[0], saved);
}

TEST(Callbacks, BadArgumentsAreClearErrors) {
    EXPECT_THROW_MSG(ClipGradNorm(-1), std::invalid_argument,
                     "ClipGradNorm: max_norm must be >= 0 (got -1");
    EXPECT_THROW_MSG(EarlyStopping(2, std::nan("")), std::invalid_argument,
                     "EarlyStopping: min_delta must be >= 0 (got nan");
    EXPECT_THROW_MSG(BestModelCheckpoint(""), std::invalid_argument,
                     "BestModelCheckpoint: the path is empty");
    auto net = small_net();
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.1));
    const data::DataLoader train(blobs(32, 4, 3, 5), {16});
    FitOptions fo;
    fo.callbacks = {nullptr};
    EXPECT_THROW_MSG(fit(*net, sgd, train, nullptr, fo), std::invalid_argument,
                     "fit: callback 0 is a null pointer");
}

}  // namespace
}  // namespace xgrad::nn
