// Scalar operands (`x * 2.0`, `1.0 - x`, ...) are folded into unary ops: pinned here to give
// the same values, gradients, dtypes and op names as the binary op with a 0-D constant.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/support/check.h"

namespace xgrad {
namespace {

using testing::grad_ok;
using testing::rand64;

struct Case {
    const char* name;
    std::function<Tensor(const Tensor&, double)> folded;         // through the scalar operator
    std::function<Tensor(const Tensor&, const Tensor&)> binary;  // x and a 0-D constant
};

const Case kCases[] = {
    {"add", [](auto& x, double c) { return x + c; }, [](auto& x, auto& c) { return add(x, c); }},
    {"add", [](auto& x, double c) { return c + x; }, [](auto& x, auto& c) { return add(c, x); }},
    {"sub", [](auto& x, double c) { return x - c; }, [](auto& x, auto& c) { return sub(x, c); }},
    {"sub", [](auto& x, double c) { return c - x; }, [](auto& x, auto& c) { return sub(c, x); }},
    {"mul", [](auto& x, double c) { return x * c; }, [](auto& x, auto& c) { return mul(x, c); }},
    {"mul", [](auto& x, double c) { return c * x; }, [](auto& x, auto& c) { return mul(c, x); }},
    {"div", [](auto& x, double c) { return x / c; }, [](auto& x, auto& c) { return div(x, c); }},
    {"div", [](auto& x, double c) { return c / x; }, [](auto& x, auto& c) { return div(c, x); }},
};

TEST(ScalarOperand, SameValuesGradientsAndNamesAsBinaryOpWithConstant) {
    const double c = 0.3;  // not exact in float32: the operand is rounded to the tensor's dtype
    for (DType dt : {f32, f64}) {
        for (std::size_t k = 0; k < std::size(kCases); ++k) {
            const Case& cs = kCases[k];
            SCOPED_TRACE(std::string(cs.name) + " case " + std::to_string(k) + " " +
                         dtype_name(dt));
            Tensor x1 = uniform({2, 3}, 0.5, 2.0, 11, dt, /*requires_grad=*/true);
            Tensor x2 = uniform({2, 3}, 0.5, 2.0, 11, dt, true);
            Tensor y1 = cs.folded(x1, c), y2 = cs.binary(x2, scalar(c, dt));
            EXPECT_EQ(y1.dtype(), dt);
            EXPECT_EQ(y1.shape(), x1.shape());
            EXPECT_STREQ(y1.op(), cs.name);
            EXPECT_EQ(y1.to_vector(), y2.to_vector());
            Tensor seed = uniform({2, 3}, -1, 1, 12, dt);
            y1.backward(seed);
            y2.backward(seed);
            EXPECT_EQ(x1.grad().to_vector(), x2.grad().to_vector());
        }
    }
}

TEST(ScalarOperand, Gradcheck) {
    for (const Case& cs : kCases) {
        SCOPED_TRACE(cs.name);
        EXPECT_TRUE(grad_ok([&](const std::vector<Tensor>& x) { return cs.folded(x[0], 0.7); },
                            {rand64({3}, 13, 0.5, 2.0)}));
    }
}

TEST(ScalarOperand, ConstantInputGivesConstantLeaf) {
    Tensor x = scalar(2.0, f64);
    Tensor y = 3.0 * x + 1.0;
    EXPECT_TRUE(y.is_leaf());
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.item(), 7.0);
}

TEST(ScalarOperand, UndefinedTensorThrows) {
    Tensor undefined;
    EXPECT_THROW_MSG(undefined * 2.0, std::invalid_argument, "mul: input is an undefined");
    EXPECT_THROW_MSG(2.0 - undefined, std::invalid_argument, "sub: input is an undefined");
}

}  // namespace
}  // namespace xgrad
