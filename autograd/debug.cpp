// The side table of node names and creation sites, number formatting, the engine's hooks, and
// Tensor::set_name/name.

#include "autograd/debug.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace xgrad {

namespace detail {

namespace {

struct NodeInfo {
    std::string name;
    SourceLocation location;
};

struct InfoTable {
    std::mutex mutex;
    std::unordered_map<const Node*, NodeInfo> map;
};

InfoTable& table() {
    // NOTE: never destroyed: nodes held by static tensors die after static destructors run.
    static InfoTable* t = new InfoTable;
    return *t;
}

}  // namespace

void set_node_name(Node* node, std::string name) {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map[node].name = std::move(name);
    node->flags_ |= Node::kAnnotated;
}

std::string node_name(const Node* node) {
    if (!(node->flags_ & Node::kAnnotated)) return {};
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    auto it = t.map.find(node);
    return it == t.map.end() ? std::string() : it->second.name;
}

void set_node_location(Node* node, SourceLocation location) {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map[node].location = location;
    node->flags_ |= Node::kAnnotated;
}

SourceLocation node_location(const Node* node) {
    if (!(node->flags_ & Node::kAnnotated)) return {};
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    auto it = t.map.find(node);
    return it == t.map.end() ? SourceLocation{} : it->second.location;
}

void forget_node_info(const Node* node) noexcept {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map.erase(node);
}

// ---------------------------------------------------------------------------------------------
// Formatting

bool folded_scalar(const Node& node, FoldedScalar& out) {
    if (node.num_inputs() != 1 || node.is_leaf() || !node.backward_) return false;
    const char* op = node.op();
    const char o = std::strcmp(op, "add") == 0   ? '+'
                   : std::strcmp(op, "sub") == 0 ? '-'
                   : std::strcmp(op, "mul") == 0 ? '*'
                   : std::strcmp(op, "div") == 0 ? '/'
                                                 : 0;
    const Array &x = node.input(0), &y = node.value();
    if (o == 0 || x.numel() == 0) return false;
    // The rule on a gradient of ones gives the local derivative l = dy/dx at element 0.
    Grads local = node.backward_(node, Array::full(y.dtype(), y.shape(), 1.0));
    if (local.size() != 1 || !local[0].defined()) return false;
    const double l = local[0].at(0), xv = x.at(0), yv = y.at(0);
    out = FoldedScalar{};
    out.op = o;
    switch (o) {
        case '*':  // y = c x: l = c
            out.value = l;
            break;
        case '+':  // y = x + c
            out.value = yv - xv;
            break;
        case '-':  // y = x - c (l = 1) or c - x (l = -1)
            out.scalar_left = l < 0;
            out.value = out.scalar_left ? yv + xv : xv - yv;
            break;
        default:  // y = x / c: l = 1/c, so l x = y; y = c / x: l = -c/x^2, so l x = -y
            out.scalar_left = !(std::abs(l * xv - yv) <= 1e-6 * std::max(std::abs(yv), 1e-300));
            out.value = out.scalar_left ? yv * xv : 1.0 / l;
            break;
    }
    return true;
}

std::string folded_expression(const FoldedScalar& f, const std::string& x, int precision) {
    const std::string c = format_number(f.value, precision), sym = std::string(" ") + f.op + " ";
    return f.scalar_left ? c + sym + x : x + sym + c;
}

std::string escape_xml(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string format_number(double v, int precision) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    std::string s = buf;
    return s == "-0" ? "0" : s;
}

std::string NonFinite::str() const {
    std::string s;
    auto part = [&s](std::size_t count, const char* what) {
        if (count == 0) return;
        if (!s.empty()) s += ", ";
        s += std::to_string(count) + " " + what;
    };
    part(nan, "nan");
    part(pos_inf, "inf");
    part(neg_inf, "-inf");
    return s;
}

NonFinite count_non_finite(const Array& a) {
    NonFinite r;
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = a.data<T>();
        for (std::size_t i = 0, n = a.numel(); i < n; ++i) {
            if (std::isnan(p[i])) {
                ++r.nan;
            } else if (std::isinf(p[i])) {
                ++(p[i] > 0 ? r.pos_inf : r.neg_inf);
            }
        }
    });
    return r;
}

std::string format_array(const Array& a, std::size_t max_values, int precision) {
    if (!a.defined()) return "<undefined>";
    const std::size_t n = a.numel();
    if (a.ndim() == 0) return format_number(a.item(), precision);
    if (n <= max_values) {
        // Nested brackets by dimension: an opening bracket for every dimension whose index is
        // 0, a closing one for every dimension whose index wraps.
        const Shape& s = a.shape();
        const std::size_t nd = s.size();
        if (n == 0) return std::string(nd, '[') + std::string(nd, ']');
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t stride = 1, opens = 0;
            for (std::size_t d = nd; d-- > 0;) {
                stride *= s[d];
                if (i % stride == 0) ++opens;
            }
            if (i > 0) out += ", ";
            out += std::string(opens, '[') + format_number(a.at(i), precision);
            std::size_t closes = 0;
            stride = 1;
            for (std::size_t d = nd; d-- > 0;) {
                stride *= s[d];
                if ((i + 1) % stride == 0) ++closes;
            }
            out += std::string(closes, ']');
        }
        return out;
    }
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    std::size_t finite = 0;
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = a.data<T>();
        for (std::size_t i = 0; i < n; ++i) {
            const double v = p[i];
            if (!std::isfinite(v)) continue;
            ++finite;
            sum += v;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    });
    std::string out;
    if (finite > 0) {
        out = "mean " + format_number(sum / static_cast<double>(finite), precision) + ", min " +
              format_number(lo, precision) + ", max " + format_number(hi, precision);
    }
    const NonFinite bad = count_non_finite(a);
    if (bad.total() > 0) out += (out.empty() ? "" : ", ") + bad.str();
    return out;
}

// ---------------------------------------------------------------------------------------------
// The engine's hooks

void BackwardHooks::begin(const Node& root, const Array& seed) {
    if (trace_) trace_begin(root, seed);
}

void BackwardHooks::node(const Node& node, const Array& grad, Grads& grads) {
    // The trace first, so its last line shows the values anomaly mode then reports.
    if (trace_) trace_node(node, grad, grads);
    if (anomaly_) anomaly_check_backward(node, grad, grads);
}

void BackwardHooks::end() {
    if (trace_) trace_end();
}

BackwardHooks* backward_hooks() {
    thread_local BackwardHooks hooks;
    hooks.trace_ = trace_enabled();
    hooks.anomaly_ = anomaly_enabled();
    return hooks.trace_ || hooks.anomaly_ ? &hooks : nullptr;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Names

Tensor& Tensor::set_name(std::string name) {
    if (node_ == nullptr) throw std::logic_error("set_name: undefined tensor");
    detail::set_node_name(node_, std::move(name));
    return *this;
}

std::string Tensor::name() const {
    if (node_ == nullptr) throw std::logic_error("name: undefined tensor");
    return detail::node_name(node_);
}

}  // namespace xgrad
