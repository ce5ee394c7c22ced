// xgrad::dist under `mpirun -np 2` (ctest runs it so): two ranks with batch 64 end where one
// process with batch 128 ends, after 20 SGD and 20 Adam steps in float64; broadcast_parameters
// copies the root's values; the gradient buckets are few. Every test makes the same collective
// calls on every rank (EXPECT, never ASSERT, between collectives), so a failure cannot hang.

#include "dist/dist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "nn/nn.h"
#include "tests/nn/blobs.h"

namespace xgrad {
namespace {

std::vector<double> values(const nn::Module& m) {
    std::vector<double> v;
    for (const Tensor& p : m.parameters()) {
        const auto x = p.to_vector();
        v.insert(v.end(), x.begin(), x.end());
    }
    return v;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

std::shared_ptr<nn::Sequential> mlp() {
    nn::manual_seed(1);
    auto net = std::make_shared<nn::Sequential>(nn::Linear(8, 32), nn::ReLU(), nn::Linear(32, 3));
    net->to(f64);
    return net;
}

// 20 steps: 2560 rows, global batch 128, one epoch.
data::Dataset data_set() { return testing::blobs(2560, 8, 3, /*seed=*/4, /*noise=*/5, f64); }

template <class MakeOptimizer>
void expect_two_ranks_equal_one_process(MakeOptimizer make, const char* what) {
    ASSERT_EQ(dist::world_size(), 2);
    const data::Dataset ds = data_set();
    std::ostringstream quiet;
    nn::FitOptions fo;
    fo.out = &quiet;

    auto one = mlp();
    auto opt_one = make(*one);
    const data::DataLoader all(ds, {/*batch_size=*/128, /*shuffle=*/true, /*seed=*/3});
    EXPECT_EQ(all.num_batches(), 20u);
    nn::fit(*one, *opt_one, all, nullptr, fo);  // this process alone, no communication

    auto two = mlp();
    auto opt_two = make(*two);
    const data::DataLoader shard(
        ds, {/*batch_size=*/64},
        data::DistributedSampler(ds.size(), 2, static_cast<std::size_t>(dist::rank()), true, 3));
    dist::DataParallel dp;
    fo.distributed = &dp;
    dist::reset_comm_stats();
    nn::fit(*two, *opt_two, shard, nullptr, fo);

    const double diff = max_abs_diff(values(*one), values(*two));
    EXPECT_LE(diff, 1e-12) << what;
    EXPECT_GT(diff, 0.0) << what << ": bit-identical (the README says it is not: update it)";
    if (dist::rank() == 0) {
        std::printf("%s: 2 ranks x 64 vs 1 x 128 after 20 steps: max |difference| %.3g\n", what,
                    diff);
    }
    const dist::CommStats s = dist::comm_stats();
    EXPECT_EQ(s.calls, 20u);
    EXPECT_EQ(s.buckets, 20u);  // 1,251 float64 gradients: one bucket per step
}

TEST(Distributed, TwoRanksOfBatch64EqualOneProcessOfBatch128After20SgdSteps) {
    expect_two_ranks_equal_one_process(
        [](nn::Module& m) {
            return std::make_unique<nn::optim::SGD>(m.named_parameters(),
                                                    nn::optim::SGDOptions(0.1).momentum(0.9));
        },
        "SGD");
}

TEST(Distributed, TwoRanksOfBatch64EqualOneProcessOfBatch128After20AdamSteps) {
    expect_two_ranks_equal_one_process(
        [](nn::Module& m) {
            return std::make_unique<nn::optim::Adam>(m.named_parameters(),
                                                     nn::optim::AdamOptions(1e-2));
        },
        "Adam");
}

TEST(Distributed, BroadcastParametersCopiesTheRootsValues) {
    nn::manual_seed(100 + static_cast<std::uint64_t>(dist::rank()));  // different on each rank
    nn::Sequential net(nn::Linear(4, 5), nn::ReLU(), nn::Linear(5, 2));
    std::vector<double> mine = values(net), sum = mine;
    dist::allreduce_sum(sum);
    EXPECT_NE(sum, std::vector<double>(mine.size(), 0.0));
    bool differ = false;
    for (std::size_t i = 0; i < mine.size(); ++i) differ = differ || sum[i] != 2 * mine[i];
    EXPECT_TRUE(differ);  // the ranks started apart
    dist::broadcast_parameters(net, /*root=*/1);
    mine = values(net);
    sum = mine;
    dist::allreduce_sum(sum);
    for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(sum[i], 2 * mine[i]);
    nn::manual_seed(101);
    EXPECT_EQ(mine, values(nn::Sequential(nn::Linear(4, 5), nn::ReLU(), nn::Linear(5, 2))));
}

TEST(Distributed, GradientsAreAveragedInBucketsOfTheSetSize) {
    nn::manual_seed(2);
    nn::Sequential net(nn::Linear(16, 16), nn::Linear(16, 16));  // 1024 + 64 bytes, twice
    const Tensor x = full({1, 16}, dist::rank() + 1.0);
    sum(net.forward(x)).backward();
    std::vector<double> before;
    for (const Tensor& p : net.parameters()) {
        const auto g = p.grad().to_vector();
        before.insert(before.end(), g.begin(), g.end());
    }
    std::vector<double> expected = before;
    dist::allreduce_sum(expected);
    dist::set_bucket_bytes(1100);  // weight + bias fit, a second weight does not: two buckets
    dist::reset_comm_stats();
    dist::allreduce_gradients(net);
    dist::set_bucket_bytes(25u << 20);
    EXPECT_EQ(dist::comm_stats().buckets, 2u);
    std::size_t at = 0;
    for (const Tensor& p : net.parameters()) {
        for (double g : p.grad().to_vector()) {
            // float32 sum of two floats, rounded once, then halved exactly
            EXPECT_EQ(g, static_cast<double>(static_cast<float>(expected[at] / 2))) << at;
            ++at;
        }
    }
}

TEST(Distributed, PreparedBackwardStartsBucketsAsGradientsComplete) {
    nn::manual_seed(2);
    nn::Sequential net(nn::Linear(16, 16), nn::ReLU(), nn::Linear(16, 16));
    const Tensor x = full({1, 16}, dist::rank() + 1.0);
    auto grads = [&] {
        std::vector<double> v;
        for (const Tensor& p : net.parameters()) {
            const auto g = p.grad().to_vector();
            v.insert(v.end(), g.begin(), g.end());
        }
        return v;
    };
    net.zero_grad();
    sum(net.forward(x)).backward();
    std::vector<double> expected = grads();
    dist::allreduce_sum(expected);

    net.zero_grad();
    dist::set_bucket_bytes(1100);  // two buckets: (layer 2's bias, weight), (layer 1's)
    dist::reset_comm_stats();
    dist::prepare_backward(net);
    sum(net.forward(x)).backward();
    // Both buckets' gradients were complete during backward: both were started there.
    EXPECT_EQ(dist::comm_stats().buckets, 2u);
    dist::allreduce_gradients(net);
    dist::set_bucket_bytes(25u << 20);
    EXPECT_EQ(dist::comm_stats().buckets, 2u);  // nothing started twice
    const std::vector<double> got = grads();
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i], static_cast<double>(static_cast<float>(expected[i] / 2))) << i;
    }
}

TEST(Distributed, BadArgumentsAreClearErrors) {
    nn::Linear lin(2, 2);
    try {
        dist::broadcast_parameters(lin, 2);
        ADD_FAILURE() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "broadcast_parameters: root out of range (got 2, expected 0 <= root < 2)");
    }
    EXPECT_THROW(dist::set_timeout(0), std::invalid_argument);
    EXPECT_THROW(dist::set_bucket_bytes(0), std::invalid_argument);
}

}  // namespace
}  // namespace xgrad

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    xgrad::dist::Environment env(argc, argv);
    if (env.rank() != 0) {
        auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
    }
    const int rc = RUN_ALL_TESTS();
    // One verdict for the job: a failure on any rank fails it.
    std::vector<double> failed{rc != 0 ? 1.0 : 0.0};
    xgrad::dist::allreduce_sum(failed);
    return failed[0] != 0 ? 1 : 0;
}
