#include "nn/activation.h"

#include <ostream>

#include "autograd/ops.h"

namespace xgrad::nn {

Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return tanh(input); }
Tensor ReLU::forward(const Tensor& input) { return relu(input); }
Tensor Step::forward(const Tensor& input) { return step(input); }

Tensor Softmax::forward(const Tensor& input) { return softmax(input, axis_); }
void Softmax::pretty_print(std::ostream& os) const { os << "Softmax(axis=" << axis_ << ")"; }

Tensor LogSoftmax::forward(const Tensor& input) { return log_softmax(input, axis_); }
void LogSoftmax::pretty_print(std::ostream& os) const { os << "LogSoftmax(axis=" << axis_ << ")"; }

}  // namespace xgrad::nn
