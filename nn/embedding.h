#pragma once
// Embedding: a lookup table of num_embeddings vectors, as torch::nn::Embedding.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>

#include "nn/module.h"

namespace xgrad::nn {

/// EmbeddingOptions(num_embeddings, embedding_dim).padding_idx(0), LibTorch's names. A negative
/// padding_idx counts from the end, as PyTorch.
/// NOTE: LibTorch's max_norm, norm_type, scale_grad_by_freq and sparse are not supported; dtype
/// is an option here (LibTorch converts with .to()).
class EmbeddingOptions {
public:
    EmbeddingOptions(std::size_t num_embeddings, std::size_t embedding_dim)
        : num_(num_embeddings), dim_(embedding_dim) {}
    EmbeddingOptions& padding_idx(std::optional<std::int64_t> v) {
        padding_idx_ = v;
        return *this;
    }
    EmbeddingOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t num_embeddings() const { return num_; }
    std::size_t embedding_dim() const { return dim_; }
    std::optional<std::int64_t> padding_idx() const { return padding_idx_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t num_, dim_;
    std::optional<std::int64_t> padding_idx_;
    DType dtype_ = f32;
};

namespace functional {

/// Options of functional::embedding: EmbeddingFuncOptions().padding_idx(0).
struct EmbeddingFuncOptions {
    EmbeddingFuncOptions& padding_idx(std::optional<std::int64_t> v) {
        padding_idx_ = v;
        return *this;
    }
    std::optional<std::int64_t> padding_idx_;
};

/// Rows of weight (V, D) picked by Int64 indices of any shape: out shape = input shape + (D),
/// as torch.nn.functional.embedding. d/dweight = grad rows added at their indices (repeated
/// indices accumulate), except the padding_idx row, which gets no gradient. Throws
/// std::invalid_argument naming `layer` for a non-Int64 input or an index out of [0, V)
/// ("Embedding: index 12 is out of range for 10 embeddings ...").
Tensor embedding(const Tensor& input, const Tensor& weight,
                 const EmbeddingFuncOptions& options = {}, const char* layer = "embedding");

}  // namespace functional

/// A lookup table: weight (num_embeddings, embedding_dim) initialised N(0, 1) from
/// nn::manual_seed's stream with the padding_idx row zeroed, as PyTorch; that row gets no
/// gradient.
///
/// Example:
///   nn::Embedding emb(nn::EmbeddingOptions(27, 16).padding_idx(0));
///   Tensor e = emb(idx);   // idx Int64 (B, T) -> e (B, T, 16)
class Embedding : public Module {
public:
    explicit Embedding(const EmbeddingOptions& options);
    /// Int64 indices of any shape -> shape + (embedding_dim).
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    const EmbeddingOptions& options() const { return options_; }
    /// The padding row, counted from 0 (a negative option resolved), or none.
    std::optional<std::int64_t> padding_idx() const { return padding_idx_; }
    /// "Embedding(10, 3, padding_idx=0)", PyTorch's repr.
    void pretty_print(std::ostream& os) const override;

protected:
    void reseed_default(std::uint64_t seed) override;

private:
    EmbeddingOptions options_;
    std::optional<std::int64_t> padding_idx_;
    Tensor weight_;
};

}  // namespace xgrad::nn
