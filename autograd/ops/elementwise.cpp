// Element-wise arithmetic. Each op is one record: forward f and derivative d side by side, as
// templates that read the same for scalars (the fused fast path) and for Tensors (the recorded
// path, so the derivative is differentiable again). Broadcasting and accumulation happen in
// the engine, once.

#include <cmath>

#include "autograd/op.h"

namespace xgrad {

namespace {

// ---- Binary ----

struct Add : ElementwiseOp {
    static constexpr const char* name = "add";
    static constexpr const char* local = "1";
    static constexpr const char* local1 = "1";
    static constexpr const char* infix = " + ";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T y) {
        return x + y;
    }
    template <class G>
    static G dx(const G& g, const G&, const G&, const G&) {
        return g;  // d(x+y)/dx = 1
    }
    template <class G>
    static G dy(const G& g, const G&, const G&, const G&) {
        return g;  // d(x+y)/dy = 1
    }
};

struct Sub : ElementwiseOp {
    static constexpr const char* name = "sub";
    static constexpr const char* local = "1";
    static constexpr const char* local1 = "-1";
    static constexpr const char* infix = " - ";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T y) {
        return x - y;
    }
    template <class G>
    static G dx(const G& g, const G&, const G&, const G&) {
        return g;  // d(x-y)/dx = 1
    }
    template <class G>
    static G dy(const G& g, const G&, const G&, const G&) {
        return -g;  // d(x-y)/dy = -1
    }
};

struct Mul : ElementwiseOp {
    static constexpr const char* name = "mul";
    static constexpr const char* local = "{b}";
    static constexpr const char* local1 = "{a}";
    static constexpr const char* infix = " * ";
    template <class T>
    static T f(T x, T y) {
        return x * y;
    }
    template <class G>
    static G dx(const G& g, const G&, const G& y, const G&) {
        return g * y;  // d(xy)/dx = y
    }
    template <class G>
    static G dy(const G& g, const G& x, const G&, const G&) {
        return g * x;  // d(xy)/dy = x
    }
};

struct Div : ElementwiseOp {
    static constexpr const char* name = "div";
    static constexpr const char* local = "1/{b}";
    static constexpr const char* local1 = "-{a}/{b}^2";
    static constexpr const char* infix = " / ";
    static constexpr std::uint32_t saves = 0b10;  // reads y (and its own output)
    template <class T>
    static T f(T x, T y) {
        return x / y;
    }
    template <class G>
    static G dx(const G& g, const G&, const G& y, const G&) {
        return g / y;  // d(x/y)/dx = 1/y
    }
    template <class G>
    static G dy(const G& g, const G&, const G& y, const G& z) {
        return -g * z / y;  // d(x/y)/dy = -x/y^2 = -z/y
    }
};

// ---- Unary ----

struct Neg : ElementwiseOp {
    static constexpr const char* name = "neg";
    static constexpr const char* local = "-1";
    static constexpr const char* prefix = "-";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        return -x;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return -g;
    }
};

struct Pow : ElementwiseOp {
    static constexpr const char* name = "pow";
    static constexpr const char* local = "d{y}/d{a}";
    template <class T>
    static T f(T x, T p) {
        using std::pow;
        return pow(x, p);
    }
    // d(x^p)/dx = p x^(p-1); NOTE: p = 0 gives 0 everywhere (also at x = 0, where 0^-1 = inf)
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C p) {
        using std::pow;
        if (p == 0) return rule::zero_like(g);
        return g * p * pow(x, p - 1);
    }
};

struct Exp : ElementwiseOp {
    static constexpr const char* name = "exp";
    static constexpr const char* local = "{y}";
    static constexpr std::uint32_t saves = 0;  // reads its output only
    template <class T>
    static T f(T x, T) {
        using std::exp;
        return exp(x);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& y, C) {
        return g * y;  // (e^x)' = e^x
    }
};

struct Log : ElementwiseOp {
    static constexpr const char* name = "log";
    static constexpr const char* local = "1/{a}";
    template <class T>
    static T f(T x, T) {
        using std::log;
        return log(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        return g / x;  // (ln x)' = 1/x
    }
};

struct Sqrt : ElementwiseOp {
    static constexpr const char* name = "sqrt";
    static constexpr const char* local = "1/(2*{y})";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        using std::sqrt;
        return sqrt(x);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& y, C) {
        return g / (y + y);  // (sqrt x)' = 1/(2 sqrt x)
    }
};

struct Abs : ElementwiseOp {
    static constexpr const char* name = "abs";
    static constexpr const char* local = "sign({a})";
    template <class T>
    static T f(T x, T) {
        using std::abs;
        return abs(x);
    }
    // |x|' = sign(x); NOTE: abs'(0) := 0, as PyTorch
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        return rule::times_sign(x, g);
    }
};

struct Square : ElementwiseOp {
    static constexpr const char* name = "square";
    static constexpr const char* local = "2*{a}";
    template <class T>
    static T f(T x, T) {
        return x * x;
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        return g * (x + x);  // (x^2)' = 2x
    }
};

template <class F>
Tensor constant_map(const Tensor& x, F f);

// clamp: NaN propagates, as PyTorch; the gradient passes where the bound is not active, with
// the boundary itself counted as inside (PyTorch: x >= min, x <= max).
struct ClampMin : ElementwiseOp {
    static constexpr const char* name = "clamp_min";
    static constexpr const char* local = "[{a} >= {c}]";
    template <class T>
    static T f(T x, T c) {
        return x != x ? x : (x < c ? c : x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C c) {
        if constexpr (std::is_arithmetic_v<G>) {
            return x >= c ? g : G(0);
        } else {
            return g * constant_map(x, [c](auto v) { return v >= c ? 1 : 0; });
        }
    }
};

struct ClampMax : ElementwiseOp {
    static constexpr const char* name = "clamp_max";
    static constexpr const char* local = "[{a} <= {c}]";
    template <class T>
    static T f(T x, T c) {
        return x != x ? x : (x > c ? c : x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C c) {
        if constexpr (std::is_arithmetic_v<G>) {
            return x <= c ? g : G(0);
        } else {
            return g * constant_map(x, [c](auto v) { return v <= c ? 1 : 0; });
        }
    }
};

// ---- A scalar operand, folded into a one-input op (same name, values and gradients as the
// binary op with a constant 0-D operand): the constant costs no node. The scalar is the node's
// parameter c; the record says which operator it is and on which side it stands. ----

struct AddScalar : ElementwiseOp {
    static constexpr const char* name = "add";
    static constexpr const char* local = "1";
    static constexpr char scalar_op = '+';
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T c) {
        return x + c;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return g;
    }
};

struct SubScalar : ElementwiseOp {  // x - c
    static constexpr const char* name = "sub";
    static constexpr const char* local = "1";
    static constexpr char scalar_op = '-';
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T c) {
        return x - c;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return g;
    }
};

struct RSubScalar : ElementwiseOp {  // c - x
    static constexpr const char* name = "sub";
    static constexpr const char* local = "-1";
    static constexpr char scalar_op = '-';
    static constexpr bool scalar_left = true;
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T c) {
        return c - x;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return -g;
    }
};

struct MulScalar : ElementwiseOp {
    static constexpr const char* name = "mul";
    static constexpr const char* local = "{c}";
    static constexpr char scalar_op = '*';
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T c) {
        return x * c;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C c) {
        return g * c;
    }
};

struct DivScalar : ElementwiseOp {  // x / c
    static constexpr const char* name = "div";
    static constexpr const char* local = "1/{c}";
    static constexpr char scalar_op = '/';
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T c) {
        return x / c;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C c) {
        return g / c;
    }
};

struct RDivScalar : ElementwiseOp {  // c / x
    static constexpr const char* name = "div";
    static constexpr const char* local = "-{c}/{a}^2";
    static constexpr char scalar_op = '/';
    static constexpr bool scalar_left = true;
    template <class T>
    static T f(T x, T c) {
        return c / x;
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G& y, C) {
        return -g * y / x;  // d(c/x)/dx = -c/x^2 = -y/x
    }
};

// ---- Constant masks for the recorded rules (no gradient flows through them) ----

template <class F>
Tensor constant_map(const Tensor& x, F f) {
    const Array& v = x.value();
    return Tensor(dispatch(v.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            v.shape(), [&f](T a) { return static_cast<T>(f(a)); }, v);
    }));
}

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
