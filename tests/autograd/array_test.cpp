#include "autograd/array.h"

#include <gtest/gtest.h>

#include "tests/support/check.h"

namespace xgrad {
namespace {

TEST(Shape, InlineAndHeapShapesCompareAndPrint) {
    Shape small{2, 3};
    Shape big{1, 2, 3, 4, 5, 6};
    EXPECT_EQ(small.str(), "(2,3)");
    EXPECT_EQ(big.str(), "(1,2,3,4,5,6)");
    EXPECT_EQ(big.numel(), 720u);
    Shape copy = big;
    EXPECT_EQ(copy, big);
    Shape moved = std::move(copy);
    EXPECT_EQ(moved, big);
    EXPECT_NE(small, big);
    EXPECT_EQ(Shape{}.numel(), 1u);
    EXPECT_EQ(Shape{}.str(), "()");
}

TEST(Shape, BroadcastFollowsNumPy) {
    EXPECT_EQ(broadcast_shapes("t", Shape{2, 1, 3}, Shape{4, 1}), (Shape{2, 4, 3}));
    EXPECT_EQ(broadcast_shapes("t", Shape{}, Shape{5}), (Shape{5}));
    EXPECT_THROW_MSG(broadcast_shapes("add", Shape{3}, Shape{4}), std::invalid_argument, "add",
                     "(3)", "(4)");
}

TEST(Array, ScalarsAreInlineAndLargeArraysOnTheHeap) {
    Array s = Array::scalar(f64, 2.5);
    EXPECT_EQ(s.item(), 2.5);
    Array v = Array::from_values(f32, {2, 2}, {1, 2, 3, 4});
    EXPECT_EQ(v.at({1, 0}), 3.0);
    Array c = v;  // deep copy
    c.set(0, 9);
    EXPECT_EQ(v.at(0), 1.0);
    Array m = std::move(c);
    EXPECT_EQ(m.at(0), 9.0);
    EXPECT_FALSE(c.defined());
}

TEST(Array, WrongTypedAccessAndBadIndexThrow) {
    Array v = Array::from_values(f32, {2}, {1, 2});
    EXPECT_THROW_MSG(v.data<double>(), std::logic_error, "float64", "float32");
    EXPECT_THROW_MSG(v.at({2}), std::out_of_range, "(2)");
    EXPECT_THROW_MSG(Array::from_values(f32, {2, 2}, {1, 2, 3}), std::invalid_argument, "3 values",
                     "(2,2)");
    EXPECT_THROW_MSG(v.item(), std::invalid_argument, "(2)");
}

TEST(Array, CastAndReshapeKeepValues) {
    Array v = Array::from_values(f64, {2, 3}, {1, 2, 3, 4, 5, 6});
    Array f = v.cast(f32);
    EXPECT_EQ(f.dtype(), f32);
    EXPECT_EQ(f.at({1, 2}), 6.0);
    Array r = v.reshaped(Shape{3, 2});
    EXPECT_EQ(r.at({2, 1}), 6.0);
    EXPECT_THROW_MSG(v.reshaped(Shape{4}), std::invalid_argument, "(2,3)", "(4)");
}

TEST(Array, FormatAbbreviatesLongDimensions) {
    Array v = Array::from_values(f64, {2, 2}, {1, 2, 3, 4});
    EXPECT_EQ(format_values(v), "[[1, 2], [3, 4]]");
    Array big(f32, Shape{100});
    EXPECT_NE(format_values(big).find("..."), std::string::npos);
}

}  // namespace
}  // namespace xgrad
