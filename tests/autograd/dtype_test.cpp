// Int64 and Bool arrays, conversions between every dtype, creation helpers, from_blob, and the
// element-count overflow checks of every allocation path (issue 10 item 1, issue 12 item 1).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "autograd/array.h"
#include "autograd/autograd.h"
#include "tests/support/check.h"

namespace xgrad {
namespace {

TEST(DType, NamesAndItemSizesAsPyTorch) {
    EXPECT_STREQ(dtype_name(f32), "float32");
    EXPECT_STREQ(dtype_name(f64), "float64");
    EXPECT_STREQ(dtype_name(i64), "int64");
    EXPECT_STREQ(dtype_name(bool_), "bool");
    EXPECT_EQ(itemsize(f32), 4u);
    EXPECT_EQ(itemsize(f64), 8u);
    EXPECT_EQ(itemsize(i64), 8u);
    EXPECT_EQ(itemsize(bool_), 1u);
    EXPECT_TRUE(is_floating_point(f32));
    EXPECT_TRUE(is_floating_point(f64));
    EXPECT_FALSE(is_floating_point(i64));
    EXPECT_FALSE(is_floating_point(bool_));
    EXPECT_EQ(dtype_of<std::int64_t>, i64);
    EXPECT_EQ(dtype_of<bool>, bool_);
}

TEST(DType, Int64StoresValuesPastTwoToThe53Exactly) {
    const std::int64_t big = (std::int64_t{1} << 60) + 1;  // not representable as a double
    Array a = Array::from_vector(std::vector<std::int64_t>{big, -3, 7});
    EXPECT_EQ(a.dtype(), i64);
    EXPECT_EQ(a.shape(), Shape{3});
    EXPECT_EQ(a.data<std::int64_t>()[0], big);
    EXPECT_EQ(a.at<std::int64_t>(0), big);
    EXPECT_EQ(a.to_vector<std::int64_t>(), (std::vector<std::int64_t>{big, -3, 7}));
    EXPECT_EQ(a.at(1), -3.0);
    EXPECT_EQ(format_values(a), "[1152921504606846977, -3, 7]");
    Array s = Array::from_vector(std::vector<std::int64_t>{big}, Shape{});
    EXPECT_EQ(s.item<std::int64_t>(), big);
}

TEST(DType, BoolArraysHoldOneBytePerElementAndPrintAsPyTorch) {
    Array m = Array::from_vector(std::vector<bool>{true, false, true, true}, Shape{2, 2});
    EXPECT_EQ(m.dtype(), bool_);
    EXPECT_EQ(m.nbytes(), 4u);
    EXPECT_TRUE(m.data<bool>()[0]);
    EXPECT_FALSE(m.at<bool>({0, 1}));
    EXPECT_EQ(m.at({1, 0}), 1.0);
    EXPECT_EQ(m.to_vector<bool>(), (std::vector<bool>{true, false, true, true}));
    EXPECT_EQ(format_values(m), "[[True, False], [True, True]]");
    // Nine bools no longer fit the 8 inline bytes: the heap path.
    Array big(bool_, Shape{9});
    big.set(8, 2.0);
    EXPECT_EQ(big.to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(DType, FloatVectorKeepsFloat32) {
    Array a = Array::from_vector(std::vector<float>{0.1f, 2.5f}, Shape{2, 1});
    EXPECT_EQ(a.dtype(), f32);
    EXPECT_EQ(a.data<float>()[0], 0.1f);
    EXPECT_EQ(a.shape(), (Shape{2, 1}));
    EXPECT_THROW_MSG(Array::from_vector(std::vector<float>{1, 2, 3}, Shape{2}),
                     std::invalid_argument, "from_vector", "3 values", "(2)");
    EXPECT_THROW_MSG(Array::from_vector(std::vector<bool>{true}, Shape{2}), std::invalid_argument,
                     "from_vector", "1 values", "(2)");
}

TEST(DType, CastFollowsPyTorchConversionRules) {
    Array f = Array::from_values(f64, {6}, {2.7, -2.7, 0.0, -0.0, 0.5, -1e-300});
    // float -> int64 truncates toward zero.
    EXPECT_EQ(f.cast(i64).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{2, -2, 0, 0, 0, 0}));
    // any -> bool is != 0 (-0.0 == 0 is false, a tiny nonzero is true).
    EXPECT_EQ(f.cast(bool_).to_vector<bool>(),
              (std::vector<bool>{true, true, false, false, true, true}));
    EXPECT_EQ(Array::from_values(f32, {1}, {NAN}).cast(bool_).at<bool>(0), true);
    // bool -> numbers is 0 or 1.
    Array b = Array::from_vector(std::vector<bool>{true, false});
    EXPECT_EQ(b.cast(f32).to_vector(), (std::vector<double>{1, 0}));
    EXPECT_EQ(b.cast(i64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 0}));
    // int64 -> float rounds to nearest; -> bool is != 0.
    Array i = Array::from_vector(std::vector<std::int64_t>{(std::int64_t{1} << 24) + 1, 0, -5});
    EXPECT_EQ(i.cast(f32).data<float>()[0], 16777216.0f);
    EXPECT_EQ(i.cast(f64).data<double>()[0], 16777217.0);
    EXPECT_EQ(i.cast(bool_).to_vector<bool>(), (std::vector<bool>{true, false, true}));
    // NOTE: out-of-range and NaN give INT64_MIN (x86's answer; C++ leaves it undefined).
    Array odd = Array::from_values(f64, {3}, {1e30, -1e30, NAN});
    EXPECT_EQ(odd.cast(i64).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>(3, std::numeric_limits<std::int64_t>::min())));
    // Every pair round-trips small integers.
    for (DType from : {f32, f64, i64, bool_}) {
        for (DType to : {f32, f64, i64, bool_}) {
            Array a = Array::from_values(from, {3}, {0, 1, 1});
            EXPECT_EQ(a.cast(to).dtype(), to);
            EXPECT_EQ(a.cast(to).to_vector(), (std::vector<double>{0, 1, 1}))
                << dtype_name(from) << " -> " << dtype_name(to);
        }
    }
}

TEST(DType, FullArangeAndFill) {
    EXPECT_EQ(Array::full(i64, {2}, 7.9).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{7, 7}));
    EXPECT_EQ(Array::full(bool_, {2}, 0.0).to_vector<bool>(), (std::vector<bool>{false, false}));
    EXPECT_EQ(Array::arange(i64, 0, 5).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(Array::arange(i64, 10, 1, -3).to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{10, 7, 4}));
    // torch.arange(0, 1, 0.3) = [0, 0.3, 0.6, 0.9]: ceil((end - start) / step) elements.
    Array r = Array::arange(f64, 0, 1, 0.3);
    ASSERT_EQ(r.numel(), 4u);
    EXPECT_DOUBLE_EQ(r.at(3), 0.9);
    EXPECT_EQ(Array::arange(f32, 2, 2).numel(), 0u);
    EXPECT_THROW_MSG(Array::arange(f32, 0, 1, 0), std::invalid_argument, "arange", "step");
    EXPECT_THROW_MSG(Array::arange(f32, 0, 5, -1), std::invalid_argument, "arange", "sign");
    EXPECT_THROW_MSG(Array::arange(f32, 0, INFINITY), std::invalid_argument, "arange", "finite");
    EXPECT_THROW_MSG(Array::arange(f32, 0, 1e300, 1e-300), std::length_error, "arange");
}

TEST(DType, FloatKernelsRefuseIntegerDtypes) {
    const auto kernel = [](auto t) { return sizeof(t); };
    EXPECT_EQ(dispatch(f32, kernel), 4u);
    EXPECT_EQ(dispatch(f64, kernel), 8u);
    EXPECT_THROW_MSG(dispatch("softmax", i64, kernel), std::invalid_argument,
                     "softmax: expected a floating dtype (got int64)");
    EXPECT_THROW_MSG(dispatch(bool_, kernel), std::invalid_argument,
                     "expected a floating dtype (got bool)");
    EXPECT_EQ(dispatch_all(i64, kernel), 8u);
    EXPECT_EQ(dispatch_all(bool_, kernel), 1u);
    // Typed access checks the type, not only the size (int64 and double are both 8 bytes).
    Array i(i64, Shape{2});
    EXPECT_THROW_MSG(i.data<double>(), std::logic_error, "float64", "int64");
}

TEST(FromBlob, BorrowsTheCallersMemoryAndCopiesOnCopy) {
    std::vector<float> buf = {1, 2, 3, 4, 5, 6};
    Array a = Array::from_blob(buf.data(), Shape{2, 3}, f32);
    EXPECT_TRUE(a.is_borrowed());
    EXPECT_EQ(a.data<float>(), buf.data());  // zero copy
    EXPECT_EQ(a.at({1, 2}), 6.0);
    a.set(0, 10);  // writes go to the caller's buffer
    EXPECT_EQ(buf[0], 10.0f);
    buf[1] = 20;
    EXPECT_EQ(a.at(1), 20.0);
    Array copy = a;  // a copy owns its data
    EXPECT_FALSE(copy.is_borrowed());
    EXPECT_NE(copy.data<float>(), buf.data());
    buf[2] = 30;
    EXPECT_EQ(copy.at(2), 3.0);
    Array moved = std::move(a);  // a move keeps borrowing
    EXPECT_TRUE(moved.is_borrowed());
    EXPECT_EQ(moved.data<float>(), buf.data());
    Array reshaped = std::move(moved).reshaped(Shape{6});
    EXPECT_EQ(reshaped.data<float>(), buf.data());
    // A small blob (<= 8 bytes) is borrowed too, not copied inline.
    double one = 4.5;
    Array s = Array::from_blob(&one, Shape{}, f64);
    one = 5.5;
    EXPECT_EQ(s.item(), 5.5);
    // Handing the storage on (as the engine does with gradients) copies it first.
    Storage st = s.release_storage();
    Array owned = Array::adopt(f64, Shape{}, st);
    one = 6.5;
    EXPECT_EQ(owned.item(), 5.5);
}

TEST(FromBlob, WrapsTensorsWithoutCopying) {
    std::vector<double> buf = {1, 2, 3};
    Tensor t(Array::from_blob(buf.data(), Shape{3}, f64));
    buf[0] = 7;
    EXPECT_EQ(t.value().at(0), 7.0);
    EXPECT_EQ(sum(t).item(), 12.0);
}

TEST(FromBlob, RejectsNullMisalignedAndOverflowingBlobs) {
    EXPECT_THROW_MSG(Array::from_blob(nullptr, Shape{2}, f32), std::invalid_argument, "from_blob",
                     "null", "(2)");
    EXPECT_NO_THROW(Array::from_blob(nullptr, Shape{0}, f32));
    alignas(8) unsigned char bytes[16] = {};
    EXPECT_THROW_MSG(Array::from_blob(bytes + 1, Shape{2}, f32), std::invalid_argument, "from_blob",
                     "aligned", "float32");
    EXPECT_THROW_MSG(Array::from_blob(bytes, Shape{std::size_t{1} << 62}, f64), std::length_error,
                     "from_blob", "(4611686018427387904)");
}

// ---- Element counts that overflow (issue 12 item 1). ----

TEST(Overflow, NumelOverflowNamesTheShape) {
    const Shape s{std::size_t{1} << 32, std::size_t{1} << 32};  // wraps to exactly 0
    EXPECT_THROW_MSG(s.numel(), std::length_error, "(4294967296,4294967296)", "overflows");
    EXPECT_THROW_MSG(s.numel("zeros"), std::length_error, "zeros:");
    // A zero dimension makes the count 0 however large the others are.
    EXPECT_EQ((Shape{std::size_t{1} << 63, std::size_t{1} << 63, 0}).numel(), 0u);
    EXPECT_EQ((Shape{0, SIZE_MAX, SIZE_MAX}).numel(), 0u);
    EXPECT_EQ((Shape{SIZE_MAX}).numel(), SIZE_MAX);
}

TEST(Overflow, EveryAllocationPathChecksTheByteCount) {
    const std::size_t big = std::size_t{1} << 62;
    // 2^62 float32 elements = 2^64 bytes: wrapped to 0 bytes, this overflowed the stack.
    EXPECT_THROW_MSG(ones({big}), std::length_error, "(4611686018427387904)", "float32");
    EXPECT_THROW_MSG(zeros({std::size_t{1} << 32, std::size_t{1} << 32}), std::length_error,
                     "(4294967296,4294967296)");
    EXPECT_THROW_MSG(tensor({1, 2}, Shape{(std::size_t{1} << 63) + 1, 2}), std::length_error,
                     "(9223372036854775809,2)");
    EXPECT_THROW_MSG(full({big, 2}, 1.0), std::length_error, "(4611686018427387904,2)");
    EXPECT_THROW_MSG(uniform({big}, 0, 1, 1), std::length_error, "(4611686018427387904)");
    EXPECT_THROW_MSG(normal({big}, 0, 1, 1), std::length_error, "(4611686018427387904)");
    EXPECT_THROW_MSG(Array::empty(f64, Shape{big}), std::length_error, "float64");
    EXPECT_THROW_MSG(Array(bool_, Shape{SIZE_MAX}), std::length_error, "bool", "too large");
    EXPECT_THROW_MSG(Array::full(i64, Shape{big, big}, 0), std::length_error, "overflows");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // Fits in 64 bits but not in memory: a std::bad_alloc that names the shape. (The
    // sanitizers' allocators abort on such a request instead of failing it.)
    EXPECT_THROW_MSG(Array(f32, Shape{std::size_t{1} << 45}), std::bad_alloc, "(35184372088832)",
                     "float32");
#endif
}

TEST(Overflow, ReshapeToAnOverflowingShapeIsRejected) {
    // (2^63 + 3) * 2 wraps to 6: this was accepted, and softmax then overflowed the heap.
    EXPECT_THROW_MSG(reshape(ones({6}), Shape{(std::size_t{1} << 63) + 3, 2}), std::length_error,
                     "reshape", "(9223372036854775811,2)");
    EXPECT_THROW_MSG(Array(f32, Shape{6}).reshaped(Shape{(std::size_t{1} << 63) + 3, 2}),
                     std::length_error, "reshape", "(9223372036854775811,2)");
}

}  // namespace
}  // namespace xgrad
