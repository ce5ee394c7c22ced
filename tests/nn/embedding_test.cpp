// Embedding: lookup against plain indexing, repeated indices accumulating, padding_idx (a zero
// row at init, no gradient), gradcheck and gradgradcheck in float64, init and printout as
// PyTorch's, every error message.

#include "nn/embedding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "autograd/gradcheck.h"
#include "nn/init.h"
#include "tests/support/check.h"

namespace xgrad::nn {
namespace {

namespace F = functional;

Tensor indices(const std::vector<std::int64_t>& v, Shape shape) {
    return tensor(v, std::move(shape));
}

TEST(Embedding, LooksUpRowsForIndicesOfAnyShape) {
    Embedding emb(EmbeddingOptions(10, 3).dtype(f64));
    const Tensor idx = indices({1, 2, 4, 5, 4, 3, 2, 9}, Shape{2, 4});
    const Tensor y = emb.forward(idx);
    ASSERT_EQ(y.shape(), (Shape{2, 4, 3}));
    const auto w = emb.weight().to_vector(), yv = y.to_vector();
    const auto iv = idx.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < 8; ++i)
        for (std::size_t j = 0; j < 3; ++j)
            EXPECT_EQ(yv[i * 3 + j], w[static_cast<std::size_t>(iv[i]) * 3 + j]);
    EXPECT_EQ(emb.forward(tensor(std::vector<std::int64_t>{7}, Shape{})).shape(), (Shape{3}));
    EXPECT_EQ(emb.forward(indices({1, 2, 3, 4, 5, 6}, Shape{1, 2, 3})).shape(),
              (Shape{1, 2, 3, 3}));
}

TEST(Embedding, RepeatedIndicesAccumulateAndThePaddingRowGetsNoGradient) {
    manual_seed(1);
    Embedding emb(EmbeddingOptions(5, 2).padding_idx(0).dtype(f64));
    // PyTorch: the padding row starts at zero.
    EXPECT_EQ(emb.weight().to_vector()[0], 0.0);
    EXPECT_EQ(emb.weight().to_vector()[1], 0.0);
    init::copy_(emb.weight(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    const Tensor y = emb.forward(indices({0, 3, 3, 0, 1, 3}, Shape{6}));
    // The padding row's value is still read (it is the weight's row), only its gradient is 0.
    EXPECT_EQ(y.to_vector()[0], 1.0);
    EXPECT_EQ(y.to_vector()[1], 2.0);
    sum(y * tensor({1.0, 2.0}, Shape{2}, f64)).backward();
    EXPECT_EQ(emb.weight().grad().to_vector(), (std::vector<double>{0, 0, 1, 2, 0, 0, 3, 6, 0, 0}));
    // A negative padding_idx counts from the end, as PyTorch.
    Embedding last(EmbeddingOptions(5, 2).padding_idx(-1));
    EXPECT_EQ(last.padding_idx(), 4);
    EXPECT_EQ(last.weight().to_vector()[8], 0.0);
}

TEST(Embedding, GradcheckAndGradgradcheckThroughTheWeight) {
    const Tensor idx = indices({2, 0, 2, 1, 3, 2, 0}, Shape{7});
    const auto f = [&](const std::vector<Tensor>& in) {
        const Tensor e = F::embedding(reshape(idx, Shape{1, 7}), in[0]);
        return e * e;  // nonlinear, so the second derivative is not zero
    };
    const std::vector<Tensor> in{testing::rand64({4, 3}, 3)};
    EXPECT_TRUE(testing::grad_ok(f, in));
    const auto r = gradgradcheck(f, in);
    EXPECT_TRUE(r.ok) << r.message;
    // With padding_idx 2 the padding row's gradient is 0 by definition, not the derivative: hold
    // that row constant, and the other rows' gradients (every order) are the true ones.
    const Tensor pad_row = uniform({1, 3}, -1, 1, 4, f64);
    const auto fp = [&](const std::vector<Tensor>& v) {
        const Tensor w = cat({narrow(v[0], 0, 0, 2), pad_row, narrow(v[0], 0, 2, 1)}, 0);
        const Tensor e = F::embedding(idx, w, F::EmbeddingFuncOptions().padding_idx(2));
        return e * e;
    };
    const std::vector<Tensor> in3{testing::rand64({3, 3}, 5)};
    EXPECT_TRUE(testing::grad_ok(fp, in3));
    const auto rp = gradgradcheck(fp, in3);
    EXPECT_TRUE(rp.ok) << rp.message;
}

TEST(Embedding, InitIsStandardNormalAndPrintsAsPyTorch) {
    manual_seed(0);
    Embedding emb(EmbeddingOptions(1000, 10));
    EXPECT_EQ(emb.parameters().size(), 1u);
    EXPECT_EQ(emb.named_parameters()[0].first, "weight");
    double mean = 0, sq = 0;
    const auto w = emb.weight().to_vector();
    for (double v : w) {
        mean += v;
        sq += v * v;
    }
    mean /= double(w.size());
    const double sd = std::sqrt(sq / double(w.size()) - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.05);  // 10000 draws: sd of the mean is 0.01
    EXPECT_NEAR(sd, 1.0, 0.05);
    std::ostringstream os;
    os << emb;
    EXPECT_EQ(os.str(), "Embedding(1000, 10)");
    std::ostringstream os2;
    os2 << Embedding(EmbeddingOptions(10, 3).padding_idx(0));
    EXPECT_EQ(os2.str(), "Embedding(10, 3, padding_idx=0)");
}

TEST(Embedding, ErrorsNameTheIndexAndTheShapes) {
    Embedding emb(EmbeddingOptions(10, 3));
    EXPECT_THROW_MSG(emb.forward(indices({1, 12, 3}, Shape{3})), std::invalid_argument,
                     "Embedding: index 12 is out of range for 10 embeddings (input (3), weight "
                     "(10,3))");
    EXPECT_THROW_MSG(emb.forward(indices({-1, 2}, Shape{2})), std::invalid_argument,
                     "Embedding: index -1 is out of range for 10 embeddings");
    EXPECT_THROW_MSG(emb.forward(tensor({1.0, 2.0}, Shape{2})), std::invalid_argument,
                     "Embedding: indices must be int64 (got float32 (2)");
    EXPECT_THROW_MSG(Embedding(EmbeddingOptions(10, 3).padding_idx(10)), std::invalid_argument,
                     "Embedding: padding_idx must be within num_embeddings (got 10 for 10 "
                     "embeddings)");
    EXPECT_THROW_MSG(F::embedding(indices({0}, Shape{1}), zeros({3})), std::invalid_argument,
                     "embedding: weight must be 2-D");
}

}  // namespace
}  // namespace xgrad::nn
