// Anomaly mode: the guard, the call-site capture, and the NaN/Inf checks from_op and the engine
// call while it is on.

#include "autograd/anomaly.h"

#include <vector>

#include "autograd/debug.h"
#include "autograd/grad_mode.h"

namespace xgrad {

namespace detail {
std::atomic<int> g_anomaly_guards{0};
}  // namespace detail

namespace {
thread_local bool t_anomaly = false;
// The outermost live CallSite of this thread while anomaly mode is on: "where the user is".
thread_local const CallSite* t_site = nullptr;
}  // namespace

std::string SourceLocation::str() const {
    if (file == nullptr || line == 0) return "an unknown place";
    return std::string(file) + ":" + std::to_string(line);
}

void CallSite::enter() noexcept {
    // Outermost wins: ops that call other ops (operators on scalars, composites) keep the
    // location of the user's call.
    if (t_anomaly && t_site == nullptr) {
        t_site = this;
        active_ = true;
    }
}

void CallSite::leave() noexcept {
    if (t_site == this) t_site = nullptr;
    active_ = false;
}

bool anomaly_enabled() { return t_anomaly; }

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(t_anomaly) {
    t_anomaly = true;
    detail::g_anomaly_guards.fetch_add(1, std::memory_order_relaxed);
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
    detail::g_anomaly_guards.fetch_sub(1, std::memory_order_relaxed);
    t_anomaly = previous_;
}

namespace detail {

namespace {

std::string describe(const Array& a) {
    const NonFinite bad = count_non_finite(a);
    return a.shape().str() + " " + dtype_name(a.dtype()) +
           (bad.total() == 0 ? std::string(", all finite") : ", has " + bad.str());
}

std::string describe_inputs(const Array* const* inputs, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += (i ? "; input " : "input ") + std::to_string(i) + ": " + describe(*inputs[i]);
    }
    return s.empty() ? "no inputs" : s;
}

std::string non_finite_summary(const Array& a) {
    return a.numel() == 1 ? format_number(a.item(), 6)
                          : a.shape().str() + " with " + count_non_finite(a).str() + " of " +
                                std::to_string(a.numel()) + " elements";
}

}  // namespace

void anomaly_check_forward(const char* op, const Array& value, const Tensor* const* inputs,
                           std::size_t n) {
    // Ops run with grad mode off (no_grad evaluation, custom ops' forward and backward) are not
    // checked here; a backward rule's results are checked when the engine receives them.
    if (!t_anomaly || !grad_enabled() || count_non_finite(value).total() == 0) return;
    std::vector<const Array*> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = &inputs[i]->value();
    const SourceLocation where = t_site ? t_site->location() : SourceLocation{};
    throw AnomalyError(std::string(op) + ": forward produced a non-finite value (got " +
                           non_finite_summary(value) + ", expected finite) at " + where.str() +
                           "; " + describe_inputs(in.data(), n) +
                           " [anomaly mode stops at the first op producing NaN or Inf]",
                       op, /*backward=*/false, where);
}

void anomaly_record_location(Node* node) {
    if (t_anomaly && t_site != nullptr) set_node_location(node, t_site->location());
}

void anomaly_check_backward(const Node& node, const Array& grad, Grads& grads) {
    for (std::size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined() || count_non_finite(grads[i]).total() == 0) continue;
        std::vector<const Array*> in(node.num_inputs());
        for (std::size_t k = 0; k < in.size(); ++k) in[k] = &node.input(k);
        const SourceLocation where = node_location(&node);
        throw AnomalyError(
            std::string(node.op()) + ": backward produced a non-finite gradient " + "for input " +
                std::to_string(i) + " (got " + non_finite_summary(grads[i]) +
                ", expected finite); node created at " + where.str() + "; " +
                describe_inputs(in.data(), in.size()) + "; upstream gradient " + describe(grad) +
                " [anomaly mode stops at the first op producing NaN or Inf]",
            node.op(), /*backward=*/true, where);
    }
}

}  // namespace detail

}  // namespace xgrad
