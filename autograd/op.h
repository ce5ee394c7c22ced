#pragma once
// The header for op authors: what an op is (OpDef, in node.h), what its backward rule sees
// (OpContext), how it records itself (record), and the element-wise op forms whose one scalar
// rule serves both the fast path and the recorded one. The built-in ops (autograd/ops/*.cpp)
// and nn's fused losses are written with it; it is the one internal header nn, bench and tests
// may include (it brings the internal kernels too: kernels.h, kernels/nd.h). Recipe and a
// worked example: README, "Adding an op".

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "autograd/grad_mode.h"
#include "autograd/kernels.h"
#include "autograd/kernels/nd.h"
#include "autograd/node.h"
#include "autograd/ops.h"

namespace xgrad {

/// What a backward rule sees: the op's inputs and output as Tensors (handles to the graph's own
/// nodes, so a rule recorded under create_graph connects to the forward graph), and its
/// parameters. Valid for the duration of the rule.
class OpContext {
public:
    explicit OpContext(const Node& self);
    const Tensor& input(std::size_t i) const { return inputs_[i]; }
    const Tensor& output() const { return output_; }
    std::size_t num_inputs() const { return inputs_.size(); }
    bool needs_grad(std::size_t i) const { return self_.needs_grad(i); }
    template <class P>
    const P& params() const {
        return self_.params<P>();
    }
    const Node& node() const { return self_; }

private:
    const Node& self_;
    TensorGrads inputs_;
    Tensor output_;
};

/// No parameters.
struct NoParams {};

namespace detail {

/// Throws "op: <role> is an undefined tensor" (role: "input", "input 1", "term 2", ...).
inline void check_defined(const char* op, const Tensor& t, const char* role = "input") {
    if (!t.defined()) {
        throw std::invalid_argument(std::string(op) + ": " + role + " is an undefined tensor");
    }
}

[[noreturn]] inline void dtype_error(const char* op, const Array& a, const Array& b) {
    throw std::invalid_argument(std::string(op) + ": dtypes differ (got " + dtype_name(a.dtype()) +
                                " " + a.shape().str() + " and " + dtype_name(b.dtype()) + " " +
                                b.shape().str() + "; convert one with to())");
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype()) dtype_error(op, a.value(), b.value());
}

/// Records `def` (see record below) and notifies this thread's observers. Returns the node when
/// it was recorded, else null (the result is then a constant leaf).
Node* record_node(const OpDef& def, Array&& value, const Tensor* const* inputs, std::size_t n,
                  Tensor& out);
void notify_recorded(Node* node);

/// Throws std::logic_error: parameters too large to store inline and no OpDef::destroy_params
/// to free them (the node's destructor would call a null pointer).
[[noreturn]] void heap_params_error(const OpDef& def, std::size_t bytes);
template <class P>
void check_params_storage(const OpDef& def) {
    using D = std::decay_t<P>;
    if constexpr (!std::is_same_v<D, NoParams> && !Node::kInlineParams<D>) {
        if (def.destroy_params == nullptr) heap_params_error(def, sizeof(D));
    }
}

}  // namespace detail

/// Wraps an op's materialised forward value; when an input requires grad and grad mode is on,
/// records a node of `def` holding `params` (see Node::params). Example:
///   return record(kMyOp, std::move(y), {&a, &b}, MyParams{axis});
template <class P = NoParams>
Tensor record(const OpDef& def, Array value, std::initializer_list<const Tensor*> inputs,
              P&& params = P{}) {
    detail::check_params_storage<P>(def);
    Tensor out;
    Node* n = detail::record_node(def, std::move(value), inputs.begin(), inputs.size(), out);
    if (n != nullptr) {
        if constexpr (!std::is_same_v<std::decay_t<P>, NoParams>) {
            n->set_params(std::forward<P>(params));
        }
        detail::notify_recorded(n);
    }
    return out;
}
template <class P = NoParams>
Tensor record(const OpDef& def, Array value, const std::vector<Tensor>& inputs, P&& params = P{}) {
    detail::check_params_storage<P>(def);
    std::vector<const Tensor*> ptrs(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) ptrs[i] = &inputs[i];
    Tensor out;
    Node* n = detail::record_node(def, std::move(value), ptrs.data(), ptrs.size(), out);
    if (n != nullptr) {
        if constexpr (!std::is_same_v<std::decay_t<P>, NoParams>) {
            n->set_params(std::forward<P>(params));
        }
        detail::notify_recorded(n);
    }
    return out;
}

/// Heap parameters get a destructor in the record: `OpDef d = ...; d.destroy_params =
/// destroy_params_of<MyParams>();` (null when they are stored inline).
template <class P>
constexpr void (*destroy_params_of())(void*) {
    if constexpr (Node::kInlineParams<P>) {
        return nullptr;
    } else {
        return [](void* p) { delete static_cast<P*>(p); };
    }
}

/// Constants for recorded rules: 1 where x > 0, else 0; and sign(x). No graph.
Tensor positive_mask(const Tensor& x);
Tensor sign_mask(const Tensor& x);
/// Internal ops the engine and the rules use: g summed over the axes along which `shape` was
/// broadcast to g's shape (d/dg = expand_to), and x broadcast to `shape` (d/dx = sum_to).
Tensor sum_to(const Tensor& g, const Shape& shape);
Tensor expand_to(const Tensor& x, const Shape& shape);

// ---- Helpers that read the same for scalars and Tensors, for element-wise rules ----
namespace rule {

/// g where x > 0, else 0 (relu's rule; the mask is a constant).
template <class T>
T times_positive(const T& x, const T& g) {
    if constexpr (std::is_arithmetic_v<T>) {
        return x > T(0) ? g : T(0);
    } else {
        return g * positive_mask(x);
    }
}
/// g sign(x), 0 at x = 0 (abs's rule; the sign is a constant).
template <class T>
T times_sign(const T& x, const T& g) {
    if constexpr (std::is_arithmetic_v<T>) {
        return x > T(0) ? g : (x < T(0) ? -g : T(0));
    } else {
        return g * sign_mask(x);
    }
}

/// 1 where x > 0, else 0 (a constant: no gradient flows through the mask).
template <class T>
T positive(const T& x) {
    if constexpr (std::is_arithmetic_v<T>) {
        return x > T(0) ? T(1) : T(0);
    } else {
        return positive_mask(x);
    }
}
/// sign(x) in {-1, 0, 1} (a constant).
template <class T>
T sign(const T& x) {
    if constexpr (std::is_arithmetic_v<T>) {
        return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    } else {
        return sign_mask(x);
    }
}
/// 0 of g's shape and dtype (a constant).
template <class T>
T zero_like(const T& g) {
    if constexpr (std::is_arithmetic_v<T>) {
        (void)g;
        return T(0);
    } else {
        return zeros(g.shape(), g.dtype());
    }
}

}  // namespace rule

// ---- Element-wise ops: one scalar rule, two uses ----
//
// An element-wise op is a struct with its name, forward f and derivative d written once as
// templates. The fast path runs d on scalars in one fused loop (kernels::map); the recorded path
// calls the very same d with Tensors (each operator then records a node), so the derivative is
// itself differentiable. `c` is the op's scalar parameter (an exponent, a folded operand; 0 if
// unused), of the element type on the fast path and double on the recorded one.
//
//   struct Exp : ElementwiseOp {
//       static constexpr const char* name = "exp";
//       static constexpr const char* local = "{y}";
//       static constexpr std::uint32_t saves = 0;  // reads only its output
//       template <class T> static T f(T x, T) { using std::exp; return exp(x); }
//       template <class G, class C> static G d(const G& g, const G&, const G& y, C) {
//           return g * y;  // (e^x)' = e^x
//       }
//   };
//   Tensor exp(const Tensor& a) { return unary_op<Exp>(a); }

/// Defaults for the optional members of an element-wise op struct.
struct ElementwiseOp {
    static constexpr const char* local = nullptr;
    static constexpr const char* local1 = nullptr;
    static constexpr const char* infix = nullptr;
    static constexpr const char* prefix = nullptr;
    static constexpr char scalar_op = 0;
    static constexpr bool scalar_left = false;
    static constexpr std::uint32_t saves = ~0u;
};

namespace detail {

template <class Op>
Grads unary_fast(const Node& self, const Array& grad) {
    const double c = self.params<double>();
    return Grads(dispatch(grad.dtype(), [&](auto t) {
        using T = decltype(t);
        const T ct = static_cast<T>(c);
        return kernels::map<T>(
            grad.shape(), [ct](T g, T x, T y) { return static_cast<T>(Op::d(g, x, y, ct)); }, grad,
            self.input(0), self.value());
    }));
}

template <class Op>
TensorGrads unary_graph(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(Op::d(grad, ctx.input(0), ctx.output(), ctx.params<double>()));
}

template <class Op>
Grads binary_fast(const Node& self, const Array& grad) {
    Array gx, gy;
    dispatch(grad.dtype(), [&](auto t) {
        using T = decltype(t);
        const Array &in0 = self.input(0), &in1 = self.input(1), &out = self.value();
        auto dx = [](T g, T x, T y, T z) { return static_cast<T>(Op::dx(g, x, y, z)); };
        auto dy = [](T g, T x, T y, T z) { return static_cast<T>(Op::dy(g, x, y, z)); };
        if (self.needs_grad(0) && self.needs_grad(1) && in0.shape() == grad.shape() &&
            in1.shape() == grad.shape() && out.shape() == grad.shape()) {
            // Both gradients in one pass over g, x, y and z (the same bits as two maps).
            gx = Array::empty(grad.dtype(), grad.shape());
            gy = Array::empty(grad.dtype(), grad.shape());
            kernels::map2_into<T>(gx, gy, dx, dy, grad, in0, in1, out);
            return;
        }
        if (self.needs_grad(0)) {
            gx = kernels::map<T>(grad.shape(), dx, grad, in0, in1, out);
        }
        if (self.needs_grad(1)) {
            gy = kernels::map<T>(grad.shape(), dy, grad, in0, in1, out);
        }
    });
    return Grads(std::move(gx), std::move(gy));
}

template <class Op>
TensorGrads binary_graph(const OpContext& ctx, const Tensor& grad) {
    const Tensor &x = ctx.input(0), &y = ctx.input(1), &z = ctx.output();
    Tensor gx, gy;
    if (ctx.needs_grad(0)) gx = Op::dx(grad, x, y, z);
    if (ctx.needs_grad(1)) gy = Op::dy(grad, x, y, z);
    return TensorGrads(std::move(gx), std::move(gy));
}

// Replay forms of the same rules (autograd/capture.h): the forward into an existing array, and
// both on one float64 (the scalar tape). Same expressions as the fast path, so the same bits.
template <class Op>
void unary_forward_into(const Node& self, Array& out) {
    const double c = self.params<double>();
    dispatch(out.dtype(), [&](auto t) {
        using T = decltype(t);
        const T ct = static_cast<T>(c);
        kernels::map_into<T>(
            out, [ct](T v) { return static_cast<T>(Op::f(v, ct)); }, self.input(0));
    });
}
template <class Op>
double unary_scalar_forward(const double* in, double c) {
    return static_cast<double>(Op::f(in[0], c));
}
template <class Op>
void unary_scalar_backward(double g, const double* in, double out, double c, double* gin) {
    gin[0] = static_cast<double>(Op::d(g, in[0], out, c));
}
template <class Op>
void binary_forward_into(const Node& self, Array& out) {
    dispatch(out.dtype(), [&](auto t) {
        using T = decltype(t);
        kernels::map_into<T>(
            out, [](T u, T v) { return static_cast<T>(Op::f(u, v)); }, self.input(0),
            self.input(1));
    });
}
template <class Op>
double binary_scalar_forward(const double* in, double) {
    return static_cast<double>(Op::f(in[0], in[1]));
}
template <class Op>
void binary_scalar_backward(double g, const double* in, double out, double, double* gin) {
    gin[0] = static_cast<double>(Op::dx(g, in[0], in[1], out));
    gin[1] = static_cast<double>(Op::dy(g, in[0], in[1], out));
}

template <class Op>
constexpr OpDef elementwise_def(TensorGrads (*backward)(const OpContext&, const Tensor&),
                                Grads (*fast)(const Node&, const Array&)) {
    OpDef d{};
    d.name = Op::name;
    d.backward = backward;
    d.backward_fast = fast;
    d.saves = Op::saves;
    d.elementwise = true;
    d.local[0] = Op::local;
    d.local[1] = Op::local1;
    d.infix = Op::infix;
    d.prefix = Op::prefix;
    d.scalar_op = Op::scalar_op;
    d.scalar_left = Op::scalar_left;
    return d;
}

template <class Op>
constexpr OpDef unary_def() {
    OpDef d = elementwise_def<Op>(&unary_graph<Op>, &unary_fast<Op>);
    d.forward_into = &unary_forward_into<Op>;
    d.scalar_forward = &unary_scalar_forward<Op>;
    d.scalar_backward = &unary_scalar_backward<Op>;
    return d;
}
template <class Op>
constexpr OpDef binary_def() {
    OpDef d = elementwise_def<Op>(&binary_graph<Op>, &binary_fast<Op>);
    d.forward_into = &binary_forward_into<Op>;
    d.scalar_forward = &binary_scalar_forward<Op>;
    d.scalar_backward = &binary_scalar_backward<Op>;
    return d;
}
template <class Op>
inline constexpr OpDef kUnaryDef = unary_def<Op>();
template <class Op>
inline constexpr OpDef kBinaryDef = binary_def<Op>();

}  // namespace detail

namespace detail {
/// A one-element array of `shape` holding v, built in place (no kernel, no zero fill): the
/// scalar graphs' forward path. The same expression as the kernel's, so the same bits.
template <class T>
Array one_element_array(const Shape& shape, T v) {
    Storage s;
    s.heap_ = nullptr;
    std::memcpy(s.inline_, &v, sizeof(T));
    return Array::adopt(dtype_of<T>, Shape(shape), s);
}
template <class T>
T first_element(const Array& a) {
    T v;
    std::memcpy(&v, a.raw(), sizeof(T));
    return v;
}
/// Whether `a` holds one float64 element: a value of the scalar graphs.
inline bool is_one_f64(const Array& a) { return a.dtype() == DType::Float64 && a.numel() == 1; }
/// What record() does for a one-float64 result `v` of shape `shape` of an element-wise op on
/// one-float64 inputs a (and b, or null) with scalar parameter c (unary ops), without building
/// an Array first or looking up the observers twice: the scalar graphs' forward.
Tensor record_scalar(const OpDef& def, const Shape& shape, double v, const Tensor& a,
                     const Tensor* b, double c);
}  // namespace detail

/// y = Op::f(x, c) element-wise, recorded with the rule Op::d.
template <class Op>
Tensor unary_op(const Tensor& a, double c = 0) {
    detail::check_defined(Op::name, a);
    const Array& x = a.node()->value();
    if (detail::is_one_f64(x)) {
        const double v = static_cast<double>(Op::f(detail::first_element<double>(x), c));
        return detail::record_scalar(detail::kUnaryDef<Op>, x.shape(), v, a, nullptr, c);
    }
    Array y = dispatch(Op::name, x.dtype(), [&](auto t) {
        using T = decltype(t);
        const T ct = static_cast<T>(c);
        if (x.numel() == 1) {
            return detail::one_element_array<T>(
                x.shape(), static_cast<T>(Op::f(detail::first_element<T>(x), ct)));
        }
        return kernels::map<T>(
            x.shape(), [ct](T v) { return static_cast<T>(Op::f(v, ct)); }, x);
    });
    return record(detail::kUnaryDef<Op>, std::move(y), {&a}, c);
}

/// z = Op::f(x, y) element-wise with broadcasting, recorded with the rules Op::dx and Op::dy
/// (over the broadcast shape: the engine sums them back to each input's shape).
template <class Op>
Tensor binary_op(const Tensor& a, const Tensor& b) {
    detail::check_defined(Op::name, a, "input 0");
    detail::check_defined(Op::name, b, "input 1");
    const Array &x = a.node()->value(), &y = b.node()->value();
    if (detail::is_one_f64(x) && detail::is_one_f64(y) && x.shape() == y.shape()) {
        const double v = static_cast<double>(
            Op::f(detail::first_element<double>(x), detail::first_element<double>(y)));
        return detail::record_scalar(detail::kBinaryDef<Op>, x.shape(), v, a, &b, 0.0);
    }
    if (x.dtype() != y.dtype()) detail::dtype_error(Op::name, x, y);
    Array z = dispatch(Op::name, x.dtype(), [&](auto t) {
        using T = decltype(t);
        auto f = [](T u, T v) { return static_cast<T>(Op::f(u, v)); };
        if (x.shape() == y.shape()) {
            if (x.numel() == 1) {
                return detail::one_element_array<T>(
                    x.shape(), f(detail::first_element<T>(x), detail::first_element<T>(y)));
            }
            return kernels::map<T>(x.shape(), f, x, y);
        }
        return kernels::map<T>(broadcast_shapes(Op::name, x.shape(), y.shape()), f, x, y);
    });
    return record(detail::kBinaryDef<Op>, std::move(z), {&a, &b});
}

}  // namespace xgrad
