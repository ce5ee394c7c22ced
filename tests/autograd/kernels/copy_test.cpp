// The strided copy under permute (autograd/kernels/copy.cpp) against a raw index loop, byte for
// byte: every permutation of a 3-D array and of a 4-D one, sizes that are not multiples of the
// 16x16 tile (and one that has whole tiles and a ragged edge), the four dtypes (1-, 4- and
// 8-byte elements take different tile code), 1 and 2 threads (the 3-D and 4-D arrays are above
// the parallel grain, so 2 threads split them).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/kernels/nd.h"

namespace xgrad::kernels {
namespace {

struct ThreadsGuard {
    int before = num_threads();
    ~ThreadsGuard() { set_num_threads(before); }
};

// Distinct values in every dtype, so that a misplaced element changes some byte.
Array random_array(const Shape& shape, DType dtype, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const std::size_t n = shape.numel();
    if (dtype == i64) {
        std::vector<std::int64_t> v(n);
        for (auto& x : v) x = static_cast<std::int64_t>(rng());
        return Array::from_vector(v, shape);
    }
    if (dtype == bool_) {
        std::vector<bool> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = (rng() & 1) != 0;
        return Array::from_vector(v, shape);
    }
    return uniform(shape, -1, 1, seed, dtype).value();
}

// out[i] = src[offset + sum_d i_d * strides[d]] by an odometer over the output's multi-index,
// as raw bytes.
std::vector<unsigned char> reference_copy(const Array& src, const Shape& shape,
                                          const std::vector<std::size_t>& strides,
                                          std::size_t offset = 0) {
    const std::size_t item = src.nbytes() / std::max<std::size_t>(src.numel(), 1);
    const auto* s = static_cast<const unsigned char*>(src.raw());
    std::vector<unsigned char> out(shape.numel() * item);
    std::vector<std::size_t> idx(shape.size(), 0);
    std::size_t off = offset;
    for (std::size_t n = 0; n < shape.numel(); ++n) {
        std::memcpy(out.data() + n * item, s + off * item, item);
        for (std::size_t d = shape.size(); d-- > 0;) {
            if (++idx[d] < shape[d]) {
                off += strides[d];
                break;
            }
            off -= (idx[d] - 1) * strides[d];
            idx[d] = 0;
        }
    }
    return out;
}

std::vector<unsigned char> bytes_of(const Array& a) {
    const auto* p = static_cast<const unsigned char*>(a.raw());
    return std::vector<unsigned char>(p, p + a.nbytes());
}

// Checks permute(a, dims) against the loop, at 1 and 2 threads; counts the mismatches.
void expect_permutations_match(const Shape& shape, DType dtype, bool all_perms) {
    ThreadsGuard guard;
    const Array a = random_array(shape, dtype, 7);
    const std::vector<std::size_t> in_strides = contiguous_strides(shape);
    std::vector<std::int64_t> dims(shape.size());
    std::iota(dims.begin(), dims.end(), 0);
    int checked = 0;
    do {
        std::vector<std::size_t> out_dims(dims.size()), strides(dims.size());
        for (std::size_t i = 0; i < dims.size(); ++i) {
            out_dims[i] = shape[static_cast<std::size_t>(dims[i])];
            strides[i] = in_strides[static_cast<std::size_t>(dims[i])];
        }
        const std::vector<unsigned char> want = reference_copy(a, Shape(out_dims), strides);
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            const Array p = permute(a, dims);
            ASSERT_EQ(p.shape(), Shape(out_dims));
            EXPECT_TRUE(bytes_of(p) == want)
                << dtype_name(dtype) << " " << shape.str() << " permuted by (" << dims[0] << ","
                << dims[1] << "," << dims[2] << (dims.size() > 3 ? ",..." : "") << ") at "
                << threads << " threads";
        }
        ++checked;
    } while (std::next_permutation(dims.begin(), dims.end()) && (all_perms || checked < 6));
    EXPECT_GE(checked, 6);
}

TEST(KernelPermuteTiles, EveryPermutationOf3DArraysMatchesARawLoopInEveryDtype) {
    // (37,45,53): no dim a multiple of 16; (17,48,64): whole 16x16 tiles and a ragged dim 0.
    for (const Shape& s : {Shape{37, 45, 53}, Shape{17, 48, 64}}) {
        for (DType dtype : {f32, f64, i64, bool_}) expect_permutations_match(s, dtype, true);
    }
}

TEST(KernelPermuteTiles, PermutationsOf4DArraysWithOddSizesMatchARawLoop) {
    expect_permutations_match(Shape{3, 19, 23, 29}, f32, /*all_perms=*/true);
    for (DType dtype : {f64, i64, bool_}) {
        expect_permutations_match(Shape{5, 7, 33, 35}, dtype, /*all_perms=*/false);
    }
}

TEST(KernelPermuteTiles, StridedTransposedViewsMatchARawLoop) {
    // Views whose stride-1 dim is not the innermost output dim and whose other strides are
    // not dense, so tiles read from rows that are not adjacent: every other row of a (70, 90)
    // matrix, transposed (90, 35); and a transposed slice at an offset.
    ThreadsGuard guard;
    const Array a = random_array(Shape{70, 90}, f32, 3);
    const Array b = random_array(Shape{300, 400}, f64, 4);
    struct Case {
        const Array* src;
        Shape shape;
        std::vector<std::size_t> strides;
        std::size_t offset;
    };
    const std::vector<Case> cases = {{&a, Shape{90, 35}, {1, 180}, 0},
                                     {&b, Shape{250, 140}, {1, 800}, 410}};
    for (const Case& c : cases) {
        const std::vector<unsigned char> want =
            reference_copy(*c.src, c.shape, c.strides, c.offset);
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            EXPECT_TRUE(bytes_of(copy_strided(*c.src, c.shape, c.strides, c.offset)) == want)
                << c.shape.str() << " at " << threads << " threads";
        }
    }
}

}  // namespace
}  // namespace xgrad::kernels
