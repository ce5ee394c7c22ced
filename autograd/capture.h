#pragma once
// Capture and replay: record one run of a function of some input tensors, then run it again,
// forward and backward, on new input values without building a graph.
//
// What capture assumes: the function's control flow and shapes are fixed. Replay recomputes the
// recorded ops, in the recorded order, from the inputs' new values and the parameters' current
// values; it does not run the function again. So a branch on a value (`if (y.item() > 0)`), a
// loop whose length depends on the data, an op run under NoGradGuard or on a detach()ed or
// item()ed value inside the function are frozen at their captured outcome, and so is anything
// that is not an input tensor (class targets given as indices to cross_entropy). Replaying with
// inputs of another shape or dtype is an error; `check()` runs the function afresh on the same
// values and compares, for the cases a shape check cannot see.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad {

/// A captured step. Example (the two-weight net of the course; w1, w2 require grad):
///   Capture step([&](const std::vector<Tensor>& in) {
///       Tensor a2 = sigmoid(sigmoid(in[0] * w1) * w2);
///       return 0.5 * square(a2 - in[1]);
///   }, {scalar(1.5, f64), scalar(0.5, f64)});
///   for (...) {
///       step.replay({x, y});  // forward + backward; inputs of one float64 each, as doubles
///       ... w1.grad(), step.output_value() ...; optimizer step; zero_grad
///   }
/// (Inputs of other shapes or dtypes take Arrays: step.replay({Array::scalar(f32, x), ...}).)
///
/// Two paths, chosen at capture: when every value is one float64 and every op has scalar
/// kernels (OpDef::scalar_forward, the element-wise ops), a flat tape of slots (the scalar tape:
/// no allocation, no node touched per step); otherwise the captured nodes are recomputed in
/// place (OpDef::forward_into) and the engine backpropagates through them, keeping the graph.
/// Either way the gradients are those of the dynamic path bit for bit: the backward visits the
/// nodes in the engine's order and adds contributions in the engine's order. On the scalar tape
/// the common element-wise ops (add, sub, mul, div and their folded-scalar forms, neg, pow,
/// exp, log, sqrt, abs, square, clamp, sigmoid, tanh, relu, step) run inline in the tape's loop
/// (one switch, the op's own rule from autograd/ops/elementwise_ops.h); the others with scalar
/// kernels (pointwise.cpp's, custom ones) through OpDef's function pointers, the same bits.
/// Measured (bench_scalar_graph, bench_course_step; README, "Capture and replay"): 12-14 ns per
/// node on the 10^4..10^6-node chain, like a hand-written tape; the two-weight SGD step with
/// replay({x, y}) 177 ns (bench_course_step, idle machine), where hand-written C++ takes 40.
///
/// A gradient of a replay is added into each parameter's grad() (leaves that require grad and
/// are not inputs), as backward() does; inputs that required grad at capture get theirs too.
/// Observers (anomaly mode, the backward trace) see the captured run, not the replays on the
/// scalar tape. A Capture belongs to one thread at a time; threads replay their own captures
/// at once. Parameters they share: on the scalar tape a replay takes every parameter's
/// gradient lock once, after its forward, and holds them all until its gradients are added
/// (taking them all or none at a time, it never waits while holding one, so it cannot deadlock
/// with another replay or a thread holding GradRefs); a backward, grad(), zero_grad() or
/// GradRef of another thread on one of them waits for the replay's backward and sees its
/// gradient complete. A custom op's scalar backward kernel runs while the locks are held: it
/// must not touch a parameter's gradient. The node path takes each lock as backward does.
class Capture {
public:
    using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
    /// Runs fn(inputs) once, recording (grad mode on, whatever the caller's). `inputs` are
    /// leaves (constants or parameters); they are marked requires_grad while fn runs, so every
    /// op that depends on them is recorded. Throws std::invalid_argument when an input is not a
    /// leaf, when the output does not depend on a parameter or input, or when an op of the
    /// graph cannot be replayed (names it).
    Capture(Fn fn, std::vector<Tensor> inputs);
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    Capture(Capture&&) noexcept;
    Capture& operator=(Capture&&) noexcept;
    ~Capture();

    /// Copies `values` into the inputs, recomputes the output, backpropagates from it with seed
    /// 1 (a one-element output) and adds the gradients into the parameters' grad(). Throws
    /// std::invalid_argument when a value's count, shape or dtype differs from the capture's.
    void replay(const std::vector<Array>& values);
    /// replay() for a capture whose inputs are each one float64 element (any shape: (), (1),
    /// ...): values[i] is input i's new value. The same semantics, without building Arrays:
    /// the scalar graphs' fast step. Throws std::invalid_argument when n differs from the
    /// number of inputs or an input is not one float64 element (then pass Arrays).
    void replay(const double* values, std::size_t n);
    /// replay(values.begin(), values.size()), e.g. `step.replay({x, y})`.
    void replay(std::initializer_list<double> values) { replay(values.begin(), values.size()); }
    /// The output of the last replay (of the capture before the first). On the scalar tape only
    /// the output is rewritten; interior values stay those of the capture.
    const Tensor& output() const { return output_; }
    /// output()'s one element as a double (a float32 output converted), without building a
    /// Tensor: what a training loop prints as its loss.
    double output_value() const;
    /// Replays on `values` without touching any grad(), runs fn afresh on the same values
    /// through the dynamic path, and compares the outputs and every parameter's gradient bit for
    /// bit. Throws std::runtime_error naming the first difference (a branch the capture froze).
    void check(const std::vector<Array>& values);
    /// Whether the scalar tape is in use.
    bool scalar_tape() const { return tape_ != nullptr; }
    /// Steps of the scalar tape that call their op's kernels through OpDef's function pointers
    /// (ops it does not run inline: erf, gelu, a custom op); 0 off the tape.
    std::size_t scalar_tape_calls() const;
    /// Nodes in the captured graph (not counting leaves).
    std::size_t num_nodes() const { return order_.size(); }

private:
    struct Tape;
    void set_inputs(const std::vector<Array>& values);
    // Forward and backward; the parameters' gradients into grads (one per params_ entry).
    void run(std::vector<Array>* grads);

    Fn fn_;
    std::vector<Tensor> inputs_;
    std::vector<bool> input_requires_grad_;
    std::vector<Tensor> params_;  // leaves whose grad() a replay adds into
    Tensor output_;
    std::vector<Node*> order_;  // non-leaf nodes, inputs before consumers
    Tape* tape_ = nullptr;
};

}  // namespace xgrad
