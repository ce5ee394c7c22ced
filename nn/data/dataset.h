#pragma once
// In-memory datasets and a mini-batch loader with seeded, platform-independent shuffling.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::data {

/// One mini-batch: dataset rows gathered into contiguous constant tensors (no grad).
struct Batch {
    Tensor features;                   // (B, ...) the dataset's feature rows
    Tensor labels;                     // (B, ...) the matching labels
    std::vector<std::size_t> indices;  // the dataset rows, in batch order
    std::size_t size() const { return indices.size(); }
};

/// Features (N, ...) and labels (N, ...) in memory; row i of each belongs together. For
/// classification the labels are class indices stored as floats: (N), exact up to 2^24 in
/// float32. Copies are cheap: they share the (immutable) arrays.
/// Example:
///   Dataset ds(Array::from_values(f32, {4, 2}, {0, 0, 0, 1, 1, 0, 1, 1}),
///              Array::from_values(f32, {4}, {0, 1, 1, 0}));
///   Batch b = ds.gather({3, 0});   // b.features: (2,2) rows 3 and 0;  b.labels: [0, 0]
class Dataset {
public:
    /// An empty dataset (size 0).
    Dataset() = default;
    /// Throws std::invalid_argument when either array is 0-D or undefined, or the row counts
    /// differ.
    Dataset(Array features, Array labels);
    /// The values of two tensors (copied; no graph is kept).
    Dataset(const Tensor& features, const Tensor& labels);

    /// The number of rows N.
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    /// (N, ...) features; throws std::logic_error on a default-constructed dataset.
    const Array& features() const;
    /// (N, ...) labels; throws std::logic_error on a default-constructed dataset.
    const Array& labels() const;

    /// The given rows as one batch, in the given order. Throws std::out_of_range for a row
    /// >= size().
    Batch gather(const std::vector<std::size_t>& rows) const;
    /// Rows [begin, end) as a new dataset (copied). Throws std::out_of_range unless
    /// begin <= end <= size().
    Dataset slice(std::size_t begin, std::size_t end) const;

private:
    std::shared_ptr<const Array> features_;
    std::shared_ptr<const Array> labels_;
    std::size_t size_ = 0;
};

/// A permutation of 0..n-1 by Fisher-Yates with std::mt19937_64(seed). The same on every
/// platform: std::shuffle and std::uniform_int_distribution are implementation-defined, so the
/// bounded draws are done here, by rejection.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed);

/// How a DataLoader cuts a dataset into batches.
struct LoaderOptions {
    std::size_t batch_size = 32;
    /// Visit the rows in a new random order every epoch (else in dataset order).
    bool shuffle = false;
    /// With `shuffle`, epoch e uses permutation(N, mix(seed, e)): the batches of an epoch are a
    /// function of (dataset, options, e) alone, so a run can resume at any epoch.
    std::uint64_t seed = 0;
    /// Drop the last batch when it has fewer than batch_size rows (else it is yielded short).
    bool drop_last = false;
};

/// Each of `num_replicas` processes (ranks) gets a disjoint shard of every epoch, as PyTorch's
/// DistributedSampler: the epoch's order (the DataLoader's shuffle: permutation(N, mix(seed, e)),
/// or 0..N-1) is padded by repeating its first rows to a multiple of num_replicas (or, with
/// drop_last, cut to one), and rank r takes positions r, r + R, r + 2R, ... So batch k of every
/// rank together is batch k of one process with batch_size x R and the same seed.
/// NOTE: PyTorch shuffles with seed + epoch; here the seed is mixed as the DataLoader mixes it, so
/// the shards are those of the single-process loader's order, on every platform.
/// Example:
///   DistributedSampler s(train.size(), world_size, rank, /*shuffle=*/true, /*seed=*/1);
///   DataLoader loader(train, {/*batch_size=*/64}, s);   // this rank's batches
class DistributedSampler {
public:
    /// Throws std::invalid_argument for num_replicas 0 or rank >= num_replicas.
    DistributedSampler(std::size_t dataset_size, std::size_t num_replicas, std::size_t rank,
                       bool shuffle = true, std::uint64_t seed = 0, bool drop_last = false);
    /// The dataset rows this rank visits in epoch e, in order.
    std::vector<std::size_t> indices(std::size_t e) const;
    /// Rows per rank and epoch.
    std::size_t num_samples() const { return num_samples_; }
    std::size_t dataset_size() const { return size_; }
    std::size_t num_replicas() const { return replicas_; }
    std::size_t rank() const { return rank_; }
    bool shuffle() const { return shuffle_; }
    std::uint64_t seed() const { return seed_; }
    bool drop_last() const { return drop_last_; }

private:
    std::size_t size_, replicas_, rank_;
    bool shuffle_;
    std::uint64_t seed_;
    bool drop_last_;
    std::size_t num_samples_;
};

/// The order in which a DataLoader with `shuffle` and `seed` visits n rows in epoch e.
std::vector<std::size_t> epoch_order(std::size_t n, bool shuffle, std::uint64_t seed,
                                     std::size_t e);

/// Mini-batches over a dataset, one pass per `epoch(e)`.
/// Example:
///   DataLoader train(ds, {/*batch_size=*/64, /*shuffle=*/true, /*seed=*/7});
///   for (std::size_t e = 0; e < 5; ++e)
///       for (const Batch& b : train.epoch(e)) { ...b.features: (64, 784) ... }
class DataLoader {
public:
    /// Throws std::invalid_argument for a batch size of 0.
    DataLoader(Dataset dataset, LoaderOptions options);
    /// Batches of this rank's shard (`sampler` gives the order; options.shuffle must be off, as
    /// in PyTorch). Throws std::invalid_argument when the sampler is for another dataset size.
    DataLoader(Dataset dataset, LoaderOptions options, DistributedSampler sampler);

    /// One pass over the data: a range of batches built on demand.
    class Epoch {
    public:
        class iterator {
        public:
            using value_type = Batch;
            using difference_type = std::ptrdiff_t;
            using iterator_category = std::input_iterator_tag;
            iterator(const Epoch* epoch, std::size_t k) : epoch_(epoch), k_(k) {}
            Batch operator*() const { return epoch_->batch(k_); }
            iterator& operator++() {
                ++k_;
                return *this;
            }
            bool operator==(const iterator& o) const { return k_ == o.k_; }
            bool operator!=(const iterator& o) const { return k_ != o.k_; }

        private:
            const Epoch* epoch_;
            std::size_t k_;
        };

        /// The number of batches.
        std::size_t size() const { return count_; }
        /// Batch k (0 <= k < size()); throws std::out_of_range otherwise.
        Batch batch(std::size_t k) const;
        /// The order in which this epoch visits the dataset rows.
        const std::vector<std::size_t>& order() const { return order_; }
        iterator begin() const { return {this, 0}; }
        iterator end() const { return {this, count_}; }

    private:
        friend class DataLoader;
        Dataset dataset_;  // shares the loader's arrays: an Epoch outlives its loader safely
        std::size_t batch_size_ = 1;
        std::vector<std::size_t> order_;
        std::size_t count_ = 0;
    };

    /// Epoch e's batches (shuffled with a seed derived from options.seed and e).
    Epoch epoch(std::size_t e) const;
    /// Batches per epoch: ceil(N / batch_size), or floor with drop_last.
    std::size_t num_batches() const;
    const Dataset& dataset() const { return dataset_; }
    const LoaderOptions& options() const { return options_; }
    /// The sampler given at construction, or nullptr.
    const DistributedSampler* sampler() const { return sampler_ ? &*sampler_ : nullptr; }

private:
    Dataset dataset_;
    LoaderOptions options_;
    std::optional<DistributedSampler> sampler_;
};

}  // namespace xgrad::data
