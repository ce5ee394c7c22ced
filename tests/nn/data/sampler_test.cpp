// DistributedSampler: disjoint shards of the loader's seeded epoch order, padding, drop_last,
// and the DataLoader built on it.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "nn/data/dataset.h"
#include "tests/support/check.h"

namespace xgrad::data {
namespace {

Dataset rows(std::size_t n) {
    std::vector<double> f(n), l(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = l[i] = static_cast<double>(i);
    return Dataset(Array::from_values(f32, {n, 1}, f), Array::from_values(f32, {n}, l));
}

TEST(DistributedSampler, ShardsAreDisjointAndCoverTheLoadersShuffledEpoch) {
    const std::size_t n = 40, world = 4;
    for (std::size_t e = 0; e < 3; ++e) {
        const std::vector<std::size_t> order = epoch_order(n, /*shuffle=*/true, /*seed=*/9, e);
        // The loader's shuffle is this order.
        EXPECT_EQ(DataLoader(rows(n), {8, true, 9}).epoch(e).order(), order);
        std::vector<std::size_t> all;
        for (std::size_t r = 0; r < world; ++r) {
            const DistributedSampler s(n, world, r, /*shuffle=*/true, /*seed=*/9);
            const std::vector<std::size_t> mine = s.indices(e);
            ASSERT_EQ(mine.size(), 10u);
            for (std::size_t j = 0; j < mine.size(); ++j) EXPECT_EQ(mine[j], order[r + j * world]);
            all.insert(all.end(), mine.begin(), mine.end());
        }
        std::sort(all.begin(), all.end());
        for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(all[i], i);  // each row exactly once
    }
    EXPECT_NE(DistributedSampler(n, world, 0, true, 9).indices(0),
              DistributedSampler(n, world, 0, true, 9).indices(1));
}

TEST(DistributedSampler, BatchKOfEveryRankTogetherIsBatchKOfOneProcess) {
    const std::size_t n = 48, world = 2;
    const DataLoader one(rows(n), {/*batch_size=*/8, /*shuffle=*/true, /*seed=*/3});
    const DataLoader r0(rows(n), {4}, DistributedSampler(n, world, 0, true, 3));
    const DataLoader r1(rows(n), {4}, DistributedSampler(n, world, 1, true, 3));
    ASSERT_EQ(r0.num_batches(), one.num_batches());
    for (std::size_t k = 0; k < one.num_batches(); ++k) {
        std::vector<std::size_t> a = r0.epoch(2).batch(k).indices, b = r1.epoch(2).batch(k).indices;
        a.insert(a.end(), b.begin(), b.end());
        std::vector<std::size_t> g = one.epoch(2).batch(k).indices;
        std::sort(a.begin(), a.end());
        std::sort(g.begin(), g.end());
        EXPECT_EQ(a, g) << "batch " << k;
    }
}

TEST(DistributedSampler, PadsByRepeatingTheFirstRowsOrDropsTheTail) {
    // 5 rows on 2 ranks, in order: padded to 6 = [0 1 2 3 4 0].
    EXPECT_EQ(DistributedSampler(5, 2, 0, false).indices(0), (std::vector<std::size_t>{0, 2, 4}));
    EXPECT_EQ(DistributedSampler(5, 2, 1, false).indices(0), (std::vector<std::size_t>{1, 3, 0}));
    // drop_last: cut to 4.
    EXPECT_EQ(DistributedSampler(5, 2, 0, false, 0, true).indices(0),
              (std::vector<std::size_t>{0, 2}));
    EXPECT_EQ(DistributedSampler(5, 2, 1, false, 0, true).indices(0),
              (std::vector<std::size_t>{1, 3}));
    EXPECT_EQ(DistributedSampler(0, 2, 1).indices(0).size(), 0u);
}

TEST(DistributedSampler, TheSameOnEveryPlatform) {
    // Pinned: the loader's permutation (mt19937_64 and rejection sampling, both fixed by the
    // standard and this code) on 10 rows, seed 1, epoch 0, split over 2 ranks.
    const std::vector<std::size_t> order = epoch_order(10, true, 1, 0);
    std::vector<std::size_t> r0, r1;
    for (std::size_t j = 0; j < 5; ++j) {
        r0.push_back(order[2 * j]);
        r1.push_back(order[2 * j + 1]);
    }
    EXPECT_EQ(DistributedSampler(10, 2, 0, true, 1).indices(0), r0);
    EXPECT_EQ(DistributedSampler(10, 2, 1, true, 1).indices(0), r1);
    EXPECT_EQ(order, (std::vector<std::size_t>{4, 6, 8, 9, 3, 5, 7, 2, 0, 1}));
}

TEST(DistributedSampler, BadArgumentsAreClearErrors) {
    EXPECT_THROW_MSG(DistributedSampler(10, 0, 0), std::invalid_argument,
                     "DistributedSampler: num_replicas must be positive (got 0)");
    EXPECT_THROW_MSG(
        DistributedSampler(10, 2, 2), std::invalid_argument,
        "DistributedSampler: rank out of range (got rank 2, expected < num_replicas 2)");
    EXPECT_THROW_MSG(DataLoader(rows(10), {2, /*shuffle=*/true}, DistributedSampler(10, 2, 0)),
                     std::invalid_argument, "shuffle must be off with a DistributedSampler");
    EXPECT_THROW_MSG(DataLoader(rows(10), {2}, DistributedSampler(12, 2, 0)), std::invalid_argument,
                     "DistributedSampler is for another dataset (got 12 rows, expected 10)");
}

}  // namespace
}  // namespace xgrad::data
