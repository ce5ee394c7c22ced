// fit(): learns a small classification problem, prints progress and one line per epoch, writes
// the metrics log and a checkpoint, and leaves the model's mode as it was.

#include "nn/fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include "nn/activation.h"
#include "nn/checkpoint.h"
#include "nn/data/training.h"
#include "nn/dropout.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/optim/adam.h"
#include "nn/sequential.h"
#include "tests/nn/blobs.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::blobs;
using xgrad::testing::TempDir;

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(Fit, LearnsBlobsAndReportsEveryEpochOnTrainAndTestData) {
    TempDir dir;
    manual_seed(1);
    auto net = std::make_shared<Sequential>(Linear(4, 16), ReLU(), Dropout(0.1, /*seed=*/3),
                                            Linear(16, 3));
    optim::Adam adam(net->named_parameters(), optim::AdamOptions(5e-2));
    const data::DataLoader train(blobs(240, 4, 3, /*seed=*/5), {32, /*shuffle=*/true, 1});
    const data::DataLoader test(blobs(90, 4, 3, /*seed=*/5, /*noise_seed=*/2), {64});
    std::ostringstream out;
    FitOptions fo;
    fo.epochs = 3;
    fo.out = &out;
    fo.progress = data::ProgressStyle::Plain;
    fo.metrics_path = dir.file("metrics.csv");
    fo.checkpoint_path = dir.file("last.xgt");
    std::size_t calls = 0;
    fo.on_epoch = [&](const data::EpochMetrics& m) { EXPECT_EQ(m.epoch, ++calls); };
    const std::vector<data::EpochMetrics> history = fit(*net, adam, train, &test, fo);

    ASSERT_EQ(history.size(), 3u);
    EXPECT_EQ(calls, 3u);
    EXPECT_LT(history[2].train_loss, history[0].train_loss);
    EXPECT_GT(history[2].test_accuracy, 0.8) << out.str();  // chance: 1/3
    EXPECT_GT(history[2].seconds, 0.0);
    const std::string text = out.str();
    EXPECT_EQ(count(text, "epoch 2/3: train loss "), 1u) << text;
    EXPECT_EQ(count(text, " | test loss "), 3u) << text;
    EXPECT_EQ(count(text, "epoch 3/3 8/8 loss "), 1u) << text;        // the bar's summary line
    EXPECT_NE(text.find("batch/s eta "), std::string::npos) << text;  // a progress line

    std::ifstream csv(fo.metrics_path);
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(csv, line)) lines.push_back(line);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds");
    EXPECT_EQ(lines[3].substr(0, 2), "3,");

    manual_seed(9);
    auto copy = std::make_shared<Sequential>(Linear(4, 16), ReLU(), Dropout(0.1, 3), Linear(16, 3));
    load_checkpoint(fo.checkpoint_path, *copy);
    EXPECT_EQ(xgrad::testing::bytes_of(copy->named_parameters()),
              xgrad::testing::bytes_of(net->named_parameters()));
}

// The identity, remembering the training mode of every forward.
struct ModeSpy : Module {
    ModeSpy() : Module("ModeSpy") {}
    Tensor forward(const Tensor& x) override {
        modes.push_back(is_training());
        return x;
    }
    std::vector<bool> modes;
};

TEST(Fit, TrainsInTrainingModeEvaluatesInEvalModeAndRestoresTheMode) {
    manual_seed(1);
    auto spy = std::make_shared<ModeSpy>();
    auto net = std::make_shared<Sequential>(Linear(4, 3), spy);
    optim::Adam adam(net->named_parameters());
    const data::DataLoader train(blobs(60, 4, 3, 5), {20});    // 3 batches
    const data::DataLoader test(blobs(40, 4, 3, 5, 2), {20});  // 2 batches
    std::ostringstream quiet;
    FitOptions fo;
    fo.out = &quiet;
    net->eval();
    const auto history = fit(*net, adam, train, &test, fo);
    EXPECT_EQ(spy->modes, (std::vector<bool>{true, true, true, false, false}));
    EXPECT_FALSE(net->is_training());
    net->train();
    fit(*net, adam, train, nullptr, fo);
    EXPECT_TRUE(net->is_training());
    EXPECT_FALSE(std::isnan(history[0].test_loss));
}

TEST(Fit, ATerminalGetsABarRedrawnInPlace) {
    manual_seed(1);
    auto net = std::make_shared<Sequential>(Linear(4, 3));
    optim::Adam adam(net->named_parameters());
    std::ostringstream out;
    FitOptions fo;
    fo.out = &out;
    fo.progress = data::ProgressStyle::Terminal;
    fit(*net, adam, data::DataLoader(blobs(60, 4, 3, 5), {20}), nullptr, fo);
    EXPECT_NE(out.str().find("\repoch 1/1 [########################] 3/3 loss "), std::string::npos)
        << out.str();
}

TEST(Fit, CustomLossAndResumeBounds) {
    manual_seed(1);
    auto net = std::make_shared<Sequential>(Linear(4, 3));
    optim::Adam adam(net->named_parameters());
    const data::DataLoader loader(blobs(60, 4, 3, 5), {20});
    std::ostringstream quiet;
    FitOptions fo;
    fo.out = &quiet;
    std::size_t calls = 0;
    fo.loss = [&](const Tensor& logits, const Tensor& labels) {
        ++calls;
        return cross_entropy(logits, labels, Reduction::kMean);
    };
    fit(*net, adam, loader, &loader, fo);
    EXPECT_EQ(calls, 6u);  // 3 training batches, 3 evaluation batches
    fo.first_epoch = 2;
    fo.epochs = 1;
    EXPECT_THROW_MSG(fit(*net, adam, loader, nullptr, fo), std::invalid_argument,
                     "fit: first_epoch is past the last epoch (got first_epoch 2 and epochs 1)");
    fo.epochs = 2;
    EXPECT_TRUE(fit(*net, adam, loader, nullptr, fo).empty());  // already done
}

// Issue 12: fit over an empty dataset reported "train loss 0.0000 acc 0.0000".
TEST(Fit, AnEmptyLoaderIsAClearErrorAndWritesNothing) {
    TempDir dir;
    manual_seed(1);
    auto net = std::make_shared<Sequential>(Linear(4, 3));
    optim::Adam adam(net->named_parameters());
    const data::DataLoader good(blobs(60, 4, 3, 5), {20});
    const data::DataLoader empty(data::Dataset{}, {20});
    const data::DataLoader dropped(blobs(10, 4, 3, 5), {20, false, 0, /*drop_last=*/true});
    std::ostringstream quiet;
    FitOptions fo;
    fo.out = &quiet;
    fo.metrics_path = dir.file("metrics.csv");
    EXPECT_THROW_MSG(fit(*net, adam, empty, &good, fo), std::invalid_argument,
                     "fit: the training loader yields no batches (got a dataset of 0 rows, "
                     "batch_size 20");
    EXPECT_THROW_MSG(fit(*net, adam, dropped, nullptr, fo), std::invalid_argument,
                     "training loader", "10 rows", "drop_last");
    EXPECT_THROW_MSG(fit(*net, adam, good, &empty, fo), std::invalid_argument,
                     "fit: the test loader yields no batches");
    EXPECT_FALSE(std::ifstream(fo.metrics_path).good());
    EXPECT_THROW_MSG(data::evaluate(
                         empty, [&](const Tensor& x) { return net->forward(x); },
                         [](const Tensor& l, const Tensor& y) { return cross_entropy(l, y); }),
                     std::invalid_argument, "evaluate: the evaluation loader yields no batches");
    EXPECT_THROW_MSG(
        data::train_epoch(empty, 0, [](const data::Batch&) { return data::StepResult{}; }),
        std::invalid_argument, "train_epoch: the training loader yields no batches");
}

}  // namespace
}  // namespace xgrad::nn
