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

// Holds a reference to every node of the walk until it has been processed, so dropping the
// edges of processed nodes (no retain_graph) cannot free a node that is still to come.
// Nodes the user does not hold are freed one at a time here (their edges are already gone
// without retain_graph), never recursively.
struct OrderGuard {
    std::vector<Node*> order;
    ~OrderGuard() {
        for (Node* n : order) Node::release(n);
    }
};

[[noreturn]] void released_error(const Node* n) {
    throw std::logic_error(std::string("backward: the graph through '") + n->op() +
                           "' was already freed by an earlier backward (pass retain_graph=true "
                           "to the first backward to backpropagate twice)");
}

// The gradient an op returned for input `i`, fitted to the input: same dtype, and summed over
// the axes along which the input was broadcast.
Array fit_gradient(const Node& node, std::size_t i, Array g) {
    const Array& in = node.input(i);
    if (g.dtype() != in.dtype()) {
        throw std::logic_error(std::string("backward: op '") + node.op() + "' returned a " +
                               dtype_name(g.dtype()) + " gradient for " + dtype_name(in.dtype()) +
                               " input " + std::to_string(i));
    }
    if (g.shape() == in.shape()) return g;
    Array out;
    if (!kernels::sum_to(g, in.shape(), out)) {
        throw std::logic_error(std::string("backward: op '") + node.op() +
                               "' returned a gradient of shape " + g.shape().str() + " for input " +
                               std::to_string(i) + " of shape " + in.shape().str());
    }
    return out;
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

    // Iterative DFS over non-leaf nodes: post-order, so the reverse is a topological order.
    OrderGuard guard;
    std::vector<Node*>& order = guard.order;
    struct Frame {
        Node* node;
        std::uint32_t next;
    };
    std::vector<Frame> stack;
    root->mark_ = epoch;
    root->retain();
    stack.push_back({root, 0});
    while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next < top.node->n_inputs_) {
            Node* in = top.node->inputs()[top.next++];
            if (in->is_leaf() || in->mark_ == epoch) continue;
            if (in->flags_ & Node::kReleased) {
                // Keep the guard consistent: nodes still on the stack hold a reference too.
                for (const Frame& f : stack) order.push_back(f.node);
                released_error(in);
            }
            in->mark_ = epoch;
            in->retain();
            // A retained gradient from an earlier backward is replaced, not added to.
            in->clear_grad();
            stack.push_back({in, 0});
        } else {
            order.push_back(top.node);
            stack.pop_back();
        }
    }

    // Trace/anomaly hooks (autograd/debug.h): null unless on in this thread; read once per
    // backward, so the node loop pays one predictable branch.
    detail::BackwardHooks* const hooks = detail::backward_hooks();
    if (hooks != nullptr) hooks->begin(*root, seed);
    root->clear_grad();
    root->accumulate(std::move(seed));
    for (std::size_t k = order.size(); k-- > 0;) {
        Node* n = order[k];
        if (n->flags_ & Node::kHasGrad) {
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
                Array gi = fit_gradient(*n, i, std::move(grads[i]));
                if (in->is_leaf()) {
                    LeafLock lock(in);
                    in->accumulate(std::move(gi));
                } else {
                    in->accumulate(std::move(gi));
                }
            }
        }
        if (!retain_graph) {
            n->release_edges();
            n->flags_ |= Node::kReleased;
        }
    }
    if (hooks != nullptr) hooks->end();
}

}  // namespace xgrad
