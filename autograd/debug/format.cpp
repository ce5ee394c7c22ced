// Number formatting for the debugging tools, and how a node's folded scalar reads.

#include "autograd/debug/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace xgrad {

namespace detail {

// ---------------------------------------------------------------------------------------------
// Formatting

bool folded_scalar(const Node& node, FoldedScalar& out) {
    const OpDef& def = node.def();
    if (def.scalar_op == 0 || node.is_leaf()) return false;
    out = FoldedScalar{def.scalar_op, node.params<double>(), def.scalar_left};
    return true;
}

std::string folded_expression(const FoldedScalar& f, const std::string& x, int precision) {
    const std::string c = format_number(f.value, precision), sym = std::string(" ") + f.op + " ";
    return f.scalar_left ? c + sym + x : x + sym + c;
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

}  // namespace detail

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

}  // namespace xgrad
