#include "nn/embedding.h"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/detail/random.h"
#include "nn/init.h"

namespace xgrad::nn {

namespace functional {

Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options,
                 const char* layer) {
    const std::string op = layer;
    if (!input.defined()) throw std::invalid_argument(op + ": undefined input");
    if (!weight.defined()) throw std::invalid_argument(op + ": undefined weight");
    if (weight.ndim() != 2) {
        throw std::invalid_argument(op +
                                    ": weight must be 2-D (num_embeddings, embedding_dim) (got " +
                                    weight.shape().str() + ")");
    }
    if (input.dtype() != DType::Int64) {
        // PyTorch: "Expected tensor for argument #1 'indices' to have one of the following
        // scalar types: Long, Int; but got torch.FloatTensor instead".
        throw std::invalid_argument(op + ": indices must be int64 (got " +
                                    dtype_name(input.dtype()) + " " + input.shape().str() +
                                    "; convert with to(x, DType::Int64))");
    }
    const auto rows = static_cast<std::int64_t>(weight.shape()[0]);
    const std::int64_t* ix = input.data<std::int64_t>();
    for (std::size_t i = 0, n = input.numel(); i < n; ++i) {
        if (ix[i] < 0 || ix[i] >= rows) {
            throw std::invalid_argument(op + ": index " + std::to_string(ix[i]) +
                                        " is out of range for " + std::to_string(rows) +
                                        " embeddings (input " + input.shape().str() + ", weight " +
                                        weight.shape().str() + ")");
        }
    }
    std::optional<std::int64_t> pad = options.padding_idx_;
    if (pad && *pad < 0) *pad += rows;
    if (pad && (*pad < 0 || *pad >= rows)) {
        throw std::invalid_argument(op + ": padding_idx must be within num_embeddings (got " +
                                    std::to_string(*options.padding_idx_) + " for " +
                                    std::to_string(rows) + " embeddings)");
    }
    // out[..., :] = weight[input[...], :] (one gather; its rule adds grad rows at the indices).
    Tensor out = xgrad::embedding(weight, input);
    if (!pad) return out;
    // The padding row gets no gradient: where the index is padding_idx the output is a constant
    // copy of itself, so d/dweight of those rows is 0 (every order), the values unchanged.
    const Tensor is_pad = unsqueeze(eq(input, static_cast<double>(*pad)), -1);
    return where(is_pad, out.detach(), out);
}

}  // namespace functional

Embedding::Embedding(const EmbeddingOptions& options) : Module("Embedding"), options_(options) {
    const auto rows = static_cast<std::int64_t>(options.num_embeddings());
    if (auto p = options.padding_idx()) {
        const std::int64_t r = *p < 0 ? *p + rows : *p;
        if (r < 0 || r >= rows) {
            throw std::invalid_argument(
                "Embedding: padding_idx must be within num_embeddings (got " + std::to_string(*p) +
                " for " + std::to_string(rows) + " embeddings)");
        }
        padding_idx_ = r;
    }
    weight_ = register_parameter(
        "weight", zeros(Shape{options.num_embeddings(), options.embedding_dim()}, options.dtype()));
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void Embedding::reseed_default(std::uint64_t seed) {
    // PyTorch: normal_(weight, 0, 1), then the padding row filled with 0.
    init::normal_(weight_, 0.0, 1.0, seed);
    if (!padding_idx_) return;
    std::vector<double> v = weight_.to_vector();
    const std::size_t d = options_.embedding_dim(), r = static_cast<std::size_t>(*padding_idx_);
    for (std::size_t j = 0; j < d; ++j) v[r * d + j] = 0.0;
    init::copy_(weight_, v);
}

Tensor Embedding::forward(const Tensor& input) {
    check_not_moved_from("forward");
    return functional::embedding(
        input, weight_, functional::EmbeddingFuncOptions().padding_idx(padding_idx_), "Embedding");
}

void Embedding::pretty_print(std::ostream& os) const {
    os << "Embedding(" << options_.num_embeddings() << ", " << options_.embedding_dim();
    if (padding_idx_) os << ", padding_idx=" << *padding_idx_;
    os << ")";
}

}  // namespace xgrad::nn
