#pragma once
// Tensor: a cheap handle to a graph node (copies share it). No xtensor in this header.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/array.h"
#include "autograd/shape.h"

namespace xgrad {

class Node;
class MutableValue;
class GradRef;

/// A handle to a node of the dynamic computation graph: its cached value, and for tensors that
/// require grad, the edges to its inputs and its backward rule. Copies share the node.
///
/// Gradients: `backward()` adds into the `grad()` of every leaf that requires grad. Leaf
/// gradients accumulate over repeated backward calls until `zero_grad()`, as in PyTorch.
/// Non-leaf tensors keep their gradient only when `retain_grad()` was called before backward.
///
/// Example:
///   Tensor x = scalar(2.0, f64, /*requires_grad=*/true);
///   Tensor y = x * x + 3.0 * x;       // builds the graph
///   y.backward();                      // dy/dx = 2x + 3
///   x.grad().item() == 7.0;
class Tensor {
public:
    /// An undefined handle; most methods throw std::logic_error on it.
    Tensor() = default;
    /// A leaf holding `value`. requires_grad on an int64 or bool value throws
    /// std::invalid_argument (only floating-point tensors can require grad).
    explicit Tensor(Array value, bool requires_grad = false);
    Tensor(const Tensor& other) noexcept;
    Tensor(Tensor&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
    Tensor& operator=(const Tensor& other) noexcept;
    Tensor& operator=(Tensor&& other) noexcept;
    ~Tensor();

    bool defined() const { return node_ != nullptr; }
    /// The cached forward value.
    const Array& value() const;
    /// In-place access to a leaf's value (optimizers, initialisers); raises the leaf's version,
    /// so a backward through an op that saved the old value throws instead of giving a wrong
    /// gradient. A whole replacement must keep shape and dtype (see set_data). Throws
    /// std::logic_error for a non-leaf: its value is what its graph computed.
    MutableValue mutable_value();
    /// Replaces a leaf's value with one of any shape and dtype (Module::to), raising its version
    /// and forgetting its gradient. Returns *this.
    Tensor& set_data(Array value);
    /// Times this leaf's value was changed in place (PyTorch's `_version`).
    std::uint32_t version() const;
    const Shape& shape() const { return value().shape(); }
    DType dtype() const { return value().dtype(); }
    std::size_t ndim() const { return value().ndim(); }
    std::size_t numel() const { return value().numel(); }
    /// The one element of a one-element tensor.
    double item() const { return value().item(); }
    double at(std::initializer_list<std::size_t> index) const { return value().at(index); }
    std::vector<double> to_vector() const { return value().to_vector(); }
    /// Typed reads: the one element, an element, or every element converted to T (float,
    /// double, std::int64_t or bool) by PyTorch's conversion rules; item<std::int64_t>() reads
    /// an index exactly, which the double forms cannot past 2^53.
    template <class T>
    T item() const {
        return value().item<T>();
    }
    template <class T>
    T at(std::initializer_list<std::size_t> index) const {
        return value().at<T>(index);
    }
    template <class T>
    std::vector<T> to_vector() const {
        return value().to_vector<T>();
    }
    /// The elements in place, row-major; T must be the tensor's element type (dtype_of<T> ==
    /// dtype(), else std::logic_error). Valid while the tensor lives; never write through it.
    template <class T>
    const T* data() const {
        return value().data<T>();
    }

    bool requires_grad() const;
    /// Marks a leaf as a parameter (or not). Throws std::logic_error on a non-leaf, and
    /// std::invalid_argument when asked for an int64 or bool tensor (only floating-point
    /// tensors can require grad, as PyTorch).
    Tensor& set_requires_grad(bool requires_grad = true);
    bool is_leaf() const;
    /// The op that produced this tensor ("leaf" for leaves).
    const char* op() const;

    /// The accumulated gradient: a constant tensor of the same shape and dtype (zeros before any
    /// backward), or, after backward(create_graph=true), the gradient with its graph. Throws
    /// std::logic_error if the tensor does not require grad, or if it is a non-leaf whose
    /// gradient was not retained.
    Tensor grad() const;
    /// Locked in place access to a leaf's gradient, for optimizers and clipping (see GradRef).
    GradRef mutable_grad();
    /// Whether a gradient has been accumulated since creation or the last `zero_grad()`.
    bool has_grad() const;
    /// Forgets the accumulated gradient (grad() reads zeros again).
    void zero_grad();
    /// Asks backward to keep this non-leaf tensor's gradient, readable by grad().
    void retain_grad();
    /// A new leaf with a copy of this value, outside any graph.
    Tensor detach() const;
    /// Names this tensor's node for graph pictures and backward traces (autograd/debug/:
    /// graph_export.h, autograd/trace.h). Copies of the handle share the name. Returns *this. Name
    /// a tensor before sharing it with a thread that may run backward through it.
    Tensor& set_name(std::string name);
    /// The name given with set_name, or "".
    std::string name() const;

    /// Backpropagates from this one-element tensor with seed 1, adding into the grad() of
    /// every leaf that requires grad. Throws std::invalid_argument for more than one element.
    void backward() const;
    /// The same, keeping the graph for another backward when retain_graph.
    /// NOTE: LibTorch spells this backward({}, retain_graph); both are accepted.
    void backward(bool retain_graph) const;
    /// Backpropagates with seed dL/d(this) of this tensor's shape and dtype (undefined: 1 for a
    /// one-element tensor). retain_graph defaults to create_graph; with create_graph the
    /// gradients are recorded as graph and can be differentiated again (leaves' grad() then
    /// holds a graph that refers to the leaf: zero_grad() breaks that cycle; prefer grad()).
    void backward(const Tensor& seed, std::optional<bool> retain_graph = std::nullopt,
                  bool create_graph = false) const;

    /// "Tensor(shape=(2,2), dtype=float32, op=mul, requires_grad, values=[[...]])".
    std::string str() const;

    /// Internal: the node, and adoption of a node whose reference this handle takes over.
    Node* node() const { return node_; }
    static Tensor adopt(Node* node) {
        Tensor t;
        t.node_ = node;
        return t;
    }

private:
    Node* node_ = nullptr;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// In-place access to a leaf's value, from Tensor::mutable_value(). Element writes go straight
/// to the value; assigning a whole Array requires the same shape and dtype (Tensor::set_data
/// changes them). A value shared with a view (reshape and the like) is copied at the first
/// access, so the view keeps its value; a pointer from data() is therefore valid until the next
/// view of this tensor is taken. Example:
///   double* w = p.mutable_value().data<double>();  w[0] -= lr * g;
class MutableValue {
public:
    template <class T>
    T* data() {
        return a_->data<T>();
    }
    void* raw() { return a_->raw(); }
    void set(std::size_t flat, double value) { a_->set(flat, value); }
    void fill(double value) { a_->fill(value); }
    /// Copies `other`'s elements in; throws std::invalid_argument on another shape or dtype.
    MutableValue& operator=(const Array& other);
    operator const Array&() const { return *a_; }
    const Array& get() const { return *a_; }
    const Shape& shape() const { return a_->shape(); }
    DType dtype() const { return a_->dtype(); }
    std::size_t numel() const { return a_->numel(); }
    std::size_t nbytes() const { return a_->nbytes(); }
    double at(std::size_t flat) const { return a_->at(flat); }

private:
    friend class Tensor;
    explicit MutableValue(Array* a) : a_(a) {}
    Array* a_;
};

/// Locked in place access to a leaf's accumulated gradient, from Tensor::mutable_grad(). While
/// it lives it holds the leaf's gradient lock, so a backward in another thread waits before
/// adding into the same gradient (and zero_grad/grad() of other threads wait too). A gradient
/// that carries a graph (backward with create_graph) is turned into its plain value first.
/// Example:
///   GradRef g = p.mutable_grad();
///   if (float* d = g.data<float>()) for (std::size_t i = 0; i < g.numel(); ++i) d[i] *= 0.5f;
class GradRef {
public:
    GradRef(GradRef&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
    GradRef(const GradRef&) = delete;
    GradRef& operator=(const GradRef&) = delete;
    GradRef& operator=(GradRef&&) = delete;
    ~GradRef();
    /// Whether a gradient is held (a backward reached the leaf since the last zero_grad()).
    bool defined() const;
    /// The gradient's elements (T = the leaf's dtype), or nullptr when none is held.
    template <class T>
    T* data() {
        return static_cast<T*>(raw(sizeof(T)));
    }
    const Shape& shape() const;
    DType dtype() const;
    std::size_t numel() const;
    /// Forgets the gradient, as zero_grad().
    void reset();

private:
    friend class Tensor;
    explicit GradRef(Node* node);
    void* raw(std::size_t itemsize);
    Node* node_;
};

// ---- Leaf constructors. Every random one takes an explicit seed. ----

/// A tensor of `shape` from row-major `values`.
Tensor tensor(const std::vector<double>& values, Shape shape, DType dtype = f32,
              bool requires_grad = false);
/// A 1-D tensor from values.
Tensor tensor(const std::vector<double>& values, DType dtype = f32, bool requires_grad = false);
/// A 1-D tensor of float32, int64 or bool elements (the dtype is the element type's; PyTorch's
/// torch::tensor(std::vector<int64_t>) is int64), or of `shape`. Throws std::invalid_argument
/// if the count does not match the shape, or for requires_grad on int64 or bool.
template <class T,
          class = std::enable_if_t<std::is_same_v<T, float> || std::is_same_v<T, std::int64_t> ||
                                   std::is_same_v<T, bool>>>
Tensor tensor(const std::vector<T>& values, bool requires_grad = false) {
    return Tensor(Array::from_vector(values), requires_grad);
}
template <class T,
          class = std::enable_if_t<std::is_same_v<T, float> || std::is_same_v<T, std::int64_t> ||
                                   std::is_same_v<T, bool>>>
Tensor tensor(const std::vector<T>& values, Shape shape, bool requires_grad = false) {
    return Tensor(Array::from_vector(values, std::move(shape)), requires_grad);
}
/// A zero-copy tensor over caller-owned memory holding shape.numel() elements of `dtype`,
/// aligned to the element size. Lifetime: the memory must stay valid, and not be freed, for as
/// long as this tensor or any copy of its handle exists, including the graph nodes of ops that
/// saved it for backward (ops' results own their memory). Writes through mutable_value() change
/// the caller's memory and the caller's writes show in the tensor (they are not tracked by the
/// version counter: do not change it while a graph that saved it may still run backward).
/// Throws std::invalid_argument for a null or misaligned pointer, or requires_grad on int64 or
/// bool. Example:
///   std::vector<float> buf(6);  Tensor t = from_blob(buf.data(), {2, 3}, f32);
Tensor from_blob(void* data, Shape shape, DType dtype, bool requires_grad = false);
/// A 0-D tensor.
Tensor scalar(double value, DType dtype = f32, bool requires_grad = false);
Tensor zeros(Shape shape, DType dtype = f32, bool requires_grad = false);
Tensor ones(Shape shape, DType dtype = f32, bool requires_grad = false);
Tensor full(Shape shape, double value, DType dtype = f32, bool requires_grad = false);
/// Zeros (ones) of a's shape, in a's dtype unless `dtype` is given.
Tensor zeros_like(const Tensor& a, std::optional<DType> dtype = std::nullopt,
                  bool requires_grad = false);
Tensor ones_like(const Tensor& a, std::optional<DType> dtype = std::nullopt,
                 bool requires_grad = false);
/// `value` everywhere, of a's shape, in a's dtype unless `dtype` is given.
Tensor full_like(const Tensor& a, double value, std::optional<DType> dtype = std::nullopt,
                 bool requires_grad = false);

namespace detail {
Tensor arange(double start, double end, double step, std::optional<DType> dtype, bool integral);
template <class... S>
inline constexpr bool all_arithmetic = (std::is_arithmetic_v<S> && ...);
template <class... S>
inline constexpr bool all_integral = (std::is_integral_v<S> && ...);
}  // namespace detail
/// [start, start + step, ...) up to but excluding `end`, as torch::arange: ceil((end - start) /
/// step) elements. The dtype defaults as PyTorch's: int64 when every bound and the step are
/// integers, else float32. Throws std::invalid_argument for a zero or non-finite step,
/// non-finite bounds, or a step that does not lead from start towards end.
/// Example: arange(5) is int64 [0, 1, 2, 3, 4]; arange(0, 1, 0.25) is float32 [0, .25, .5, .75].
template <class E, class = std::enable_if_t<detail::all_arithmetic<E>>>
Tensor arange(E end, std::optional<DType> dtype = std::nullopt) {
    return detail::arange(0, static_cast<double>(end), 1, dtype, detail::all_integral<E>);
}
template <class S, class E, class = std::enable_if_t<detail::all_arithmetic<S, E>>>
Tensor arange(S start, E end, std::optional<DType> dtype = std::nullopt) {
    return detail::arange(static_cast<double>(start), static_cast<double>(end), 1, dtype,
                          detail::all_integral<S, E>);
}
template <class S, class E, class P, class = std::enable_if_t<detail::all_arithmetic<S, E, P>>>
Tensor arange(S start, E end, P step, std::optional<DType> dtype = std::nullopt) {
    return detail::arange(static_cast<double>(start), static_cast<double>(end),
                          static_cast<double>(step), dtype, detail::all_integral<S, E, P>);
}
/// Uniform on [low, high) from a 64-bit Mersenne Twister with `seed`; the same on every platform.
Tensor uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype = f32,
               bool requires_grad = false);
/// Normal(mean, stddev) by Box-Muller from the same generator; the same on every platform.
Tensor normal(Shape shape, double mean, double stddev, std::uint64_t seed, DType dtype = f32,
              bool requires_grad = false);

}  // namespace xgrad
