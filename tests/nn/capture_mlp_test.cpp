// Capture and replay of an nn training step (autograd/capture.h): a 2-layer MLP of nn::Linear
// with softmax cross-entropy, replayed on new inputs with an SGD step between replays, gives
// the dynamic path's loss and gradients bit for bit (matmul, the broadcast bias, relu,
// log_softmax, gather, mean: every op of the step has forward_into).

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "autograd/capture.h"
#include "nn/nn.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

std::shared_ptr<Sequential> mlp(std::size_t in, std::size_t hidden, std::size_t out, DType dt) {
    manual_seed(11);  // the same weights for both nets
    auto net = std::make_shared<Sequential>(Linear(in, hidden), ReLU(), Linear(hidden, out));
    net->to(dt);
    return net;
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(a.value().raw(), b.value().raw(), a.value().nbytes()) == 0;
}

void expect_mlp_replay_equals_dynamic(DType dt) {
    constexpr std::size_t kBatch = 6, kIn = 9, kHidden = 7, kOut = 4;
    const std::vector<std::int64_t> labels{0, 3, 1, 1, 2, 3};
    auto dyn = mlp(kIn, kHidden, kOut, dt), rep = mlp(kIn, kHidden, kOut, dt);
    optim::SGD dyn_opt(dyn->parameters(), optim::SGDOptions(0.5));
    optim::SGD rep_opt(rep->parameters(), optim::SGDOptions(0.5));
    Capture step(
        [&](const std::vector<Tensor>& in) { return cross_entropy(rep->forward(in[0]), labels); },
        {uniform({kBatch, kIn}, -1, 1, /*seed=*/1, dt)});
    EXPECT_FALSE(step.scalar_tape());
    rep_opt.zero_grad();  // the capture's own run recorded only: no backward yet
    for (std::uint64_t seed = 2; seed < 6; ++seed) {
        const Tensor x = uniform({kBatch, kIn}, -1, 1, seed, dt);
        dyn_opt.zero_grad();
        rep_opt.zero_grad();
        Tensor loss = cross_entropy(dyn->forward(x), labels);
        loss.backward();
        step.replay({x.value()});
        EXPECT_TRUE(same_bits(step.output(), loss)) << "step " << seed;
        const std::vector<Tensor> pd = dyn->parameters(), pr = rep->parameters();
        ASSERT_EQ(pd.size(), 4u);
        for (std::size_t k = 0; k < pd.size(); ++k) {
            EXPECT_TRUE(same_bits(pr[k].grad(), pd[k].grad())) << "step " << seed << " param " << k;
        }
        dyn_opt.step();
        rep_opt.step();
    }
    // The weights moved: a replay reads their current values, so the nets stay equal.
    const std::vector<Tensor> pd = dyn->parameters(), pr = rep->parameters();
    for (std::size_t k = 0; k < pd.size(); ++k) EXPECT_TRUE(same_bits(pr[k], pd[k]));
    step.check({uniform({kBatch, kIn}, -1, 1, /*seed=*/9, dt).value()});
}

TEST(CaptureMlp, ReplayWithSgdBetweenEqualsDynamicPathBitForBitFloat32) {
    expect_mlp_replay_equals_dynamic(f32);
}

TEST(CaptureMlp, ReplayWithSgdBetweenEqualsDynamicPathBitForBitFloat64) {
    expect_mlp_replay_equals_dynamic(f64);
}

TEST(CaptureMlp, AnotherBatchSizeIsAnError) {
    auto net = mlp(3, 4, 2, f32);
    const std::vector<std::int64_t> labels{0, 1};
    Capture step(
        [&](const std::vector<Tensor>& in) { return cross_entropy(net->forward(in[0]), labels); },
        {zeros({2, 3}, f32)});
    EXPECT_THROW_MSG(step.replay({zeros({5, 3}, f32).value()}), std::invalid_argument,
                     "input 0 has shape (5,3) float32", "recorded with (2,3) float32");
}

}  // namespace
}  // namespace xgrad::nn
