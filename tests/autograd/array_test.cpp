#include "autograd/array.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

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

// The VmFlags line of the mapping that holds address p, from /proc/self/smaps ("" if none).
std::string vm_flags_at(const void* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            inside = lo <= a && a < hi;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return "";
}

TEST(Array, BuffersOfTwoMegabytesStartOnAHugePageAndAskForHugePages) {
    constexpr std::uintptr_t kHuge = std::uintptr_t(2) << 20;
    // The elements follow a 64-byte header at the start of the block.
    for (int round = 0; round < 2; ++round) {  // the second one comes from the buffer cache
        Array big = Array::full(f32, Shape{1u << 21}, 0.0);  // 8 MB
        const auto block = reinterpret_cast<std::uintptr_t>(big.raw()) - 64;
        EXPECT_EQ(block % kHuge, 0u);
        EXPECT_EQ(big.at(0), 0.0);
        EXPECT_EQ(big.at((1u << 21) - 1), 0.0);
        if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {  // Linux with THP
            // madvise(MADV_HUGEPAGE) shows as "hg" (the kernel then backs the range with 2 MB
            // pages when it can; whether it could is not ours to test).
            EXPECT_NE(vm_flags_at(big.raw()).find(" hg"), std::string::npos)
                << vm_flags_at(big.raw());
        }
    }
    Array small = Array::full(f32, Shape{1u << 18}, 0.0);  // 1 MB: cache-line aligned only
    EXPECT_EQ((reinterpret_cast<std::uintptr_t>(small.raw()) - 64) % 64, 0u);
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
