// The N-d kernels (autograd/kernels/nd.h) against plain loops: strided copies and permute,
// batched matmul with torch.matmul's rules and its backward, gather/scatter_add,
// index_select/index_add, cat/split; and every error message.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/op.h"
#include "tests/support/check.h"

namespace xgrad::kernels {
namespace {

Array random_array(Shape shape, std::uint64_t seed, DType dtype = f64) {
    return uniform(std::move(shape), -1, 1, seed, dtype).value();
}
Array iota(Shape shape, DType dtype = f64) {
    Array a = Array::arange(dtype, 0, double(shape.numel())).reshaped(shape);
    return a;
}
Array ints(const std::vector<std::int64_t>& v, Shape shape) {
    return Array::from_vector(v, std::move(shape));
}

// Element of a contiguous array at a multi-index given as a vector.
std::size_t flat_of(const Shape& s, const std::vector<std::size_t>& i) {
    std::size_t f = 0;
    for (std::size_t d = 0; d < s.size(); ++d) f = f * s[d] + i[d];
    return f;
}
// Calls f(multi-index) for every index of s in row-major order.
template <class F>
void each_index(const Shape& s, F&& f) {
    std::vector<std::size_t> i(s.size(), 0);
    for (std::size_t n = 0, total = s.numel(); n < total; ++n) {
        f(i);
        for (std::size_t d = s.size(); d-- > 0;) {
            if (++i[d] < s[d]) break;
            i[d] = 0;
        }
    }
}

// ---- Strided copies. ----

TEST(KernelNormalizeDim, WrapsNegativeDimsAndNamesTheRange) {
    EXPECT_EQ(normalize_dim("t", -1, 3), 2u);
    EXPECT_EQ(normalize_dim("t", 0, 0), 0u);
    EXPECT_EQ(normalize_dim("t", -1, 0), 0u);
    EXPECT_THROW_MSG(normalize_dim("select", 2, 2), std::invalid_argument,
                     "select: dimension out of range (expected to be in range of [-2, 1], but "
                     "got 2)");
    EXPECT_THROW_MSG(normalize_dim("t", -4, 3), std::invalid_argument, "got -4");
}

TEST(KernelCopyStrided, EveryPermutationOfA4DArrayMatchesAPlainLoop) {
    const Shape s{3, 4, 5, 6};
    const Array a = random_array(s, 1);
    std::vector<std::int64_t> dims = {0, 1, 2, 3};
    int count = 0;
    do {
        const Array p = permute(a, dims);
        ASSERT_EQ(p.shape(), (Shape{s[dims[0]], s[dims[1]], s[dims[2]], s[dims[3]]}));
        each_index(p.shape(), [&](const std::vector<std::size_t>& i) {
            std::vector<std::size_t> src(4);
            for (std::size_t d = 0; d < 4; ++d) src[dims[d]] = i[d];
            ASSERT_EQ(p.at(flat_of(p.shape(), i)), a.at(flat_of(s, src)));
        });
        ++count;
    } while (std::next_permutation(dims.begin(), dims.end()));
    EXPECT_EQ(count, 24);
}

TEST(KernelCopyStrided, LargeTransposesUseTheTiledParallelPathAndStayExact) {
    // (64, 128, 256): above the parallel grain; (0,2,1) and (2,0,1) take the tiled path.
    const Array a = iota({64, 128, 256}, f32);
    for (const std::vector<std::int64_t>& dims :
         {std::vector<std::int64_t>{0, 2, 1}, {2, 0, 1}, {1, 0, 2}, {2, 1, 0}}) {
        const Array p = permute(a, dims);
        const float* q = p.data<float>();
        const Shape& ps = p.shape();
        std::size_t bad = 0;
        each_index(ps, [&](const std::vector<std::size_t>& i) {
            std::vector<std::size_t> src(3);
            for (std::size_t d = 0; d < 3; ++d) src[dims[d]] = i[d];
            bad += q[flat_of(ps, i)] != float(flat_of(a.shape(), src));
        });
        EXPECT_EQ(bad, 0u) << dims[0] << dims[1] << dims[2];
    }
}

TEST(KernelCopyStrided, SlicesWithStepOffsetAndBroadcastStrides) {
    const Array a = iota({4, 6}, i64);
    // a[1:4:2, 1::2] (rows 1, 3; columns 1, 3, 5): offset 7, strides (12, 2).
    const Array s = copy_strided(a, Shape{2, 3}, {12, 2}, 7);
    EXPECT_EQ(s.to_vector<std::int64_t>(), (std::vector<std::int64_t>{7, 9, 11, 19, 21, 23}));
    // expand a column (4,1) to (4,3): stride 0 along the new dim.
    const Array col = iota({4, 1}, f32);
    const Array ex = copy_strided(col, Shape{4, 3}, {1, 0});
    EXPECT_EQ(ex.to_vector(), (std::vector<double>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}));
    // select(1, 2) of a (4,6): shape (4), stride 6, offset 2.
    EXPECT_EQ(copy_strided(a, Shape{4}, {6}, 2).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{2, 8, 14, 20}));
    // Bool copies move single bytes.
    const Array m = Array::from_vector(std::vector<bool>{true, false, false, true}, {2, 2});
    EXPECT_EQ(copy_strided(m, Shape{2, 2}, {1, 2}).to_vector<bool>(),
              (std::vector<bool>{true, false, false, true}));
    EXPECT_THROW_MSG(copy_strided(a, Shape{5}, {6}, 0), std::logic_error, "reaches past");
}

TEST(KernelAddStrided, IsTheAdjointOfCopyStrided) {
    // expand's backward: a (4,3) gradient summed into a (4,1) column.
    Array col(f64, Shape{4, 1});
    const Array g = iota({4, 3});
    add_strided(col, g, {1, 0});
    EXPECT_EQ(col.to_vector(), (std::vector<double>{3, 12, 21, 30}));
    // slice's backward: scattered into the sliced positions of zeros.
    Array z(f64, Shape{4, 6});
    add_strided(z, Array::full(f64, {2, 3}, 1.0), {12, 2}, 7);
    double total = 0;
    for (double v : z.to_vector()) total += v;
    EXPECT_EQ(total, 6.0);
    EXPECT_EQ(z.at({1, 1}), 1.0);
    EXPECT_EQ(z.at({3, 5}), 1.0);
    EXPECT_EQ(z.at({2, 1}), 0.0);
}

TEST(KernelPermute, RejectsWrongCountsAndRepeatedDims) {
    const Array a = iota({2, 3, 4});
    EXPECT_THROW_MSG(permute(a, {0, 1}), std::invalid_argument, "permute", "expected 3 dims",
                     "(2,3,4)", "got 2");
    EXPECT_THROW_MSG(permute(a, {0, 1, 1}), std::invalid_argument, "permute: repeated dim 1");
    EXPECT_THROW_MSG(permute(a, {0, 1, 3}), std::invalid_argument, "dimension out of range");
    EXPECT_EQ(permute(a, {-1, 0, 1}).shape(), (Shape{4, 2, 3}));
}

// ---- Batched matmul. ----

// torch.matmul by its definition, in double, with the broadcast done by hand.
struct Naive {
    Array out, ga, gb;
};
Naive naive_matmul(const Array& a, const Array& b, const Array* grad) {
    const Shape &sa = a.shape(), &sb = b.shape();
    // Promote 1-D operands; the dims dropped from the result are re-dropped at the end.
    std::vector<std::size_t> va = sa.vec(), vb = sb.vec();
    if (va.size() == 1) va.insert(va.begin(), 1);
    if (vb.size() == 1) vb.push_back(1);
    const std::size_t m = va[va.size() - 2], k = va.back(), n = vb.back();
    std::vector<std::size_t> ba(va.begin(), va.end() - 2), bb(vb.begin(), vb.end() - 2);
    const std::size_t nb = std::max(ba.size(), bb.size());
    ba.insert(ba.begin(), nb - ba.size(), 1);
    bb.insert(bb.begin(), nb - bb.size(), 1);
    std::vector<std::size_t> batch(nb);
    for (std::size_t d = 0; d < nb; ++d) batch[d] = ba[d] == 1 ? bb[d] : ba[d];
    std::vector<std::size_t> full = batch;
    full.push_back(m);
    full.push_back(n);
    Naive r;
    r.out = Array(a.dtype(), Shape(full));
    r.ga = Array(a.dtype(), sa);
    r.gb = Array(b.dtype(), sb);
    each_index(Shape(batch), [&](const std::vector<std::size_t>& bi) {
        std::vector<std::size_t> ia(nb), ib(nb);
        for (std::size_t d = 0; d < nb; ++d) {
            ia[d] = ba[d] == 1 ? 0 : bi[d];
            ib[d] = bb[d] == 1 ? 0 : bi[d];
        }
        const std::size_t fa = flat_of(Shape(ba), ia), fb = flat_of(Shape(bb), ib);
        const std::size_t fo = flat_of(Shape(batch), bi);
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                double s = 0;
                const std::size_t o = (fo * m + i) * n + j;
                for (std::size_t q = 0; q < k; ++q) {
                    const std::size_t ai = (fa * m + i) * k + q, bj = (fb * k + q) * n + j;
                    s += a.at(ai) * b.at(bj);
                    if (grad) {
                        const double g = grad->at(o);
                        r.ga.set(ai, r.ga.at(ai) + g * b.at(bj));
                        r.gb.set(bj, r.gb.at(bj) + a.at(ai) * g);
                    }
                }
                r.out.set(o, s);
            }
        }
    });
    return r;
}

void expect_close(const Array& got, const Array& want, const char* what) {
    ASSERT_EQ(got.numel(), want.numel()) << what;
    for (std::size_t i = 0; i < got.numel(); ++i) {
        ASSERT_NEAR(got.at(i), want.at(i), 1e-10) << what << " element " << i;
    }
}

TEST(KernelMatmul, EveryTorchMatmulCaseMatchesTheDefinitionForwardAndBackward) {
    struct Case {
        Shape a, b, out;
    };
    const std::vector<Case> cases = {
        {{4}, {4}, {}},                           // dot
        {{3, 4}, {4}, {3}},                       // matrix-vector
        {{4}, {4, 5}, {5}},                       // vector-matrix
        {{3, 4}, {4, 5}, {3, 5}},                 // matrix-matrix
        {{2, 1, 3, 4}, {5, 4, 2}, {2, 5, 3, 2}},  // batch dims broadcast
        {{6, 3, 4}, {4, 5}, {6, 3, 5}},           // stacked rows: one gemm
        {{6, 3, 4}, {1, 4, 5}, {6, 3, 5}},
        {{2, 3, 4}, {4}, {2, 3}},        // batched matrix-vector
        {{4}, {2, 4, 3}, {2, 3}},        // vector against a batch
        {{3, 4}, {2, 4, 5}, {2, 3, 5}},  // the left operand broadcast
        {{2, 1, 3, 4}, {1, 2, 4, 1}, {2, 2, 3, 1}},
        {{0, 3, 4}, {4, 2}, {0, 3, 2}},  // empty batch
        {{3, 0}, {0, 2}, {3, 2}},        // k = 0: zeros
    };
    std::uint64_t seed = 10;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.a.str() + " @ " + c.b.str());
        EXPECT_EQ(matmul_plan(c.a, c.b).out, c.out);
        const Array a = random_array(c.a, seed++), b = random_array(c.b, seed++);
        const Array g = random_array(c.out, seed++);
        const Naive want = naive_matmul(a, b, &g);
        const Array got = matmul(a, b);
        ASSERT_EQ(got.shape(), c.out);
        expect_close(got, want.out, "forward");
        expect_close(matmul_backward_a(g, a, b), want.ga, "grad a");
        expect_close(matmul_backward_b(g, a, b), want.gb, "grad b");
    }
}

TEST(KernelMatmul, Float32UsesSgemm) {
    const Array a = random_array({2, 3, 4}, 1, f32), b = random_array({2, 4, 5}, 2, f32);
    const Array c = matmul(a, b);
    EXPECT_EQ(c.dtype(), f32);
    const Naive want = naive_matmul(a.cast(f64), b.cast(f64), nullptr);
    for (std::size_t i = 0; i < c.numel(); ++i) EXPECT_NEAR(c.at(i), want.out.at(i), 1e-5);
}

TEST(KernelMatmul, ErrorsNameBothShapes) {
    const Array a(f32, Shape{32, 784}), b(f32, Shape{128, 10});
    EXPECT_THROW_MSG(matmul(a, b), std::invalid_argument,
                     "matmul: inner dimensions differ (got (32,784) and (128,10))");
    EXPECT_THROW_MSG(matmul_plan(Shape{2, 3, 4}, Shape{5, 4, 2}), std::invalid_argument,
                     "batch dimensions cannot be broadcast (got (2,3,4) and (5,4,2))");
    EXPECT_THROW_MSG(matmul_plan(Shape{}, Shape{3}), std::invalid_argument,
                     "need at least 1 dimension (got () and (3))");
    EXPECT_THROW_MSG(matmul(Array(f32, Shape{2, 2}), Array(f64, Shape{2, 2})),
                     std::invalid_argument, "matmul: dtypes differ", "float32", "float64");
    EXPECT_THROW_MSG(matmul(Array(i64, Shape{2, 2}), Array(i64, Shape{2, 2})),
                     std::invalid_argument, "matmul: expected a floating dtype (got int64)");
    EXPECT_THROW_MSG(matmul_backward_a(Array(f32, Shape{3}), a, Array(f32, Shape{784, 3})),
                     std::invalid_argument, "gradient does not match");
}

// ---- Indexing and joining. ----

TEST(KernelGather, MatchesTorchGatherAndScatterAddIsItsAdjoint) {
    const Array x = iota({3, 4});  // [[0..3], [4..7], [8..11]]
    // torch.gather(x, 1, [[0, 0], [3, -1], [1, 2]]) = [[0, 0], [7, 7], [9, 10]]
    const Array idx = ints({0, 0, 3, -1, 1, 2}, {3, 2});
    EXPECT_EQ(gather(x, 1, idx).to_vector(), (std::vector<double>{0, 0, 7, 7, 9, 10}));
    // dim 0: out[i][j] = x[idx[i][j]][j]
    const Array idx0 = ints({2, 0, 1, 1}, {1, 4});
    EXPECT_EQ(gather(x, 0, idx0).to_vector(), (std::vector<double>{8, 1, 6, 7}));
    // scatter_add into zeros: repeated indices accumulate.
    const Array src = Array::full(f64, {3, 2}, 1.0);
    const Array s = scatter_add(Array(f64, Shape{3, 4}), 1, idx, src);
    EXPECT_EQ(s.to_vector(), (std::vector<double>{2, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1, 0}));
    // <gather(x), g> == <x, scatter_add(0, g)> for random x, g: the adjoint property.
    const Array rx = random_array({3, 4}, 5), rg = random_array({3, 2}, 6);
    const Array gx = gather(rx, 1, idx), sx = scatter_add(Array(f64, Shape{3, 4}), 1, idx, rg);
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < 6; ++i) lhs += gx.at(i) * rg.at(i);
    for (std::size_t i = 0; i < 12; ++i) rhs += rx.at(i) * sx.at(i);
    EXPECT_NEAR(lhs, rhs, 1e-12);
}

TEST(KernelGather, BadIndicesGiveClearErrors) {
    const Array x = iota({3, 4});
    EXPECT_THROW_MSG(gather(x, 1, ints({4}, {1, 1})), std::invalid_argument,
                     "gather: index 4 is out of bounds for dimension 1 with size 4");
    EXPECT_THROW_MSG(gather(x, 1, ints({0, 1}, {2})), std::invalid_argument,
                     "same number of dimensions", "(2)", "(3,4)");
    EXPECT_THROW_MSG(gather(x, 1, Array(f32, Shape{1, 1})), std::invalid_argument,
                     "gather: index must be an int64 tensor (got float32)");
    EXPECT_THROW_MSG(gather(x, 1, ints({0, 0, 0, 0}, {4, 1})), std::invalid_argument,
                     "size of index dimension 0 exceeds");
    EXPECT_THROW_MSG(scatter_add(x, 1, ints({0}, {1, 1}), Array(f32, Shape{1, 1})),
                     std::invalid_argument, "scatter_add: dtypes differ");
    EXPECT_THROW_MSG(scatter_add(Array(bool_, Shape{2}), 0, ints({0}, {1}), Array(bool_, Shape{1})),
                     std::invalid_argument, "got bool");
}

TEST(KernelIndexSelect, SelectsSlicesAndIndexAddAccumulatesRepeatedIndices) {
    const Array w = iota({4, 3});  // an embedding table of 4 rows
    const Array rows = ints({3, 0, 3}, {3});
    EXPECT_EQ(index_select(w, 0, rows).to_vector(),
              (std::vector<double>{9, 10, 11, 0, 1, 2, 9, 10, 11}));
    EXPECT_EQ(index_select(w, 1, ints({-1, 0}, {2})).to_vector(),
              (std::vector<double>{2, 0, 5, 3, 8, 6, 11, 9}));
    EXPECT_EQ(index_select(w, 0, ints({2}, {})).shape(), (Shape{1, 3}));
    // embedding's backward: row 3 gets two gradient rows.
    const Array g = iota({3, 3});
    const Array acc = index_add(Array(f64, Shape{4, 3}), 0, rows, g);
    EXPECT_EQ(acc.to_vector(), (std::vector<double>{3, 4, 5, 0, 0, 0, 0, 0, 0, 6, 8, 10}));
    const Array half = index_add(Array::full(f64, {4, 3}, 1.0), 1, ints({2}, {1}),
                                 Array::full(f64, {4, 1}, 4.0), 0.5);
    EXPECT_EQ(half.at({0, 2}), 3.0);
    EXPECT_EQ(half.at({0, 1}), 1.0);
    // int64 works too.
    EXPECT_EQ(index_add(Array(i64, Shape{2}), 0, ints({1, 1}, {2}), ints({5, 6}, {2}))
                  .to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{0, 11}));
    EXPECT_THROW_MSG(index_select(w, 0, ints({4}, {1})), std::invalid_argument,
                     "index_select: index 4 is out of bounds for dimension 0 with size 4");
    EXPECT_THROW_MSG(index_select(w, 0, ints({0, 1}, {1, 2})), std::invalid_argument,
                     "index must be 1-D or 0-D (got (1,2))");
    EXPECT_THROW_MSG(index_add(Array(f64, Shape{4, 3}), 0, rows, Array(f64, Shape{2, 3})),
                     std::invalid_argument, "index_add: source shape", "(2,3)", "(3,3)");
}

TEST(KernelCat, JoinsAlongAnyDimAndSplitUndoesIt) {
    const Array a = iota({2, 3}), b = Array::full(f64, {2, 1}, -1.0);
    const Array c = cat({a, b}, 1);
    EXPECT_EQ(c.shape(), (Shape{2, 4}));
    EXPECT_EQ(c.to_vector(), (std::vector<double>{0, 1, 2, -1, 3, 4, 5, -1}));
    const Array r = cat({a, a}, 0);
    EXPECT_EQ(r.shape(), (Shape{4, 3}));
    EXPECT_EQ(r.at({3, 2}), 5.0);
    const std::vector<Array> parts = split(c, std::vector<std::size_t>{3, 1}, 1);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].to_vector(), a.to_vector());
    EXPECT_EQ(parts[1].to_vector(), b.to_vector());
    // torch.split(x, 2) of a dim of 5: sizes 2, 2, 1.
    const std::vector<Array> chunks = split(iota({5, 2}), std::size_t{2}, 0);
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[2].shape(), (Shape{1, 2}));
    EXPECT_EQ(chunks[2].to_vector(), (std::vector<double>{8, 9}));
    // A 3-D middle-dim join against a plain loop.
    const Array x = random_array({2, 3, 4}, 7), y = random_array({2, 5, 4}, 8);
    const Array xy = cat({x, y}, 1);
    each_index(xy.shape(), [&](const std::vector<std::size_t>& i) {
        const double want = i[1] < 3 ? x.at({i[0], i[1], i[2]}) : y.at({i[0], i[1] - 3, i[2]});
        ASSERT_EQ(xy.at({i[0], i[1], i[2]}), want);
    });
}

TEST(KernelCat, MismatchesNameTheTensorAndTheDim) {
    const Array a(f32, Shape{2, 3}), b(f32, Shape{3, 3}), d(f64, Shape{2, 3});
    EXPECT_THROW_MSG(cat({a, b}, 1), std::invalid_argument,
                     "cat: sizes of tensors must match except in dimension 1 (got (2,3) for "
                     "tensor 0 and (3,3) for tensor 1)");
    EXPECT_THROW_MSG(cat({a, d}, 0), std::invalid_argument, "cat: dtypes differ", "tensor 1");
    EXPECT_THROW_MSG(cat({}, 0), std::invalid_argument, "cat: expected a non-empty list");
    EXPECT_THROW_MSG(cat({Array(f32, Shape{})}, 0), std::invalid_argument, "zero-dimensional");
    EXPECT_THROW_MSG(split(a, std::vector<std::size_t>{1, 1}, 1), std::invalid_argument,
                     "split: split sizes must sum to the size of dimension 1 (got [1, 1] for "
                     "shape (2,3))");
    EXPECT_THROW_MSG(split(a, std::size_t{0}, 1), std::invalid_argument, "split_size", "0");
}

}  // namespace
}  // namespace xgrad::kernels
