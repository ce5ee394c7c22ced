// matmul with torch.matmul's rules (1-D, 2-D, batched with broadcast batch dims) and bmm:
// values against a naive triple loop over the broadcast batch, gradcheck and gradgradcheck in
// float64, errors.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>

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

// addmm against beta * input + alpha * (a naive product), input broadcast to (n, p).
std::vector<double> naive_addmm(const Tensor& input, const Tensor& m1, const Tensor& m2,
                                double beta, double alpha) {
    const std::size_t n = m1.shape()[0], k = m1.shape()[1], p = m2.shape()[1];
    const std::vector<double> prod = naive(m1, m2, 1, 0, 0, n, k, p), in = input.to_vector();
    std::vector<double> out(n * p);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < p; ++j) {
            // input (), (p), (1,p), (n,1) or (n,p): index it as its broadcast would.
            std::size_t at = 0;
            if (input.ndim() == 1) at = input.shape()[0] == 1 ? 0 : j;
            if (input.ndim() == 2) {
                at = (input.shape()[0] == 1 ? 0 : i) * input.shape()[1] +
                     (input.shape()[1] == 1 ? 0 : j);
            }
            out[i * p + j] = (beta == 0 ? 0 : beta * in[at]) + alpha * prod[i * p + j];
        }
    return out;
}

TEST(Addmm, ValuesWithBroadcastInputAndScales) {
    const Tensor m1 = uniform({3, 4}, -1, 1, 40, f64), m2 = uniform({4, 5}, -1, 1, 41, f64);
    for (const Shape& s : {Shape{}, Shape{5}, Shape{1, 5}, Shape{3, 1}, Shape{3, 5}}) {
        const Tensor in = uniform(s, -1, 1, 42, f64);
        for (const auto& [beta, alpha] : {std::pair{1.0, 1.0}, std::pair{2.0, 1.0},
                                          std::pair{1.0, -0.5}, std::pair{0.5, 3.0}}) {
            EXPECT_TRUE(values_are(addmm(in, m1, m2, beta, alpha), {3, 5},
                                   naive_addmm(in, m1, m2, beta, alpha), 1e-14))
                << "input " << s.str() << " beta " << beta << " alpha " << alpha;
        }
    }
    // float32 as well (the path nn::Linear takes).
    const Tensor a = uniform({2, 3}, -1, 1, 43), b = uniform({3, 2}, -1, 1, 44),
                 c = uniform({2}, -1, 1, 45);
    EXPECT_TRUE(values_are(addmm(c, a, b), {2, 2},
                           naive_addmm(to(c, f64), to(a, f64), to(b, f64), 1, 1), 1e-6));
}

TEST(Addmm, BetaZeroIgnoresTheInput) {
    // As torch.addmm: with beta 0, NaN and inf in input do not propagate, and its gradient is 0.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Tensor in = f64s({nan, INFINITY}, {2}, true), m1 = iota({2, 2}), m2 = iota({2, 2});
    const Tensor out = addmm(in, m1, m2, 0, 2);
    EXPECT_TRUE(values_are(out, {2, 2}, {2 * 2, 2 * 3, 2 * 6, 2 * 11}));
    sum(out).backward();
    EXPECT_TRUE(values_are(in.grad(), {2}, {0, 0}));
}

TEST(Addmm, Gradcheck) {
    for (const Shape& s : {Shape{}, Shape{4}, Shape{1, 4}, Shape{3, 1}, Shape{3, 4}}) {
        EXPECT_TRUE(grad_ok([](const V& v) { return addmm(v[0], v[1], v[2]); },
                            {rand64(s, 50), rand64({3, 2}, 51), rand64({2, 4}, 52)}))
            << s.str();
        EXPECT_TRUE(grad_ok([](const V& v) { return addmm(v[0], v[1], v[2], 0.5, -2); },
                            {rand64(s, 53), rand64({3, 2}, 54), rand64({2, 4}, 55)}))
            << s.str();
    }
}

TEST(Addmm, Gradgradcheck) {
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return square(addmm(v[0], v[1], v[2])); },
                            {rand64({4}, 60), rand64({3, 2}, 61), rand64({2, 4}, 62)}));
    EXPECT_TRUE(gradgrad_ok([](const V& v) { return addmm(v[0], v[1], v[2], 2, 0.5); },
                            {rand64({3, 1}, 63), rand64({3, 2}, 64), rand64({2, 4}, 65)}));
}

TEST(Addmm, Errors) {
    EXPECT_THROW_MSG(addmm(zeros({3}), zeros({3}), zeros({3, 3})), std::invalid_argument,
                     "addmm: expected 2-D mat1 and mat2 (got (3) and (3,3))");
    EXPECT_THROW_MSG(addmm(zeros({3}), zeros({2, 3}), zeros({4, 3})), std::invalid_argument,
                     "addmm: inner dimensions differ (got (2,3) and (4,3))");
    EXPECT_THROW_MSG(addmm(zeros({2}), zeros({2, 3}), zeros({3, 4})), std::invalid_argument,
                     "addmm: input of shape (2) cannot be broadcast to the product's shape (2,4) "
                     "(mat1 (2,3), mat2 (3,4))");
    EXPECT_THROW_MSG(addmm(zeros({1, 2, 4}), zeros({2, 3}), zeros({3, 4})), std::invalid_argument,
                     "addmm: input of shape (1,2,4) cannot be broadcast");
    EXPECT_THROW_MSG(addmm(zeros({4}, f64), zeros({2, 3}), zeros({3, 4})), std::invalid_argument,
                     "addmm: dtypes differ");
    EXPECT_THROW_MSG(addmm(Tensor(), zeros({2, 3}), zeros({3, 4})), std::invalid_argument,
                     "addmm: input is an undefined tensor");
    const Tensor i64 = Tensor(Array::from_vector(std::vector<std::int64_t>{1, 2, 3, 4}, {2, 2}));
    EXPECT_THROW_MSG(addmm(i64, i64, i64), std::invalid_argument, "addmm", "int64");
}

}  // namespace
}  // namespace xgrad
