// The backward pass: one iterative walk, accumulation at junctions, unbroadcasting, release.
// The same walk runs in two modes: on plain Arrays (create_graph = false: every rule on its fast
// path, nothing recorded) and on Tensors (create_graph = true: every rule, accumulation and
// unbroadcast recorded as graph, so the gradients can be differentiated again).

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/kernels.h"
#include "autograd/observer.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

// Every backward gets a fresh epoch, so "discovered" is `mark_ == epoch` and the walk needs no
// hash set and no clearing pass. Unique across threads: two threads' walks never collide on an
// epoch (they may not share non-leaf nodes; leaves are never marked).
std::atomic<std::uint64_t> g_epoch{0};

// A discovered node waiting to be processed, by its key: its level (Node::level_) in the high
// half, the order of discovery in the low half.
struct Ready {
    std::uint64_t key;
    Node* node;
};
// Max-heap order: the deepest level first; within a level, the latest discovered first.
struct Before {
    bool operator()(const Ready& a, const Ready& b) const { return a.key < b.key; }
};

// The walk's heap, reused across backward calls on a thread: a backward through a small graph
// would otherwise spend more on growing a vector than on the graph. A nested backward (a custom
// op's backward that itself calls backward) gets a fresh one. Memory beyond kKeep entries is
// given back after each walk.
struct WalkBuffer {
    std::vector<Ready> nodes;
    bool busy = false;
};
thread_local WalkBuffer t_walk;
constexpr std::size_t kKeep = 1 << 16;

// The discovered nodes not yet processed, each with a reference owned by the walk: without
// retain_graph, a processed node drops its edges, and the edge through which an input was
// discovered is handed over to this heap instead. On an exception the remaining references are
// dropped here; nodes the user does not hold are then freed one at a time (Node::release is
// iterative).
class ReadyHeap {
public:
    ReadyHeap() : buffer_(t_walk.busy ? nullptr : &t_walk), nodes(buffer_ ? buffer_->nodes : own_) {
        if (buffer_) buffer_->busy = true;
    }
    ~ReadyHeap() {
        for (const Ready& r : nodes) Node::release(r.node);
        nodes.clear();
        if (nodes.capacity() > kKeep) std::vector<Ready>().swap(nodes);
        if (buffer_) buffer_->busy = false;
    }
    ReadyHeap(const ReadyHeap&) = delete;
    ReadyHeap& operator=(const ReadyHeap&) = delete;
    /// Adds n (its reference now owned here); the caller reserved room, so this cannot throw.
    void push(Node* n, std::uint32_t level) {
        nodes.push_back({(std::uint64_t{level} << 32) | seq_++, n});
        // A chain's heap holds one node at a time: no sifting then.
        if (nodes.size() > 1) std::push_heap(nodes.begin(), nodes.end(), Before{});
    }
    Node* top() const { return nodes.front().node; }
    void pop() {
        if (nodes.size() > 1) std::pop_heap(nodes.begin(), nodes.end(), Before{});
        nodes.pop_back();
    }

private:
    WalkBuffer* buffer_;
    std::vector<Ready> own_;
    std::uint32_t seq_ = 0;  // discoveries so far: a walk has fewer than 2^32 nodes

public:
    std::vector<Ready>& nodes;
};

[[noreturn]] void released_error(const Node* n) {
    throw std::logic_error(std::string("backward: the graph through '") + n->op() +
                           "' was already freed by an earlier backward (pass retain_graph=true "
                           "to the first backward to backpropagate twice)");
}

[[noreturn]] void fit_error(const Node& node, std::size_t i, const Shape& got, const Shape& want) {
    throw std::logic_error(std::string("backward: op '") + node.op() +
                           "' returned a gradient of shape " + got.str() + " for input " +
                           std::to_string(i) + " of shape " + want.str());
}

void check_dtype(const Node& node, std::size_t i, DType got) {
    const DType want = node.input(i).dtype();
    if (got != want) {
        throw std::logic_error(std::string("backward: op '") + node.op() + "' returned a " +
                               dtype_name(got) + " gradient for " + dtype_name(want) + " input " +
                               std::to_string(i));
    }
}

}  // namespace

// Friend of Node: the walk and the two gradient representations it runs on.
class Engine {
public:
    // Array mode: rules on their fast path, nothing recorded.
    struct ArrayMode {
        using G = Array;
        static constexpr bool kGraph = false;
        static Array take(Node* n) { return n->retains_grad() ? n->grad_value() : n->take_grad(); }
        static Grads rule(const Node& n, Array&& g) {
            // A borrowed g is the caller's seed (run_backward): fused rules only read it (they
            // take const Array&); a Tensor rule gets its own copy, as it could write to it.
            if (g.is_borrowed() && n.def().backward_fast == nullptr) g = Array(g);
            return run_fast(n, std::move(g));
        }
        static void fit(const Node& node, std::size_t i, Array& g) {
            check_dtype(node, i, g.dtype());
            const Shape& want = node.input(i).shape();
            if (g.shape() == want) return;
            Array out;
            if (!kernels::sum_to(g, want, out)) fit_error(node, i, g.shape(), want);
            g = std::move(out);
        }
        static void accumulate(Node* in, Array&& g) { in->accumulate(std::move(g)); }
        static const Array& value(const Array& g) { return g; }
        static Array copy(const Array& g) { return g; }
    };
    // Graph mode (create_graph): rules, accumulation and unbroadcast recorded.
    struct GraphMode {
        using G = Tensor;
        static constexpr bool kGraph = true;
        static Tensor take(Node* n) {
            return n->retains_grad() ? n->grad_tensor() : n->take_grad_tensor();
        }
        static TensorGrads rule(const Node& n, Tensor&& g) {
            const OpContext ctx(n);
            return n.def().backward(ctx, g);
        }
        static void fit(const Node& node, std::size_t i, Tensor& g) {
            check_dtype(node, i, g.dtype());
            const Shape& want = node.input(i).shape();
            if (g.shape() == want) return;
            if (!can_sum_to(g.shape(), want)) fit_error(node, i, g.shape(), want);
            g = sum_to(g, want);
        }
        static void accumulate(Node* in, Tensor&& g) { in->accumulate(std::move(g)); }
        static const Array& value(const Tensor& g) { return g.value(); }
        static Tensor copy(const Tensor& g) { return g; }
    };

    // A rule on plain arrays: the op's fused fast path, or its Tensor rule run unrecorded on
    // handles wrapping the arrays (no copies: inputs are the graph's own nodes).
    static Grads run_fast(const Node& n, Array&& g) {
        const OpDef& def = n.def();
        if (def.backward_fast != nullptr) return def.backward_fast(n, g);
        NoGradGuard no_grad;
        const OpContext ctx(n);
        TensorGrads tg = def.backward(ctx, Tensor(std::move(g)));
        Grads out = Grads::sized(tg.size());
        for (std::size_t i = 0; i < tg.size(); ++i) {
            if (tg[i].defined()) out[i] = take_value(std::move(tg[i]));
        }
        return out;
    }

    // The value of a tensor the caller owns the last handle to is moved out, else shared
    // (copy-on-write: the engine's in-place accumulation copies it first).
    static Array take_value(Tensor&& t) {
        Node* n = t.node();
        if (n->is_leaf() && n->unique()) return std::move(n->value_);
        return n->value_.share();
    }

    static bool can_sum_to(const Shape& from, const Shape& to) {
        if (to.size() > from.size()) return false;
        const std::size_t lead = from.size() - to.size();
        for (std::size_t d = 0; d < to.size(); ++d) {
            if (to[d] != from[d + lead] && to[d] != 1) return false;
        }
        return true;
    }

    static void check_versions(const Node& n) {
        const std::uint32_t saves = n.def().saves;
        if (saves == 0) return;
        Node* const* in = n.inputs();
        const std::uint32_t* saved = n.saved_versions();
        for (std::uint32_t i = 0; i < n.n_inputs_; ++i) {
            if (i < 32 && !(saves & (1u << i))) continue;
            if (in[i]->version() != saved[i]) version_error(n, i);
        }
    }
    [[noreturn, gnu::cold, gnu::noinline]] static void version_error(const Node& n,
                                                                     std::uint32_t i) {
        throw std::logic_error(std::string(n.op()) + ": input " + std::to_string(i) +
                               " was modified in place after it was saved (version " +
                               std::to_string(n.inputs()[i]->version()) + ", saved at version " +
                               std::to_string(n.saved_versions()[i]) +
                               "); compute the graph again after changing it");
    }

    // ---- The scalar path: one float64 element per value, no Arrays ----
    // A node whose op has scalar kernels (OpDef::scalar_backward, element-wise ops) and whose
    // output and inputs are each one float64: its rule runs on doubles read from the values'
    // inline bytes and its input gradients go straight into the inputs' inline gradient
    // bytes. The same expressions as the fused fast path (op.h: both call Op::d on doubles),
    // so the same bits; it skips the GradList, the Arrays, the dtype and shape fitting.
    static bool f64_one(const Node* n) {
        const Array& v = n->value_;
        return v.dtype() == DType::Float64 && v.numel() == 1;
    }
    static bool scalar_step_ok(const Node& n) {
        if (n.op_->scalar_backward == nullptr || (n.n_inputs_ != 1 && n.n_inputs_ != 2) ||
            (n.flags_ & Node::kGradNode) || !f64_one(&n)) {
            return false;
        }
        for (std::uint32_t i = 0; i < n.n_inputs_; ++i) {
            if (!f64_one(n.inline_inputs_[i])) return false;
        }
        return true;
    }
    static double first(const Array& a) { return detail::first_element<double>(a); }
    // n's rule on doubles; g = dL/dn. The inputs' gradients are delivered as deliver() would.
    template <class LeafLockT>
    static void scalar_step(Node* n, double g) {
        Node* const* inputs = n->inputs();
        const std::uint32_t k = n->n_inputs_;
        double in[2] = {first(inputs[0]->value_), k == 2 ? first(inputs[1]->value_) : 0.0};
        double gin[2] = {0.0, 0.0};
        const double c = k == 1 ? n->params<double>() : 0.0;
        n->op_->scalar_backward(g, in, first(n->value_), c, gin);
        for (std::uint32_t i = 0; i < k; ++i) {
            Node* x = inputs[i];
            if (!x->requires_grad()) continue;
            if (x->is_leaf()) {
                LeafLockT lock(x);
                x->add_scalar_grad(gin[i]);
            } else {
                x->add_scalar_grad(gin[i]);
            }
        }
    }
    // The gradient a one-float64 node holds, taken (kept when retained).
    static double take_scalar(Node* n) {
        double g;
        std::memcpy(&g, n->grad_.inline_, sizeof g);
        if (!n->retains_grad()) n->has_grad_ = false;  // inline: nothing to free
        return g;
    }

    // Where a captured gradient goes (grad()): index of `n` among the inputs, or -1.
    struct Capture {
        std::vector<std::pair<const Node*, std::size_t>> sorted;  // node -> input index
        long find(const Node* n) const {
            auto it = std::lower_bound(sorted.begin(), sorted.end(), n,
                                       [](const std::pair<const Node*, std::size_t>& e,
                                          const Node* k) { return e.first < k; });
            if (it == sorted.end() || it->first != n) return -1;
            return static_cast<long>(it->second);
        }
    };

    template <class M, class LeafLockT>
    static void deliver(Node* in, typename M::G&& g, const Capture* capture,
                        std::vector<typename M::G>* captured) {
        if (capture != nullptr) {
            const long k = capture->find(in);
            if (k >= 0) add_captured<M>((*captured)[static_cast<std::size_t>(k)], std::move(g));
            return;  // grad() leaves .grad() untouched
        }
        if (in->is_leaf()) {
            LeafLockT lock(in);
            M::accumulate(in, std::move(g));
        } else {
            M::accumulate(in, std::move(g));
        }
    }

    template <class M>
    static void add_captured(typename M::G& slot, typename M::G&& g) {
        if (!slot.defined()) {
            slot = std::move(g);
            return;
        }
        if constexpr (M::kGraph) {
            slot = add(slot, g);
        } else {
            kernels::add_into(slot, g);
        }
    }

    // Before n's rule delivers into its inputs: an input not yet discovered in this walk must
    // still have its graph, and a gradient it retained from an earlier backward is replaced,
    // not added to (no gradient of this walk can have reached it yet).
    static void discover(const Node* n, std::uint64_t epoch) {
        Node* const* inputs = n->inputs();
        for (std::uint32_t i = 0; i < n->n_inputs_; ++i) {
            Node* in = inputs[i];
            if (in->is_leaf() || in->mark_ == epoch) continue;
            if (in->released()) released_error(in);
            if (in->has_grad_) in->clear_grad();
        }
    }

    // Edges into each grad-requiring leaf from the non-leaf nodes reachable from the roots
    // (what on_leaf_ready counts down); depth-first with a visited set, for observers only.
    static void count_leaf_edges(Node* const* roots, std::size_t n_roots,
                                 std::unordered_map<Node*, std::uint32_t>& leaf_deps) {
        std::unordered_set<const Node*> seen;
        std::vector<const Node*> stack;
        for (std::size_t r = 0; r < n_roots; ++r) {
            if (!roots[r]->is_leaf() && seen.insert(roots[r]).second) stack.push_back(roots[r]);
        }
        while (!stack.empty()) {
            const Node* n = stack.back();
            stack.pop_back();
            Node* const* inputs = n->inputs();
            for (std::uint32_t i = 0; i < n->n_inputs_; ++i) {
                Node* in = inputs[i];
                if (in->is_leaf()) {
                    if (in->requires_grad()) ++leaf_deps[in];
                } else if (seen.insert(in).second) {
                    stack.push_back(in);
                }
            }
        }
    }

    // The walk. `roots` and `seeds` (checked by the caller) have n entries.
    template <class M, class LeafLockT>
    static void walk(Node* const* roots, typename M::G* seeds, std::size_t n_roots,
                     bool retain_graph, const Capture* capture,
                     std::vector<typename M::G>* captured) {
        using G = typename M::G;
        // Observers (autograd/observer.h): null unless registered in this thread; read once.
        ObserverList* const observers = ObserverList::current();
        const std::uint64_t epoch = g_epoch.fetch_add(1, std::memory_order_relaxed) + 1;

        // One pass, no dependency count: a node's level (Node::level_) exceeds its inputs', so
        // taking the deepest discovered node first processes every node after all of its
        // consumers in this graph (each has a higher level and, being reachable, a discovered
        // ancestor of higher level still ahead of it). Each node is touched once, when
        // processed; its inputs are discovered then.
        ReadyHeap ready;
        // Leaves' pending contributions, only when an observer asks for leaf events (a counting
        // pass of their own).
        std::unordered_map<Node*, std::uint32_t> leaf_deps;
        const bool leaf_events = observers != nullptr && observers->wants_leaf_events();
        if (leaf_events) count_leaf_edges(roots, n_roots, leaf_deps);
        for (std::size_t r = 0; r < n_roots; ++r) {
            Node* root = roots[r];
            if (root->is_leaf() || root->mark_ == epoch) continue;
            if (root->released()) released_error(root);
            root->mark_ = epoch;
            root->clear_grad();
        }

        if (observers != nullptr) {
            std::vector<const Array*> seed_values(n_roots);
            for (std::size_t r = 0; r < n_roots; ++r) seed_values[r] = &M::value(seeds[r]);
            observers->backward_begin(roots, seed_values.data(), n_roots, M::kGraph);
        }
        // Seeds: a leaf root takes its seed directly; the others start the walk once every
        // consumer among the roots has passed its gradient on.
        // One non-leaf root whose gradient is not retained: its seed goes to its rule as it is,
        // not through the node's gradient slot (which would copy a borrowed seed: 4 MB at 10^6
        // float32, a fifth of an element-wise op's backward).
        G root_seed;
        bool root_seeded = false;
        for (std::size_t r = 0; r < n_roots; ++r) {
            Node* root = roots[r];
            if (root->is_leaf()) {
                if (root->requires_grad()) {
                    deliver<M, LeafLockT>(root, std::move(seeds[r]), capture, captured);
                }
                continue;
            }
            if (n_roots == 1 && !root->retains_grad() && capture == nullptr) {
                root_seed = std::move(seeds[r]);
                root_seeded = true;
                continue;
            }
            M::accumulate(root, std::move(seeds[r]));
        }
        ready.nodes.reserve(n_roots);
        for (std::size_t r = 0; r < n_roots; ++r) {
            Node* root = roots[r];
            if (root->is_leaf() || std::any_of(ready.nodes.begin(), ready.nodes.end(),
                                               [root](const Ready& e) { return e.node == root; })) {
                continue;  // the same root twice: its seeds were added above
            }
            root->retain();  // every entry of `ready` owns a reference
            ready.push(root, root->level_);
        }
        // Process the deepest discovered node, each node once. Without observers and capture,
        // one-float64 nodes take the scalar path.
        [[maybe_unused]] const bool plain = observers == nullptr && capture == nullptr;
        while (!ready.nodes.empty()) {
            Node* n = ready.top();
            discover(n, epoch);
            const bool seeded = root_seeded && n == roots[0];
            bool scalar = false;
            if constexpr (!M::kGraph) {
                scalar = plain && (seeded || n->has_grad_) && scalar_step_ok(*n);
            }
            if (scalar) {
                if constexpr (!M::kGraph) {
                    check_versions(*n);
                    const double g = seeded ? first(root_seed) : take_scalar(n);
                    root_seeded = root_seeded && !seeded;
                    scalar_step<LeafLockT>(n, g);
                }
            } else if (seeded || n->has_grad_) {
                check_versions(*n);
                G g = seeded ? std::move(root_seed) : M::take(n);
                root_seeded = root_seeded && !seeded;
                if (capture != nullptr) {
                    const long k = capture->find(n);
                    if (k >= 0) {
                        add_captured<M>((*captured)[static_cast<std::size_t>(k)], M::copy(g));
                    }
                }
                G upstream;  // kept for the observers only
                if (observers != nullptr) upstream = M::copy(g);
                auto grads = M::rule(*n, std::move(g));
                if (grads.size() != n->n_inputs_) {
                    throw std::logic_error(std::string("backward: op '") + n->op() + "' returned " +
                                           std::to_string(grads.size()) + " gradients for " +
                                           std::to_string(n->n_inputs_) + " inputs");
                }
                if (observers != nullptr) {
                    std::vector<const Array*> values(grads.size(), nullptr);
                    for (std::size_t i = 0; i < grads.size(); ++i) {
                        if (grads[i].defined()) values[i] = &M::value(grads[i]);
                    }
                    observers->backward_node(*n, M::value(upstream), values.data(), values.size());
                }
                Node* const* inputs = n->inputs();
                for (std::size_t i = 0; i < grads.size(); ++i) {
                    Node* in = inputs[i];
                    if (!in->requires_grad() || !grads[i].defined()) continue;
                    M::fit(*n, i, grads[i]);
                    // Non-leaf inputs always accumulate (the walk goes on through them); a
                    // captured non-leaf is read when it is processed.
                    deliver<M, LeafLockT>(in, std::move(grads[i]),
                                          in->is_leaf() ? capture : nullptr, captured);
                }
            }
            // No throw past this point.
            if (ready.nodes.capacity() - ready.nodes.size() < n->n_inputs_) {
                ready.nodes.reserve(ready.nodes.size() + n->n_inputs_);
            }
            ready.pop();  // n's reference is now ours to drop, below
            Node* const* inputs = n->inputs();
            for (std::uint32_t i = 0; i < n->n_inputs_; ++i) {
                Node* in = inputs[i];
                if (leaf_events && in->is_leaf() && in->requires_grad()) {
                    auto it = leaf_deps.find(in);
                    if (it != leaf_deps.end() && --it->second == 0) observers->leaf_ready(in);
                }
                if (!in->is_leaf() && in->mark_ != epoch) {
                    in->mark_ = epoch;
                    // Without retain_graph, n's edge becomes the heap's reference.
                    if (retain_graph) in->retain();
                    ready.push(in, in->level_);
                } else if (!retain_graph) {
                    Node::release(in);  // a discovered input is held by the heap already
                }
            }
            if (!retain_graph) {
                n->free_inputs();
                n->flags_ |= Node::kReleased;
            }
            Node::release(n);
        }
        if (observers != nullptr) observers->backward_end();
    }
};

namespace {

// Leaves (parameters) may be shared by graphs that two threads backpropagate at once.
class LeafLock {
public:
    explicit LeafLock(Node* n) : n_(n) { lock_node(n); }
    ~LeafLock() { unlock_node(n_); }

private:
    Node* n_;
};

}  // namespace

void run_backward(Node* root, Array seed, bool retain_graph) {
    // Rules compute on plain arrays; nothing they do should be recorded.
    NoGradGuard no_grad;
    Engine::walk<Engine::ArrayMode, LeafLock>(&root, &seed, 1, retain_graph, nullptr, nullptr);
}

std::vector<Tensor> run_backward(const BackwardCall& call) {
    const std::size_t n = call.roots.size();
    std::vector<Node*> roots(n);
    for (std::size_t r = 0; r < n; ++r) roots[r] = call.roots[r].node();
    Engine::Capture capture;
    const Engine::Capture* cap = nullptr;
    if (call.inputs != nullptr) {
        for (std::size_t i = 0; i < call.inputs->size(); ++i) {
            capture.sorted.emplace_back((*call.inputs)[i].node(), i);
        }
        std::sort(capture.sorted.begin(), capture.sorted.end());
        // The same input twice: both entries get the gradient (the first index is captured
        // into, then copied to the repeats below).
        cap = &capture;
    }
    const std::size_t n_inputs = call.inputs ? call.inputs->size() : 0;
    std::vector<Tensor> out(n_inputs);
    if (call.create_graph) {
        // The backward itself is recorded: grad mode on, whatever the caller's.
        GradModeGuard grad_mode(true);
        std::vector<Tensor> seeds = call.seeds;
        std::vector<Tensor> captured(n_inputs);
        Engine::walk<Engine::GraphMode, LeafLock>(roots.data(), seeds.data(), n, call.retain_graph,
                                                  cap, &captured);
        out = std::move(captured);
    } else {
        NoGradGuard no_grad;
        std::vector<Array> seeds(n);
        for (std::size_t r = 0; r < n; ++r) seeds[r] = call.seeds[r].value();
        std::vector<Array> captured(n_inputs);
        Engine::walk<Engine::ArrayMode, LeafLock>(roots.data(), seeds.data(), n, call.retain_graph,
                                                  cap, &captured);
        for (std::size_t i = 0; i < n_inputs; ++i) {
            if (captured[i].defined()) out[i] = detail::from_backward(std::move(captured[i]));
        }
    }
    // Repeated inputs: Capture::find returns one index per node; the others copy it.
    for (std::size_t i = 0; i < n_inputs; ++i) {
        const long k = capture.find((*call.inputs)[i].node());
        if (k >= 0 && static_cast<std::size_t>(k) != i) out[i] = out[static_cast<std::size_t>(k)];
    }
    return out;
}

namespace detail {
Grads local_gradients(const Node& n, const Array& grad) { return Engine::run_fast(n, Array(grad)); }
}  // namespace detail

}  // namespace xgrad
