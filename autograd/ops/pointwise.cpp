// More element-wise ops (issue 10 item 5): maximum, minimum, pow with a tensor exponent,
// reciprocal, rsqrt, log1p, expm1, sin, cos, erf, gelu, silu, softplus, leaky_relu, elu, sign.
// Each is one ElementwiseOp struct (autograd/op.h): forward f and derivative d written once, as
// templates that read the same for scalars (the fused fast path) and Tensors (the recorded
// path, so every derivative is differentiable again). Piecewise derivatives select with
// constant 0/1 masks (`m a + (1 - m) b`), which carry no gradient, as PyTorch's where().

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "autograd/op.h"
#include "autograd/parallel.h"

namespace xgrad {

namespace {

template <class G>
inline constexpr bool kIsBatch = xsimd::is_batch<G>::value;

// A literal of the rule's element type: T(v) on the fast path (a double literal would turn a
// float loop into double arithmetic), a broadcast batch for SIMD rules, a plain double for
// Tensor operators.
template <class G>
auto lit(double v) {
    if constexpr (std::is_arithmetic_v<G>) {
        return static_cast<G>(v);
    } else if constexpr (kIsBatch<G>) {
        return G(static_cast<typename G::value_type>(v));
    } else {
        return v;
    }
}

// A constant (no gradient) computed element-wise by f from one or two operands, broadcast: on
// scalars f itself, on Tensors a leaf of the operands' broadcast shape.
template <class G, class F>
G mask(F f, const G& x) {
    if constexpr (std::is_arithmetic_v<G>) {
        return static_cast<G>(f(x));
    } else {
        const Array& v = x.value();
        return Tensor(dispatch(v.dtype(), [&](auto t) {
            using T = decltype(t);
            return kernels::map<T>(
                v.shape(), [&f](T a) { return static_cast<T>(f(a)); }, v);
        }));
    }
}
template <class G, class F>
G mask(F f, const G& x, const G& y) {
    if constexpr (std::is_arithmetic_v<G>) {
        return static_cast<G>(f(x, y));
    } else {
        const Array &u = x.value(), &v = y.value();
        return Tensor(dispatch(u.dtype(), [&](auto t) {
            using T = decltype(t);
            return kernels::map<T>(
                broadcast_shapes("mask", u.shape(), v.shape()),
                [&f](T a, T b) { return static_cast<T>(f(a, b)); }, u, v);
        }));
    }
}

// sigma(x) = 1 / (1 + e^-x) without overflow on either side.
template <class G>
G sigmoid_of(const G& x) {
    if constexpr (std::is_arithmetic_v<G>) {
        using std::exp;
        if (x >= G(0)) return G(1) / (G(1) + exp(-x));
        const G e = exp(x);
        return e / (G(1) + e);
    } else {
        return sigmoid(x);
    }
}

// min(x, 0): keeps e^x finite in a branch that a mask then discards (inf * 0 would be NaN).
template <class G>
G min0(const G& x) {
    if constexpr (std::is_arithmetic_v<G>) {
        return x < G(0) ? x : G(0);
    } else {
        return clamp_max(x, 0.0);
    }
}

// ---- Binary ----

// NOTE: at a tie each operand gets half the gradient, and a NaN operand gets all of it, as
// PyTorch (where(a == b, g / 2, g) masked where the other operand wins).
struct Maximum : ElementwiseOp {
    static constexpr const char* name = "maximum";
    static constexpr const char* local = "[{a} > {b}]";
    static constexpr const char* local1 = "[{b} > {a}]";
    template <class T>
    static T f(T x, T y) {
        return x != x ? x : (y != y ? y : (x > y ? x : y));  // NaN propagates
    }
    template <class G>
    static G dx(const G& g, const G& x, const G& y, const G&) {
        return g * mask([](auto a, auto b) { return a == b ? 0.5 : (a < b ? 0 : 1); }, x, y);
    }
    template <class G>
    static G dy(const G& g, const G& x, const G& y, const G&) {
        return g * mask([](auto a, auto b) { return a == b ? 0.5 : (a > b ? 0 : 1); }, x, y);
    }
};

struct Minimum : ElementwiseOp {
    static constexpr const char* name = "minimum";
    static constexpr const char* local = "[{a} < {b}]";
    static constexpr const char* local1 = "[{b} < {a}]";
    template <class T>
    static T f(T x, T y) {
        return x != x ? x : (y != y ? y : (x < y ? x : y));
    }
    template <class G>
    static G dx(const G& g, const G& x, const G& y, const G&) {
        return g * mask([](auto a, auto b) { return a == b ? 0.5 : (a > b ? 0 : 1); }, x, y);
    }
    template <class G>
    static G dy(const G& g, const G& x, const G& y, const G&) {
        return g * mask([](auto a, auto b) { return a == b ? 0.5 : (a < b ? 0 : 1); }, x, y);
    }
};

// z = x^y. dz/dx = y x^(y-1), dz/dy = z log x.
// NOTE: as PyTorch, dz/dx := 0 where y == 0 (also at x = 0, where 0^-1 = inf), and
// dz/dy := 0 where x == 0 and y >= 0 (0 * log 0 would be NaN). The masks m are constants; the
// selected expression is made finite first (x^(y-1+m), log(x + m)) so m * NaN never appears.
struct PowTensor : ElementwiseOp {
    static constexpr const char* name = "pow";
    static constexpr const char* local = "{b}*{a}^({b}-1)";
    static constexpr const char* local1 = "{y}*log({a})";
    template <class T>
    static T f(T x, T y) {
        using std::pow;
        return pow(x, y);
    }
    template <class G>
    static G dx(const G& g, const G& x, const G& y, const G&) {
        using std::pow;
        const G m = mask([](auto b) { return b == 0 ? 1 : 0; }, y);
        return g * (y * pow(x, y - 1 + m)) * (1 - m);
    }
    template <class G>
    static G dy(const G& g, const G& x, const G& y, const G& z) {
        using std::log;
        const G m = mask([](auto a, auto b) { return a == 0 && b >= 0 ? 1 : 0; }, x, y);
        return g * z * log(x + m);
    }
};

// ---- Unary ----

struct Reciprocal : ElementwiseOp {
    static constexpr const char* name = "reciprocal";
    static constexpr const char* local = "-{y}^2";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        return T(1) / x;
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& y, C) {
        return -g * y * y;  // (1/x)' = -1/x^2
    }
};

struct Rsqrt : ElementwiseOp {
    static constexpr const char* name = "rsqrt";
    static constexpr const char* local = "-{y}^3/2";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        using std::sqrt;
        return T(1) / sqrt(x);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& y, C) {
        return g * lit<G>(-0.5) * y * y * y;  // (x^-1/2)' = -x^-3/2 / 2
    }
};

struct Log1p : ElementwiseOp {
    static constexpr const char* name = "log1p";
    static constexpr const char* local = "1/(1+{a})";
    template <class T>
    static T f(T x, T) {
        using std::log1p;
        return log1p(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        return g / (x + 1);
    }
};

struct Expm1 : ElementwiseOp {
    static constexpr const char* name = "expm1";
    static constexpr const char* local = "{y}+1";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        using std::expm1;
        return expm1(x);
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G& y, C) {
        return g * (y + 1);  // (e^x - 1)' = e^x
    }
};

struct Sin : ElementwiseOp {
    static constexpr const char* name = "sin";
    static constexpr const char* local = "cos({a})";
    template <class T>
    static T f(T x, T) {
        using std::sin;
        return sin(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        using std::cos;
        return g * cos(x);
    }
};

struct Cos : ElementwiseOp {
    static constexpr const char* name = "cos";
    static constexpr const char* local = "-sin({a})";
    template <class T>
    static T f(T x, T) {
        using std::cos;
        return cos(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        using std::sin;
        return -g * sin(x);
    }
};

struct Erf : ElementwiseOp {
    static constexpr const char* name = "erf";
    static constexpr const char* local = "2/sqrt(pi) e^(-{a}^2)";
    template <class T>
    static T f(T x, T) {
        using std::erf;
        return erf(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        using std::exp;
        return g * lit<G>(M_2_SQRTPI) * exp(-(x * x));
    }
};

// gelu(x) = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2. gelu' = Phi(x) + x phi(x), with
// phi(x) = e^(-x^2/2) / sqrt(2 pi).
struct Gelu : ElementwiseOp {
    static constexpr const char* name = "gelu";
    static constexpr const char* local = "Phi({a}) + {a} phi({a})";
    // Also instantiated on xsimd batches (float32's fast path, simd_unary_op below).
    template <class T>
    static T f(T x, T) {
        using std::erf;
        return x * lit<T>(0.5) * (lit<T>(1) + erf(x * lit<T>(M_SQRT1_2)));
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        using std::erf;
        using std::exp;
        const G cdf = lit<G>(0.5) * (lit<G>(1) + erf(x * lit<G>(M_SQRT1_2)));
        const G pdf = exp(lit<G>(-0.5) * x * x) * lit<G>(0.5 * M_2_SQRTPI * M_SQRT1_2);
        return g * (cdf + x * pdf);
    }
};

// The tanh approximation: gelu(x) = x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3).
// gelu' = (1 + t) / 2 + x (1 - t^2) u' / 2, t = tanh(u), u' = sqrt(2/pi) (1 + 3 0.044715 x^2).
struct GeluTanh : ElementwiseOp {
    static constexpr const char* name = "gelu";
    static constexpr const char* local = "(1+t)/2 + {a}(1-t^2)u'/2";
    static constexpr double kBeta = M_SQRT2 * M_2_SQRTPI * 0.5;  // sqrt(2/pi)
    static constexpr double kKappa = 0.044715;
    // Also instantiated on xsimd batches, as Gelu.
    template <class T>
    static T f(T x, T) {
        using std::tanh;
        const T u = lit<T>(kBeta) * (x + lit<T>(kKappa) * x * x * x);
        return lit<T>(0.5) * x * (lit<T>(1) + tanh(u));
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        using std::tanh;
        const G x2 = x * x;
        const G t = tanh(lit<G>(kBeta) * (x + lit<G>(kKappa) * x2 * x));
        const G du = lit<G>(kBeta) * (lit<G>(1) + lit<G>(3 * kKappa) * x2);
        return g * (lit<G>(0.5) * (lit<G>(1) + t) + lit<G>(0.5) * x * (lit<G>(1) - t * t) * du);
    }
};

// silu(x) = x sigma(x). silu' = sigma(x) (1 + x (1 - sigma(x))).
struct Silu : ElementwiseOp {
    static constexpr const char* name = "silu";
    static constexpr const char* local = "s(1 + {a}(1 - s))";
    template <class T>
    static T f(T x, T) {
        return x * sigmoid_of(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C) {
        const G s = sigmoid_of(x);
        return g * s * (1 + x * (1 - s));
    }
};

// softplus with beta = 1: log(1 + e^x), or x itself above the threshold c (as PyTorch, where
// the two agree to float precision). d = sigma(x) below the threshold, 1 above.
struct Softplus : ElementwiseOp {
    static constexpr const char* name = "softplus";
    static constexpr const char* local = "sigmoid({a})";
    template <class T>
    static T f(T x, T c) {
        using std::exp;
        using std::log1p;
        return x > c ? x : log1p(exp(x));
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C c) {
        const G m = mask([c](auto a) { return a > c ? 1 : 0; }, x);
        return g * (m + (1 - m) * sigmoid_of(x));
    }
};

// leaky_relu: x for x > 0, else c x. d = 1 or c; NOTE: at 0 the slope is c, as PyTorch.
struct LeakyRelu : ElementwiseOp {
    static constexpr const char* name = "leaky_relu";
    static constexpr const char* local = "[{a} > 0] + {c}[{a} <= 0]";
    template <class T>
    static T f(T x, T c) {
        // x * c unconditionally, then a select: with the product under the condition GCC
        // (trapping math) keeps a branch per element, 4x slower on random signs.
        const T s = x * c;
        return x > T(0) ? x : s;  // NaN propagates through x * c
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C c) {
        const G m = rule::positive(x);
        return g * (m * (1 - c) + c);
    }
};

// elu: x for x > 0, else c (e^x - 1). d = 1, else c e^x; NOTE: at 0 the slope is c, as PyTorch.
struct Elu : ElementwiseOp {
    static constexpr const char* name = "elu";
    static constexpr const char* local = "[{a} > 0] + {c} e^{a} [{a} <= 0]";
    template <class T>
    static T f(T x, T c) {
        using std::expm1;
        return x > T(0) ? x : c * expm1(x);
    }
    template <class G, class C>
    static G d(const G& g, const G& x, const G&, C c) {
        using std::exp;
        const G m = rule::positive(x);
        return g * (m + (1 - m) * (c * exp(min0(x))));
    }
};

// NOTE: sign(NaN) = 0, as PyTorch's kernel (0 < x) - (x < 0) gives; NumPy gives NaN.
struct Sign : ElementwiseOp {
    static constexpr const char* name = "sign";
    static constexpr const char* local = "0";
    static constexpr std::uint32_t saves = 0;
    template <class T>
    static T f(T x, T) {
        return static_cast<T>((T(0) < x) - (x < T(0)));
    }
    template <class G, class C>
    static G d(const G& g, const G&, const G&, C) {
        return rule::zero_like(g);  // piecewise constant
    }
};

// ---- float32 element-wise rules eight lanes at a time ----
// For ops whose f and d also compile on xsimd batches (libm's erf and exp are scalar calls, and
// they were most of GELU's time: 30% of the Transformer's training step). The same rule, so the
// same formula; xsimd's float erf and exp are within 1.5 ulp of the correctly rounded value
// (glibc's: 1 ulp). A tail shorter than a batch is computed as a padded batch, so an element's
// value does not depend on where the array ends or how the work is split.
using FloatBatch = xsimd::batch<float>;
constexpr std::size_t kLanes = FloatBatch::size;

// o[i] = f(in_0[i], ..., in_k[i]) for i < n, f on batches.
template <class F, class... P>
void simd_map_n(float* o, std::size_t n, F f, const P*... in) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        f(FloatBatch::load_unaligned(in + i)...).store_unaligned(o + i);
    }
    if (i < n) {
        const std::size_t r = n - i;
        auto pad = [&](const float* p) {
            alignas(32) float b[kLanes] = {};
            std::memcpy(b, p + i, r * sizeof(float));
            return FloatBatch::load_unaligned(b);
        };
        alignas(32) float out[kLanes];
        f(pad(in)...).store_unaligned(out);
        std::memcpy(o + i, out, r * sizeof(float));
    }
}

// The same split into kParallelGrain chunks as kernels::map_into (a multiple of kLanes).
template <class F, class... P>
void simd_map(float* o, std::size_t n, F f, const P*... in) {
    if (n < kParallelGrain) {
        simd_map_n(o, n, f, in...);
        return;
    }
    parallel_for(0, n, kParallelGrain,
                 [&](std::size_t b, std::size_t e) { simd_map_n(o + b, e - b, f, (in + b)...); });
}

template <class Op>
Grads simd_unary_fast(const Node& self, const Array& grad) {
    if (grad.dtype() != DType::Float32) return detail::unary_fast<Op>(self, grad);
    const FloatBatch c(static_cast<float>(self.params<double>()));
    Array gx = Array::empty(grad.dtype(), grad.shape());
    simd_map(
        gx.data<float>(), gx.numel(),
        [c](FloatBatch g, FloatBatch x, FloatBatch y) { return Op::d(g, x, y, c); },
        grad.data<float>(), self.input(0).data<float>(), self.value().data<float>());
    return Grads(std::move(gx));
}

template <class Op>
void simd_unary_into(Array& out, const Array& x, double c) {
    if (out.dtype() != DType::Float32) {
        dispatch(out.dtype(), [&](auto t) {
            using T = decltype(t);
            const T ct = static_cast<T>(c);
            kernels::map_into<T>(
                out, [ct](T v) { return static_cast<T>(Op::f(v, ct)); }, x);
        });
        return;
    }
    const FloatBatch cb(static_cast<float>(c));
    simd_map(
        out.data<float>(), out.numel(), [cb](FloatBatch v) { return Op::f(v, cb); },
        x.data<float>());
}

template <class Op>
void simd_unary_forward_into(const Node& self, Array& out) {
    simd_unary_into<Op>(out, self.input(0), self.params<double>());
}

template <class Op>
constexpr OpDef simd_unary_def() {
    OpDef d = detail::unary_def<Op>();
    d.backward_fast = &simd_unary_fast<Op>;
    d.forward_into = &simd_unary_forward_into<Op>;
    return d;
}
template <class Op>
const OpDef kSimdUnaryDef = simd_unary_def<Op>();

// unary_op with the float32 forward and fast backward on batches (other dtypes as unary_op).
template <class Op>
Tensor simd_unary_op(const Tensor& a, double c = 0) {
    detail::check_defined(Op::name, a);
    const Array& x = a.value();
    Array y =
        dispatch(Op::name, x.dtype(), [&](auto) { return Array::empty(x.dtype(), x.shape()); });
    simd_unary_into<Op>(y, x, c);
    return record(kSimdUnaryDef<Op>, std::move(y), {&a}, c);
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary_op<Maximum>(a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b, const CallSite&) {
    return binary_op<Minimum>(a, b);
}
Tensor pow(const Tensor& a, const Tensor& exponent, const CallSite&) {
    return binary_op<PowTensor>(a, exponent);
}
Tensor reciprocal(const Tensor& a, const CallSite&) { return unary_op<Reciprocal>(a); }
Tensor rsqrt(const Tensor& a, const CallSite&) { return unary_op<Rsqrt>(a); }
Tensor log1p(const Tensor& a, const CallSite&) { return unary_op<Log1p>(a); }
Tensor expm1(const Tensor& a, const CallSite&) { return unary_op<Expm1>(a); }
Tensor sin(const Tensor& a, const CallSite&) { return unary_op<Sin>(a); }
Tensor cos(const Tensor& a, const CallSite&) { return unary_op<Cos>(a); }
Tensor erf(const Tensor& a, const CallSite&) { return unary_op<Erf>(a); }
Tensor gelu(const Tensor& a, const std::string& approximate, const CallSite&) {
    if (approximate == "none") return simd_unary_op<Gelu>(a);
    if (approximate == "tanh") return simd_unary_op<GeluTanh>(a);
    throw std::invalid_argument("gelu: approximate must be 'none' or 'tanh' (got '" + approximate +
                                "')");
}
Tensor silu(const Tensor& a, const CallSite&) { return unary_op<Silu>(a); }
Tensor softplus(const Tensor& a, double beta, double threshold, const CallSite&) {
    if (!(beta != 0) || !std::isfinite(beta)) {
        throw std::invalid_argument("softplus: beta must be finite and nonzero (got " +
                                    std::to_string(beta) + ")");
    }
    if (beta == 1) return unary_op<Softplus>(a, threshold);
    // softplus(x; beta, t) = sp(beta x; t) / beta with sp the beta = 1 op: PyTorch's threshold
    // compares beta x, as sp does. NOTE: three nodes for beta != 1 (one for the default beta).
    return unary_op<Softplus>(a * beta, threshold) / beta;
}
Tensor leaky_relu(const Tensor& a, double negative_slope, const CallSite&) {
    return unary_op<LeakyRelu>(a, negative_slope);
}
Tensor elu(const Tensor& a, double alpha, const CallSite&) { return unary_op<Elu>(a, alpha); }
Tensor sign(const Tensor& a, const CallSite&) { return unary_op<Sign>(a); }

}  // namespace xgrad
