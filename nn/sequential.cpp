#include "nn/sequential.h"

namespace xgrad::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
    modules_.push_back(register_module(std::to_string(modules_.size()), std::move(module)));
}

Tensor Sequential::forward(const Tensor& input) {
    check_not_moved_from("forward");
    Tensor x = input;
    for (const auto& m : modules_) x = m->forward(x);
    return x;
}

const std::shared_ptr<Module>& Sequential::operator[](std::size_t i) const {
    if (i >= modules_.size()) {
        throw std::out_of_range("Sequential: index " + std::to_string(i) + " out of range (size " +
                                std::to_string(modules_.size()) + ")");
    }
    return modules_[i];
}

}  // namespace xgrad::nn
