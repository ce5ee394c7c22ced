#include "autograd/function.h"

#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

// A custom op's functions, shared by the nodes it records.
struct CustomFns {
    CustomBackward backward, differentiable;
};
using CustomParams = std::shared_ptr<const CustomFns>;

TensorGrads custom_rule(const OpContext& ctx, const Tensor& grad) {
    const CustomFns& fns = *ctx.params<CustomParams>();
    const char* name = ctx.node().op();
    std::vector<Tensor> in(ctx.num_inputs());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = ctx.input(i);
    std::vector<Tensor> gs;
    if (grad_enabled()) {  // create_graph: the engine records this backward
        if (!fns.differentiable) {
            throw std::logic_error(std::string("custom op '") + name +
                                   "' has no double backward; give it a differentiable backward "
                                   "(custom_op's differentiable_backward argument) to use it with "
                                   "create_graph=true");
        }
        gs = fns.differentiable(in, ctx.output(), grad);
    } else {
        gs = fns.backward(in, ctx.output(), grad);
    }
    if (gs.size() != in.size()) {
        throw std::logic_error(std::string(name) + ": backward returned " +
                               std::to_string(gs.size()) + " gradients for " +
                               std::to_string(in.size()) + " inputs");
    }
    TensorGrads out = TensorGrads::sized(gs.size());
    for (std::size_t i = 0; i < gs.size(); ++i) {
        if (gs[i].defined() && ctx.needs_grad(i)) out[i] = std::move(gs[i]);
    }
    return out;
}

// One record per custom op name, kept for good (nodes point at it).
const OpDef& custom_def(const std::string& name) {
    static std::mutex mutex;
    static auto* defs = new std::unordered_map<std::string, std::unique_ptr<OpDef>>;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = defs->find(name);
    if (it != defs->end()) return *it->second;
    auto def = std::make_unique<OpDef>();
    auto key = std::make_unique<std::string>(name);
    def->name = key->c_str();
    def->backward = &custom_rule;
    def->destroy_params = destroy_params_of<CustomParams>();
    static auto* names = new std::vector<std::unique_ptr<std::string>>;
    names->push_back(std::move(key));
    return *defs->emplace(name, std::move(def)).first->second;
}

Tensor make_custom(const std::string& name, const std::vector<Tensor>& inputs,
                   const CustomForward& forward, CustomBackward backward,
                   CustomBackward differentiable) {
    if (!forward || !backward) {
        throw std::invalid_argument(name + ": custom_op needs both a forward and a backward");
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw std::invalid_argument(name + ": input " + std::to_string(i) + " is undefined");
        }
    }
    Tensor out;
    {
        NoGradGuard no_grad;
        out = forward(inputs);
    }
    if (!out.defined()) throw std::logic_error(name + ": forward returned an undefined tensor");
    return record(custom_def(name), out.value(), inputs,
                  std::make_shared<const CustomFns>(
                      CustomFns{std::move(backward), std::move(differentiable)}));
}

}  // namespace

Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, const CallSite&) {
    return make_custom(name, inputs, forward, std::move(backward), nullptr);
}

Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, CustomBackward differentiable_backward, const CallSite&) {
    return make_custom(name, inputs, forward, std::move(backward),
                       std::move(differentiable_backward));
}

}  // namespace xgrad
