#pragma once
// Internal to xgrad::nn: in-place access to a leaf's accumulated gradient, for optimizers and
// gradient clipping. Not installed.
//
// NOTE: Tensor::grad() returns a copy, which would cost every optimizer step a full copy (and an
// allocation) of every parameter's gradient, and gives clipping nothing to write to. This is the
// one place nn reads the engine's Node: the accumulator is `grad_`, valid while has_grad_ is
// set, laid out like the node's value.

#include "autograd/node.h"

namespace xgrad::nn::detail {

/// The gradient of leaf `p` as T* (T = its dtype), or nullptr when it has none (no backward
/// reached it since creation or the last zero_grad()).
template <class T>
T* grad_data(const Tensor& p) {
    Node* n = p.node();
    if (n == nullptr || !n->has_grad_) return nullptr;
    return static_cast<T*>(n->grad_.get(n->value_.nbytes()));
}

}  // namespace xgrad::nn::detail
