#include "nn/data/dataset.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace xgrad::data {

namespace {

// SplitMix64's finaliser: a bijective mix, so nearby (seed, epoch) pairs give unrelated seeds.
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Uniform on [0, bound) for bound >= 1, by rejection of the top 2^64 mod bound values so that
// every residue is equally likely. mt19937_64's output sequence is fixed by the standard.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
        const std::uint64_t r = rng();
        if (r >= threshold) return r % bound;
    }
}

// (rows, rest...) -> (count, rest...).
Shape with_rows(const Shape& shape, std::size_t count) {
    std::vector<std::size_t> dims = shape.vec();
    dims[0] = count;
    return Shape(dims);
}

// Copies rows of `src` (N, ...) into a new (rows.size(), ...) array.
Array gather_rows(const Array& src, const std::vector<std::size_t>& rows) {
    Array out = Array::empty(src.dtype(), with_rows(src.shape(), rows.size()));
    const std::size_t n = src.shape()[0];
    const std::size_t row_bytes = n == 0 ? 0 : src.nbytes() / n;
    const auto* from = static_cast<const unsigned char*>(src.raw());
    auto* to = static_cast<unsigned char*>(out.raw());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::memcpy(to + i * row_bytes, from + rows[i] * row_bytes, row_bytes);
    }
    return out;
}

}  // namespace

Dataset::Dataset(Array features, Array labels) {
    if (!features.defined() || !labels.defined()) {
        throw std::invalid_argument("Dataset: features and labels must be defined arrays");
    }
    if (features.ndim() == 0 || labels.ndim() == 0) {
        throw std::invalid_argument(
            "Dataset: features and labels need a leading row dimension (got shapes " +
            features.shape().str() + " and " + labels.shape().str() + ", expected (N, ...))");
    }
    if (features.shape()[0] != labels.shape()[0]) {
        throw std::invalid_argument("Dataset: row counts differ (got features " +
                                    features.shape().str() + " and labels " + labels.shape().str() +
                                    ")");
    }
    size_ = features.shape()[0];
    features_ = std::make_shared<const Array>(std::move(features));
    labels_ = std::make_shared<const Array>(std::move(labels));
}

Dataset::Dataset(const Tensor& features, const Tensor& labels)
    : Dataset(features.value(), labels.value()) {}

const Array& Dataset::features() const {
    if (!features_) throw std::logic_error("Dataset::features: the dataset is empty");
    return *features_;
}

const Array& Dataset::labels() const {
    if (!labels_) throw std::logic_error("Dataset::labels: the dataset is empty");
    return *labels_;
}

Batch Dataset::gather(const std::vector<std::size_t>& rows) const {
    for (std::size_t r : rows) {
        if (r >= size_) {
            throw std::out_of_range("Dataset::gather: row out of range (got " + std::to_string(r) +
                                    ", expected < " + std::to_string(size_) + ")");
        }
    }
    if (rows.empty() && !features_) return Batch{};
    return Batch{Tensor(gather_rows(*features_, rows)), Tensor(gather_rows(*labels_, rows)), rows};
}

Dataset Dataset::slice(std::size_t begin, std::size_t end) const {
    if (begin > end || end > size_) {
        throw std::out_of_range("Dataset::slice: bad range (got [" + std::to_string(begin) + ", " +
                                std::to_string(end) + "), expected within [0, " +
                                std::to_string(size_) + "])");
    }
    if (!features_) return Dataset{};
    std::vector<std::size_t> rows(end - begin);
    std::iota(rows.begin(), rows.end(), begin);
    return Dataset(gather_rows(*features_, rows), gather_rows(*labels_, rows));
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
    std::vector<std::size_t> p(n);
    std::iota(p.begin(), p.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    for (std::size_t i = n; i > 1; --i) {
        const auto j = static_cast<std::size_t>(uniform_below(rng, i));  // j in [0, i-1]
        std::swap(p[i - 1], p[j]);
    }
    return p;
}

DataLoader::DataLoader(Dataset dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
    if (options_.batch_size == 0) {
        throw std::invalid_argument("DataLoader: batch_size must be positive (got 0)");
    }
}

DataLoader::DataLoader(Dataset dataset, LoaderOptions options, DistributedSampler sampler)
    : DataLoader(std::move(dataset), options) {
    if (options_.shuffle) {
        throw std::invalid_argument(
            "DataLoader: shuffle must be off with a DistributedSampler (the sampler shuffles; "
            "set its shuffle and seed instead)");
    }
    if (sampler.dataset_size() != dataset_.size()) {
        throw std::invalid_argument(
            "DataLoader: the DistributedSampler is for another dataset (got " +
            std::to_string(sampler.dataset_size()) + " rows, expected " +
            std::to_string(dataset_.size()) + ")");
    }
    sampler_ = sampler;
}

DistributedSampler::DistributedSampler(std::size_t dataset_size, std::size_t num_replicas,
                                       std::size_t rank, bool shuffle, std::uint64_t seed,
                                       bool drop_last)
    : size_(dataset_size),
      replicas_(num_replicas),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last) {
    if (num_replicas == 0) {
        throw std::invalid_argument("DistributedSampler: num_replicas must be positive (got 0)");
    }
    if (rank >= num_replicas) {
        throw std::invalid_argument("DistributedSampler: rank out of range (got rank " +
                                    std::to_string(rank) + ", expected < num_replicas " +
                                    std::to_string(num_replicas) + ")");
    }
    num_samples_ = drop_last ? size_ / replicas_ : (size_ + replicas_ - 1) / replicas_;
}

std::vector<std::size_t> DistributedSampler::indices(std::size_t e) const {
    const std::vector<std::size_t> order = epoch_order(size_, shuffle_, seed_, e);
    std::vector<std::size_t> mine;
    mine.reserve(num_samples_);
    // Position i of the padded order is order[i mod N] (padding repeats the first rows).
    for (std::size_t j = 0; j < num_samples_; ++j) {
        mine.push_back(order[(rank_ + j * replicas_) % size_]);
    }
    return mine;
}

std::vector<std::size_t> epoch_order(std::size_t n, bool shuffle, std::uint64_t seed,
                                     std::size_t e) {
    if (shuffle) return permutation(n, splitmix64(seed ^ splitmix64(e)));
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    return order;
}

std::size_t DataLoader::num_batches() const {
    const std::size_t n = sampler_ ? sampler_->num_samples() : dataset_.size();
    const std::size_t b = options_.batch_size;
    // NOTE: not (n + b - 1) / b, which wraps to 0 for b near SIZE_MAX; a batch_size larger
    // than the dataset gives one batch of everything, as PyTorch.
    return n / b + (!options_.drop_last && n % b != 0 ? 1 : 0);
}

DataLoader::Epoch DataLoader::epoch(std::size_t e) const {
    Epoch ep;
    ep.dataset_ = dataset_;
    ep.batch_size_ = options_.batch_size;
    ep.count_ = num_batches();
    ep.order_ = sampler_ ? sampler_->indices(e)
                         : epoch_order(dataset_.size(), options_.shuffle, options_.seed, e);
    return ep;
}

Batch DataLoader::Epoch::batch(std::size_t k) const {
    if (k >= count_) {
        throw std::out_of_range("DataLoader::Epoch::batch: batch index out of range (got " +
                                std::to_string(k) + ", expected < " + std::to_string(count_) + ")");
    }
    const std::size_t begin = k * batch_size_;  // k < count_, so begin < N: no overflow
    const std::size_t end = begin + std::min(batch_size_, order_.size() - begin);
    return dataset_.gather(
        std::vector<std::size_t>(order_.begin() + static_cast<std::ptrdiff_t>(begin),
                                 order_.begin() + static_cast<std::ptrdiff_t>(end)));
}

}  // namespace xgrad::data
