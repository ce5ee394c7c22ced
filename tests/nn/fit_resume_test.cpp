// What a resumable run needs: module buffers and extra state, manual_seed's stream as a tensor,
// a metrics log that continues, and fit() resuming from its own checkpoint bit-identically,
// refusing incompatible files with nothing changed.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "nn/activation.h"
#include "nn/callbacks.h"
#include "nn/checkpoint.h"
#include "nn/data/metrics.h"
#include "nn/dropout.h"
#include "nn/fit.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/optim/adam.h"
#include "nn/sequential.h"
#include "tests/nn/blobs.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

using xgrad::testing::blobs;
using xgrad::testing::TempDir;

std::vector<double> all_values(const std::vector<NamedTensor>& named) {
    std::vector<double> v;
    for (const auto& [n, t] : named) {
        const auto x = t.to_vector();
        v.insert(v.end(), x.begin(), x.end());
    }
    return v;
}

// A module with a buffer that counts its forwards.
struct Counter : Module {
    Counter() : Module("Counter") { count = register_buffer("count", zeros({1}, f64)); }
    Tensor forward(const Tensor& x) override {
        count.mutable_value().data<double>()[0] += 1;
        return x;
    }
    Tensor count;
};

TEST(ModuleState, BuffersAreNamedLikeParametersAndNeverTrained) {
    auto counter = std::make_shared<Counter>();
    Sequential net(Linear(2, 2), counter);
    const auto buffers = net.named_buffers();
    ASSERT_EQ(buffers.size(), 1u);
    EXPECT_EQ(buffers[0].first, "1.count");
    EXPECT_FALSE(buffers[0].second.requires_grad());
    EXPECT_EQ(net.named_parameters().size(), 2u);  // the buffer is not a parameter
    std::vector<std::string> paths;
    for (auto& [p, m] : net.named_modules()) paths.push_back(p + ":" + m->name());
    EXPECT_EQ(paths, (std::vector<std::string>{":Sequential", "0:Linear", "1:Counter"}));
    EXPECT_THROW_MSG(counter->register_buffer("count", zeros({1})), std::invalid_argument,
                     "Counter: a buffer named \"count\" is already registered");
}

TEST(ModuleState, CheckpointHoldsBuffersAndDropoutsGenerator) {
    TempDir dir;
    auto counter = std::make_shared<Counter>();
    auto drop = std::make_shared<Dropout>(0.5, /*seed=*/4);
    Sequential net(Linear(6, 6), counter, drop);
    const Tensor x = ones({1, 6});
    net.forward(x);
    save_checkpoint(dir.file("c.xgt"), net);
    const std::vector<double> next_mask = net.forward(x).to_vector();  // count 2 now
    net.forward(x);
    load_checkpoint(dir.file("c.xgt"), net);
    EXPECT_EQ(counter->count.item(), 1.0);
    EXPECT_EQ(net.forward(x).to_vector(), next_mask);  // the generator resumed where it was saved
    EXPECT_THROW_MSG(drop->set_extra_state(zeros({3}, f64)), std::invalid_argument,
                     "Dropout::set_extra_state: not a generator state (got (3) float64, expected "
                     "(626) float64)");
    EXPECT_THROW_MSG(counter->set_extra_state(zeros({3}, f64)), std::invalid_argument,
                     "Counter: set_extra_state: this module keeps no extra state");
}

TEST(ModuleState, ManualSeedStreamSavesAndRestores) {
    manual_seed(5);
    Linear(3, 3);  // draws
    const Tensor state = get_rng_state();
    const std::vector<double> a = Linear(3, 3).parameter("weight").to_vector();
    set_rng_state(state);
    EXPECT_EQ(Linear(3, 3).parameter("weight").to_vector(), a);
    EXPECT_THROW_MSG(set_rng_state(zeros({4}, f64)), std::invalid_argument,
                     "set_rng_state: not a state of manual_seed's stream (got (4) float64, "
                     "expected (630) float64)");
    Tensor bad = state.detach();
    bad.mutable_value().data<double>()[0] = 0.5;
    EXPECT_THROW_MSG(set_rng_state(bad), std::invalid_argument, "expected an integer in [0, 2^32)");
    set_rng_state(state);  // unchanged by the refusals
    EXPECT_EQ(Linear(3, 3).parameter("weight").to_vector(), a);
}

TEST(MetricsLogResume, KeepsTheCheckpointsEpochsAndAppends) {
    TempDir dir;
    const std::string path = dir.file("m.csv");
    {
        data::MetricsLog log(path);
        for (std::size_t e = 1; e <= 3; ++e) log.append({e, 0.5, 0.5, 0.5, 0.5, 1});
    }
    {
        data::MetricsLog log(path, /*keep_epochs=*/2);  // epoch 3 came after the checkpoint
        log.append({3, 0.25, 0.75, 0.25, 0.75, 2});
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(),
              "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
              "1,0.5,0.5,0.5,0.5,1\n2,0.5,0.5,0.5,0.5,1\n3,0.25,0.75,0.25,0.75,2\n");
    {
        std::ofstream other(dir.file("other.csv"));
        other << "a,b\n1,2\n";
    }
    EXPECT_THROW_MSG(data::MetricsLog(dir.file("other.csv"), 1), std::runtime_error,
                     "not a metrics log (got the header \"a,b\"");
    data::MetricsLog fresh(dir.file("new.csv"), 4);  // a missing file is created
    EXPECT_TRUE(std::filesystem::exists(dir.file("new.csv")));
}

// Thrown by a callback to interrupt a run at a given step, as a crash would.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};
struct InterruptAt : Callback {
    explicit InterruptAt(std::size_t s) : step(s) {}
    void on_after_backward(StepContext& ctx) override {
        if (ctx.global_step == step) throw Interrupted();
    }
    std::size_t step;
};

// A fake backend that only claims a world size (every rank's work is this process's).
struct FakeWorld : DataParallel {
    explicit FakeWorld(int w) : world(w) {}
    int rank() const override { return 0; }
    int world_size() const override { return world; }
    void broadcast_parameters(Module&, int) override {}
    void allreduce_gradients(Module&) override {}
    void allreduce_sum(std::vector<double>&) override {}
    void abort(const std::string& what) override { aborted = what; }
    int world;
    std::string aborted;
};

// One run of the resume tests: a Dropout MLP with Adam, a schedule and early stopping.
struct TrainRun {
    explicit TrainRun(std::size_t hidden = 16, std::uint64_t loader_seed = 5)
        : train(blobs(120, 4, 3, 8, 9), {16, /*shuffle=*/true, loader_seed}),
          test(blobs(60, 4, 3, 8, 10), {60}) {
        manual_seed(2);
        net = std::make_shared<Sequential>(Linear(4, hidden), ReLU(), Dropout(0.3),
                                           Linear(hidden, 3));
        adam = std::make_unique<optim::Adam>(net->named_parameters(), optim::AdamOptions(1e-2));
        sched = std::make_unique<optim::StepLR>(*adam, 1, 0.7);
        schedule = std::make_unique<LRSchedulerCallback>(*sched);
    }
    FitOptions options(std::ostringstream& out) {
        FitOptions fo;
        fo.epochs = 3;
        fo.out = &out;
        fo.progress = data::ProgressStyle::Plain;
        fo.callbacks = {schedule.get(), &stop};
        return fo;
    }
    std::vector<double> state() const {
        std::vector<double> v = all_values(net->named_parameters());
        const auto o = all_values(adam->state());
        v.insert(v.end(), o.begin(), o.end());
        v.push_back(adam->lr());
        return v;
    }
    data::DataLoader train, test;
    std::shared_ptr<Sequential> net;
    std::unique_ptr<optim::Adam> adam;
    std::unique_ptr<optim::StepLR> sched;
    std::unique_ptr<LRSchedulerCallback> schedule;
    EarlyStopping stop{5};
};

TEST(FitResume, InterruptedMidEpochAndResumedEqualsUninterruptedBitForBit) {
    TempDir dir;
    std::ostringstream out;
    TrainRun full;
    const auto expected = fit(*full.net, *full.adam, full.train, &full.test, full.options(out));

    TrainRun first;
    InterruptAt interrupt(19);  // epoch 2 (8 batches an epoch), batch 3
    FitOptions fo = first.options(out);
    fo.checkpoint_path = dir.file("last.xgt");
    fo.checkpoint_every = 2;
    fo.callbacks.push_back(&interrupt);
    EXPECT_THROW(fit(*first.net, *first.adam, first.train, &first.test, fo), Interrupted);

    TrainRun second;
    InterruptAt never(1000);
    fo = second.options(out);
    fo.callbacks.push_back(&never);
    fo.resume_from = dir.file("last.xgt");
    const auto resumed = fit(*second.net, *second.adam, second.train, &second.test, fo);

    EXPECT_EQ(second.state(), full.state());
    ASSERT_EQ(resumed.size(), expected.size());
    for (std::size_t e = 0; e < expected.size(); ++e) {
        EXPECT_EQ(resumed[e].epoch, expected[e].epoch);
        EXPECT_EQ(resumed[e].train_loss, expected[e].train_loss);
        EXPECT_EQ(resumed[e].train_accuracy, expected[e].train_accuracy);
        EXPECT_EQ(resumed[e].test_loss, expected[e].test_loss);
    }
}

TEST(FitResume, IncompatibleCheckpointsAreRefusedWithNothingChanged) {
    TempDir dir;
    std::ostringstream out;
    {
        TrainRun first;
        InterruptAt interrupt(11);
        FitOptions fo = first.options(out);
        fo.checkpoint_path = dir.file("last.xgt");
        fo.checkpoint_every = 2;
        fo.callbacks.push_back(&interrupt);
        EXPECT_THROW(fit(*first.net, *first.adam, first.train, &first.test, fo), Interrupted);
    }
    auto refused = [&](TrainRun& run, FitOptions fo, const std::vector<std::string>& parts) {
        const std::vector<double> before = run.state();
        fo.resume_from = dir.file("last.xgt");
        try {
            fit(*run.net, *run.adam, run.train, &run.test, fo);
            ADD_FAILURE() << "resumed from an incompatible checkpoint";
        } catch (const std::runtime_error& e) {
            for (const auto& p : parts) {
                EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
            }
        }
        EXPECT_EQ(run.state(), before);
    };
    TrainRun wider(/*hidden=*/8);
    refused(wider, wider.options(out),
            {"fit: resume_from", "nothing was changed",
             "\"model.0.weight\": shape differs (got "
             "(4,16) in the file, expected (4,8))"});
    TrainRun reseeded(16, /*loader_seed=*/6);
    refused(reseeded, reseeded.options(out),
            {"the train loader differs (got seed 6", "the checkpoint has seed 5"});
    TrainRun two_ranks;
    FakeWorld world(2);
    FitOptions fo = two_ranks.options(out);
    fo.distributed = &world;
    refused(two_ranks, fo,
            {"written mid-epoch by a run of 1 rank(s) (got world size 2)", "nothing was changed"});
    EXPECT_NE(world.aborted.find("mid-epoch"), std::string::npos);  // the other ranks are told
    TrainRun fewer_callbacks;
    fo = fewer_callbacks.options(out);
    fo.callbacks = {fewer_callbacks.schedule.get()};
    refused(fewer_callbacks, fo,
            {"\"fit.callback.1.best\": in the file but not among the targets"});
    TrainRun plain;
    save_checkpoint(dir.file("plain.xgt"), *plain.net, plain.adam.get());
    fo = plain.options(out);
    fo.resume_from = dir.file("plain.xgt");
    EXPECT_THROW_MSG(fit(*plain.net, *plain.adam, plain.train, &plain.test, fo), std::runtime_error,
                     "not a checkpoint written by fit");
}

TEST(FitResume, AFitCheckpointLoadsForInference) {
    TempDir dir;
    std::ostringstream out;
    TrainRun run;
    FitOptions fo = run.options(out);
    fo.epochs = 1;
    fo.checkpoint_path = dir.file("last.xgt");
    fit(*run.net, *run.adam, run.train, &run.test, fo);
    TrainRun other;
    load_checkpoint(dir.file("last.xgt"), *other.net);
    EXPECT_EQ(all_values(other.net->named_parameters()), all_values(run.net->named_parameters()));
}

}  // namespace
}  // namespace xgrad::nn
