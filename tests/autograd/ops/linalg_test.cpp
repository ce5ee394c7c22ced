// matmul with torch.matmul's rules (1-D, 2-D, batched with broadcast batch dims) and bmm:
// values against a naive triple loop over the broadcast batch, gradcheck and gradgradcheck in
// float64, errors.

#include <gtest/gtest.h>

#include "tests/autograd/ops/op_test_util.h"

namespace xgrad {
namespace {

using namespace testing;

// Naive a @ b for a (Ba..., m, k) and b (Bb..., k, n) with one batch dim each side (or none),
// batch broadcast: the oracle for the batched cases below.
std::vector<double> naive(const Tensor& a, const Tensor& b, std::size_t batch, std::size_t ia_mod,
                          std::size_t ib_mod, std::size_t m, std::size_t k, std::size_t n) {
    const std::vector<double> A = a.to_vector(), B = b.to_vector();
    std::vector<double> C(batch * m * n, 0.0);
    for (std::size_t t = 0; t < batch; ++t) {
        const std::size_t ta = ia_mod ? t % ia_mod : 0, tb = ib_mod ? t % ib_mod : 0;
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j)
                for (std::size_t q = 0; q < k; ++q)
                    C[(t * m + i) * n + j] += A[(ta * m + i) * k + q] * B[(tb * k + q) * n + j];
    }
    return C;
}

TEST(MatmulNd, OneDimensionalCases) {
    const Tensor a = f64s({1, 2, 3}, {3}), m = iota({3, 2}), r = iota({2, 3});
    EXPECT_TRUE(values_are(matmul(a, a), {}, {14}));
    EXPECT_TRUE(values_are(matmul(a, m), {2}, {0 + 2 * 2 + 3 * 4, 1 + 2 * 3 + 3 * 5}));
    EXPECT_TRUE(values_are(matmul(r, a), {2}, {0 + 2 + 6, 3 + 8 + 15}));
    // 1-D against a batch: the vector is broadcast, its dim dropped.
    const Tensor bt = iota({2, 3, 2});
    EXPECT_TRUE(values_are(matmul(a, bt), {2, 2}, {16, 22, 52, 58}));
    EXPECT_TRUE(values_are(matmul(iota({2, 2, 3}), a), {2, 2}, {8, 26, 44, 62}));
}

TEST(MatmulNd, BatchedWithBroadcastBatchDims) {
    // (2,1,3,4) @ (5,4,2) -> (2,5,3,2): batch (2,1) and (5) broadcast to (2,5).
    const Tensor a = uniform({2, 1, 3, 4}, -1, 1, 1, f64), b = uniform({5, 4, 2}, -1, 1, 2, f64);
    const Tensor c = matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{2, 5, 3, 2}));
    // batch t = (i, j): a's matrix i = t / 5, b's matrix j = t % 5.
    const std::vector<double> A = a.to_vector(), B = b.to_vector(), C = c.to_vector();
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 5; ++j)
            for (std::size_t r = 0; r < 3; ++r)
                for (std::size_t s = 0; s < 2; ++s) {
                    double want = 0;
                    for (std::size_t q = 0; q < 4; ++q)
                        want += A[(i * 3 + r) * 4 + q] * B[(j * 4 + q) * 2 + s];
                    EXPECT_NEAR(C[((i * 5 + j) * 3 + r) * 2 + s], want, 1e-14);
                }
    // A batch against one matrix (one gemm over the stacked rows) and the reverse.
    const Tensor x = uniform({4, 3, 5}, -1, 1, 3, f64), w = uniform({5, 2}, -1, 1, 4, f64);
    EXPECT_TRUE(values_are(matmul(x, w), {4, 3, 2}, naive(x, w, 4, 4, 1, 3, 5, 2)));
    const Tensor l = uniform({3, 5}, -1, 1, 5, f64), y = uniform({4, 5, 2}, -1, 1, 6, f64);
    EXPECT_TRUE(values_are(matmul(l, y), {4, 3, 2}, naive(l, y, 4, 1, 4, 3, 5, 2)));
}

TEST(MatmulNd, Gradcheck) {
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({2, 1, 3, 4}, 10), rand64({5, 4, 2}, 11)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({3, 2, 4}, 12), rand64({4, 2}, 13)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({2, 4}, 14), rand64({3, 4, 2}, 15)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({4}, 16), rand64({2, 4, 3}, 17)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({2, 2, 3, 4}, 18), rand64({4}, 19)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return matmul(v[0], v[1]); },
                        {rand64({1, 3}, 20), rand64({2, 2, 3, 1}, 21)}));
    EXPECT_TRUE(grad_ok([](const V& v) { return bmm(v[0], v[1]); },
                        {rand64({3, 2, 4}, 22), rand64({3, 4, 5}, 23)}));
}

TEST(MatmulNd, Gradgradcheck) {
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return matmul(v[0], v[1]); },
                            {rand64({2, 1, 3, 4}, 30), rand64({5, 4, 2}, 31)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return matmul(v[0], v[1]); },
                            {rand64({3, 2, 4}, 32), rand64({4, 2}, 33)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return matmul(v[0], v[1]); },
                            {rand64({4}, 34), rand64({2, 4, 3}, 35)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return square(bmm(v[0], v[1])); },
                            {rand64({2, 2, 3}, 36), rand64({2, 3, 2}, 37)}));
}

TEST(MatmulNd, Errors) {
    EXPECT_THROW_MSG(matmul(scalar(2), zeros({3})), std::invalid_argument,
                     "matmul: both arguments need at least 1 dimension (got () and (3))");
    EXPECT_THROW_MSG(matmul(zeros({2, 3, 4}), zeros({5, 4, 2})), std::invalid_argument,
                     "matmul: batch dimensions cannot be broadcast (got (2,3,4) and (5,4,2))");
    EXPECT_THROW_MSG(matmul(zeros({2, 3, 4}), zeros({3, 2})), std::invalid_argument,
                     "matmul: inner dimensions differ (got (2,3,4) and (3,2))");
    EXPECT_THROW_MSG(matmul(Tensor(Array::from_vector(std::vector<std::int64_t>{1, 2})),
                            Tensor(Array::from_vector(std::vector<std::int64_t>{1, 2}))),
                     std::invalid_argument, "matmul", "int64");
    EXPECT_THROW_MSG(bmm(zeros({2, 3}), zeros({2, 3, 4})), std::invalid_argument,
                     "bmm: expected two 3-D tensors (got (2,3) and (2,3,4))");
    EXPECT_THROW_MSG(bmm(zeros({2, 3, 4}), zeros({3, 4, 5})), std::invalid_argument,
                     "bmm: batch sizes differ (got (2,3,4) and (3,4,5))");
    EXPECT_THROW_MSG(bmm(zeros({2, 3, 4}), zeros({2, 5, 5})), std::invalid_argument,
                     "bmm: inner dimensions differ (got (2,3,4) and (2,5,5))");
}

}  // namespace
}  // namespace xgrad
