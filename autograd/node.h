#pragma once
// Node: what a Tensor handle points at, and OpDef: what an op is. Internal to the library; op
// authors reach both through autograd/op.h. Still no xtensor here.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/array.h"
#include "autograd/tensor.h"

namespace xgrad {

/// Gradients an op's backward returns, one per input, in input order (G = Array on the fast
/// path, Tensor on the recorded one). An undefined entry means "no gradient". The engine, not
/// the op, accumulates them and sums broadcast axes back to each input's shape.
template <class G>
class GradList {
public:
    GradList() = default;
    GradList(G g0) : n_(1), inline_{std::move(g0)} {}
    GradList(G g0, G g1) : n_(2), inline_{std::move(g0), std::move(g1)} {}
    explicit GradList(std::vector<G> gs) : n_(gs.size()), more_(std::move(gs)) {}
    /// n undefined entries.
    static GradList sized(std::size_t n) {
        if (n <= 2) {
            GradList l;
            l.n_ = n;
            return l;
        }
        return GradList(std::vector<G>(n));
    }
    std::size_t size() const { return n_; }
    G& operator[](std::size_t i) { return more_.empty() ? inline_[i] : more_[i]; }
    const G& operator[](std::size_t i) const { return more_.empty() ? inline_[i] : more_[i]; }

private:
    std::size_t n_ = 0;
    G inline_[2];
    std::vector<G> more_;
};
using Grads = GradList<Array>;
using TensorGrads = GradList<Tensor>;

class Node;
class OpContext;
struct OpDef;

namespace detail {
Node* record_node(const OpDef& def, Array&& value, const Tensor* const* inputs, std::size_t n,
                  Tensor& out);
/// A constant leaf holding a gradient computed without create_graph (so that differentiating it
/// again says so instead of "does not require grad").
Tensor from_backward(Array value);
Tensor record_scalar(const OpDef& def, const Shape& shape, double v, const Tensor& a,
                     const Tensor* b, double c);
}  // namespace detail

/// An op, once: its name, its backward rule, and what the debugging tools read. One static
/// OpDef per op (autograd/ops/*.cpp); a node points at its op's record and holds the op's
/// parameters as data (Node::params). Built with the helpers of autograd/op.h.
struct OpDef {
    const char* name;
    /// The rule, written once in Tensor ops: dL/d(input i) from the inputs, the output, the
    /// parameters (ctx) and dL/d(output). With create_graph it runs recorded, so gradients can
    /// be differentiated again; otherwise under NoGradGuard.
    TensorGrads (*backward)(const OpContext& ctx, const Tensor& grad) = nullptr;
    /// Optional fast path on plain arrays, generated from the same rule (element-wise ops run
    /// their scalar rule in one fused loop). Used when no higher-order graph is asked for.
    Grads (*backward_fast)(const Node& self, const Array& grad) = nullptr;
    /// Bit i set: the rule reads input i's value, so an in-place change of that input after
    /// the op saved it is an error at backward (version counters).
    std::uint32_t saves = ~0u;
    /// Element-wise: the Jacobian is diagonal and local[i] is its entry, as the trace prints it.
    bool elementwise = false;
    /// Symbolic local derivative d(out)/d(input i) for the trace, with {a} {b} (inputs), {y}
    /// (output) and {c} (the op's scalar parameter); null: none.
    const char* local[2] = {nullptr, nullptr};
    /// Overrides `local` for ops whose derivative reads differently by shape (a dot product).
    const char* (*local_of)(const Node& self, std::size_t i) = nullptr;
    /// How the trace writes the op: " + " between two inputs, or "-" before one.
    const char* infix = nullptr;
    const char* prefix = nullptr;
    /// A folded scalar operand (`x * 2`, `1 - x`): its operator, and whether it stands left.
    /// The scalar itself is the node's parameter (a double).
    char scalar_op = 0;
    bool scalar_left = false;
    /// Frees heap-held parameters (set by the record helpers; null for inline ones).
    void (*destroy_params)(void* params) = nullptr;

    // ---- Capture and replay (autograd/capture.h); null: the op cannot be replayed ----
    /// Recomputes the op's value from its inputs' current values into `out`, which has the
    /// node's shape and dtype: the same arithmetic as the op's forward, without allocating.
    void (*forward_into)(const Node& self, Array& out) = nullptr;
    /// The op on float64 scalars, for the scalar tape: the value from in[0..n) and the op's
    /// scalar parameter c; and dL/d(in[i]) into gin[i] from g = dL/d(out).
    double (*scalar_forward)(const double* in, double c) = nullptr;
    void (*scalar_backward)(double g, const double* in, double out, double c,
                            double* gin) = nullptr;
};

/// The record of a leaf: no rule.
extern const OpDef kLeafOp;

class Node {
public:
    // ---- What a backward rule and the debugging tools read. ----
    const Array& value() const { return value_; }
    /// The cached value of input i.
    const Array& input(std::size_t i) const { return inputs()[i]->value_; }
    std::size_t num_inputs() const { return n_inputs_; }
    Node* const* inputs() const { return n_inputs_ <= 2 ? inline_inputs_ : heap_inputs_; }
    /// Whether input i needs a gradient (skip computing the others: they are not used).
    bool needs_grad(std::size_t i) const { return inputs()[i]->requires_grad(); }
    const OpDef& def() const { return *op_; }
    const char* op() const { return op_->name; }
    bool requires_grad() const { return flags_ & kRequiresGrad; }
    bool is_leaf() const { return op_ == &kLeafOp; }
    bool released() const { return flags_ & kReleased; }
    bool retains_grad() const { return flags_ & kRetainGrad; }
    /// A constant computed from a gradient taken without create_graph.
    bool from_backward() const { return flags_ & kFromBackward; }
    /// Has a name or creation site in the side table (autograd/node_info.h).
    bool annotated() const { return flags_ & kAnnotated; }
    void mark_annotated() { flags_ |= kAnnotated; }
    void mark_retain_grad() { flags_ |= kRetainGrad; }
    /// Whether an accumulated gradient is held (leaves; non-leaves that retain_grad).
    bool has_grad() const { return has_grad_; }
    /// The op's parameters, as the op stored them when recording.
    template <class P>
    const P& params() const {
        if constexpr (kInlineParams<P>) {
            return *std::launder(reinterpret_cast<const P*>(params_));
        } else {
            return *static_cast<const P*>(heap_params());
        }
    }
    /// The accumulated gradient's value (copy); undefined when none.
    Array grad_value() const;
    /// Times a leaf's value was changed in place (Tensor::mutable_value, set_data).
    std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }

    // ---- Engine and Tensor internals. ----
    enum Flag : std::uint8_t {
        kRequiresGrad = 1,
        kFromBackward = 2,  // a constant computed by a backward without create_graph
        kRetainGrad = 4,    // non-leaf keeps its gradient after backward
        kReleased = 8,      // backward ran without retain_graph: edges are gone
        kAnnotated = 16,    // has a name or creation site in the side table (autograd/debug/)
        kHeapParams = 32,   // params_ holds a pointer to heap parameters
        kGradNode = 64,     // grad_ holds a Node* (a gradient with a graph: create_graph)
    };
    template <class P>
    static constexpr bool kInlineParams =
        sizeof(P) <= 8 &&
        alignof(P) <= 8 && std::is_trivially_copyable_v<P>&& std::is_trivially_destructible_v<P>;

    /// A leaf node with refcount 1.
    static Node* make_leaf(Array value, bool requires_grad);
    /// Drops one reference; destroys nodes that reach zero without recursion.
    static void release(Node* node) {
        if (node == nullptr) return;
        // The backward's common case, inline: the last reference to a node whose edges are
        // already gone (see drop_ref in tensor.cpp for why the acquire load suffices).
        if (node->n_inputs_ == 0 && node->refs_.load(std::memory_order_acquire) == 1) {
            delete node;
            return;
        }
        release_slow(node);
    }
    void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
    bool unique() const { return refs_.load(std::memory_order_acquire) == 1; }

    /// Stores op parameters (before the node is shared).
    template <class P>
    void set_params(P&& p) {
        using D = std::decay_t<P>;
        if constexpr (kInlineParams<D>) {
            ::new (static_cast<void*>(params_)) D(std::forward<P>(p));
        } else {
            void* h = new D(std::forward<P>(p));
            std::memcpy(params_, &h, sizeof(h));
            flags_ |= kHeapParams;
        }
    }

    /// Node memory comes from a small per-thread cache of freed nodes (see tensor.cpp).
    static void* operator new(std::size_t size);
    static void operator delete(void* p) noexcept;

private:
    friend class Tensor;
    friend class Engine;
    friend class GradRef;
    friend class Capture;
    friend void lock_node(Node*);
    friend void unlock_node(Node*);
    friend Node* detail::record_node(const OpDef&, Array&&, const Tensor* const*, std::size_t,
                                     Tensor&);
    friend Tensor detail::from_backward(Array value);
    friend Tensor detail::record_scalar(const OpDef&, const Shape&, double, const Tensor&,
                                        const Tensor*, double);
    Node(const OpDef* op, std::uint8_t flags, Array&& value)
        : flags_(flags), op_(op), value_(std::move(value)), inline_inputs_{nullptr, nullptr} {}
    ~Node();
    static void release_slow(Node* node);
    const void* heap_params() const {
        void* h;
        std::memcpy(&h, params_, sizeof(h));
        return h;
    }
    // The saved versions of the inputs (what the version check compares).
    const std::uint32_t* saved_versions() const {
        return n_inputs_ <= 2 ? inline_versions_
                              : reinterpret_cast<const std::uint32_t*>(heap_inputs_ + n_inputs_);
    }
    std::uint32_t* saved_versions() {
        return n_inputs_ <= 2 ? inline_versions_
                              : reinterpret_cast<std::uint32_t*>(heap_inputs_ + n_inputs_);
    }
    void free_inputs() {
        if (n_inputs_ > 2) ::operator delete(heap_inputs_);
        n_inputs_ = 0;
        inline_inputs_[0] = inline_inputs_[1] = nullptr;
    }
    // Adds g into a one-float64 node's inline gradient bytes (the caller holds a leaf's lock):
    // the scalar paths of the engine and of the capture tape. A gradient holding a graph (an
    // earlier create_graph backward) takes the general route.
    void add_scalar_grad(double g) {
        if (!has_grad_) {
            std::memcpy(grad_.inline_, &g, sizeof g);
            has_grad_ = true;
        } else if (!(flags_ & kGradNode)) {
            double sum;
            std::memcpy(&sum, grad_.inline_, sizeof sum);
            sum += g;
            std::memcpy(grad_.inline_, &sum, sizeof sum);
        } else {
            add_scalar_grad_to_graph(g);
        }
    }
    void add_scalar_grad_to_graph(double g);
    void accumulate(Array&& g);   // Array mode; caller checked shape and dtype
    void accumulate(Tensor&& g);  // graph mode (records an add when one is held)
    Array take_grad();            // Array mode: the accumulator, emptied
    Tensor take_grad_tensor();    // graph mode: the accumulator as a Tensor, emptied
    Tensor grad_tensor() const;   // graph mode: a handle to the accumulator, kept
    void clear_grad();
    void add_to_grad(const Array& g);

    std::atomic<std::uint32_t> refs_{1};
    std::uint32_t n_inputs_ = 0;
    std::atomic<std::uint8_t> lock_{0};  // guards grad_ of leaves shared between threads
    std::uint8_t flags_ = 0;
    // grad_ holds data (accumulated, or accumulating during backward). A byte of its own: it is
    // written under lock_ for a shared leaf while other threads read flags_ (requires_grad).
    bool has_grad_ = false;
    // 1 + the deepest input's level (leaves: 0), set when recorded: every consumer's level is
    // higher, so the backward processes the deepest discovered node first (engine.cpp).
    std::uint32_t level_ = 0;
    std::atomic<std::uint32_t> version_{0};  // leaves: in-place changes so far
    std::uint64_t mark_ = 0;                 // epoch of the last backward that discovered it
    const OpDef* op_;
    Array value_;
    Storage grad_;  // interpreted with value_'s dtype and shape, or a Node* with kGradNode
    union {
        Node* inline_inputs_[2];
        Node** heap_inputs_;  // n pointers, then n saved versions (uint32)
    };
    std::uint32_t inline_versions_[2] = {0, 0};
    alignas(8) unsigned char params_[8] = {};
};

/// A leaf's gradient lock (a spin lock with yield): held while the engine adds into the leaf's
/// gradient, by GradRef, grad() and zero_grad().
inline void lock_node(Node* n) {
    while (n->lock_.exchange(1, std::memory_order_acquire) != 0) std::this_thread::yield();
}
inline void unlock_node(Node* n) { n->lock_.store(0, std::memory_order_release); }

/// Runs backward from `roots` with `seeds` (checked by the caller). See autograd/engine.cpp.
struct BackwardCall {
    std::vector<Tensor> roots, seeds;
    bool retain_graph = false, create_graph = false;
    /// grad(): capture the gradients of these tensors instead of accumulating into leaves.
    const std::vector<Tensor>* inputs = nullptr;
};
/// The captured gradient of each of call.inputs (undefined where none arrived).
std::vector<Tensor> run_backward(const BackwardCall& call);
/// The fast form of Tensor::backward(): one root, an Array seed, no capture, no graph.
void run_backward(Node* root, Array seed, bool retain_graph);

}  // namespace xgrad
