// Element-wise arithmetic. Each op is one record: forward f and derivative d side by side, as
// templates that read the same for scalars (the fused fast path) and for Tensors (the recorded
// path, so the derivative is differentiable again). Broadcasting and accumulation happen in
// the engine, once.

#include <cmath>

#include "autograd/op.h"
#include "autograd/ops/elementwise_ops.h"

namespace xgrad {

// The op records (Add, Mul, ..., the folded-scalar ops) are in autograd/ops/elementwise_ops.h,
// which the scalar tape of autograd/capture.cpp runs inline.
using namespace ew;

namespace {

// Dtype conversion: the gradient converts back.
TensorGrads to_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(to(grad, ctx.input(0).dtype()));
}
const OpDef kTo = [] {
    OpDef d{};
    d.name = "to";
    d.backward = &to_rule;
    d.saves = 0;
    d.elementwise = true;
    d.local[0] = "1";
    return d;
}();

}  // namespace

Tensor positive_mask(const Tensor& x) {
    return constant_map(x, [](auto a) { return a > decltype(a)(0) ? 1 : 0; });
}
Tensor sign_mask(const Tensor& x) {
    return constant_map(x, [](auto a) {
        using T = decltype(a);
        return a > T(0) ? 1 : (a < T(0) ? -1 : 0);
    });
}

Tensor add(const Tensor& a, const Tensor& b, const CallSite&) { return binary_op<Add>(a, b); }
Tensor sub(const Tensor& a, const Tensor& b, const CallSite&) { return binary_op<Sub>(a, b); }
Tensor mul(const Tensor& a, const Tensor& b, const CallSite&) { return binary_op<Mul>(a, b); }
Tensor div(const Tensor& a, const Tensor& b, const CallSite&) { return binary_op<Div>(a, b); }

Tensor neg(const Tensor& a, const CallSite&) { return unary_op<Neg>(a); }
Tensor pow(const Tensor& a, double p, const CallSite&) { return unary_op<Pow>(a, p); }
Tensor exp(const Tensor& a, const CallSite&) { return unary_op<Exp>(a); }
Tensor log(const Tensor& a, const CallSite&) { return unary_op<Log>(a); }
Tensor sqrt(const Tensor& a, const CallSite&) { return unary_op<Sqrt>(a); }
Tensor abs(const Tensor& a, const CallSite&) { return unary_op<Abs>(a); }
Tensor square(const Tensor& a, const CallSite&) { return unary_op<Square>(a); }

Tensor clamp_min(const Tensor& a, double min, const CallSite&) {
    return unary_op<ClampMin>(a, min);
}
Tensor clamp_max(const Tensor& a, double max, const CallSite&) {
    return unary_op<ClampMax>(a, max);
}
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max,
             const CallSite&) {
    detail::check_defined("clamp", a);
    if (!min && !max) {
        throw std::invalid_argument("clamp: at least one of min and max must be given (got none)");
    }
    Tensor y = a;
    if (min) y = unary_op<ClampMin>(y, *min);
    if (max) y = unary_op<ClampMax>(y, *max);
    return y;
}

Tensor to(const Tensor& a, DType dtype, const CallSite&) {
    detail::check_defined("to", a);
    if (a.dtype() == dtype) return a;
    // An integer or bool result has no gradient (PyTorch: it cannot require grad): a constant.
    if (!is_floating_point(dtype)) return Tensor(a.value().cast(dtype));
    return record(kTo, a.value().cast(dtype), {&a});
}

// ---- Operators ----

Tensor operator+(const TensorArg& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const TensorArg& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const TensorArg& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const TensorArg& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const TensorArg& a) { return neg(a); }
Tensor operator+(const TensorArg& a, double b) { return unary_op<AddScalar>(a, b); }
Tensor operator+(double a, const TensorArg& b) { return unary_op<AddScalar>(b, a); }
Tensor operator-(const TensorArg& a, double b) { return unary_op<SubScalar>(a, b); }
Tensor operator-(double a, const TensorArg& b) { return unary_op<RSubScalar>(b, a); }
Tensor operator*(const TensorArg& a, double b) { return unary_op<MulScalar>(a, b); }
Tensor operator*(double a, const TensorArg& b) { return unary_op<MulScalar>(b, a); }
Tensor operator/(const TensorArg& a, double b) { return unary_op<DivScalar>(a, b); }
Tensor operator/(double a, const TensorArg& b) { return unary_op<RDivScalar>(b, a); }

}  // namespace xgrad
