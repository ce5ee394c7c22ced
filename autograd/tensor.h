#pragma once
// Tensor: a cheap handle to a graph node (copies share it). No xtensor in this header.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "autograd/array.h"
#include "autograd/shape.h"

namespace xgrad {

class Node;

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
    /// A leaf holding `value`.
    explicit Tensor(Array value, bool requires_grad = false);
    Tensor(const Tensor& other) noexcept;
    Tensor(Tensor&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
    Tensor& operator=(const Tensor& other) noexcept;
    Tensor& operator=(Tensor&& other) noexcept;
    ~Tensor();

    bool defined() const { return node_ != nullptr; }
    /// The cached forward value.
    const Array& value() const;
    /// In-place access to a leaf's value (optimizers, initialisers). Throws std::logic_error for
    /// a non-leaf: changing a cached value under a recorded graph would make its gradient wrong.
    Array& mutable_value();
    const Shape& shape() const { return value().shape(); }
    DType dtype() const { return value().dtype(); }
    std::size_t ndim() const { return value().ndim(); }
    std::size_t numel() const { return value().numel(); }
    /// The one element of a one-element tensor.
    double item() const { return value().item(); }
    double at(std::initializer_list<std::size_t> index) const { return value().at(index); }
    std::vector<double> to_vector() const { return value().to_vector(); }

    bool requires_grad() const;
    /// Marks a leaf as a parameter (or not). Throws std::logic_error on a non-leaf.
    Tensor& set_requires_grad(bool requires_grad = true);
    bool is_leaf() const;
    /// The op that produced this tensor ("leaf" for leaves).
    const char* op() const;

    /// The accumulated gradient as a constant tensor of the same shape and dtype; zeros before
    /// any backward. Throws std::logic_error if the tensor does not require grad, or if it is a
    /// non-leaf whose gradient was not retained.
    Tensor grad() const;
    /// Whether a gradient has been accumulated since creation or the last `zero_grad()`.
    bool has_grad() const;
    /// Forgets the accumulated gradient (grad() reads zeros again).
    void zero_grad();
    /// Asks backward to keep this non-leaf tensor's gradient, readable by grad().
    void retain_grad();
    /// A new leaf with a copy of this value, outside any graph.
    Tensor detach() const;
    /// Names this tensor's node for graph pictures and backward traces (autograd/graph_export.h,
    /// autograd/trace.h). Copies of the handle share the name. Returns *this. Name a tensor
    /// before sharing it with a thread that may run backward through it.
    Tensor& set_name(std::string name);
    /// The name given with set_name, or "".
    std::string name() const;

    /// Backpropagates from this one-element tensor with seed 1.
    /// Throws std::invalid_argument for a tensor with more than one element.
    void backward(bool retain_graph = false) const;
    /// Backpropagates with an explicit seed dL/d(this) of this tensor's shape and dtype.
    void backward(const Tensor& seed, bool retain_graph = false) const;

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

// ---- Leaf constructors. Every random one takes an explicit seed. ----

/// A tensor of `shape` from row-major `values`.
Tensor tensor(const std::vector<double>& values, Shape shape, DType dtype = f32,
              bool requires_grad = false);
/// A 1-D tensor from values.
Tensor tensor(const std::vector<double>& values, DType dtype = f32, bool requires_grad = false);
/// A 0-D tensor.
Tensor scalar(double value, DType dtype = f32, bool requires_grad = false);
Tensor zeros(Shape shape, DType dtype = f32, bool requires_grad = false);
Tensor ones(Shape shape, DType dtype = f32, bool requires_grad = false);
Tensor full(Shape shape, double value, DType dtype = f32, bool requires_grad = false);
/// Uniform on [low, high) from a 64-bit Mersenne Twister with `seed`; the same on every platform.
Tensor uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype = f32,
               bool requires_grad = false);
/// Normal(mean, stddev) by Box-Muller from the same generator; the same on every platform.
Tensor normal(Shape shape, double mean, double stddev, std::uint64_t seed, DType dtype = f32,
              bool requires_grad = false);

}  // namespace xgrad
