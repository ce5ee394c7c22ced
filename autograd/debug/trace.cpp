// Backward trace: prints the chain rule as the engine applies it. Each processed node gives
//   g = h + i = 11
//     dL/dh = dL/dg * dg/dh = 4 * 1 = 4
// and the end gives each parameter's gradient as a sum over paths of products of local
// derivatives, root to leaf, as the course's solutions write them.

#include "autograd/debug/trace.h"

#include <cctype>
#include <cstring>
#include <ostream>
#include <unordered_map>
#include <vector>

#include "autograd/debug/format.h"
#include "autograd/kernels.h"
#include "autograd/observer.h"

namespace xgrad {

namespace {

// The local derivative patterns come from the op's record (OpDef::local, with {a} {b} for the
// inputs, {y} for the output, {c} for the op's scalar parameter). Element-wise ops always have
// one; the others only where their output has one element (a reduction, a dot product).
const char* local_pattern(const Node& n, std::size_t i) {
    const OpDef& def = n.def();
    if (def.local_of != nullptr) return def.local_of(n, i);
    return i < 2 ? def.local[i] : nullptr;
}

// One local derivative in a chain-rule product: its symbol and, for one-element tensors, value.
struct Factor {
    std::string symbol;
    std::string text;  // the number, or a summary for larger tensors
    double value = 0;
    bool scalar = false;
};
using Term = std::vector<Factor>;  // a product: one path
struct Expr {                      // a sum of products: every path from the root
    std::vector<Term> terms;
    bool collapsed = false;  // too many paths or factors to write out
};
constexpr std::size_t kMaxTerms = 8, kMaxFactors = 12;

bool is_simple(const std::string& s) {
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*' || c == '\'' ||
              c == '.')) {
            return false;
        }
    }
    return !s.empty();
}

// `s` as an operand: wrapped in parentheses unless it is a name or a non-negative number.
std::string operand(const std::string& s) { return is_simple(s) ? s : "(" + s + ")"; }

// `s` as a factor of a product: parentheses when it has a space outside parentheses or starts
// with a minus sign ("1 - t^2" and "-1" need them, "a2(1 - a2)" does not).
std::string as_factor(const std::string& s) {
    if (!s.empty() && s[0] == '-') return "(" + s + ")";
    int depth = 0;
    for (char c : s) {
        if (c == '(' || c == '[') ++depth;
        if (c == ')' || c == ']') --depth;
        if (c == ' ' && depth == 0) return "(" + s + ")";
    }
    return s;
}

std::string product(const std::vector<std::string>& factors) {
    if (factors.empty()) return "1";
    std::string s;
    for (std::size_t i = 0; i < factors.size(); ++i) {
        s += i ? " * " + as_factor(factors[i]) : factors[i];
    }
    return s;
}

// "a = b = b = c" -> "a = b = c": equal neighbours once, empty parts left out.
std::string equalities(const std::vector<std::string>& parts) {
    std::string s, last;
    for (const std::string& p : parts) {
        if (p.empty() || p == last) continue;
        s += (s.empty() ? "" : " = ") + p;
        last = p;
    }
    return s;
}

std::string substitute(const char* pattern, const std::vector<std::string>& inputs,
                       const std::string& out, const std::string& scalar) {
    std::string s;
    for (const char* p = pattern; *p; ++p) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            const char k = p[1];
            if (k == 'y') {
                s += operand(out);
            } else if (k == 'c') {
                s += scalar;
            } else {
                const std::size_t i = static_cast<std::size_t>(k - 'a');
                s += i < inputs.size() ? operand(inputs[i]) : "?";
            }
            p += 2;
        } else {
            s += *p;
        }
    }
    return s;
}

void add_into(Array& acc, const Array& g) {
    if (!acc.defined()) {
        acc = g;
        return;
    }
    dispatch(acc.dtype(), [&](auto t) {
        using T = decltype(t);
        T* a = acc.data<T>();
        const T* b = g.data<T>();
        for (std::size_t i = 0, n = acc.numel(); i < n; ++i) a[i] += b[i];
    });
}

// The state of the backward being traced.
struct Trace {
    std::ostream* os = nullptr;
    int precision = 6;
    const Node* root = nullptr;
    bool unit_seed = true;
    std::size_t next_op = 0, next_leaf = 0;
    std::unordered_map<const Node*, std::string> names;
    std::unordered_map<const Node*, Expr> exprs;
    std::unordered_map<const Node*, int> contributions;
    std::vector<const Node*> leaves;  // parameters, in the order their first gradient arrived
    std::unordered_map<const Node*, Array> leaf_totals;

    void reset(std::ostream* out, int digits, const Node* r) {
        *this = Trace();
        os = out;
        precision = digits;
        root = r;
    }

    std::string num(const Array& a) const { return detail::format_array(a, 6, precision); }

    const std::string& name(const Node* n) {
        auto it = names.find(n);
        if (it != names.end()) return it->second;
        std::string s = detail::node_name(n);
        if (s.empty()) {
            if (n->is_leaf()) {
                s = !n->requires_grad() && n->value().numel() == 1
                        ? detail::format_number(n->value().item(), precision)
                        : "leaf" + std::to_string(++next_leaf);
            } else {
                s = n == root ? "L" : "t" + std::to_string(++next_op);
            }
        }
        return names.emplace(n, std::move(s)).first->second;
    }

    // "dL/dx", "dL/d(a - b)".
    std::string d(const Node* of, const Node* wrt) {
        const std::string top = name(of), bottom = name(wrt);
        return "d" + operand(top) + "/d" + operand(bottom);
    }

    std::string expression(const Node& n) {
        std::vector<std::string> in;
        for (std::size_t i = 0; i < n.num_inputs(); ++i) in.push_back(name(n.inputs()[i]));
        const OpDef& def = n.def();
        detail::FoldedScalar f;
        if (in.size() == 1 && detail::folded_scalar(n, f)) {
            return detail::folded_expression(f, operand(in[0]), precision);
        }
        if (in.size() == 2 && def.infix != nullptr) {
            return operand(in[0]) + def.infix + operand(in[1]);
        }
        if (in.size() == 1 && def.prefix != nullptr) return def.prefix + operand(in[0]);
        std::string s = std::string(def.name) + "(";
        for (std::size_t i = 0; i < in.size(); ++i) s += (i ? ", " : "") + in[i];
        return s + ")";
    }

    std::string symbol(const Node& n, std::size_t i, const char* pattern) {
        if (pattern == nullptr) return d(&n, n.inputs()[i]);
        std::vector<std::string> in;
        for (std::size_t k = 0; k < n.num_inputs(); ++k) in.push_back(name(n.inputs()[k]));
        detail::FoldedScalar f;
        const std::string c =
            detail::folded_scalar(n, f) ? detail::format_number(f.value, precision) : "";
        return substitute(pattern, in, name(&n), c);
    }

    std::string term_symbols(const Term& t) {
        std::vector<std::string> f;
        for (const Factor& x : t) f.push_back(x.symbol);
        return product(f);
    }

    std::string expr_symbols(const Expr& e) {
        std::string s;
        for (std::size_t i = 0; i < e.terms.size(); ++i) {
            s += (i ? " + " : "") + term_symbols(e.terms[i]);
        }
        return s;
    }

    // The expanded expression with numbers, or "" when a factor is not a single number.
    std::string expr_numbers(const Expr& e) {
        std::string s;
        for (std::size_t i = 0; i < e.terms.size(); ++i) {
            std::vector<std::string> f;
            for (const Factor& x : e.terms[i]) {
                if (!x.scalar) return {};
                f.push_back(x.text);
            }
            s += (i ? " + " : "") + product(f);
        }
        return s;
    }
};

}  // namespace

namespace detail {
/// The rule of `n` run on its fast path with upstream gradient `grad` (engine.cpp).
Grads local_gradients(const Node& n, const Array& grad);
}  // namespace detail

namespace {

void trace_begin(Trace& t, const Node& root, const Array& seed) {
    t.reset(t.os, t.precision, &root);
    bool ones = true;
    for (std::size_t i = 0, n = seed.numel(); i < n; ++i) ones = ones && seed.at(i) == 1.0;
    t.unit_seed = ones && seed.numel() == 1;
    t.exprs[&root].terms.push_back({});
    *t.os << "backward trace from " << t.name(&root) << " = " << t.num(root.value()) << " (seed "
          << t.d(&root, &root) << " = " << t.num(seed) << ")\n";
}

void trace_node(Trace& t, const Node& n, const Array& grad, const Array* const* grads,
                std::size_t n_grads) {
    std::ostream& os = *t.os;
    os << equalities({t.name(&n), t.expression(n), t.num(n.value())});
    if (n.value().ndim() > 0) os << "  shape " << n.value().shape().str();
    os << "\n";

    const bool elementwise = n.def().elementwise;
    // Local derivatives, from the op's record: its rule on a gradient of ones gives the diagonal
    // of the Jacobian of an element-wise op, and the gradient of an op with a one-element output.
    const bool has_local = elementwise || n.value().numel() == 1;
    Grads local;
    if (has_local) local = detail::local_gradients(n, Array::full(grad.dtype(), grad.shape(), 1.0));

    const bool at_root = &n == t.root && t.unit_seed;
    const std::string upstream = t.num(grad);
    Expr& source = t.exprs[&n];
    const std::vector<Term> source_terms = source.terms;
    const bool source_collapsed = source.collapsed;
    for (std::size_t i = 0; i < n_grads; ++i) {
        const Node* in = n.inputs()[i];
        if (!in->requires_grad() || grads[i] == nullptr) continue;
        const Array& g = *grads[i];
        Array fitted = g;
        const bool broadcast = g.shape() != in->value().shape();
        if (broadcast) kernels::sum_to(g, in->value().shape(), fitted);

        Factor f;
        const bool local_ok = has_local && local.size() > i && local[i].defined();
        const char* pattern = has_local ? local_pattern(n, i) : nullptr;
        f.symbol = local_ok ? t.symbol(n, i, pattern) : t.d(&n, in);
        if (local_ok) {
            f.text = t.num(local[i]);
            f.scalar = local[i].numel() == 1 && grad.numel() == 1;
            if (f.scalar) f.value = local[i].item();
        }

        const bool first = ++t.contributions[in] == 1;
        std::vector<std::string> parts;
        const std::string lhs = t.d(t.root, in) + (first ? " = " : " += ");
        std::string result = t.num(fitted);
        if (broadcast) result += " (summed to shape " + in->value().shape().str() + ")";
        if (at_root && local_ok) {
            // A generic symbol at the root would only repeat the left-hand side.
            parts = {pattern ? f.symbol : "", f.text, result};
        } else if (local_ok) {
            parts = {product({t.d(t.root, &n), t.d(&n, in)}), product({upstream, f.symbol}),
                     product({upstream, f.text}), result};
        } else {
            parts = {product({t.d(t.root, &n), t.d(&n, in)}), result};
        }
        os << "  " << lhs << equalities(parts);
        if (!local_ok) os << "  [vector-Jacobian product of " << n.op() << "]";
        os << "\n";

        // Extend every path to n by this factor ("1" adds nothing to a product).
        std::vector<Term> extended;
        if (!source_collapsed && source_terms.size() <= kMaxTerms) {
            for (const Term& term : source_terms) {
                Term next = term;
                if (f.symbol != "1") next.push_back(f);
                extended.push_back(std::move(next));
            }
        }
        bool too_long = extended.empty();
        for (const Term& term : extended) too_long = too_long || term.size() > kMaxFactors;
        if (too_long) {
            // Refer to n's gradient by name instead of writing its paths out.
            Factor ref{t.d(t.root, &n), upstream, grad.numel() == 1 ? grad.item() : 0.0,
                       grad.numel() == 1};
            extended = {Term{ref}};
            if (f.symbol != "1") extended[0].push_back(f);
        }
        Expr& target = t.exprs[in];
        target.terms.insert(target.terms.end(), extended.begin(), extended.end());
        if (target.terms.size() > kMaxTerms) target.collapsed = true;

        if (in->is_leaf()) {
            if (first) t.leaves.push_back(in);
            add_into(t.leaf_totals[in], fitted);
        }
    }
}

void trace_end(Trace& t) {
    std::ostream& os = *t.os;
    if (!t.leaves.empty()) {
        os << "chain rule, one product per path from " << t.name(t.root) << ":\n";
    }
    for (const Node* leaf : t.leaves) {
        const Expr& e = t.exprs[leaf];
        const std::string total = t.num(t.leaf_totals[leaf]);
        if (e.collapsed) {
            os << "  " << t.d(t.root, leaf) << " = " << total << "  [more than " << kMaxTerms
               << " paths: see the steps above]\n";
            continue;
        }
        os << "  " << t.d(t.root, leaf) << " = "
           << equalities({t.expr_symbols(e), t.expr_numbers(e), total}) << "\n";
    }
    os.flush();
}

// The innermost live guard of this thread traces; an outer one waits until it ends.
thread_local const void* t_active = nullptr;

class TraceObserver : public GraphObserver {
public:
    TraceObserver(std::ostream& os, int precision) {
        trace_.os = &os;
        trace_.precision = precision;
    }
    void on_backward_begin(Node* const* roots, const Array* const* seeds, std::size_t n,
                           bool) override {
        if (t_active != this) return;
        depth_ = depth_ + 1;
        if (depth_ == 1 && n > 0) trace_begin(trace_, *roots[0], *seeds[0]);
    }
    void on_backward_node(const Node& node, const Array& grad, const Array* const* grads,
                          std::size_t n) override {
        if (t_active == this && depth_ == 1) trace_node(trace_, node, grad, grads, n);
    }
    void on_backward_end() override {
        if (t_active != this || depth_ == 0) return;
        if (--depth_ == 0) trace_end(trace_);
    }

private:
    Trace trace_;
    int depth_ = 0;  // a backward nested in a rule (a custom op's) is not traced
};

}  // namespace

struct BackwardTraceGuard::State {
    State(std::ostream& os, int precision) : observer(os, precision), registration(observer) {}
    TraceObserver observer;
    ObserverGuard registration;
    const void* previous = nullptr;
};

BackwardTraceGuard::BackwardTraceGuard(std::ostream& os, int precision)
    : state_(std::make_unique<State>(os, precision)) {
    state_->previous = t_active;
    t_active = &state_->observer;
}

BackwardTraceGuard::~BackwardTraceGuard() {
    t_active = state_->previous;
    state_.reset();
}

}  // namespace xgrad
