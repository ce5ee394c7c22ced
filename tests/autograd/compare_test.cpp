// Tensor-level dtypes (creation, to(), requires_grad rules, from_blob, typed reads) and the
// comparison and logical ops: values, broadcasting, no graph, and every error message.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/support/check.h"

namespace xgrad {
namespace {

std::vector<bool> bools(const Tensor& t) {
    EXPECT_EQ(t.dtype(), bool_);
    return t.to_vector<bool>();
}

TEST(TensorDType, CreationFromTypedVectors) {
    Tensor i = tensor(std::vector<std::int64_t>{3, -1, (std::int64_t(1) << 60) + 1});
    EXPECT_EQ(i.dtype(), i64);
    EXPECT_EQ(i.to_vector<std::int64_t>()[2], (std::int64_t(1) << 60) + 1);  // exact past 2^53
    EXPECT_EQ(i.at<std::int64_t>({1}), -1);
    Tensor b = tensor(std::vector<bool>{true, false, true, true}, Shape{2, 2});
    EXPECT_EQ(b.dtype(), bool_);
    EXPECT_EQ(b.shape(), (Shape{2, 2}));
    EXPECT_EQ(bools(b), (std::vector<bool>{true, false, true, true}));
    Tensor f = tensor(std::vector<float>{0.1f, 2.f}, /*requires_grad=*/true);
    EXPECT_EQ(f.dtype(), f32);
    EXPECT_TRUE(f.requires_grad());
    EXPECT_EQ(f.data<float>()[0], 0.1f);
    EXPECT_THROW_MSG(f.data<double>(), std::logic_error, "float64", "float32");
    EXPECT_THROW_MSG(tensor(std::vector<float>{1, 2, 3}, Shape{2, 2}), std::invalid_argument,
                     "from_vector", "3", "(2,2)");
}

TEST(TensorDType, ArangeFullAndLikeConstructors) {
    Tensor a = arange(5);  // integers: int64, as PyTorch
    EXPECT_EQ(a.dtype(), i64);
    EXPECT_EQ(a.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(arange(2, 8, 3).to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 5}));
    Tensor r = arange(0, 1, 0.25);  // a float bound or step: float32
    EXPECT_EQ(r.dtype(), f32);
    EXPECT_EQ(r.to_vector(), (std::vector<double>{0, 0.25, 0.5, 0.75}));
    EXPECT_EQ(arange(3, f64).dtype(), f64);
    EXPECT_EQ(arange(1.5, 3.0).to_vector(), (std::vector<double>{1.5, 2.5}));
    EXPECT_THROW_MSG(arange(0, 5, 0), std::invalid_argument, "arange", "step");
    const Tensor x = full({2, 3}, 7, i64);
    EXPECT_EQ(x.to_vector<std::int64_t>(), std::vector<std::int64_t>(6, 7));
    EXPECT_EQ(zeros_like(x).dtype(), i64);
    EXPECT_EQ(zeros_like(x).shape(), (Shape{2, 3}));
    EXPECT_EQ(ones_like(x, f64).to_vector(), std::vector<double>(6, 1.0));
    EXPECT_EQ(full_like(x, 2.5, f32).to_vector(), std::vector<double>(6, 2.5));
    EXPECT_TRUE(ones_like(x, f32, /*requires_grad=*/true).requires_grad());
    EXPECT_THROW_MSG(zeros_like(Tensor()), std::logic_error, "full_like: undefined tensor");
}

TEST(TensorDType, IntegerAndBoolTensorsNeverRequireGrad) {
    EXPECT_THROW_MSG(zeros({3}, i64, true), std::invalid_argument,
                     "requires_grad: only floating-point tensors can require grad (got int64 (3))");
    EXPECT_THROW_MSG(full({2}, 1, bool_, true), std::invalid_argument, "got bool (2)");
    EXPECT_THROW_MSG(tensor(std::vector<std::int64_t>{1}, true), std::invalid_argument,
                     "only floating-point");
    Tensor i = arange(4);
    EXPECT_THROW_MSG(i.set_requires_grad(), std::invalid_argument,
                     "set_requires_grad: only floating-point tensors can require grad (got "
                     "int64 (4))");
    EXPECT_NO_THROW(i.set_requires_grad(false));
    Tensor w = zeros({2}, f32, true);
    EXPECT_THROW_MSG(w.set_data(Array(i64, Shape{2})), std::invalid_argument,
                     "set_data: only floating-point");
    std::int64_t buf[2] = {1, 2};
    EXPECT_THROW_MSG(from_blob(buf, {2}, i64, true), std::invalid_argument, "only floating-point");
}

TEST(TensorDType, ToConvertsBetweenAllDtypesAndStopsTheGradientAtIntegers) {
    Tensor x = tensor({-1.7, 0.0, 2.9}, f64, true);
    Tensor i = to(x, i64);
    EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{-1, 0, 2}));  // truncates
    EXPECT_FALSE(i.requires_grad());
    EXPECT_TRUE(i.is_leaf());
    EXPECT_EQ(bools(to(x, bool_)), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(to(to(x, bool_), f32).to_vector(), (std::vector<double>{1, 0, 1}));
    EXPECT_EQ(to(i, f64).to_vector(), (std::vector<double>{-1, 0, 2}));
    EXPECT_FALSE(to(i, f64).requires_grad());
    // float -> float keeps the gradient, converted back.
    Tensor y = to(x, f32);
    EXPECT_TRUE(y.requires_grad());
    sum(y * to(x, f32)).backward();
    EXPECT_EQ(x.grad().dtype(), f64);
    EXPECT_NEAR(x.grad().at({2}), 2 * 2.9, 1e-5);
}

TEST(TensorDType, FromBlobBorrowsTheCallersMemory) {
    std::vector<double> buf = {1, 2, 3, 4, 5, 6};
    Tensor t = from_blob(buf.data(), {2, 3}, f64, /*requires_grad=*/true);
    EXPECT_EQ(t.data<double>(), buf.data());  // zero copy
    buf[4] = 50;
    EXPECT_EQ(t.at({1, 1}), 50.0);
    t.mutable_value().set(0, -1);
    EXPECT_EQ(buf[0], -1.0);
    sum(t * t).backward();  // ops read it in place; the result owns its memory
    EXPECT_EQ(t.grad().at({1, 1}), 100.0);
    EXPECT_NE((t * 1.0).data<double>(), buf.data());
    EXPECT_THROW_MSG(from_blob(nullptr, {2}, f32), std::invalid_argument, "from_blob");
}

TEST(Compare, ValuesWithBroadcastingAndScalars) {
    const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64), row = tensor({2, 2, 7}, f64);
    EXPECT_EQ(bools(eq(a, row)), (std::vector<bool>{false, true, false, false, false, false}));
    EXPECT_EQ(bools(ne(a, row)), (std::vector<bool>{true, false, true, true, true, true}));
    EXPECT_EQ(bools(lt(a, row)), (std::vector<bool>{true, false, true, false, false, true}));
    EXPECT_EQ(bools(le(a, row)), (std::vector<bool>{true, true, true, false, false, true}));
    EXPECT_EQ(bools(gt(a, row)), (std::vector<bool>{false, false, false, true, true, false}));
    EXPECT_EQ(bools(ge(a, row)), (std::vector<bool>{false, true, false, true, true, false}));
    EXPECT_EQ(gt(row, tensor({1.0, 3.0}, {2, 1}, f64)).shape(), (Shape{2, 3}));
    EXPECT_EQ(bools(gt(row, tensor({1.0, 3.0}, {2, 1}, f64))),
              (std::vector<bool>{true, true, true, false, false, true}));
    EXPECT_EQ(bools(ge(a, 4)), (std::vector<bool>{false, false, false, true, true, true}));
    EXPECT_EQ(bools(lt(a, 2.5)), (std::vector<bool>{true, true, false, false, false, false}));
    // NaN compares unequal to everything, itself included.
    const Tensor n = tensor({NAN, 1.0}, f64);
    EXPECT_EQ(bools(eq(n, n)), (std::vector<bool>{false, true}));
    EXPECT_EQ(bools(ne(n, n)), (std::vector<bool>{true, false}));
    // A float32 tensor compares with the scalar rounded to float32, as PyTorch.
    EXPECT_EQ(bools(eq(tensor({0.1}, f32), 0.1)), (std::vector<bool>{true}));
    // int64: exact past 2^53; a fractional scalar compares in double.
    const std::int64_t big = (std::int64_t(1) << 60) + 1;
    const Tensor i = tensor(std::vector<std::int64_t>{big, 3});
    EXPECT_EQ(bools(eq(i, tensor(std::vector<std::int64_t>{big - 1, 3}))),
              (std::vector<bool>{false, true}));
    EXPECT_EQ(bools(lt(i, 3.5)), (std::vector<bool>{false, true}));
    EXPECT_EQ(bools(eq(tensor(std::vector<bool>{true, false}), 1)),
              (std::vector<bool>{true, false}));
}

TEST(Compare, RecordNothing) {
    Tensor x = tensor({1.0, -2.0}, f64, true);
    Tensor m = gt(x, 0);
    EXPECT_FALSE(m.requires_grad());
    EXPECT_TRUE(m.is_leaf());
    // A mask from a comparison used in arithmetic: the gradient flows only through x.
    sum(x * to(m, f64)).backward();
    EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 0}));
}

TEST(Logical, AndOrXorNotOnAnyDtype) {
    const Tensor b = tensor(std::vector<bool>{true, false, true, false});
    const Tensor f = tensor({0.0, 0.0, 2.0, -1.0}, f32);
    EXPECT_EQ(bools(logical_and(b, f)), (std::vector<bool>{false, false, true, false}));
    EXPECT_EQ(bools(logical_or(b, f)), (std::vector<bool>{true, false, true, true}));
    EXPECT_EQ(bools(logical_xor(b, f)), (std::vector<bool>{true, false, false, true}));
    EXPECT_EQ(bools(logical_not(f)), (std::vector<bool>{true, true, false, false}));
    EXPECT_EQ(bools(logical_not(arange(3))), (std::vector<bool>{true, false, false}));
    // Broadcast: (4) against (2,1).
    EXPECT_EQ(logical_and(b, tensor(std::vector<bool>{true, false}, Shape{2, 1})).shape(),
              (Shape{2, 4}));
}

TEST(Compare, BadInputsAreClearErrors) {
    const Tensor a = zeros({2, 3}, f64);
    EXPECT_THROW_MSG(eq(a, zeros({4}, f64)), std::invalid_argument, "eq", "(2,3)", "(4)");
    EXPECT_THROW_MSG(lt(a, zeros({2, 3}, f32)), std::invalid_argument,
                     "lt: dtypes differ (got float64 (2,3) and float32 (2,3)");
    EXPECT_THROW_MSG(ge(Tensor(), 1.0), std::invalid_argument, "ge: input is an undefined tensor");
    EXPECT_THROW_MSG(gt(a, Tensor()), std::invalid_argument, "gt: input 1 is an undefined tensor");
    EXPECT_THROW_MSG(logical_or(a, zeros({5})), std::invalid_argument, "logical_or", "(2,3)",
                     "(5)");
    EXPECT_THROW_MSG(logical_not(Tensor()), std::invalid_argument,
                     "logical_not: input is an undefined tensor");
}

}  // namespace
}  // namespace xgrad
