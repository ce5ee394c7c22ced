#pragma once
// Backward trace: the chain rule as backward applies it, written out with the numbers.

#include <iosfwd>
#include <memory>

namespace xgrad {

/// RAII: while alive, every backward run by this thread prints, node by node in the order the
/// engine processes them, the node's value, the upstream gradient dL/d(node), and for each input
/// that requires grad the local derivative d(node)/d(input) (symbolically for the element-wise
/// ops of ops.h, and as numbers) and the product dL/d(input) += dL/d(node) * d(node)/d(input).
/// After the walk it prints each parameter's gradient expanded as a sum over paths of products
/// of local derivatives, e.g. dLoss/dw1 = ... * a2(1 - a2) * w2 * a1(1 - a1) * x = ... .
///
/// Local derivatives are exact for element-wise ops (the diagonal of their Jacobian: the backward
/// rule run once more with a gradient of ones) and for ops with a one-element output (their
/// gradient). For other ops (matmul, softmax, reductions along axes, reshape, custom ops with
/// more than one output element) only the product, the vector-Jacobian product the rule
/// returned, is printed. Tensors with more than 6 elements print as mean/min/max. Tensors named
/// with set_name() print by name; unnamed ones as t1, t2, ... (ops), leaf1, ... (leaves) or
/// their value (one-element constants). Custom ops' backward runs twice per node while tracing.
///
/// Thread-local: backward calls of other threads are not traced. Off by default; when off, the
/// engine reads one thread-local pointer per backward call and tests it once per node.
/// Example:
///   { BackwardTraceGuard trace(std::cout); loss.backward(); }
class BackwardTraceGuard {
public:
    explicit BackwardTraceGuard(std::ostream& os, int precision = 6);
    ~BackwardTraceGuard();
    BackwardTraceGuard(const BackwardTraceGuard&) = delete;
    BackwardTraceGuard& operator=(const BackwardTraceGuard&) = delete;

private:
    struct State;  // the trace observer and its registration
    std::unique_ptr<State> state_;
};

}  // namespace xgrad
