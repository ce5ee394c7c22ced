#pragma once
// Node: what a Tensor handle points at. Internal to the library and to op implementations;
// users go through Tensor. Still no xtensor here.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/array.h"
#include "autograd/tensor.h"

namespace xgrad {

/// The gradients an op's backward returns, one per input, in input order. An undefined Array
/// means "no gradient" (input does not require grad). The engine, not the op, accumulates them
/// and sums broadcast axes back to each input's shape.
class Grads {
public:
    Grads() = default;
    Grads(Array g0) : n_(1), inline_{std::move(g0)} {}
    Grads(Array g0, Array g1) : n_(2), inline_{std::move(g0), std::move(g1)} {}
    explicit Grads(std::vector<Array> gs) : n_(gs.size()), more_(std::move(gs)) {}
    std::size_t size() const { return n_; }
    Array& operator[](std::size_t i) { return more_.empty() ? inline_[i] : more_[i]; }

private:
    std::size_t n_ = 0;
    Array inline_[2];
    std::vector<Array> more_;
};

class Node;

/// The backward rule of an op: (self, dL/d(self)) -> dL/d(input i) for each input. Built from
/// any callable with that signature. Like a move-only std::function, but 16 bytes instead of
/// 32: a rule whose captures fit in one pointer and copy trivially (most ops capture nothing,
/// or a scalar) is stored inline, a larger one on the heap. Every node carries one.
class BackwardFn {
public:
    BackwardFn() = default;
    BackwardFn(std::nullptr_t) {}
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, BackwardFn> &&
                                                !std::is_same_v<std::decay_t<F>, std::nullptr_t>>>
    BackwardFn(F&& f) {
        using Fn = std::decay_t<F>;
        if constexpr (kFitsInline<Fn>) {
            ::new (static_cast<void*>(buf_)) Fn(std::forward<F>(f));
            ops_ = &kInlineOps<Fn>;
        } else {
            Fn* p = new Fn(std::forward<F>(f));
            std::memcpy(buf_, &p, sizeof(p));
            ops_ = &kHeapOps<Fn>;
        }
    }
    BackwardFn(BackwardFn&& other) noexcept : ops_(other.ops_) {
        std::memcpy(buf_, other.buf_, sizeof(buf_));
        other.ops_ = nullptr;
    }
    BackwardFn& operator=(BackwardFn&& other) noexcept {
        if (this != &other) {
            reset();
            ops_ = other.ops_;
            std::memcpy(buf_, other.buf_, sizeof(buf_));
            other.ops_ = nullptr;
        }
        return *this;
    }
    BackwardFn(const BackwardFn&) = delete;
    BackwardFn& operator=(const BackwardFn&) = delete;
    ~BackwardFn() { reset(); }

    explicit operator bool() const { return ops_ != nullptr; }
    Grads operator()(const Node& self, const Array& grad) const {
        return ops_->invoke(buf_, self, grad);
    }
    void reset() {
        if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(buf_);
        ops_ = nullptr;
    }

private:
    struct Ops {
        Grads (*invoke)(const unsigned char* buf, const Node& self, const Array& grad);
        void (*destroy)(unsigned char* buf);  // null: nothing to do
    };
    // Inline storage holds trivially copyable callables only, so a move is a memcpy.
    template <class Fn>
    static constexpr bool kFitsInline =
        sizeof(Fn) <= sizeof(void*) &&
        alignof(Fn) <= alignof(void*) && std::is_trivially_copyable_v<Fn>;
    template <class Fn>
    static Fn* heap_fn(const unsigned char* buf) {
        Fn* p;
        std::memcpy(&p, buf, sizeof(p));
        return p;
    }
    template <class Fn>
    static inline constexpr Ops kInlineOps = {
        [](const unsigned char* buf, const Node& self, const Array& grad) -> Grads {
            return (*std::launder(reinterpret_cast<const Fn*>(buf)))(self, grad);
        },
        nullptr};
    template <class Fn>
    static inline constexpr Ops kHeapOps = {
        [](const unsigned char* buf, const Node& self, const Array& grad) -> Grads {
            return (*heap_fn<Fn>(buf))(self, grad);
        },
        [](unsigned char* buf) { delete heap_fn<Fn>(buf); }};

    const Ops* ops_ = nullptr;
    alignas(void*) mutable unsigned char buf_[sizeof(void*)] = {};
};

class Node {
public:
    // ---- What a backward rule reads. ----
    const Array& value() const { return value_; }
    /// The cached value of input i.
    const Array& input(std::size_t i) const { return inputs()[i]->value_; }
    std::size_t num_inputs() const { return n_inputs_; }
    /// Whether input i needs a gradient (skip computing the others: they are not used).
    bool needs_grad(std::size_t i) const { return inputs()[i]->requires_grad(); }
    const char* op() const { return op_; }

    // ---- Engine and Tensor internals. ----
    enum Flag : std::uint8_t {
        kRequiresGrad = 1,
        kRetainGrad = 4,  // non-leaf keeps its gradient after backward
        kReleased = 8,    // backward ran without retain_graph: edges and rule are gone
        kAnnotated = 16,  // has a name or creation site in the side table of autograd/debug.h
    };
    bool requires_grad() const { return flags_ & kRequiresGrad; }
    bool is_leaf() const { return op_ == kLeaf; }
    Node* const* inputs() const { return n_inputs_ <= 2 ? inline_inputs_ : heap_inputs_; }

    /// A leaf node with refcount 1.
    static Node* make_leaf(Array value, bool requires_grad);
    /// Drops one reference; destroys nodes that reach zero without recursion.
    static void release(Node* node);
    void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }

    /// Moves `g` into the gradient accumulator, or adds it. Caller guarantees shape and dtype.
    void accumulate(Array&& g) {
        if (!has_grad_) {
            grad_ = g.release_storage();
            has_grad_ = true;
        } else {
            add_to_grad(g);
        }
    }
    /// The accumulated gradient as an Array view-copy (shape and dtype of the value).
    Array grad_copy() const;
    /// Takes the accumulated gradient out (the accumulator becomes empty).
    Array take_grad() {
        has_grad_ = false;
        Storage s = grad_;
        grad_.heap_ = nullptr;
        return Array::adopt(value_.dtype(), value_.shape(), s);
    }
    void clear_grad() {
        if (has_grad_) grad_.release(value_.nbytes());
        has_grad_ = false;
    }
    /// Forgets the edges and the backward rule and marks the node released, after a backward
    /// without retain_graph. The engine has already released (or handed on) the reference each
    /// edge held.
    void drop_edges() {
        if (n_inputs_ > 2) delete[] heap_inputs_;
        n_inputs_ = 0;
        inline_inputs_[0] = inline_inputs_[1] = nullptr;
        backward_.reset();
        flags_ |= kReleased;
    }

    static const char kLeaf[];

    std::atomic<std::uint32_t> refs_{1};
    std::uint32_t n_inputs_ = 0;
    std::atomic<std::uint8_t> lock_{0};  // guards grad_ of leaves shared between threads
    std::uint8_t flags_ = 0;
    // grad_ holds data (accumulated, or accumulating during backward). A byte of its own: it is
    // written under lock_ for a shared leaf while other threads read flags_ (requires_grad).
    bool has_grad_ = false;
    std::uint32_t deps_ = 0;  // during backward: consumers yet to pass their gradient on
    std::uint64_t mark_ = 0;  // epoch of the last backward that visited this node
    const char* op_ = kLeaf;
    Array value_;
    Storage grad_;  // interpreted with value_'s dtype and shape
    union {
        Node* inline_inputs_[2];
        Node** heap_inputs_;
    };
    BackwardFn backward_;

    /// Node memory comes from a small per-thread cache of freed nodes (see tensor.cpp).
    static void* operator new(std::size_t size);
    static void operator delete(void* p) noexcept;

private:
    friend Tensor from_op(const char*, Array, const Tensor* const*, std::size_t, BackwardFn);
    Node() : inline_inputs_{nullptr, nullptr} {}
    Node(const char* op, std::uint8_t flags, Array&& value, BackwardFn&& backward)
        : flags_(flags),
          op_(op),
          value_(std::move(value)),
          inline_inputs_{nullptr, nullptr},
          backward_(std::move(backward)) {}
    ~Node();
    void add_to_grad(const Array& g);
};

/// The single way into the graph: wraps an op's materialised forward value and records its
/// inputs and backward rule when any input requires grad and grad mode is on; otherwise the
/// result is a constant leaf and nothing is recorded.
Tensor from_op(const char* op, Array value, const Tensor* const* inputs, std::size_t n,
               BackwardFn backward);
inline Tensor from_op(const char* op, Array value, const Tensor& a, BackwardFn backward) {
    const Tensor* in[] = {&a};
    return from_op(op, std::move(value), in, 1, std::move(backward));
}
inline Tensor from_op(const char* op, Array value, const Tensor& a, const Tensor& b,
                      BackwardFn backward) {
    const Tensor* in[] = {&a, &b};
    return from_op(op, std::move(value), in, 2, std::move(backward));
}
Tensor from_op(const char* op, Array value, const std::vector<Tensor>& inputs, BackwardFn backward);

/// Runs backward from `root` with `seed` (shape and dtype already checked).
void run_backward(Node* root, Array seed, bool retain_graph);

}  // namespace xgrad
