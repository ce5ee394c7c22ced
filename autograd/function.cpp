#include "autograd/function.h"

#include <mutex>
#include <stdexcept>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace xgrad {

namespace {
// Nodes keep their op name as a const char*; user names are interned once, for good.
const char* intern(const std::string& name) {
    static std::mutex mutex;
    static std::unordered_set<std::string> names;
    std::lock_guard<std::mutex> lock(mutex);
    return names.insert(name).first->c_str();
}

Tensor handle(const Node* n) {
    Node* node = const_cast<Node*>(n);
    node->retain();
    return Tensor::adopt(node);
}
}  // namespace

Tensor custom_op(const std::string& name, const std::vector<Tensor>& inputs, CustomForward forward,
                 CustomBackward backward, const CallSite&) {
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
    const char* op = intern(name);
    return from_op(op, out.value(), inputs, [op, backward](const Node& self, const Array& grad) {
        std::vector<Tensor> in;
        for (std::size_t i = 0; i < self.num_inputs(); ++i) {
            in.push_back(handle(self.inputs()[i]));
        }
        std::vector<Tensor> gs = backward(in, handle(&self), Tensor(grad));
        if (gs.size() != in.size()) {
            throw std::logic_error(std::string(op) + ": backward returned " +
                                   std::to_string(gs.size()) + " gradients for " +
                                   std::to_string(in.size()) + " inputs");
        }
        std::vector<Array> arrays(gs.size());
        for (std::size_t i = 0; i < gs.size(); ++i) {
            if (gs[i].defined() && self.needs_grad(i)) arrays[i] = gs[i].value();
        }
        return Grads(std::move(arrays));
    });
}

}  // namespace xgrad
