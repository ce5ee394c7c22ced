// Dataset and DataLoader: gathering rows, batch sizes, drop_last, seeded shuffling.

#include "nn/data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "tests/support/check.h"

namespace xgrad::data {
namespace {

// N rows: features row i = (10 i, 10 i + 1), label i = i.
Dataset rows_dataset(std::size_t n) {
    std::vector<double> f, l;
    for (std::size_t i = 0; i < n; ++i) {
        f.push_back(10.0 * static_cast<double>(i));
        f.push_back(10.0 * static_cast<double>(i) + 1);
        l.push_back(static_cast<double>(i));
    }
    return Dataset(Array::from_values(f32, {n, 2}, f), Array::from_values(f32, {n}, l));
}

std::vector<std::size_t> batch_sizes(const DataLoader::Epoch& epoch) {
    std::vector<std::size_t> sizes;
    for (const Batch& b : epoch) sizes.push_back(b.size());
    return sizes;
}

std::vector<std::size_t> visited_rows(const DataLoader::Epoch& epoch) {
    std::vector<std::size_t> rows;
    for (const Batch& b : epoch) {
        for (double label : b.labels.to_vector()) rows.push_back(static_cast<std::size_t>(label));
    }
    return rows;
}

TEST(Dataset, GatherCopiesRowsInTheGivenOrder) {
    const Batch b = rows_dataset(5).gather({3, 0, 3});
    EXPECT_EQ(b.features.shape(), Shape({3, 2}));
    EXPECT_EQ(b.features.to_vector(), (std::vector<double>{30, 31, 0, 1, 30, 31}));
    EXPECT_EQ(b.labels.to_vector(), (std::vector<double>{3, 0, 3}));
    EXPECT_EQ(b.indices, (std::vector<std::size_t>{3, 0, 3}));
    EXPECT_FALSE(b.features.requires_grad());
}

TEST(Dataset, GatherKeepsTrailingDimensionsAndDtype) {
    std::vector<double> v(4 * 2 * 3);
    std::iota(v.begin(), v.end(), 0.0);
    const Dataset ds(Array::from_values(f64, {4, 2, 3}, v),
                     Array::from_values(f64, {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7}));
    const Batch b = ds.gather({2});
    EXPECT_EQ(b.features.shape(), Shape({1, 2, 3}));
    EXPECT_EQ(b.features.dtype(), f64);
    EXPECT_EQ(b.features.to_vector(), (std::vector<double>{12, 13, 14, 15, 16, 17}));
    EXPECT_EQ(b.labels.to_vector(), (std::vector<double>{4, 5}));
}

TEST(Dataset, GatherRejectsRowOutOfRange) {
    EXPECT_THROW_MSG(rows_dataset(5).gather({1, 5}), std::out_of_range,
                     "Dataset::gather: row out of range (got 5, expected < 5)");
}

TEST(Dataset, ConstructorRejectsDifferentRowCounts) {
    EXPECT_THROW_MSG(Dataset(Array(f32, {3, 2}), Array(f32, {4})), std::invalid_argument,
                     "Dataset: row counts differ (got features (3,2) and labels (4))");
}

TEST(Dataset, ConstructorRejectsScalars) {
    EXPECT_THROW_MSG(Dataset(Array(f32, {}), Array(f32, {1})), std::invalid_argument,
                     "need a leading row dimension");
}

TEST(Dataset, CopiesShareTheArrays) {
    const Dataset a = rows_dataset(3);
    const Dataset b = a;  // NOLINT: the copy is the point
    EXPECT_EQ(&a.features(), &b.features());
}

TEST(Dataset, SliceCopiesARowRange) {
    const Dataset s = rows_dataset(6).slice(2, 5);
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(s.labels().to_vector(), (std::vector<double>{2, 3, 4}));
    EXPECT_EQ(s.features().to_vector(), (std::vector<double>{20, 21, 30, 31, 40, 41}));
    EXPECT_THROW_MSG(rows_dataset(6).slice(4, 7), std::out_of_range,
                     "bad range (got [4, 7), expected within [0, 6])");
}

TEST(Permutation, IsPinnedToAnIndependentReference) {
    // Computed by a separate Python implementation of mt19937_64 (as the C++ standard defines
    // it) and the same Fisher-Yates with rejection sampling: the order is platform-independent.
    EXPECT_EQ(permutation(10, 42), (std::vector<std::size_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
    EXPECT_EQ(permutation(12, 0), (std::vector<std::size_t>{0, 10, 9, 8, 7, 1, 2, 4, 11, 3, 5, 6}));
}

TEST(Permutation, ContainsEveryIndexOnce) {
    std::vector<std::size_t> p = permutation(1000, 3);
    std::sort(p.begin(), p.end());
    std::vector<std::size_t> expected(1000);
    std::iota(expected.begin(), expected.end(), std::size_t{0});
    EXPECT_EQ(p, expected);
    EXPECT_TRUE(permutation(0, 1).empty());
    EXPECT_EQ(permutation(1, 1), (std::vector<std::size_t>{0}));
}

TEST(Permutation, DifferentSeedsGiveDifferentOrders) {
    EXPECT_NE(permutation(100, 1), permutation(100, 2));
}

TEST(DataLoader, WithoutShuffleVisitsRowsInOrder) {
    const DataLoader loader(rows_dataset(7), {/*batch_size=*/3});
    EXPECT_EQ(visited_rows(loader.epoch(0)), (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(visited_rows(loader.epoch(5)), visited_rows(loader.epoch(0)));
}

TEST(DataLoader, LastPartialBatchIsShort) {
    const DataLoader loader(rows_dataset(10), {/*batch_size=*/4});
    EXPECT_EQ(loader.num_batches(), 3u);
    EXPECT_EQ(batch_sizes(loader.epoch(0)), (std::vector<std::size_t>{4, 4, 2}));
    EXPECT_EQ(loader.epoch(0).batch(2).features.shape(), Shape({2, 2}));
}

TEST(DataLoader, DropLastDropsTheShortBatch) {
    const DataLoader loader(rows_dataset(10), {4, /*shuffle=*/false, 0, /*drop_last=*/true});
    EXPECT_EQ(loader.num_batches(), 2u);
    EXPECT_EQ(batch_sizes(loader.epoch(0)), (std::vector<std::size_t>{4, 4}));
}

TEST(DataLoader, DropLastKeepsAFullLastBatch) {
    const DataLoader loader(rows_dataset(8), {4, /*shuffle=*/false, 0, /*drop_last=*/true});
    EXPECT_EQ(batch_sizes(loader.epoch(0)), (std::vector<std::size_t>{4, 4}));
}

TEST(DataLoader, BatchLargerThanDatasetGivesOneBatchOrNone) {
    EXPECT_EQ(batch_sizes(DataLoader(rows_dataset(3), {8}).epoch(0)),
              (std::vector<std::size_t>{3}));
    EXPECT_EQ(DataLoader(rows_dataset(3), {8, false, 0, /*drop_last=*/true}).num_batches(), 0u);
}

// Issue 12: ceil(N / b) computed as (N + b - 1) / b wrapped to 0 batches for b = SIZE_MAX.
TEST(DataLoader, HugeBatchSizeGivesOneBatchOfEverything) {
    const std::size_t huge = std::numeric_limits<std::size_t>::max();
    const DataLoader loader(rows_dataset(10), {huge});
    EXPECT_EQ(loader.num_batches(), 1u);
    EXPECT_EQ(batch_sizes(loader.epoch(0)), (std::vector<std::size_t>{10}));
    EXPECT_EQ(visited_rows(loader.epoch(0)),
              (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(batch_sizes(DataLoader(rows_dataset(10), {huge - 1, /*shuffle=*/true}).epoch(3)),
              (std::vector<std::size_t>{10}));
    EXPECT_EQ(DataLoader(rows_dataset(10), {huge, false, 0, /*drop_last=*/true}).num_batches(), 0u);
}

TEST(DataLoader, EmptyDatasetGivesNoBatches) {
    const DataLoader loader(Dataset{}, {4});
    EXPECT_EQ(loader.num_batches(), 0u);
    EXPECT_TRUE(batch_sizes(loader.epoch(0)).empty());
}

TEST(DataLoader, RejectsZeroBatchSize) {
    EXPECT_THROW_MSG(DataLoader(rows_dataset(3), {0}), std::invalid_argument,
                     "DataLoader: batch_size must be positive (got 0)");
}

TEST(DataLoader, ShuffleIsPinnedToAnIndependentReference) {
    // Epoch e uses permutation(N, splitmix64(seed ^ splitmix64(e))); reference values from the
    // same Python implementation as above.
    const DataLoader loader(rows_dataset(10), {4, /*shuffle=*/true, /*seed=*/7});
    EXPECT_EQ(visited_rows(loader.epoch(0)),
              (std::vector<std::size_t>{7, 8, 0, 4, 1, 6, 9, 5, 2, 3}));
    EXPECT_EQ(visited_rows(loader.epoch(1)),
              (std::vector<std::size_t>{1, 9, 7, 8, 0, 3, 4, 2, 5, 6}));
}

TEST(DataLoader, ShuffleVisitsEveryRowOncePerEpochInANewOrder) {
    const DataLoader loader(rows_dataset(50), {8, /*shuffle=*/true, /*seed=*/1});
    std::vector<std::size_t> e0 = visited_rows(loader.epoch(0));
    std::vector<std::size_t> e1 = visited_rows(loader.epoch(1));
    EXPECT_NE(e0, e1);
    std::sort(e0.begin(), e0.end());
    std::sort(e1.begin(), e1.end());
    EXPECT_EQ(e0, e1);
    EXPECT_EQ(e0.size(), 50u);
    EXPECT_EQ(std::adjacent_find(e0.begin(), e0.end()), e0.end());
}

TEST(DataLoader, SameSeedGivesSameBatchesInAnyCallOrder) {
    const DataLoader a(rows_dataset(30), {4, true, 99});
    const DataLoader b(rows_dataset(30), {4, true, 99});
    const auto a3 = visited_rows(a.epoch(3));  // epoch 3 first: no hidden generator state
    EXPECT_EQ(visited_rows(b.epoch(0)), visited_rows(a.epoch(0)));
    EXPECT_EQ(visited_rows(b.epoch(3)), a3);
    EXPECT_NE(visited_rows(DataLoader(rows_dataset(30), {4, true, 100}).epoch(0)),
              visited_rows(a.epoch(0)));
}

TEST(DataLoader, FeaturesFollowTheirLabelsWhenShuffled) {
    const DataLoader loader(rows_dataset(20), {6, true, 5});
    for (const Batch& b : loader.epoch(2)) {
        for (std::size_t i = 0; i < b.size(); ++i) {
            EXPECT_EQ(b.features.at({i, 0}), 10 * b.labels.at({i}));
            EXPECT_EQ(b.indices[i], static_cast<std::size_t>(b.labels.at({i})));
        }
    }
}

TEST(DataLoader, EpochOutlivesItsLoader) {
    DataLoader::Epoch epoch = DataLoader(rows_dataset(5), {2}).epoch(0);
    EXPECT_EQ(batch_sizes(epoch), (std::vector<std::size_t>{2, 2, 1}));
}

TEST(DataLoader, BatchIndexOutOfRangeThrows) {
    EXPECT_THROW_MSG(DataLoader(rows_dataset(5), {2}).epoch(0).batch(3), std::out_of_range,
                     "batch index out of range (got 3, expected < 3)");
}

}  // namespace
}  // namespace xgrad::data
