#pragma once
// Internal support of the debugging tools (graph_export.h, trace.h, anomaly.h): number
// formatting, and how a node reads (its folded scalar, from its op record and parameters).

#include <cstddef>
#include <string>

#include "autograd/debug/graph_export.h"
#include "autograd/node.h"
#include "autograd/node_info.h"

namespace xgrad::detail {

// ---- Scalar operands ----
/// `x * 2.0`, `1.0 - x` and the like are one-input add/sub/mul/div nodes with the scalar as the
/// node's parameter (no constant node: see ops/elementwise.cpp); the operator and its side are
/// in the op's record. False for every other node.
struct FoldedScalar {
    char op = 0;               // '+', '-', '*' or '/'
    double value = 0;          // the scalar
    bool scalar_left = false;  // `c - x` or `c / x`
};
bool folded_scalar(const Node& node, FoldedScalar& out);
/// "x * 2", "1 - x": the node's expression, given the operand's display name.
std::string folded_expression(const FoldedScalar& f, const std::string& x, int precision);

// ---- Formatting ----
/// `v` with `precision` significant digits ("%.*g"): "20", "0.1196", "-inf", "nan".
std::string format_number(double v, int precision);
/// Values ("5", "[1, 2]", "[[1, 2], [3, 4]]") up to `max_values` elements; beyond, a summary
/// "mean 0.01, min -2.1, max 2.3" with NaN/Inf counts when there are any.
std::string format_array(const Array& a, std::size_t max_values, int precision);

struct NonFinite {
    std::size_t nan = 0, pos_inf = 0, neg_inf = 0;
    std::size_t total() const { return nan + pos_inf + neg_inf; }
    /// "2 nan, 1 inf" (empty when all finite).
    std::string str() const;
};
NonFinite count_non_finite(const Array& a);

}  // namespace xgrad::detail
