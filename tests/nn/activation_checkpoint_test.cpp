// Activation checkpointing: the forward records nothing inside, backward recomputes with the
// same Dropout masks, gradients are bit-identical to the un-checkpointed ones, running
// statistics are updated once, and a function not depending on its inputs is an error.

#include "nn/activation_checkpoint.h"

#include <gtest/gtest.h>

#include <memory>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/sequential.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

// A BatchNorm-like module that counts its updates: in training mode it keeps a running mean
// of its input's mean, updated per forward, and not while a checkpointed function recomputes.
// Its output depends on the batch (x - batch mean), so a wrong recomputation shows in the
// gradient. It also records whether its forwards ran with the graph on.
struct RunningMean : Module {
    RunningMean() : Module("RunningMean") {
        running_mean = register_buffer("running_mean", zeros({1}, f64));
        updates = register_buffer("updates", zeros({1}, f64));
    }
    Tensor forward(const Tensor& x) override {
        graph_on.push_back(grad_enabled());
        const Tensor m = mean(x);
        if (is_training() && !checkpoint_recomputing()) {
            double& r = running_mean.mutable_value().data<double>()[0];
            r = 0.9 * r + 0.1 * m.item();
            updates.mutable_value().data<double>()[0] += 1;
        }
        return x - m;
    }
    Tensor running_mean, updates;
    std::vector<bool> graph_on;
};

struct Net {
    Net() {
        manual_seed(3);
        norm = std::make_shared<RunningMean>();
        seq = std::make_shared<Sequential>(Linear(6, 8), ReLU(), Dropout(0.3), Linear(8, 8), norm,
                                           nn::Tanh(), Dropout(0.4), Linear(8, 8), ReLU(),
                                           Dropout(0.2), Linear(8, 2));
        seq->to(f64);
    }
    std::shared_ptr<RunningMean> norm;
    std::shared_ptr<Sequential> seq;
};

struct Grads {
    std::vector<std::vector<double>> params;
    std::vector<double> input, output, next_output;
    double running_mean = 0, updates = 0;
};

// Two training steps' forward and backward (so the Dropout generators move on), then one more
// forward to see where the generators were left.
Grads run(bool checkpointed, std::size_t segments = 3) {
    Net net;
    Grads g;
    for (int step = 0; step < 2; ++step) {
        const Tensor x = uniform({5, 6}, -1, 1, 10 + step, f64, /*requires_grad=*/true);
        const Tensor w = uniform({5, 2}, -1, 1, 20 + step, f64);
        net.seq->zero_grad();
        const Tensor y =
            checkpointed ? checkpoint_sequential(*net.seq, segments, x) : net.seq->forward(x);
        sum(y * w).backward();
        g.input = x.grad().to_vector();
        g.output = y.to_vector();
    }
    for (const Tensor& p : net.seq->parameters()) g.params.push_back(p.grad().to_vector());
    g.next_output = net.seq->forward(ones({5, 6}, f64)).to_vector();
    g.running_mean = net.norm->running_mean.item();
    g.updates = net.norm->updates.item();
    return g;
}

TEST(ActivationCheckpoint, GradientsAreBitIdenticalToUncheckpointedWithDropout) {
    const Grads plain = run(false);
    for (std::size_t segments : {1u, 2u, 3u, 11u}) {
        const Grads ck = run(true, segments);
        EXPECT_EQ(ck.output, plain.output) << segments;
        EXPECT_EQ(ck.params, plain.params) << segments;  // every element, bit for bit
        EXPECT_EQ(ck.input, plain.input) << segments;
        // The generators were put back after each recomputation: the next masks are the same.
        EXPECT_EQ(ck.next_output, plain.next_output) << segments;
    }
}

TEST(ActivationCheckpoint, RunningStatisticsAreUpdatedOnceNotTwice) {
    const Grads plain = run(false), ck = run(true);
    EXPECT_EQ(plain.updates, 3.0);  // two steps and the last forward
    EXPECT_EQ(ck.updates, 3.0);
    EXPECT_EQ(ck.running_mean, plain.running_mean);
}

// The library's own BatchNorm1d inside a checkpointed segment: its batch statistics are part of
// the gradient, and its running statistics and batch count must move once per forward.
TEST(ActivationCheckpoint, BatchNormGradientsAndRunningStatisticsMatchUncheckpointed) {
    struct Out {
        std::vector<std::vector<double>> grads, buffers;
        std::vector<double> input;
    };
    auto run_bn = [](bool checkpointed) {
        manual_seed(5);
        Sequential seq(Linear(4, 6), BatchNorm1d(6), ReLU(), Linear(6, 6), BatchNorm1d(6),
                       nn::Tanh(), Linear(6, 3));
        seq.to(f64);
        Out o;
        for (int step = 0; step < 3; ++step) {
            const Tensor x = uniform({7, 4}, -1, 1, 30 + step, f64, true);
            const Tensor w = uniform({7, 3}, -1, 1, 40 + step, f64);
            seq.zero_grad();
            const Tensor y = checkpointed ? checkpoint_sequential(seq, 2, x) : seq.forward(x);
            sum(y * w).backward();
            o.input = x.grad().to_vector();
        }
        for (const Tensor& p : seq.parameters()) o.grads.push_back(p.grad().to_vector());
        for (const auto& [name, b] : seq.named_buffers()) {
            o.buffers.push_back(to(b, f64).to_vector());
        }
        return o;
    };
    const Out plain = run_bn(false), ck = run_bn(true);
    EXPECT_EQ(ck.grads, plain.grads);
    EXPECT_EQ(ck.input, plain.input);
    ASSERT_EQ(plain.buffers.size(), 6u);  // mean, var and batch count of each BatchNorm
    EXPECT_EQ(ck.buffers, plain.buffers);
    EXPECT_EQ(plain.buffers[2], (std::vector<double>{3.0}));  // three batches, counted once
}

TEST(ActivationCheckpoint, TheForwardRecordsNothingAndBackwardRecomputesWithTheGraph) {
    Net net;
    const Tensor x = uniform({5, 6}, -1, 1, 1, f64, true);
    const Tensor y = checkpoint(*net.seq, x);
    EXPECT_STREQ(y.op(), "checkpoint");  // one node in place of the 11 modules' graph
    EXPECT_EQ(net.norm->graph_on, (std::vector<bool>{false}));
    sum(y).backward();
    EXPECT_EQ(net.norm->graph_on, (std::vector<bool>{false, true}));
    EXPECT_TRUE(x.has_grad());
    EXPECT_TRUE(net.seq->parameters()[0].has_grad());
}

TEST(ActivationCheckpoint, NestedCheckpointsGiveTheSameGradients) {
    auto grads = [](bool nested) {
        Net net;
        const Tensor x = uniform({5, 6}, -1, 1, 1, f64, true);
        std::vector<Tensor> inputs{x};
        for (const Tensor& p : net.seq->parameters()) inputs.push_back(p);
        const Tensor y = nested ? checkpoint(
                                      [&](const std::vector<Tensor>& in) {
                                          return checkpoint_sequential(*net.seq, 2, in[0]);
                                      },
                                      inputs)
                                : net.seq->forward(x);
        sum(y).backward();
        std::vector<double> v = x.grad().to_vector();
        for (const Tensor& p : net.seq->parameters()) {
            const auto g = p.grad().to_vector();
            v.insert(v.end(), g.begin(), g.end());
        }
        return v;
    };
    EXPECT_EQ(grads(true), grads(false));
}

TEST(ActivationCheckpoint, AFunctionNotDependingOnItsInputsIsAClearError) {
    const Tensor w = uniform({3}, -1, 1, 1, f64, true);
    const Tensor x = uniform({3}, -1, 1, 2, f64, true);
    const Tensor y = checkpoint([&](const std::vector<Tensor>&) { return w * 2.0; }, {x});
    EXPECT_THROW_MSG(sum(y).backward(), std::logic_error,
                     "checkpoint: the output does not depend on any input that requires grad");
    const Tensor z = checkpoint([&](const std::vector<Tensor>&) { return ones({3}, f64); }, {x});
    EXPECT_THROW_MSG(sum(z).backward(), std::logic_error,
                     "checkpoint: the recomputed output does not depend on the inputs");
    const Tensor data = ones({3}, f64);  // requires no grad, and no parameter is passed
    EXPECT_THROW_MSG(
        checkpoint([&](const std::vector<Tensor>& in) { return in[0] * w; }, {data}),
        std::invalid_argument,
        "checkpoint: none of the 1 input(s) requires grad, so backward would never recompute");
}

TEST(ActivationCheckpoint, BadSegmentCountsAreClearErrors) {
    Net net;
    const Tensor x = ones({2, 6}, f64);
    EXPECT_THROW_MSG(checkpoint_sequential(*net.seq, 0, x), std::invalid_argument,
                     "checkpoint_sequential: segments must be in [1, 11] for a Sequential of 11 "
                     "modules (got 0)");
    EXPECT_THROW_MSG(checkpoint_sequential(*net.seq, 12, x), std::invalid_argument, "(got 12)");
}

TEST(ActivationCheckpoint, WithoutGradModeItIsAPlainCall) {
    Net net;
    const Tensor x = ones({2, 6}, f64);
    NoGradGuard no_grad;
    const Tensor y = checkpoint_sequential(*net.seq, 3, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(net.norm->graph_on, (std::vector<bool>{false}));
}

}  // namespace
}  // namespace xgrad::nn
