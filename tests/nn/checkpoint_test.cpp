// save_checkpoint / load_checkpoint: exact round trips of parameters and optimizer state,
// refusal of a model that does not fit (every mismatch listed, nothing changed), and training
// resumed from a checkpoint continuing bit-identically.

#include "nn/checkpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "nn/activation.h"
#include "nn/fit.h"
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
using xgrad::testing::bytes_of;
using xgrad::testing::TempDir;

// 4 -> 8 -> 3, initialised from `seed`.
std::shared_ptr<Sequential> mlp(std::uint64_t seed) {
    manual_seed(seed);
    return std::make_shared<Sequential>(Linear(4, 8), ReLU(), Linear(8, 3));
}

// Trains `epochs` epochs (from `first`) on a fixed blob problem, quietly.
void train(Module& net, optim::Optimizer& opt, std::size_t first, std::size_t epochs,
           const std::string& checkpoint = "") {
    const data::DataLoader loader(blobs(96, 4, 3, /*seed=*/5), {16, /*shuffle=*/true, 11});
    std::ostringstream quiet;
    FitOptions fo;
    fo.first_epoch = first;
    fo.epochs = epochs;
    fo.out = &quiet;
    fo.checkpoint_path = checkpoint;
    fit(net, opt, loader, nullptr, fo);
}

// Running statistics and a step counter, as BatchNorm keeps them.
struct Stats : Module {
    Stats(double v) : Module("Stats") {
        register_parameter("weight", full(Shape{3}, v));
        register_buffer("running_var", full(Shape{3}, 2 * v, f64));
        register_buffer("num_batches_tracked",
                        Tensor(Array::from_vector<std::int64_t>({static_cast<std::int64_t>(v)})));
    }
};

TEST(Checkpoint, BuffersAreSavedAndLoadedWithTheParameters) {
    TempDir dir;
    Sequential a(Linear(2, 2), Stats(5));
    save_checkpoint(dir.file("s.xgt"), a);
    Sequential b(Linear(2, 2), Stats(1));
    load_checkpoint(dir.file("s.xgt"), b);
    const auto buffers = b.named_buffers();
    ASSERT_EQ(buffers.size(), 2u);
    EXPECT_EQ(buffers[0].first, "1.running_var");
    EXPECT_EQ(buffers[0].second.to_vector(), (std::vector<double>{10, 10, 10}));
    EXPECT_EQ(buffers[1].second.dtype(), DType::Int64);
    EXPECT_EQ(buffers[1].second.item(), 5.0);
    EXPECT_EQ(bytes_of(b.named_parameters()), bytes_of(a.named_parameters()));
    // A buffer of another shape is refused by name, and nothing changes.
    Sequential c(Linear(2, 2), Linear(1, 1));
    c.register_buffer("running_var", zeros(Shape{3}, f64));
    EXPECT_THROW_MSG(load_checkpoint(dir.file("s.xgt"), c), std::runtime_error,
                     "model.1.running_var");
}

TEST(Checkpoint, RoundTripRestoresParametersAndOptimizerStateExactly) {
    TempDir dir;
    auto a = mlp(1);
    optim::Adam adam_a(a->named_parameters(), optim::AdamOptions(1e-2));
    train(*a, adam_a, 0, 2);
    save_checkpoint(dir.file("a.xgt"), *a, &adam_a);

    auto b = mlp(2);
    optim::Adam adam_b(b->named_parameters(), optim::AdamOptions(1e-2));
    ASSERT_NE(bytes_of(b->named_parameters()), bytes_of(a->named_parameters()));
    load_checkpoint(dir.file("a.xgt"), *b, &adam_b);
    EXPECT_EQ(bytes_of(b->named_parameters()), bytes_of(a->named_parameters()));
    EXPECT_EQ(bytes_of(adam_b.state()), bytes_of(adam_a.state()));
    ASSERT_EQ(adam_b.state().size(), 12u);             // 4 parameters x (step, exp_avg, exp_avg_sq)
    EXPECT_EQ(adam_b.state()[0].second.item(), 12.0);  // 2 epochs of 6 batches
}

TEST(Checkpoint, FileHoldsTheDocumentedRecordNames) {
    TempDir dir;
    auto net = mlp(1);
    optim::SGD sgd(net->named_parameters(), optim::SGDOptions(0.1).momentum(0.9));
    train(*net, sgd, 0, 1);
    save_checkpoint(dir.file("c.xgt"), *net, &sgd);
    std::vector<std::string> names;
    for (const auto& [name, t] : io::load(dir.file("c.xgt"))) names.push_back(name);
    EXPECT_EQ(names,
              (std::vector<std::string>{
                  "model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "optimizer",
                  "optimizer.0.weight.momentum_buffer", "optimizer.0.bias.momentum_buffer",
                  "optimizer.2.weight.momentum_buffer", "optimizer.2.bias.momentum_buffer"}));
    save_checkpoint(dir.file("m.xgt"), *net);  // the model alone
    EXPECT_EQ(io::load(dir.file("m.xgt")).size(), 4u);
}

TEST(Checkpoint, AMismatchedModelIsRefusedWithEveryMismatchListedAndLeftUnchanged) {
    TempDir dir;
    const std::string path = dir.file("a.xgt");
    save_checkpoint(path, *mlp(1));
    // Layer 0 is narrower (6 instead of 8), layer 2 has no bias and is float64, and layer 4
    // does not exist in the file.
    manual_seed(3);
    auto other = std::make_shared<Sequential>(
        Linear(4, 6), ReLU(), Linear(8, 3, /*bias=*/false, f64), ReLU(), Linear(3, 2));
    const std::string before = bytes_of(other->named_parameters());
    EXPECT_THROW_MSG(
        load_checkpoint(path, *other), std::runtime_error,
        "load_checkpoint: " + path + ": 6 mismatches, nothing was changed:",
        "\"model.0.weight\": shape differs (got (4,8) in the file, expected (4,6))",
        "\"model.0.bias\": shape differs (got (8) in the file, expected (6))",
        "\"model.2.weight\": dtype differs (got float32 in the file, expected float64)",
        "\"model.2.bias\": in the file but not among the targets",
        "\"model.4.weight\": missing from the file", "\"model.4.bias\": missing from the file");
    EXPECT_EQ(bytes_of(other->named_parameters()), before);
}

TEST(Checkpoint, OptimizerMismatchesAreListedAndNothingChanges) {
    TempDir dir;
    const std::string path = dir.file("a.xgt");
    auto a = mlp(1);
    optim::Adam adam(a->named_parameters());
    train(*a, adam, 0, 1);
    save_checkpoint(path, *a, &adam);

    auto b = mlp(2);
    optim::SGD sgd(b->named_parameters(), optim::SGDOptions(0.1).momentum(0.9));
    train(*b, sgd, 0, 1);
    const std::string params = bytes_of(b->named_parameters()), state = bytes_of(sgd.state());
    // Adam's buffers are not SGD's: 12 entries the SGD cannot take, 4 it misses.
    EXPECT_THROW_MSG(load_checkpoint(path, *b, &sgd), std::runtime_error, "16 mismatches",
                     "\"optimizer.0.weight.exp_avg\": in the file but not among the targets",
                     "\"optimizer.2.bias.momentum_buffer\": missing from the file");
    EXPECT_EQ(bytes_of(b->named_parameters()), params);
    EXPECT_EQ(bytes_of(sgd.state()), state);

    // A file without optimizer state, loaded with an optimizer.
    save_checkpoint(dir.file("model.xgt"), *a);
    EXPECT_THROW_MSG(load_checkpoint(dir.file("model.xgt"), *b, &sgd), std::runtime_error,
                     "the file holds no optimizer state");
    // An optimizer over fewer parameters.
    optim::Adam half(std::vector<NamedTensor>{b->named_parameters()[0]});
    EXPECT_THROW_MSG(load_checkpoint(path, *b, &half), std::runtime_error,
                     "the file's optimizer state is for 4 parameters, this Adam has 1");
    EXPECT_EQ(bytes_of(b->named_parameters()), params);
}

TEST(Checkpoint, WithoutAnOptimizerTheFilesOptimizerStateIsIgnored) {
    TempDir dir;
    auto a = mlp(1);
    optim::Adam adam(a->named_parameters());
    train(*a, adam, 0, 1);
    save_checkpoint(dir.file("a.xgt"), *a, &adam);
    auto b = mlp(2);
    load_checkpoint(dir.file("a.xgt"), *b);
    EXPECT_EQ(bytes_of(b->named_parameters()), bytes_of(a->named_parameters()));
}

TEST(Checkpoint, LoadingReplacesStateThatTheFileDoesNotHave) {
    TempDir dir;
    auto a = mlp(1);
    optim::Adam fresh(a->named_parameters());
    save_checkpoint(dir.file("a.xgt"), *a, &fresh);  // before any step: no state
    optim::Adam used(a->named_parameters());
    train(*a, used, 0, 1);
    ASSERT_FALSE(used.state().empty());
    load_checkpoint(dir.file("a.xgt"), *a, &used);
    EXPECT_TRUE(used.state().empty());
}

TEST(Checkpoint, TrainingResumedFromACheckpointContinuesBitIdentically) {
    TempDir dir;
    // Uninterrupted: 4 epochs.
    auto whole = mlp(1);
    optim::Adam adam_whole(whole->named_parameters(), optim::AdamOptions(1e-2));
    train(*whole, adam_whole, 0, 4);

    // Interrupted after epoch 2 (fit saves the checkpoint), resumed in fresh objects.
    {
        auto first = mlp(1);
        optim::Adam adam_first(first->named_parameters(), optim::AdamOptions(1e-2));
        train(*first, adam_first, 0, 2, dir.file("epoch2.xgt"));
    }
    auto resumed = mlp(7);  // other initial values: all of them come from the file
    optim::Adam adam_resumed(resumed->named_parameters(), optim::AdamOptions(1e-2));
    load_checkpoint(dir.file("epoch2.xgt"), *resumed, &adam_resumed);
    train(*resumed, adam_resumed, /*first=*/2, /*epochs=*/4);
    EXPECT_EQ(bytes_of(resumed->named_parameters()), bytes_of(whole->named_parameters()));
    EXPECT_EQ(bytes_of(adam_resumed.state()), bytes_of(adam_whole.state()));

    // The comparison can fail: resuming without the optimizer state ends elsewhere.
    auto no_state = mlp(7);
    optim::Adam adam_no_state(no_state->named_parameters(), optim::AdamOptions(1e-2));
    load_checkpoint(dir.file("epoch2.xgt"), *no_state);
    train(*no_state, adam_no_state, 2, 4);
    EXPECT_NE(bytes_of(no_state->named_parameters()), bytes_of(whole->named_parameters()));
}

}  // namespace
}  // namespace xgrad::nn
