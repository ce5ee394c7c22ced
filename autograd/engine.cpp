// The backward pass: one iterative walk, accumulation at junctions, unbroadcasting, release.

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "autograd/debug.h"
#include "autograd/grad_mode.h"
#include "autograd/kernels.h"
#include "autograd/node.h"

namespace xgrad {

namespace {

// Every backward gets a fresh epoch, so "visited" is `mark_ == epoch` and the walk needs no
// hash set and no clearing pass. Unique across threads: two threads' walks never collide on an
// epoch (they may not share non-leaf nodes; leaves are never marked).
std::atomic<std::uint64_t> g_epoch{0};

// Leaves (parameters) may be shared by graphs that two threads backpropagate at once.
class LeafLock {
public:
    explicit LeafLock(Node* n) : n_(n) {
        while (n_->lock_.exchange(1, std::memory_order_acquire) != 0) std::this_thread::yield();
    }
    ~LeafLock() { n_->lock_.store(0, std::memory_order_release); }

private:
    Node* n_;
};

// The walk's stack, reused across backward calls on a thread: a backward through a small graph
// would otherwise spend more on growing a vector than on the graph. A nested backward (a custom
// op's backward that itself calls backward) gets a fresh one. Memory beyond kKeep entries is
// given back after each walk.
struct WalkBuffer {
    std::vector<Node*> nodes;
    bool busy = false;
};
thread_local WalkBuffer t_walk;
constexpr std::size_t kKeep = 1 << 16;

// The nodes ready to be processed (every consumer in this graph has passed its gradient on),
// each with a reference owned by the walk: without retain_graph, a processed node drops its
// edges, and the edge to an input that becomes ready is handed over to this stack instead.
// On an exception the remaining references are dropped here; nodes the user does not hold are
// then freed one at a time (Node::release is iterative).
class ReadyStack {
public:
    ReadyStack()
        : buffer_(t_walk.busy ? nullptr : &t_walk), nodes(buffer_ ? buffer_->nodes : own_) {
        if (buffer_) buffer_->busy = true;
    }
    ~ReadyStack() {
        for (Node* n : nodes) Node::release(n);
        nodes.clear();
        if (nodes.capacity() > kKeep) std::vector<Node*>().swap(nodes);
        if (buffer_) buffer_->busy = false;
    }
    ReadyStack(const ReadyStack&) = delete;
    ReadyStack& operator=(const ReadyStack&) = delete;

private:
    WalkBuffer* buffer_;
    std::vector<Node*> own_;

public:
    std::vector<Node*>& nodes;
};

[[noreturn]] void released_error(const Node* n) {
    throw std::logic_error(std::string("backward: the graph through '") + n->op() +
                           "' was already freed by an earlier backward (pass retain_graph=true "
                           "to the first backward to backpropagate twice)");
}

// Fits the gradient an op returned for input `i` to the input, in place: checks the dtype, and
// sums over the axes along which the input was broadcast.
void fit_gradient(const Node& node, std::size_t i, Array& g) {
    const Array& in = node.input(i);
    if (g.dtype() != in.dtype()) {
        throw std::logic_error(std::string("backward: op '") + node.op() + "' returned a " +
                               dtype_name(g.dtype()) + " gradient for " + dtype_name(in.dtype()) +
                               " input " + std::to_string(i));
    }
    if (g.shape() == in.shape()) return;
    Array out;
    if (!kernels::sum_to(g, in.shape(), out)) {
        throw std::logic_error(std::string("backward: op '") + node.op() +
                               "' returned a gradient of shape " + g.shape().str() + " for input " +
                               std::to_string(i) + " of shape " + in.shape().str());
    }
    g = std::move(out);
}

}  // namespace

void run_backward(Node* root, Array seed, bool retain_graph) {
    if (root->is_leaf()) {
        LeafLock lock(root);
        root->accumulate(std::move(seed));
        return;
    }
    if (root->flags_ & Node::kReleased) released_error(root);
    // Backward rules compute with plain arrays; nothing they do should be recorded.
    NoGradGuard no_grad;
    const std::uint64_t epoch = g_epoch.fetch_add(1, std::memory_order_relaxed) + 1;

    // Pass 1: count each non-leaf node's consumers within this graph (deps_), visiting every
    // node once (mark_ == epoch). A depth-first stack of nodes still to expand: for a chain it
    // stays a few entries deep, so the walk costs memory in the graph's width, not its size.
    ReadyStack ready;
    std::vector<Node*>& stack = ready.nodes;  // empty again when pass 1 ends: reused below
    root->mark_ = epoch;
    root->deps_ = 0;
    stack.push_back(root);
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        Node* const* inputs = n->inputs();
        for (std::uint32_t i = 0; i < n->n_inputs_; ++i) {
            Node* in = inputs[i];
            if (in->is_leaf()) continue;
            if (in->mark_ != epoch) {
                if (in->flags_ & Node::kReleased) {
                    stack.clear();  // holds no references yet
                    released_error(in);
                }
                in->mark_ = epoch;
                in->deps_ = 0;
                // A retained gradient from an earlier backward is replaced, not added to.
                in->clear_grad();
                stack.push_back(in);
            }
            ++in->deps_;
        }
    }

    // Trace/anomaly hooks (autograd/debug.h): null unless on in this thread; read once per
    // backward, so the node loop pays one predictable branch.
    detail::BackwardHooks* const hooks = detail::backward_hooks();
    if (hooks != nullptr) hooks->begin(*root, seed);
    // Pass 2: process a node once all its consumers have passed their gradients on (Kahn's
    // order, a reverse topological order); each node once.
    root->clear_grad();
    root->accumulate(std::move(seed));
    root->retain();  // every entry of `ready` owns a reference
    ready.nodes.push_back(root);
    while (!ready.nodes.empty()) {
        Node* n = ready.nodes.back();
        if (n->has_grad_) {
            const Array g = (n->flags_ & Node::kRetainGrad) ? n->grad_copy() : n->take_grad();
            Grads grads = n->backward_(*n, g);
            if (grads.size() != n->n_inputs_) {
                throw std::logic_error(std::string("backward: op '") + n->op() + "' returned " +
                                       std::to_string(grads.size()) + " gradients for " +
                                       std::to_string(n->n_inputs_) + " inputs");
            }
            if (hooks != nullptr) hooks->node(*n, g, grads);
            Node* const* inputs = n->inputs();
            for (std::size_t i = 0; i < grads.size(); ++i) {
                Node* in = inputs[i];
                if (!in->requires_grad() || !grads[i].defined()) continue;
                Array& gi = grads[i];
                fit_gradient(*n, i, gi);
                if (in->is_leaf()) {
                    LeafLock lock(in);
                    in->accumulate(std::move(gi));
                } else {
                    in->accumulate(std::move(gi));
                }
            }
        }
        ready.nodes.reserve(ready.nodes.size() + n->n_inputs_);  // no throw past this point
        ready.nodes.pop_back();  // n's reference is now ours to drop, below
        Node* const* inputs = n->inputs();
        for (std::uint32_t i = 0; i < n->n_inputs_; ++i) {
            Node* in = inputs[i];
            const bool now_ready = !in->is_leaf() && --in->deps_ == 0;
            if (now_ready) {
                // Without retain_graph, n's edge becomes the stack's reference.
                if (retain_graph) in->retain();
                ready.nodes.push_back(in);
            } else if (!retain_graph) {
                Node::release(in);  // a pending input is still held by a consumer to come
            }
        }
        if (!retain_graph) n->drop_edges();
        Node::release(n);
    }
    if (hooks != nullptr) hooks->end();
}

}  // namespace xgrad
