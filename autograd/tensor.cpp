#include "autograd/tensor.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>

#include "autograd/grad_mode.h"
#include "autograd/kernels.h"
#include "autograd/node_info.h"
#include "autograd/observer.h"
#include "autograd/op.h"

namespace xgrad {

// ---------------------------------------------------------------------------------------------
// Node

namespace {

// A per-thread cache of freed Node blocks. Building and freeing graphs is mostly Node
// allocations, and a backward frees nodes in bursts: glibc's tcache keeps only 7 blocks per
// size, so most frees and the next step's allocations took malloc's slow path (~100
// instructions each way). Capped, so a large graph's memory still goes back to malloc. A block
// freed by another thread than the one that allocated it simply joins that thread's cache.
// Off under AddressSanitizer, which must see every node freed to catch a use after free.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kNodeCacheMax = 0;
#else
// 16 MiB of nodes per thread (~120K nodes): enough that a step of a 10^5-node graph reuses the
// previous step's nodes instead of going through malloc and free for each (with 4096 nodes it
// spent a quarter of its instructions there); beyond it, memory goes back to malloc.
constexpr std::size_t kNodeCacheMax = (std::size_t{16} << 20) / sizeof(Node);
#endif

struct FreeBlock {
    FreeBlock* next;
};
// Trivially destructible, so a node freed during thread or program exit, after the drain
// below ran, still finds valid storage (and then bypasses the cache).
struct NodeCache {
    FreeBlock* head = nullptr;
    std::size_t count = 0;
    bool registered = false;  // the drain at thread exit is set up
    bool closed = false;      // the thread is exiting: free straight to malloc
};
thread_local NodeCache t_node_cache;

struct NodeCacheDrain {
    ~NodeCacheDrain() {
        NodeCache& c = t_node_cache;
        c.closed = true;
        while (c.head != nullptr) {
            FreeBlock* b = c.head;
            c.head = b->next;
            ::operator delete(b);
        }
        c.count = 0;
    }
};

[[gnu::noinline]] void register_node_cache_drain() {
    thread_local NodeCacheDrain drain;
    (void)drain;
    t_node_cache.registered = true;
}

}  // namespace

void* Node::operator new(std::size_t size) {
    NodeCache& c = t_node_cache;
    if (c.head != nullptr) {
        FreeBlock* b = c.head;
        c.head = b->next;
        --c.count;
        return b;
    }
    return ::operator new(size);
}

void Node::operator delete(void* p) noexcept {
    NodeCache& c = t_node_cache;
    if (c.count < kNodeCacheMax && !c.closed) {
        if (!c.registered) register_node_cache_drain();
        FreeBlock* b = static_cast<FreeBlock*>(p);
        b->next = c.head;
        c.head = b;
        ++c.count;
        return;
    }
    ::operator delete(p);
}

const OpDef kLeafOp = [] {
    OpDef d{};
    d.name = "leaf";
    d.saves = 0;
    return d;
}();

Node* Node::make_leaf(Array value, bool requires_grad) {
    return new Node(&kLeafOp, requires_grad ? kRequiresGrad : 0, std::move(value));
}

Node::~Node() {
    if (has_grad_) {
        if (flags_ & kGradNode) {
            release(static_cast<Node*>(grad_.heap_));
        } else {
            grad_.release(value_.nbytes());
        }
    }
    if (flags_ & kAnnotated) detail::forget_node_info(this);  // name or site (node_info.h)
    if (flags_ & kHeapParams) op_->destroy_params(const_cast<void*>(heap_params()));
    if (n_inputs_ > 2) ::operator delete(heap_inputs_);
}

namespace {
// Drops one reference; true when it was the last. A count of 1 read with acquire means the
// caller holds the only reference, so no other thread can add or drop one: the locked
// read-modify-write (~20 cycles, most of a small node's release) is skipped for the nodes only
// one owner sees, which in a backward without retain_graph is nearly every node.
inline bool drop_ref(std::atomic<std::uint32_t>& refs) {
    if (refs.load(std::memory_order_acquire) == 1) return true;
    return refs.fetch_sub(1, std::memory_order_acq_rel) == 1;
}
}  // namespace

void Node::release_slow(Node* node) {
    if (!drop_ref(node->refs_)) return;
    // NOTE: iterative, not recursive: a 10^6-node chain would overflow the stack if each
    // destructor released its inputs (PyTorch fixed the same bug the same way).
    std::vector<Node*> dying;
    Node* current = node;
    for (;;) {
        Node* const* in = current->inputs();
        for (std::uint32_t i = 0; i < current->n_inputs_; ++i) {
            if (drop_ref(in[i]->refs_)) dying.push_back(in[i]);
        }
        delete current;
        if (dying.empty()) break;
        current = dying.back();
        dying.pop_back();
    }
}

void Node::add_to_grad(const Array& g) {
    const std::size_t n = value_.numel();
    // The gradient may be shared (grad_value(), a retained gradient reshaped into this one):
    // the other holders keep their values.
    grad_.make_unique(value_.nbytes());
    dispatch(value_.dtype(), [&](auto t) {
        using T = decltype(t);
        T* dst = static_cast<T*>(grad_.get(n * sizeof(T)));
        const T* src = g.data<T>();
        for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
    });
}

void Node::add_scalar_grad_to_graph(double g) {
    accumulate(detail::one_element_array<double>(value_.shape(), g));
}

void Node::accumulate(Array&& g) {
    if (!has_grad_) {
        grad_ = g.release_storage();
        has_grad_ = true;
    } else if (flags_ & kGradNode) {
        // A gradient with a graph plus a plain one: the plain sum (the graph is dropped).
        Array sum = grad_value();
        kernels::add_into(sum, g);
        release(static_cast<Node*>(grad_.heap_));
        flags_ &= static_cast<std::uint8_t>(~kGradNode);
        grad_ = sum.release_storage();
    } else {
        add_to_grad(g);
    }
}

void Node::accumulate(Tensor&& g) {
    Tensor sum;
    if (!has_grad_) {
        sum = std::move(g);
    } else {
        sum = add(take_grad_tensor(), g);  // recorded: the sum is differentiable too
    }
    Node* n = sum.node();
    n->retain();
    grad_.heap_ = n;
    flags_ |= kGradNode;
    has_grad_ = true;
}

Array Node::take_grad() {
    has_grad_ = false;
    Storage s = grad_;
    grad_.heap_ = nullptr;
    return Array::adopt(value_.dtype(), value_.shape(), s);
}

Tensor Node::grad_tensor() const {
    if (flags_ & kGradNode) {
        Node* n = static_cast<Node*>(grad_.heap_);
        n->retain();
        return Tensor::adopt(n);
    }
    return Tensor(grad_value());
}

Tensor Node::take_grad_tensor() {
    if (flags_ & kGradNode) {
        Node* n = static_cast<Node*>(grad_.heap_);
        flags_ &= static_cast<std::uint8_t>(~kGradNode);
        has_grad_ = false;
        grad_.heap_ = nullptr;
        return Tensor::adopt(n);  // the accumulator's reference moves to the handle
    }
    return Tensor(take_grad());
}

void Node::clear_grad() {
    if (has_grad_) {
        if (flags_ & kGradNode) {
            Node* n = static_cast<Node*>(grad_.heap_);
            flags_ &= static_cast<std::uint8_t>(~kGradNode);
            grad_.heap_ = nullptr;
            has_grad_ = false;
            release(n);
            return;
        }
        grad_.release(value_.nbytes());
    }
    has_grad_ = false;
}

Array Node::grad_value() const {
    if (!has_grad_) return Array();
    if (flags_ & kGradNode) return static_cast<const Node*>(grad_.heap_)->value_.share();
    // Shared, not copied: whoever writes next (add_to_grad, GradRef, the holder) copies.
    grad_.retain(value_.nbytes());
    return Array::adopt(value_.dtype(), value_.shape(), grad_);
}

namespace {
struct NodeLock {
    explicit NodeLock(Node* n) : n_(n) { lock_node(n); }
    ~NodeLock() { unlock_node(n_); }
    NodeLock(const NodeLock&) = delete;
    NodeLock& operator=(const NodeLock&) = delete;
    Node* n_;
};
}  // namespace

namespace detail {

void heap_params_error(const OpDef& def, std::size_t bytes) {
    throw std::logic_error(std::string("record: op '") + (def.name ? def.name : "?") + "' has " +
                           std::to_string(bytes) +
                           "-byte parameters, stored on the heap, and no OpDef::destroy_params to "
                           "free them (set d.destroy_params = destroy_params_of<P>())");
}

Node* record_node(const OpDef& def, Array&& value, const Tensor* const* inputs, std::size_t n,
                  Tensor& out) {
    bool any = false, from_backward = false;
    for (std::size_t i = 0; i < n; ++i) {
        const Node* in = inputs[i]->node();
        if (in == nullptr) {
            throw std::invalid_argument(std::string(def.name) + ": input " + std::to_string(i) +
                                        " is an undefined tensor");
        }
        any = any || in->requires_grad();
        from_backward = from_backward || (in->flags_ & Node::kFromBackward);
    }
    // Observers (autograd/observer.h): a thread-local test when none is registered.
    if (ObserverList* obs = ObserverList::current()) obs->forward(def, value, inputs, n);
    // Constants cost no graph: without a grad-requiring input, the result is a plain leaf.
    if (!any || !grad_enabled()) {
        Node* leaf = Node::make_leaf(std::move(value), false);
        if (from_backward) leaf->flags_ |= Node::kFromBackward;
        out = Tensor::adopt(leaf);
        return nullptr;
    }
    // n > 2 inputs: one block of n pointers, then their n saved versions.
    void* heap = n > 2 ? ::operator new(n*(sizeof(Node*) + sizeof(std::uint32_t))) : nullptr;
    Node* node = new Node(&def, Node::kRequiresGrad, std::move(value));
    node->n_inputs_ = static_cast<std::uint32_t>(n);
    Node** slots = node->inline_inputs_;
    if (n > 2) slots = node->heap_inputs_ = static_cast<Node**>(heap);
    std::uint32_t* versions = node->saved_versions();
    std::uint32_t level = 0;
    for (std::size_t i = 0; i < n; ++i) {
        slots[i] = inputs[i]->node();
        slots[i]->retain();
        versions[i] = slots[i]->version();
        level = std::max(level, slots[i]->level_);
    }
    node->level_ = level + 1;
    out = Tensor::adopt(node);
    return node;
}

Tensor record_scalar(const OpDef& def, const Shape& shape, double v, const Tensor& a,
                     const Tensor* b, double c) {
    Node* const x = a.node();
    Node* const y = b != nullptr ? b->node() : nullptr;
    const std::uint32_t k = y != nullptr ? 2 : 1;
    const bool any = x->requires_grad() || (y != nullptr && y->requires_grad());
    if (!any || !grad_enabled() || ObserverList::current() != nullptr) {
        // Constants, and the observers' forward events: the general route.
        const Tensor* inputs[2] = {&a, b};
        Tensor out;
        Node* n = record_node(def, one_element_array<double>(shape, v), inputs, k, out);
        if (n != nullptr) {
            if (y == nullptr) n->set_params(c);
            notify_recorded(n);
        }
        return out;
    }
    // As record_node, for one or two inputs, with no observer to call.
    Node* node = new Node(&def, Node::kRequiresGrad, one_element_array<double>(shape, v));
    if (y == nullptr) node->set_params(c);
    node->n_inputs_ = k;
    node->inline_inputs_[0] = x;
    x->retain();
    node->inline_versions_[0] = x->version();
    std::uint32_t level = x->level_;
    if (y != nullptr) {
        node->inline_inputs_[1] = y;
        y->retain();
        node->inline_versions_[1] = y->version();
        level = std::max(level, y->level_);
    }
    node->level_ = level + 1;
    return Tensor::adopt(node);
}

void notify_recorded(Node* node) {
    if (ObserverList* obs = ObserverList::current()) obs->recorded(node);
}

Tensor from_backward(Array value) {
    Node* n = Node::make_leaf(std::move(value), false);
    n->flags_ |= Node::kFromBackward;
    return Tensor::adopt(n);
}

}  // namespace detail

OpContext::OpContext(const Node& self)
    : self_(self), inputs_(TensorGrads::sized(self.num_inputs())) {
    Node* const* in = self.inputs();
    for (std::size_t i = 0; i < self.num_inputs(); ++i) {
        in[i]->retain();
        inputs_[i] = Tensor::adopt(in[i]);
    }
    Node* me = const_cast<Node*>(&self);
    me->retain();
    output_ = Tensor::adopt(me);
}

// ---------------------------------------------------------------------------------------------
// Tensor

namespace {
Node* checked(Node* n, const char* what) {
    if (n == nullptr) throw std::logic_error(std::string(what) + ": undefined tensor");
    return n;
}
}  // namespace

namespace {
// Only floating-point tensors can require grad (an integer has no derivative), as PyTorch.
void check_grad_dtype(const char* what, const Array& v) {
    if (v.defined() && !is_floating_point(v.dtype())) {
        throw std::invalid_argument(std::string(what) +
                                    ": only floating-point tensors can require grad (got " +
                                    dtype_name(v.dtype()) + " " + v.shape().str() + ")");
    }
}
const Array& grad_checked(const Array& v, bool requires_grad) {
    if (requires_grad) check_grad_dtype("requires_grad", v);
    return v;
}
}  // namespace

Tensor::Tensor(Array value, bool requires_grad)
    : node_(
          (grad_checked(value, requires_grad), Node::make_leaf(std::move(value), requires_grad))) {}

Tensor::Tensor(const Tensor& other) noexcept : node_(other.node_) {
    if (node_) node_->retain();
}

Tensor& Tensor::operator=(const Tensor& other) noexcept {
    if (other.node_) other.node_->retain();
    Node::release(node_);
    node_ = other.node_;
    return *this;
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
    if (this != &other) {
        Node::release(node_);
        node_ = other.node_;
        other.node_ = nullptr;
    }
    return *this;
}

Tensor::~Tensor() { Node::release(node_); }

const Array& Tensor::value() const { return checked(node_, "value")->value_; }

MutableValue Tensor::mutable_value() {
    Node* n = checked(node_, "mutable_value");
    if (!n->is_leaf()) {
        throw std::logic_error(
            std::string("mutable_value: only a leaf's value can be changed (got ") +
            "the output of '" + n->op() + "')");
    }
    // A plain load and store, not a locked read-modify-write: two threads changing one value at
    // once race on the value itself anyway (README, "Threads").
    n->version_.store(n->version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return MutableValue(&n->value_);
}

Tensor& Tensor::set_data(Array value) {
    Node* n = checked(node_, "set_data");
    if (!n->is_leaf()) {
        throw std::logic_error(std::string("set_data: only a leaf's value can be replaced (got ") +
                               "the output of '" + n->op() + "')");
    }
    if (!value.defined()) throw std::invalid_argument("set_data: undefined array");
    if (n->requires_grad()) check_grad_dtype("set_data", value);
    NodeLock lock(n);
    n->clear_grad();  // laid out like the old value
    n->value_ = std::move(value);
    n->version_.fetch_add(1, std::memory_order_relaxed);
    return *this;
}

std::uint32_t Tensor::version() const { return checked(node_, "version")->version(); }

MutableValue& MutableValue::operator=(const Array& other) {
    if (!other.defined() || other.shape() != a_->shape() || other.dtype() != a_->dtype()) {
        throw std::invalid_argument(
            std::string("mutable_value: a replacement must keep shape and dtype (got ") +
            (other.defined() ? other.shape().str() + " " + dtype_name(other.dtype())
                             : std::string("an undefined array")) +
            ", expected " + a_->shape().str() + " " + dtype_name(a_->dtype()) +
            "; use set_data() to change them)");
    }
    if (&other != a_) std::memcpy(a_->raw(), other.raw(), other.nbytes());
    return *this;
}

GradRef::GradRef(Node* node) : node_(node) {
    lock_node(node_);
    if (node_->has_grad_ && (node_->flags_ & Node::kGradNode)) {
        // In place means plain numbers: the graph a create_graph gradient carries is dropped.
        Array plain = node_->grad_value();
        node_->clear_grad();
        node_->grad_ = plain.release_storage();
        node_->has_grad_ = true;
    }
}
GradRef::~GradRef() {
    if (node_ != nullptr) unlock_node(node_);
}
bool GradRef::defined() const { return node_->has_grad_; }
const Shape& GradRef::shape() const { return node_->value_.shape(); }
DType GradRef::dtype() const { return node_->value_.dtype(); }
std::size_t GradRef::numel() const { return node_->value_.numel(); }
void GradRef::reset() { node_->clear_grad(); }
void* GradRef::raw(std::size_t size) {
    if (!node_->has_grad_) return nullptr;
    if (size != itemsize(node_->value_.dtype())) {
        throw std::logic_error(std::string("mutable_grad: element type mismatch (got a ") +
                               std::to_string(size) + "-byte request, gradient is " +
                               dtype_name(node_->value_.dtype()) + ")");
    }
    const std::size_t nbytes = node_->value_.nbytes();
    node_->grad_.make_unique(nbytes);  // in place: not into grad()'s copies
    return node_->grad_.get(nbytes);
}

bool Tensor::requires_grad() const { return checked(node_, "requires_grad")->requires_grad(); }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
    Node* n = checked(node_, "set_requires_grad");
    if (!n->is_leaf()) {
        throw std::logic_error(std::string("set_requires_grad: only a leaf can be changed (got ") +
                               "the output of '" + n->op() + "'; use detach() first)");
    }
    if (requires_grad) {
        check_grad_dtype("set_requires_grad", n->value_);
        n->flags_ |= Node::kRequiresGrad;
    } else {
        n->flags_ &= static_cast<std::uint8_t>(~Node::kRequiresGrad);
    }
    return *this;
}

bool Tensor::is_leaf() const { return checked(node_, "is_leaf")->is_leaf(); }
const char* Tensor::op() const { return checked(node_, "op")->op(); }

Tensor Tensor::grad() const {
    Node* n = checked(node_, "grad");
    if (!n->requires_grad()) {
        throw std::logic_error("grad: tensor of shape " + n->value_.shape().str() +
                               " does not require grad (did you forget requires_grad?)");
    }
    if (!n->is_leaf() && !n->retains_grad()) {
        throw std::logic_error(std::string("grad: the gradient of non-leaf '") + n->op() +
                               "' is not kept (call retain_grad() before backward)");
    }
    NodeLock lock(n);
    if (!n->has_grad_) return Tensor(Array(n->value_.dtype(), n->value_.shape()));
    if (n->flags_ & Node::kGradNode) return n->grad_tensor();
    return detail::from_backward(n->grad_value());
}

GradRef Tensor::mutable_grad() {
    Node* n = checked(node_, "mutable_grad");
    if (!n->requires_grad()) {
        throw std::logic_error("mutable_grad: tensor of shape " + n->value_.shape().str() +
                               " does not require grad");
    }
    return GradRef(n);
}

bool Tensor::has_grad() const {
    Node* n = checked(node_, "has_grad");
    NodeLock lock(n);
    return n->has_grad_;
}
void Tensor::zero_grad() {
    Node* n = checked(node_, "zero_grad");
    NodeLock lock(n);
    n->clear_grad();
}
void Tensor::retain_grad() { checked(node_, "retain_grad")->flags_ |= Node::kRetainGrad; }
Tensor Tensor::detach() const { return Tensor(value()); }

namespace detail {
[[noreturn]] void no_graph_error(const char* what, const Node* n) {
    const Shape& shape = n->value().shape();
    if (n->from_backward()) {
        throw std::logic_error(std::string(what) + ": tensor of shape " + shape.str() +
                               " was computed from a gradient taken with create_graph=false, "
                               "so it has no graph to differentiate (pass create_graph=true to "
                               "the backward or grad call that computed the gradient)");
    }
    throw std::logic_error(std::string(what) + ": tensor of shape " + shape.str() +
                           " does not require grad (no input of its graph requires grad; "
                           "did you forget requires_grad?)");
}
}  // namespace detail

void Tensor::backward() const { backward(false); }

void Tensor::backward(bool retain_graph) const {
    Node* n = checked(node_, "backward");
    if (n->value_.numel() != 1) {
        throw std::invalid_argument(
            "backward: a seed is needed for an output with more than one element (got shape " +
            n->value_.shape().str() + "); call backward(seed) with a seed of that shape");
    }
    if (!n->requires_grad()) detail::no_graph_error("backward", n);
    // The seed goes straight to the engine: no seed tensor (a node) for the common case.
    run_backward(n, Array::full(n->value_.dtype(), n->value_.shape(), 1.0), retain_graph);
}

void Tensor::backward(const Tensor& seed, std::optional<bool> retain_graph,
                      bool create_graph) const {
    Node* n = checked(node_, "backward");
    if (!seed.defined() && !create_graph) {
        backward(retain_graph.value_or(false));
        return;
    }
    if (!n->requires_grad()) detail::no_graph_error("backward", n);
    Tensor s = seed;
    if (!s.defined()) {
        if (n->value_.numel() != 1) {
            throw std::invalid_argument(
                "backward: a seed is needed for an output with more than one element (got "
                "shape " +
                n->value_.shape().str() + ")");
        }
        s = Tensor(Array::full(n->value_.dtype(), n->value_.shape(), 1.0));
    }
    if (s.shape() != n->value_.shape()) {
        throw std::invalid_argument("backward: seed shape differs from the output's (got " +
                                    s.shape().str() + ", expected " + n->value_.shape().str() +
                                    ")");
    }
    if (s.dtype() != n->value_.dtype()) {
        throw std::invalid_argument(std::string("backward: seed dtype differs from the output's "
                                                "(got ") +
                                    dtype_name(s.dtype()) + ", expected " +
                                    dtype_name(n->value_.dtype()) + ")");
    }
    const bool retain = retain_graph.value_or(create_graph);
    if (!create_graph) {
        // Borrowed, not copied: the engine hands it to the root's rule, which only reads it.
        const Array& sv = s.value();
        run_backward(n, Array::from_blob(const_cast<void*>(sv.raw()), sv.shape(), sv.dtype()),
                     retain);
        return;
    }
    BackwardCall call;
    call.roots = {*this};
    call.seeds = {s};
    call.retain_graph = retain;
    call.create_graph = true;
    run_backward(call);
}

std::string Tensor::str() const {
    if (!node_) return "Tensor(undefined)";
    std::string s = "Tensor(shape=" + shape().str() + ", dtype=" + dtype_name(dtype());
    if (!is_leaf()) s += std::string(", op=") + op();
    if (requires_grad()) s += ", requires_grad";
    return s + ", values=" + format_values(value()) + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---------------------------------------------------------------------------------------------
// Leaf constructors

Tensor tensor(const std::vector<double>& values, Shape shape, DType dtype, bool requires_grad) {
    return Tensor(Array::from_values(dtype, std::move(shape), values), requires_grad);
}
Tensor tensor(const std::vector<double>& values, DType dtype, bool requires_grad) {
    return tensor(values, Shape{values.size()}, dtype, requires_grad);
}
Tensor scalar(double value, DType dtype, bool requires_grad) {
    return Tensor(Array::scalar(dtype, value), requires_grad);
}
Tensor zeros(Shape shape, DType dtype, bool requires_grad) {
    return Tensor(Array(dtype, std::move(shape)), requires_grad);
}
Tensor ones(Shape shape, DType dtype, bool requires_grad) {
    return full(std::move(shape), 1.0, dtype, requires_grad);
}
Tensor full(Shape shape, double value, DType dtype, bool requires_grad) {
    return Tensor(Array::full(dtype, std::move(shape), value), requires_grad);
}
Tensor from_blob(void* data, Shape shape, DType dtype, bool requires_grad) {
    return Tensor(Array::from_blob(data, std::move(shape), dtype), requires_grad);
}
Tensor zeros_like(const Tensor& a, std::optional<DType> dtype, bool requires_grad) {
    return full_like(a, 0.0, dtype, requires_grad);
}
Tensor ones_like(const Tensor& a, std::optional<DType> dtype, bool requires_grad) {
    return full_like(a, 1.0, dtype, requires_grad);
}
Tensor full_like(const Tensor& a, double value, std::optional<DType> dtype, bool requires_grad) {
    const Array& v = checked(a.node(), "full_like")->value();
    return full(v.shape(), value, dtype.value_or(v.dtype()), requires_grad);
}
namespace detail {
Tensor arange(double start, double end, double step, std::optional<DType> dtype, bool integral) {
    return Tensor(Array::arange(dtype.value_or(integral ? i64 : f32), start, end, step));
}
}  // namespace detail

namespace {
// NOTE: std::uniform_real_distribution and std::normal_distribution are implementation-defined;
// these two are written out so a seed gives the same numbers with every standard library.
double unit_uniform(std::mt19937_64& gen) {
    return static_cast<double>(gen() >> 11) * 0x1.0p-53;  // [0, 1) with 53 random bits
}
}  // namespace

Tensor uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype,
               bool requires_grad) {
    if (!(low <= high) || !std::isfinite(low) || !std::isfinite(high)) {
        throw std::invalid_argument("uniform: need finite low <= high (got " + std::to_string(low) +
                                    " and " + std::to_string(high) + ")");
    }
    std::mt19937_64 gen(seed);
    Array a = Array::empty(dtype, std::move(shape));
    for (std::size_t i = 0, n = a.numel(); i < n; ++i) {
        a.set(i, low + (high - low) * unit_uniform(gen));
    }
    return Tensor(std::move(a), requires_grad);
}

Tensor normal(Shape shape, double mean, double stddev, std::uint64_t seed, DType dtype,
              bool requires_grad) {
    if (!(stddev >= 0) || !std::isfinite(mean) || !std::isfinite(stddev)) {
        throw std::invalid_argument("normal: need finite mean and stddev >= 0 (got " +
                                    std::to_string(mean) + " and " + std::to_string(stddev) + ")");
    }
    std::mt19937_64 gen(seed);
    Array a = Array::empty(dtype, std::move(shape));
    const std::size_t n = a.numel();
    for (std::size_t i = 0; i < n; i += 2) {
        // Box-Muller: two independent standard normals from two uniforms; 1 - u avoids log(0).
        const double u1 = 1.0 - unit_uniform(gen), u2 = unit_uniform(gen);
        const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
        a.set(i, mean + stddev * r * std::cos(theta));
        if (i + 1 < n) a.set(i + 1, mean + stddev * r * std::sin(theta));
    }
    return Tensor(std::move(a), requires_grad);
}

}  // namespace xgrad
