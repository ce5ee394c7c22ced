// Capture and replay (autograd/capture.h). The captured graph is kept (the output's handle owns
// it); a replay recomputes it in a topological order and backpropagates in the engine's order.

#include "autograd/capture.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "autograd/grad_mode.h"
#include "autograd/op.h"
#include "autograd/ops/elementwise_ops.h"

namespace xgrad {

// The ops the scalar tape runs inline, X(arity, Op): the records of autograd/ops/elementwise_ops.h,
// called through the same op.h templates (detail::unary_scalar_forward<Op>, ...) that their
// OpDef::scalar_forward / scalar_backward point to, so the rules are written once and give the
// same bits; inline, the step costs no indirect call and no argument arrays in memory. Any
// other op with scalar kernels (pointwise.cpp's, custom ones) calls them through its OpDef.
// clang-format off
#define XGRAD_TAPE_OPS(X) \
    X(binary, Add) \
    X(binary, Sub) \
    X(binary, Mul) \
    X(binary, Div) \
    X(unary, Neg) \
    X(unary, Pow) \
    X(unary, Exp) \
    X(unary, Log) \
    X(unary, Sqrt) \
    X(unary, Abs) \
    X(unary, Square) \
    X(unary, ClampMin) \
    X(unary, ClampMax) \
    X(unary, AddScalar) \
    X(unary, SubScalar) \
    X(unary, RSubScalar) \
    X(unary, MulScalar) \
    X(unary, DivScalar) \
    X(unary, RDivScalar) \
    X(unary, Sigmoid) \
    X(unary, Tanh) \
    X(unary, Relu) \
    X(unary, Step)
// clang-format on

namespace {

// A step's code: one of the inline ops, or kTapeCall + the index of its op's kernels.
enum TapeCode : std::uint32_t {
#define XGRAD_TAPE_CODE(arity, Op) kTape##Op,
    XGRAD_TAPE_OPS(XGRAD_TAPE_CODE)
#undef XGRAD_TAPE_CODE
        kTapeCall
};

template <class Op>
const OpDef* unary_def_of() {
    return &detail::kUnaryDef<Op>;
}
template <class Op>
const OpDef* binary_def_of() {
    return &detail::kBinaryDef<Op>;
}
// The OpDef of each inline code, by code: one OpDef per op (kUnaryDef<Op> is an inline
// variable), so its address names the op.
const OpDef* tape_def(std::uint32_t code) {
    static const OpDef* const defs[] = {
#define XGRAD_TAPE_DEF(arity, Op) arity##_def_of<ew::Op>(),
        XGRAD_TAPE_OPS(XGRAD_TAPE_DEF)
#undef XGRAD_TAPE_DEF
    };
    return defs[code];
}

// NOTE: g++ contracts `acc + g * y` into one fused multiply-add once a rule is inlined next to
// the sum (-ffp-contract=fast is its default for C++, -std=c++17 too), which rounds once: other
// bits than the engine's, which rounds each contribution and then adds it. An empty asm makes
// the rounded contribution opaque, so no contraction spans the sum; it costs no instruction.
inline double opaque(double v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    asm("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
    asm("" : "+w"(v));
#else
    volatile double r = v;
    v = r;
#endif
    return v;
}

// Where a backward step's upstream gradient g = dL/d(out) is: in the gradient slots, the seed 1
// (the root), or in a register, as the previous step's new value of its in0's or in1's slot (a
// chain: most steps; a load of the slot just stored would wait for store-to-load forwarding,
// several cycles a step on the critical path).
enum GradFrom : std::uint8_t { kFromSlot, kFromSeed, kFromLast0, kFromLast1 };
// What a step does with its contribution to an input: nothing (a leaf that does not require
// grad, a unary op's c), store it (the slot's first: the engine moves the first one in, as
// is), add it into the slot, or add it to what this step just stored into in0 (x * x).
enum Deliver : std::uint8_t { kDrop, kStore, kAdd, kAddToLast0 };

// Contribution c into gradient slot `to` as `how` says; `last` takes the slot's new value.
inline void deliver(double* gr, std::uint32_t to, unsigned how, double c, double& last) {
    if (how == kStore) {
        last = c;
        gr[to] = c;
    } else if (how == kAdd) {
        last = gr[to] + c;
        gr[to] = last;
    }
}

// One op's forward and its backward's contributions on the tape, reading the values' slots
// (in1 is a unary op's parameter c, as for the kernels): the op.h templates that OpDef's
// scalar kernels point to, inlined, so each op loads only the values its rule reads. `last`,
// `y`: the previous step's output slot and its value, in a register. Each contribution is
// rounded on its own (opaque), as the engine's.
template <class Op>
double unary_forward(const double* v, std::uint32_t in0, std::uint32_t in1, std::uint32_t last,
                     double y) {
    const double in[1] = {in0 == last ? y : v[in0]};
    return detail::unary_scalar_forward<Op>(in, v[in1]);
}
template <class Op>
double binary_forward(const double* v, std::uint32_t in0, std::uint32_t in1, std::uint32_t last,
                      double y) {
    const double in[2] = {in0 == last ? y : v[in0], in1 == last ? y : v[in1]};
    return detail::binary_scalar_forward<Op>(in, 0.0);
}
template <class Op>
double unary_backward(double g, const double* v, std::uint32_t in0, std::uint32_t in1,
                      std::uint32_t out) {
    const double in[1] = {v[in0]};
    double gin[1];
    detail::unary_scalar_backward<Op>(g, in, v[out], v[in1], gin);
    return opaque(gin[0]);
}
template <class Op>
double binary_backward(double g, const double* v, std::uint32_t in0, std::uint32_t in1,
                       std::uint32_t out, double& c1) {
    const double in[2] = {v[in0], v[in1]};
    double gin[2];
    detail::binary_scalar_backward<Op>(g, in, v[out], 0.0, gin);
    c1 = opaque(gin[1]);
    return opaque(gin[0]);
}

}  // namespace

// The scalar tape: one float64 slot per leaf, per distinct scalar parameter of a unary op and
// per node, and each op a 16-byte step. Forward runs the steps in topological order; backward
// runs them in the order the engine would process their nodes, so every gradient is summed in
// the same order (the same bits). Where each backward step takes its upstream gradient from and
// what it does with its contributions is decided at capture (BackStep), not tested per replay.
struct Capture::Tape {
    struct Step {
        // A unary op's in1 is the slot of its parameter c: the rules read c from the values.
        std::uint32_t in0, in1, out;
        std::uint32_t code;  // a TapeCode: inline, or kTapeCall + index into kernels
    };
    struct BackStep {
        std::uint32_t in0, in1, out;
        std::uint16_t code;
        std::uint8_t from;     // a GradFrom
        std::uint8_t deliver;  // Deliver of in0, | Deliver of in1 << 2
    };
    struct Kernels {
        double (*f)(const double* in, double c);
        void (*d)(double g, const double* in, double out, double c, double* gin);
    };
    std::vector<Kernels> kernels;  // one per op of the tape that is not inline
    std::vector<double> val, grad;
    std::vector<Step> steps;                                    // topological order
    std::vector<BackStep> back;                                 // the engine's order
    std::vector<std::pair<const Node*, std::uint32_t>> leaves;  // re-read every replay
    std::vector<std::uint32_t> param_slots;                     // one per params_ entry
    std::uint32_t root = 0;
    std::size_t calls = 0;  // steps through kernels

    void forward() {
        double* v = val.data();
        // The previous step's value, from a register when this step reads it (see GradFrom).
        std::uint32_t last = ~0u;
        double y = 0.0;
        for (const Step& s : steps) {
            switch (s.code) {
#define XGRAD_TAPE_FORWARD(arity, Op)                          \
    case kTape##Op:                                            \
        y = arity##_forward<ew::Op>(v, s.in0, s.in1, last, y); \
        break;
                XGRAD_TAPE_OPS(XGRAD_TAPE_FORWARD)
#undef XGRAD_TAPE_FORWARD
                default: {
                    const double in[2] = {s.in0 == last ? y : v[s.in0],
                                          s.in1 == last ? y : v[s.in1]};
                    y = kernels[s.code - kTapeCall].f(in, in[1]);
                }
            }
            v[s.out] = y;
            last = s.out;
        }
    }
    // A binary step's (or a called kernel's) two contributions, in0's first, as the engine.
    static void deliver_both(double* gr, const BackStep& s, double c0, double c1, double& last0,
                             double& last1) {
        deliver(gr, s.in0, s.deliver & 3u, c0, last0);
        const unsigned d1 = s.deliver >> 2;
        if (d1 == kAddToLast0) {
            last1 = last0 + c1;
            gr[s.in1] = last1;
        } else {
            deliver(gr, s.in1, d1, c1, last1);
        }
    }
    // The steps in the engine's order; the parameters' slots hold what their sums start from.
    void run_backward() {
        const double* v = val.data();
        double* gr = grad.data();
        double last0 = 0.0, last1 = 0.0;  // the last step's new values of its inputs' slots
        for (const BackStep& s : back) {
            double g;
            if (s.from == kFromLast0) {
                g = last0;
            } else if (s.from == kFromLast1) {
                g = last1;
            } else if (s.from == kFromSlot) {
                g = gr[s.out];
            } else {
                g = 1.0;
            }
            double c0, c1;
            switch (s.code) {
#define XGRAD_TAPE_BACKWARD_unary(Op)                           \
    case kTape##Op:                                             \
        c0 = unary_backward<ew::Op>(g, v, s.in0, s.in1, s.out); \
        break;
#define XGRAD_TAPE_BACKWARD_binary(Op)                               \
    case kTape##Op:                                                  \
        c0 = binary_backward<ew::Op>(g, v, s.in0, s.in1, s.out, c1); \
        deliver_both(gr, s, c0, c1, last0, last1);                   \
        continue;
#define XGRAD_TAPE_BACKWARD(arity, Op) XGRAD_TAPE_BACKWARD_##arity(Op)
                XGRAD_TAPE_OPS(XGRAD_TAPE_BACKWARD)
#undef XGRAD_TAPE_BACKWARD
#undef XGRAD_TAPE_BACKWARD_binary
#undef XGRAD_TAPE_BACKWARD_unary
                default: {
                    const double in[2] = {v[s.in0], v[s.in1]};
                    double gin[2] = {0.0, 0.0};  // a unary op leaves gin[1]
                    kernels[s.code - kTapeCall].d(g, in, v[s.out], in[1], gin);
                    deliver_both(gr, s, gin[0], gin[1], last0, last1);
                    continue;
                }
            }
            deliver(gr, s.in0, s.deliver & 3u, c0, last0);  // a unary op's
        }
    }
};

namespace {

// Restores the inputs' requires_grad flags however the captured function exits.
struct RequiresGradRestore {
    std::vector<Tensor>& inputs;
    const std::vector<bool>& flags;
    ~RequiresGradRestore() {
        for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i].set_requires_grad(flags[i]);
    }
};

bool is_f64_scalar(const Array& a) { return a.dtype() == f64 && a.numel() == 1; }

[[noreturn]] void leaf_dtype_error(const Array& v) {
    throw std::invalid_argument("Capture::replay: a leaf of the scalar tape is now " +
                                v.shape().str() + " " + dtype_name(v.dtype()) +
                                ", it was one float64 at capture (capture again after set_data)");
}

// A leaf's one float64 element, any shape or memory; a set_data() since capture that changed
// the dtype is an error.
[[gnu::noinline]] double read_leaf(const Array& v) {
    if (v.dtype() != DType::Float64) leaf_dtype_error(v);
    return detail::first_element<double>(v);
}

}  // namespace

Capture::Capture(Fn fn, std::vector<Tensor> inputs)
    : fn_(std::move(fn)), inputs_(std::move(inputs)) {
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const Tensor& t = inputs_[i];
        if (!t.defined()) {
            throw std::invalid_argument("Capture: input " + std::to_string(i) +
                                        " is an undefined tensor");
        }
        if (!t.is_leaf()) {
            throw std::invalid_argument("Capture: input " + std::to_string(i) +
                                        " is not a leaf (it is the output of '" + t.op() +
                                        "'); pass the tensors the function starts from");
        }
        input_requires_grad_.push_back(t.requires_grad());
    }
    {
        // Inputs require grad while fn runs, so every op that reads them is recorded (a
        // constant computed from an input would be frozen at its captured value).
        RequiresGradRestore restore{inputs_, input_requires_grad_};
        for (Tensor& t : inputs_) t.set_requires_grad(true);
        GradModeGuard grad_mode(true);
        output_ = fn_(inputs_);
    }
    if (!output_.defined())
        throw std::invalid_argument("Capture: the function returned an undefined tensor");
    if (output_.numel() != 1) {
        throw std::invalid_argument(
            "Capture: the function must return a one-element tensor (a loss; got shape " +
            output_.shape().str() + ")");
    }
    Node* root = output_.node();
    if (root->is_leaf()) {
        throw std::invalid_argument(
            "Capture: the output does not depend on any input or parameter (no graph recorded)");
    }

    // Non-leaf nodes in postorder (inputs before consumers), iteratively; leaves in first-seen
    // order. `seen` maps a node to its tape slot.
    std::unordered_map<const Node*, std::uint32_t> seen;
    std::vector<const Node*> leaves;
    std::vector<std::pair<Node*, std::uint32_t>> stack{{root, 0u}};
    seen.emplace(root, 0u);
    while (!stack.empty()) {
        auto& [n, i] = stack.back();
        if (i < n->num_inputs()) {
            Node* in = n->inputs()[i++];
            if (seen.count(in) != 0) continue;
            seen.emplace(in, 0u);
            if (in->is_leaf()) {
                leaves.push_back(in);
            } else {
                if (in->released()) {
                    throw std::invalid_argument(std::string("Capture: the graph through '") +
                                                in->op() + "' was already freed by a backward");
                }
                stack.emplace_back(in, 0u);
            }
        } else {
            if (n->def().forward_into == nullptr) {
                throw std::invalid_argument(std::string("Capture: op '") + n->op() +
                                            "' cannot be replayed (its OpDef has no "
                                            "forward_into); run this function dynamically");
            }
            order_.push_back(n);
            stack.pop_back();
        }
    }
    for (const Node* l : leaves) {
        if (!l->requires_grad()) continue;
        Node* p = const_cast<Node*>(l);
        p->retain();
        params_.push_back(Tensor::adopt(p));
    }

    // The scalar tape, when every value is one float64 of one shape and every op has kernels.
    bool tape = true;
    for (const Node* n : order_) {
        const OpDef& d = n->def();
        tape = tape && d.scalar_forward != nullptr && d.scalar_backward != nullptr &&
               (n->num_inputs() == 1 || n->num_inputs() == 2) && is_f64_scalar(n->value());
        for (std::size_t i = 0; tape && i < n->num_inputs(); ++i) {
            tape = is_f64_scalar(n->input(i)) && n->input(i).shape() == n->value().shape();
        }
        if (!tape) break;
    }
    if (!tape) return;
    auto t = std::make_unique<Tape>();
    std::uint32_t next = 0;
    for (const Node* l : leaves) {
        seen[l] = next;
        t->leaves.emplace_back(l, next++);
    }
    // The unary ops' parameters, one slot per distinct bit pattern (a chain of sigmoids: one).
    std::unordered_map<std::uint64_t, std::uint32_t> constants;
    std::vector<double> constant_values;
    for (const Node* n : order_) {
        if (n->num_inputs() != 1) continue;
        const double c = n->params<double>();
        std::uint64_t bits;
        std::memcpy(&bits, &c, sizeof c);
        if (constants.emplace(bits, next).second) {
            constant_values.push_back(c);
            ++next;
        }
    }
    const std::uint32_t first_node = next;
    for (const Node* n : order_) seen[n] = next++;
    t->val.assign(next, 0.0);
    std::copy(constant_values.begin(), constant_values.end(),
              t->val.begin() + static_cast<std::ptrdiff_t>(first_node - constant_values.size()));
    t->grad.assign(next, 0.0);
    t->root = seen[root];
    for (const Tensor& p : params_) t->param_slots.push_back(seen[p.node()]);
    // Each op's code: inline when the tape knows it, else its kernels, once per op.
    std::unordered_map<const OpDef*, std::uint32_t> code_of;
    for (std::uint32_t c = 0; c < kTapeCall; ++c) code_of.emplace(tape_def(c), c);
    t->steps.reserve(order_.size());
    for (const Node* n : order_) {
        const OpDef& d = n->def();
        const auto k =
            code_of.emplace(&d, kTapeCall + static_cast<std::uint32_t>(t->kernels.size()));
        if (k.first->second > 0xffff) return;  // a step code is 16 bits: the node path
        if (k.second) t->kernels.push_back({d.scalar_forward, d.scalar_backward});
        if (k.first->second >= kTapeCall) ++t->calls;
        Tape::Step s{};
        s.in0 = seen[n->inputs()[0]];
        if (n->num_inputs() == 2) {
            s.in1 = seen[n->inputs()[1]];
        } else {
            const double c = n->params<double>();
            std::uint64_t bits;
            std::memcpy(&bits, &c, sizeof c);
            s.in1 = constants[bits];
        }
        s.out = seen[n];
        s.code = k.first->second;
        t->steps.push_back(s);
    }
    // The engine's order (engine.cpp, Engine::walk): the deepest discovered node first (by
    // Node::level_), ties to the latest discovered; a node's inputs are discovered, in order,
    // when it is processed. The same keys, so the same sequence.
    std::unordered_map<const Node*, bool> discovered{{root, true}};
    std::vector<std::pair<std::uint64_t, const Node*>> heap{
        {std::uint64_t{root->level_} << 32, root}};
    std::uint32_t seq = 1;
    const auto before = [](const std::pair<std::uint64_t, const Node*>& a,
                           const std::pair<std::uint64_t, const Node*>& b) {
        return a.first < b.first;
    };
    // Each step's source of g and its deliveries, by walking the engine's order once here. A
    // slot needs a gradient when it is a node's or a parameter's; a parameter's sum starts
    // from the leaf's gradient (run() puts it in the slot), as the engine adds each
    // contribution into the leaf, so its contributions are all added.
    std::vector<char> needs(next, 0), written(next, 0);
    for (std::uint32_t i = first_node; i < next; ++i) needs[i] = 1;
    for (std::uint32_t slot : t->param_slots) needs[slot] = written[slot] = 1;
    std::uint32_t last0 = ~0u, last1 = ~0u;  // the slots the last step left in registers
    t->back.reserve(order_.size());
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), before);
        const Node* n = heap.back().second;
        heap.pop_back();
        const Tape::Step& st = t->steps[seen[n] - first_node];
        Tape::BackStep b{st.in0, st.in1, st.out, static_cast<std::uint16_t>(st.code), 0, 0};
        b.from = n == root         ? kFromSeed
                 : st.out == last1 ? kFromLast1
                 : st.out == last0 ? kFromLast0
                                   : kFromSlot;
        const auto deliver = [&](std::uint32_t slot) {
            if (!needs[slot]) return kDrop;
            if (written[slot]) return kAdd;
            written[slot] = 1;
            return kStore;
        };
        const Deliver d0 = deliver(st.in0);
        const Deliver d1 = n->num_inputs() == 1 ? kDrop
                           : st.in1 == st.in0   ? (d0 == kDrop ? kDrop : kAddToLast0)
                                                : deliver(st.in1);
        b.deliver = static_cast<std::uint8_t>(d0 | d1 << 2);
        last0 = d0 == kDrop ? ~0u : st.in0;
        last1 = d1 == kDrop ? ~0u : st.in1;
        t->back.push_back(b);
        for (std::size_t i = 0; i < n->num_inputs(); ++i) {
            const Node* in = n->inputs()[i];
            if (in->is_leaf() || !discovered.emplace(in, true).second) continue;
            heap.emplace_back((std::uint64_t{in->level_} << 32) | seq++, in);
            std::push_heap(heap.begin(), heap.end(), before);
        }
    }
    tape_ = t.release();
}

Capture::Capture(Capture&& other) noexcept
    : fn_(std::move(other.fn_)),
      inputs_(std::move(other.inputs_)),
      input_requires_grad_(std::move(other.input_requires_grad_)),
      params_(std::move(other.params_)),
      output_(std::move(other.output_)),
      order_(std::move(other.order_)),
      tape_(other.tape_) {
    other.tape_ = nullptr;
}

Capture& Capture::operator=(Capture&& other) noexcept {
    if (this != &other) {
        delete tape_;
        fn_ = std::move(other.fn_);
        inputs_ = std::move(other.inputs_);
        input_requires_grad_ = std::move(other.input_requires_grad_);
        params_ = std::move(other.params_);
        output_ = std::move(other.output_);
        order_ = std::move(other.order_);
        tape_ = other.tape_;
        other.tape_ = nullptr;
    }
    return *this;
}

Capture::~Capture() { delete tape_; }

void Capture::set_inputs(const std::vector<Array>& values) {
    if (!output_.defined()) throw std::logic_error("Capture: replay of a moved-from capture");
    if (values.size() != inputs_.size()) {
        throw std::invalid_argument("Capture::replay: got " + std::to_string(values.size()) +
                                    " input values, the capture has " +
                                    std::to_string(inputs_.size()) + " inputs");
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        const Array& v = values[i];
        const Array& want = inputs_[i].value();
        if (!v.defined() || v.shape() != want.shape() || v.dtype() != want.dtype()) {
            throw std::invalid_argument(
                "Capture::replay: input " + std::to_string(i) + " has " +
                (v.defined() ? "shape " + v.shape().str() + " " + dtype_name(v.dtype())
                             : std::string("an undefined array")) +
                ", the capture was recorded with " + want.shape().str() + " " +
                dtype_name(want.dtype()) + " (capture again for another shape)");
        }
        Node* n = inputs_[i].node();
        if (v.nbytes() <= sizeof(double)) {
            std::memcpy(n->value_.raw(), v.raw(), v.nbytes());  // a scalar: its inline bytes
        } else if (v.is_borrowed()) {
            std::memcpy(n->value_.raw(), v.raw(), v.nbytes());  // memory the caller may free
        } else {
            // A second holder of the caller's buffer, no copy (a 64x784 float batch is 200 KB
            // a step): a later write through either side copies it first (copy-on-write).
            n->value_ = v.share();
        }
        n->version_.fetch_add(1, std::memory_order_relaxed);
    }
}

void Capture::run(std::vector<Array>* grads) {
    if (tape_ != nullptr) {
        Tape& t = *tape_;
        double* val = t.val.data();
        double* grad = t.grad.data();
        for (const auto& [leaf, slot] : t.leaves) {
            const Array& v = leaf->value_;
            // Shape () in its own bytes (most leaves): the element is the inline one, which the
            // compiler sees from these tests, so it reads it without counting bytes.
            if (v.dtype() == DType::Float64 && v.ndim() == 0 && !v.is_borrowed()) {
                val[slot] = detail::first_element<double>(v);
            } else {
                val[slot] = read_leaf(v);
            }
        }
        const std::size_t np = params_.size();
        t.forward();
        if (grads != nullptr) {
            // -0.0 is the identity of IEEE addition (0.0 + -0.0 would be 0.0): the sums start
            // from nothing, and the first contribution lands as it is.
            for (std::size_t k = 0; k < np; ++k) grad[t.param_slots[k]] = -0.0;
            t.run_backward();
            for (std::size_t k = 0; k < np; ++k) {
                (*grads)[k] = Array::scalar(f64, grad[t.param_slots[k]]);
            }
        } else {
            // NOTE: every parameter's gradient lock is taken between the forward and the
            // backward and held until the sums are stored, all or none at a time, so a replay
            // never waits while it holds one (no deadlock with another replay or a thread
            // holding GradRefs). Where matters: an atomic exchange waits for the stores before
            // it and holds back the loads after it; measured on the two-weight step, taking the
            // locks before the forward (just after the inputs' stores) cost 5-10 ns more a
            // step, taking them one by one after the backward 4-6 ns more.
            for (;;) {
                std::size_t held = 0;
                while (held < np &&
                       params_[held].node()->lock_.exchange(1, std::memory_order_acquire) == 0) {
                    ++held;
                }
                if (held == np) break;
                for (std::size_t k = 0; k < held; ++k) unlock_node(params_[k].node());
                std::this_thread::yield();
            }
            struct Unlock {
                const std::vector<Tensor>& params;
                ~Unlock() {
                    for (const Tensor& p : params) unlock_node(p.node());
                }
            } unlock{params_};
            // Each sum starts from the leaf's gradient (-0.0 when none): the engine adds every
            // contribution into the leaf in turn, (g + c1) + c2, not g + (c1 + c2).
            for (std::size_t k = 0; k < np; ++k) {
                const Node* p = params_[k].node();
                double g = -0.0;
                if (p->has_grad_ && !(p->flags_ & Node::kGradNode)) {
                    std::memcpy(&g, p->grad_.inline_, sizeof g);
                } else if (p->has_grad_) {
                    g = detail::first_element<double>(p->grad_value());  // create_graph's
                }
                grad[t.param_slots[k]] = g;
            }
            t.run_backward();
            for (std::size_t k = 0; k < np; ++k) {
                // Into the leaf's inline gradient bytes, as the engine's scalar path adds (a
                // gradient holding a graph becomes the plain sum, as there).
                Node* p = params_[k].node();
                if (p->flags_ & Node::kGradNode) p->clear_grad();
                std::memcpy(p->grad_.inline_, &grad[t.param_slots[k]], sizeof(double));
                p->has_grad_ = true;
            }
        }
        std::memcpy(output_.node()->value_.raw(), &val[t.root], sizeof(double));
        return;
    }
    // The node path: values recomputed in place, saved versions refreshed (they are the
    // inputs' values now), then the engine's walk keeping the graph.
    for (Node* n : order_) {
        n->def().forward_into(*n, n->value_);
        std::uint32_t* saved = n->saved_versions();
        for (std::size_t i = 0; i < n->num_inputs(); ++i) saved[i] = n->inputs()[i]->version();
    }
    const Array& out = output_.value();
    if (grads == nullptr) {
        run_backward(output_.node(), Array::full(out.dtype(), out.shape(), 1.0),
                     /*retain_graph=*/true);
        return;
    }
    BackwardCall call;
    call.roots = {output_};
    call.seeds = {Tensor(Array::full(out.dtype(), out.shape(), 1.0))};
    call.retain_graph = true;
    call.inputs = &params_;
    std::vector<Tensor> got = run_backward(call);
    for (std::size_t k = 0; k < params_.size(); ++k) {
        (*grads)[k] = got[k].defined() ? got[k].value() : Array();
    }
}

void Capture::replay(const std::vector<Array>& values) {
    set_inputs(values);
    run(nullptr);
}

void Capture::replay(const double* values, std::size_t n) {
    if (!output_.defined()) throw std::logic_error("Capture: replay of a moved-from capture");
    if (n != inputs_.size()) {
        throw std::invalid_argument("Capture::replay: got " + std::to_string(n) +
                                    " input values, the capture has " +
                                    std::to_string(inputs_.size()) + " inputs");
    }
    // All checked before any is written, so an error leaves the inputs as they were.
    for (std::size_t i = 0; i < n; ++i) {
        const Array& want = inputs_[i].node()->value_;
        if (!is_f64_scalar(want)) {
            throw std::invalid_argument(
                "Capture::replay: input " + std::to_string(i) + " has shape " + want.shape().str() +
                " " + dtype_name(want.dtype()) +
                ", a value given as a double needs one float64 element (pass Arrays: "
                "replay(std::vector<Array>))");
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        Node* in = inputs_[i].node();
        Array& v = in->value_;
        if (v.dtype() == DType::Float64 && v.ndim() == 0 && !v.is_borrowed()) {
            *static_cast<double*>(v.raw()) = values[i];  // its inline bytes, seen as such
        } else {
            std::memcpy(v.raw(), values + i, sizeof(double));
        }
        // A plain load and store, as Tensor::mutable_value: a Capture belongs to one thread.
        in->version_.store(in->version_.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
    }
    run(nullptr);
}

double Capture::output_value() const {
    if (!output_.defined()) throw std::logic_error("Capture::output_value: a moved-from capture");
    const Array& v = output_.node()->value_;
    if (v.dtype() != f64) return v.item();
    double d;
    std::memcpy(&d, v.raw(), sizeof d);
    return d;
}

std::size_t Capture::scalar_tape_calls() const { return tape_ != nullptr ? tape_->calls : 0; }

namespace {
bool same_bits(const Array& a, const Array& b) {
    return a.defined() == b.defined() &&
           (!a.defined() || (a.shape() == b.shape() && a.dtype() == b.dtype() &&
                             std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0));
}
std::string describe(const Array& a) {
    return a.defined() ? format_values(a) : std::string("no gradient");
}
}  // namespace

void Capture::check(const std::vector<Array>& values) {
    set_inputs(values);
    std::vector<Array> replayed(params_.size());
    run(&replayed);
    const Array replay_out = output_.value();
    Tensor fresh;
    {
        GradModeGuard grad_mode(true);
        fresh = fn_(inputs_);
    }
    if (!fresh.defined() || !same_bits(fresh.value(), replay_out)) {
        throw std::runtime_error(
            "Capture::check: the output differs (replay " + describe(replay_out) + ", fresh run " +
            (fresh.defined() ? describe(fresh.value()) : "undefined") +
            "): the function took another path than at capture; capture it again");
    }
    std::vector<Tensor> got(params_.size());
    if (fresh.requires_grad()) {
        BackwardCall call;
        call.roots = {fresh};
        call.seeds = {Tensor(Array::full(fresh.dtype(), fresh.shape(), 1.0))};
        call.inputs = &params_;
        got = run_backward(call);
    }
    for (std::size_t k = 0; k < params_.size(); ++k) {
        const Array fresh_g = got[k].defined() ? got[k].value() : Array();
        if (!same_bits(fresh_g, replayed[k])) {
            throw std::runtime_error("Capture::check: the gradient of parameter " +
                                     std::to_string(k) + " (shape " + params_[k].shape().str() +
                                     ") differs (replay " + describe(replayed[k]) + ", fresh run " +
                                     describe(fresh_g) +
                                     "): the function took another path than at capture; "
                                     "capture it again");
        }
    }
}

}  // namespace xgrad
