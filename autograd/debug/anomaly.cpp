// Anomaly mode: an observer of the graph (autograd/observer.h) that checks every recorded op's
// forward value and every backward rule's gradients for NaN and Inf, and remembers where each
// node was created (autograd/call_site.h).

#include "autograd/debug/anomaly.h"

#include <vector>

#include "autograd/debug/format.h"
#include "autograd/grad_mode.h"
#include "autograd/observer.h"

namespace xgrad {

namespace {

thread_local int t_anomaly_depth = 0;

std::string describe(const Array& a) {
    const detail::NonFinite bad = detail::count_non_finite(a);
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
    return a.numel() == 1 ? detail::format_number(a.item(), 6)
                          : a.shape().str() + " with " + detail::count_non_finite(a).str() +
                                " of " + std::to_string(a.numel()) + " elements";
}

class AnomalyObserver : public GraphObserver {
public:
    void on_forward(const OpDef& op, const Array& value, const Tensor* const* inputs,
                    std::size_t n) override {
        // Ops run with grad mode off (no_grad evaluation, custom ops' forward and backward) are
        // not checked here; a backward rule's results are checked when the engine gets them.
        if (!grad_enabled() || detail::count_non_finite(value).total() == 0) return;
        std::vector<const Array*> in(n);
        for (std::size_t i = 0; i < n; ++i) in[i] = &inputs[i]->value();
        const CallSite* site = current_call_site();
        const SourceLocation where = site ? site->location() : SourceLocation{};
        throw AnomalyError(std::string(op.name) + ": forward produced a non-finite value (got " +
                               non_finite_summary(value) + ", expected finite) at " + where.str() +
                               "; " + describe_inputs(in.data(), n) +
                               " [anomaly mode stops at the first op producing NaN or Inf]",
                           op.name, /*backward=*/false, where);
    }
    void on_record(Node& node) override {
        if (const CallSite* site = current_call_site()) {
            detail::set_node_location(&node, site->location());
        }
    }
    void on_backward_node(const Node& node, const Array& grad, const Array* const* grads,
                          std::size_t n) override {
        for (std::size_t i = 0; i < n; ++i) {
            if (grads[i] == nullptr || detail::count_non_finite(*grads[i]).total() == 0) continue;
            std::vector<const Array*> in(node.num_inputs());
            for (std::size_t k = 0; k < in.size(); ++k) in[k] = &node.input(k);
            const SourceLocation where = detail::node_location(&node);
            throw AnomalyError(
                std::string(node.op()) + ": backward produced a non-finite gradient for input " +
                    std::to_string(i) + " (got " + non_finite_summary(*grads[i]) +
                    ", expected finite); node created at " + where.str() + "; " +
                    describe_inputs(in.data(), in.size()) + "; upstream gradient " +
                    describe(grad) + " [anomaly mode stops at the first op producing NaN or Inf]",
                node.op(), /*backward=*/true, where);
        }
    }
};

}  // namespace

struct DetectAnomalyGuard::State {
    AnomalyObserver observer;
    ObserverGuard registration{observer};
    CallSiteRequest sites;
};

bool anomaly_enabled() { return t_anomaly_depth > 0; }

DetectAnomalyGuard::DetectAnomalyGuard() {
    // Nested guards: the outermost one observes.
    if (t_anomaly_depth++ == 0) state_ = std::make_unique<State>();
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
    state_.reset();
    --t_anomaly_depth;
}

}  // namespace xgrad
