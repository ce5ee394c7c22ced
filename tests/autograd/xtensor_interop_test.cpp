// The optional xtensor interop header: copies both ways and a zero-copy view.

#include "autograd/xtensor_interop.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "autograd/autograd.h"
#include "tests/support/check.h"

namespace xgrad {
namespace {

TEST(XtensorInterop, RoundTripsShapeDtypeAndValues) {
    xt::xarray<double> a = {{1., 2., 3.}, {4., 5., 6.}};
    Tensor t = from_xarray(a, /*requires_grad=*/true);
    EXPECT_EQ(t.dtype(), f64);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.at({1, 0}), 4.0);
    EXPECT_TRUE(t.requires_grad());
    xt::xarray<double> back = to_xarray<double>(t * t);
    ASSERT_EQ(back.dimension(), 2u);
    EXPECT_EQ(back(1, 2), 36.0);
    // An expression is evaluated; int64 and bool keep their dtypes.
    xt::xarray<std::int64_t> i = {5, 6};
    EXPECT_EQ(from_xarray(i + i).to_vector<std::int64_t>(), (std::vector<std::int64_t>{10, 12}));
    xt::xarray<bool> m = {true, false};
    EXPECT_EQ(from_xarray(m).dtype(), bool_);
    EXPECT_THROW_MSG(to_xarray<float>(t), std::logic_error, "float32", "float64");
}

TEST(XtensorInterop, AdaptIsAZeroCopyView) {
    Tensor t = tensor({1, 2, 3, 4}, {2, 2}, f32);
    auto v = adapt<float>(t);
    EXPECT_EQ(&v(0, 0), t.data<float>());
    EXPECT_EQ(v(1, 1), 4.0f);
    Tensor s(Array::scalar(f64, 2.5));
    EXPECT_EQ(to_xarray<double>(s)(), 2.5);
}

}  // namespace
}  // namespace xgrad
