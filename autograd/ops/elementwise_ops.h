#pragma once
// The records of the element-wise ops of elementwise.cpp and activation.cpp (the form of
// autograd/op.h: forward f and derivative d written once, as templates that read the same for
// scalars and for Tensors). In a header so that the scalar tape (autograd/capture.cpp) runs these
// very rules inline in its loop instead of through OpDef::scalar_forward / scalar_backward; the
// ops' functions (add, sigmoid, ...) stay in the .cpp files. Internal: not installed.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "autograd/op.h"

namespace xgrad {
namespace ew {

// A constant (no gradient) of x's shape and dtype, f applied element-wise: the masks of the
// recorded rules.
template <class F>
Tensor constant_map(const Tensor& x, F f) {
    const Array& v = x.value();
    return Tensor(dispatch(v.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            v.shape(), [&f](T a) { return static_cast<T>(f(a)); }, v);
    }));
}

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

// ---- Activations ----

struct Sigmoid : ElementwiseOp {
    static constexpr const char* name = "sigmoid";
    static constexpr const char* local = "{y}(1 - {y})";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        using std::exp;
        // Two branches so e^(-x) never overflows: for x < 0 use e^x / (1 + e^x).
        if (x >= T(0)) return T(1) / (T(1) + exp(-x));
        const T e = exp(x);
        return e / (T(1) + e);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& s, C) {
        return g * s * (1 - s);  // s' = s(1-s)
    }
};

struct Tanh : ElementwiseOp {
    static constexpr const char* name = "tanh";
    static constexpr const char* local = "1 - {y}^2";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        using std::tanh;
        return tanh(x);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& t, C) {
        return g * (1 - t * t);  // 1 - tanh^2
    }
};

struct Relu : ElementwiseOp {
    static constexpr const char* name = "relu";
    static constexpr const char* local = "[{a} > 0]";
    template <class T>
    static T f(T x, T) {
        return (x > T(0) || x != x) ? x : T(0);  // NaN propagates (x != x)
    }
    // NOTE: relu'(0) := 0, as PyTorch
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        return rule::times_positive(x, g);
    }
};

struct Step : ElementwiseOp {
    static constexpr const char* name = "step";
    static constexpr const char* local = "0";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        return x != x ? x : (x >= T(0) ? T(1) : T(-1));  // g(z) = 1 if z >= 0 else -1
    }
    // Both pieces are constant: g'(z) = 0 everywhere (undefined at 0; taken as 0).
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return rule::zero_like(g);
    }
};

}  // namespace ew
}  // namespace xgrad
