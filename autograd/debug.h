#pragma once
// Internal support of the debugging features (graph_export.h, trace.h, anomaly.h): the side
// table of node names and creation sites, number formatting, and the hooks the engine and
// from_op call. Everything here is off the hot path: the hooks are reached only behind one
// predictable branch when a trace or anomaly mode is on.

#include <cstddef>
#include <string>

#include "autograd/anomaly.h"
#include "autograd/node.h"

namespace xgrad::detail {

// ---- Side table: names and creation sites ----
// NOTE: a Node carries neither (memory per scalar node is a measured bar). They live in one
// mutex-protected map keyed by node address; a node with an entry has Node::kAnnotated set, and
// ~Node erases the entry only then, so unannotated nodes pay one flag test at destruction.
void set_node_name(Node* node, std::string name);
/// The user's name, or "" when none was given.
std::string node_name(const Node* node);
void set_node_location(Node* node, SourceLocation location);
/// Where the node was created; line 0 when it was not recorded (anomaly mode was off).
SourceLocation node_location(const Node* node);
/// Called by ~Node for annotated nodes.
void forget_node_info(const Node* node) noexcept;

// ---- Scalar operands ----
/// `x * 2.0`, `1.0 - x` and the like are one-input add/sub/mul/div nodes with the scalar inside
/// their rule (no constant node: see ops/elementwise.cpp). The scalar and its side are recovered
/// from the node itself (its value, its input, and its rule run on a gradient of ones), so nodes
/// carry nothing extra for the trace and the DOT export. False for every other node, and for a
/// node whose edges were already released.
struct FoldedScalar {
    char op = 0;               // '+', '-', '*' or '/'
    double value = 0;          // the scalar (for '+' and '-' recovered as y - x: display only)
    bool scalar_left = false;  // `c - x` or `c / x`
};
bool folded_scalar(const Node& node, FoldedScalar& out);
/// "x * 2", "1 - x": the node's expression, given the operand's display name.
std::string folded_expression(const FoldedScalar& f, const std::string& x, int precision);

// ---- Formatting ----
/// `s` with &, <, > and " escaped: for Graphviz HTML labels and SVG text.
std::string escape_xml(const std::string& s);
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

// ---- Anomaly mode (anomaly.cpp) ----
/// from_op, before recording: throws AnomalyError when `value` has a NaN or Inf while this
/// thread is in anomaly mode with grad mode on.
void anomaly_check_forward(const char* op, const Array& value, const Tensor* const* inputs,
                           std::size_t n);
/// from_op, after recording: remembers the current CallSite as the node's creation site.
void anomaly_record_location(Node* node);
/// The engine, after a backward rule: throws AnomalyError when a gradient has a NaN or Inf.
void anomaly_check_backward(const Node& node, const Array& grad, Grads& grads);

// ---- Backward trace (trace.cpp) ----
void trace_begin(const Node& root, const Array& seed);
void trace_node(const Node& node, const Array& grad, Grads& grads);
void trace_end();
bool trace_enabled();

// ---- The engine's hooks ----
/// What run_backward calls when this thread traces backward or runs in anomaly mode.
class BackwardHooks {
public:
    void begin(const Node& root, const Array& seed);
    /// After `node`'s backward rule returned `grads` for upstream gradient `grad`.
    void node(const Node& node, const Array& grad, Grads& grads);
    void end();

private:
    friend BackwardHooks* backward_hooks();
    bool trace_ = false, anomaly_ = false;
};
/// This thread's hooks when a backward trace or anomaly mode is on in it, else null. The
/// engine reads it once per backward call.
BackwardHooks* backward_hooks();

}  // namespace xgrad::detail
