#include "autograd/tensor.h"

#include <cmath>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <thread>

#include "autograd/debug.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace xgrad {

const char Node::kLeaf[] = "leaf";

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
constexpr std::size_t kNodeCacheMax = 4096;  // 512 KiB of nodes per thread
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

Node* Node::make_leaf(Array value, bool requires_grad) {
    return new Node(kLeaf, requires_grad ? kRequiresGrad : 0, std::move(value), BackwardFn());
}

Node::~Node() {
    if (has_grad_) grad_.release(value_.nbytes());
    if (flags_ & kAnnotated) detail::forget_node_info(this);  // name or site (autograd/debug.h)
    if (n_inputs_ > 2) delete[] heap_inputs_;
}

void Node::release(Node* node) {
    if (node == nullptr || node->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // NOTE: iterative, not recursive: a 10^6-node chain would overflow the stack if each
    // destructor released its inputs (PyTorch fixed the same bug the same way).
    std::vector<Node*> dying;
    Node* current = node;
    for (;;) {
        Node* const* in = current->inputs();
        for (std::uint32_t i = 0; i < current->n_inputs_; ++i) {
            if (in[i]->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                dying.push_back(in[i]);
            }
        }
        delete current;
        if (dying.empty()) break;
        current = dying.back();
        dying.pop_back();
    }
}

void Node::add_to_grad(const Array& g) {
    const std::size_t n = value_.numel();
    dispatch(value_.dtype(), [&](auto t) {
        using T = decltype(t);
        T* dst = static_cast<T*>(grad_.get(n * sizeof(T)));
        const T* src = g.data<T>();
        for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
    });
}

Array Node::grad_copy() const {
    Array out = Array::empty(value_.dtype(), value_.shape());
    std::memcpy(out.raw(), grad_.get(value_.nbytes()), value_.nbytes());
    return out;
}

Tensor from_op(const char* op, Array value, const Tensor* const* inputs, std::size_t n,
               BackwardFn backward) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
        if (!inputs[i]->defined()) {
            throw std::logic_error(std::string(op) + ": input " + std::to_string(i) +
                                   " is an undefined tensor");
        }
        any = any || inputs[i]->node()->requires_grad();
    }
    // Anomaly-mode hook (autograd/anomaly.h): a relaxed load and a branch when it is off.
    if (detail::anomaly_possible()) detail::anomaly_check_forward(op, value, inputs, n);
    // Constants cost no graph: without a grad-requiring input, the result is a plain leaf.
    if (!any || !grad_enabled()) return Tensor::adopt(Node::make_leaf(std::move(value), false));
    std::unique_ptr<Node*[]> heap(n > 2 ? new Node*[n] : nullptr);
    Node* node = new Node(op, Node::kRequiresGrad, std::move(value), std::move(backward));
    node->n_inputs_ = static_cast<std::uint32_t>(n);
    Node** slots = node->inline_inputs_;
    if (n > 2) slots = node->heap_inputs_ = heap.release();
    for (std::size_t i = 0; i < n; ++i) {
        slots[i] = inputs[i]->node();
        slots[i]->retain();
    }
    if (detail::anomaly_possible()) detail::anomaly_record_location(node);  // anomaly-mode hook
    return Tensor::adopt(node);
}

Tensor from_op(const char* op, Array value, const std::vector<Tensor>& inputs,
               BackwardFn backward) {
    std::vector<const Tensor*> ptrs(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) ptrs[i] = &inputs[i];
    return from_op(op, std::move(value), ptrs.data(), ptrs.size(), std::move(backward));
}

// ---------------------------------------------------------------------------------------------
// Tensor

namespace {
Node* checked(Node* n, const char* what) {
    if (n == nullptr) throw std::logic_error(std::string(what) + ": undefined tensor");
    return n;
}
}  // namespace

Tensor::Tensor(Array value, bool requires_grad)
    : node_(Node::make_leaf(std::move(value), requires_grad)) {}

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

Array& Tensor::mutable_value() {
    Node* n = checked(node_, "mutable_value");
    if (!n->is_leaf()) {
        throw std::logic_error(
            std::string("mutable_value: only a leaf's value can be changed (got ") +
            "the output of '" + n->op_ + "')");
    }
    return n->value_;
}

bool Tensor::requires_grad() const { return checked(node_, "requires_grad")->requires_grad(); }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
    Node* n = checked(node_, "set_requires_grad");
    if (!n->is_leaf()) {
        throw std::logic_error(std::string("set_requires_grad: only a leaf can be changed (got ") +
                               "the output of '" + n->op_ + "'; use detach() first)");
    }
    if (requires_grad) {
        n->flags_ |= Node::kRequiresGrad;
    } else {
        n->flags_ &= static_cast<std::uint8_t>(~Node::kRequiresGrad);
    }
    return *this;
}

bool Tensor::is_leaf() const { return checked(node_, "is_leaf")->is_leaf(); }
const char* Tensor::op() const { return checked(node_, "op")->op_; }

Tensor Tensor::grad() const {
    Node* n = checked(node_, "grad");
    if (!n->requires_grad()) {
        throw std::logic_error("grad: tensor of shape " + n->value_.shape().str() +
                               " does not require grad (did you forget requires_grad?)");
    }
    if (!n->is_leaf() && !(n->flags_ & Node::kRetainGrad)) {
        throw std::logic_error(std::string("grad: the gradient of non-leaf '") + n->op_ +
                               "' is not kept (call retain_grad() before backward)");
    }
    if (!n->has_grad_) return Tensor(Array(n->value_.dtype(), n->value_.shape()));
    return Tensor(n->grad_copy());
}

bool Tensor::has_grad() const { return checked(node_, "has_grad")->has_grad_; }
void Tensor::zero_grad() { checked(node_, "zero_grad")->clear_grad(); }
void Tensor::retain_grad() { checked(node_, "retain_grad")->flags_ |= Node::kRetainGrad; }
Tensor Tensor::detach() const { return Tensor(value()); }

namespace {
void check_requires_grad_for_backward(const Node* n) {
    if (!n->requires_grad()) {
        throw std::logic_error("backward: tensor of shape " + n->value_.shape().str() +
                               " does not require grad (no input of its graph requires grad; "
                               "did you forget requires_grad?)");
    }
}
}  // namespace

void Tensor::backward(bool retain_graph) const {
    Node* n = checked(node_, "backward");
    if (n->value_.numel() != 1) {
        throw std::invalid_argument(
            "backward: a seed is needed for an output with more than one element (got shape " +
            n->value_.shape().str() + "); call backward(seed) with a seed of that shape");
    }
    check_requires_grad_for_backward(n);
    // The seed goes straight to the engine: no seed tensor (a node) for the common case.
    run_backward(n, Array::full(n->value_.dtype(), n->value_.shape(), 1.0), retain_graph);
}

void Tensor::backward(const Tensor& seed, bool retain_graph) const {
    Node* n = checked(node_, "backward");
    check_requires_grad_for_backward(n);
    const Array& s = checked(seed.node_, "backward seed")->value_;
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
    run_backward(n, s, retain_graph);
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
