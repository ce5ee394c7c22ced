#pragma once
// The engine's one observer hook. The debugging tools (autograd/debug/: the backward trace,
// anomaly mode) and distributed training (gradient-ready events) register a GraphObserver for
// their thread; the engine and `record` call whatever is registered and know nothing else of
// them. With nothing registered, an op pays one thread-local test and a backward another.

#include <atomic>
#include <cstddef>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad {

struct OpDef;

/// Watches this thread's ops and backward passes. Every method has an empty default; events
/// arrive on the thread that runs the op or the backward. Example:
///   struct Counter : GraphObserver {
///       int nodes = 0;
///       void on_backward_node(const Node&, const Array&, const Array* const*,
///                             std::size_t) override { ++nodes; }
///   } counter;
///   { ObserverGuard watch(counter); loss.backward(); }
class GraphObserver {
public:
    virtual ~GraphObserver() = default;
    /// An op computed `value` from `inputs`, before anything is recorded (grad mode on or off).
    virtual void on_forward(const OpDef& op, const Array& value, const Tensor* const* inputs,
                            std::size_t n) {
        (void)op, (void)value, (void)inputs, (void)n;
    }
    /// A node was recorded (its parameters are set).
    virtual void on_record(Node& node) { (void)node; }
    /// A backward starts from `roots` with `seeds` (create_graph: the gradients are recorded).
    virtual void on_backward_begin(Node* const* roots, const Array* const* seeds, std::size_t n,
                                   bool create_graph) {
        (void)roots, (void)seeds, (void)n, (void)create_graph;
    }
    /// `node`'s rule turned dL/d(node) = `grad` into one gradient per input (`grads[i]` null:
    /// none), before the engine sums broadcast axes back to the inputs' shapes.
    virtual void on_backward_node(const Node& node, const Array& grad, const Array* const* grads,
                                  std::size_t n) {
        (void)node, (void)grad, (void)grads, (void)n;
    }
    /// Whether on_leaf_ready is wanted: it costs the walk one count per edge into a leaf.
    virtual bool wants_leaf_events() const { return false; }
    /// Every contribution of this backward to `leaf`'s gradient has been accumulated (its
    /// grad() is final for this backward): the hook data-parallel training overlaps with.
    virtual void on_leaf_ready(const Tensor& leaf) { (void)leaf; }
    virtual void on_backward_end() {}
};

/// RAII: registers `observer` for this thread while alive. Guards nest; every registered
/// observer gets every event, oldest first.
class ObserverGuard {
public:
    explicit ObserverGuard(GraphObserver& observer);
    ~ObserverGuard();
    ObserverGuard(const ObserverGuard&) = delete;
    ObserverGuard& operator=(const ObserverGuard&) = delete;

private:
    GraphObserver* observer_;
};

/// Internal: this thread's registered observers, as the engine and `record` call them.
class ObserverList {
public:
    /// This thread's list, or null when nothing is registered. Inline and cheap when no thread
    /// has an observer (a load of one global count): every op and every backward step asks.
    static ObserverList* current() {
        return g_threads_observed_.load(std::memory_order_relaxed) == 0 ? nullptr : lookup();
    }
    bool wants_leaf_events() const;
    void forward(const OpDef& op, const Array& value, const Tensor* const* inputs, std::size_t n);
    void recorded(Node* node);
    void backward_begin(Node* const* roots, const Array* const* seeds, std::size_t n,
                        bool create_graph);
    void backward_node(const Node& node, const Array& grad, const Array* const* grads,
                       std::size_t n);
    void leaf_ready(Node* leaf);
    void backward_end();

    std::vector<GraphObserver*> list;

private:
    friend class ObserverGuard;
    static ObserverList* lookup();  // the thread-local list, or null when empty
    // Threads whose list is not empty. Relaxed is enough: a thread registers its own observers
    // before its own ops, so it always sees its own increment; other threads' counts only
    // decide whether they look up their own (empty) list.
    static std::atomic<int> g_threads_observed_;
};

}  // namespace xgrad
