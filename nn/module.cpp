#include "nn/module.h"

#include <ostream>
#include <sstream>
#include <stdexcept>

namespace xgrad::nn {

Module::Module(std::string name) : name_(std::move(name)) {}

Tensor Module::forward(const Tensor&) {
    throw std::logic_error(name_ +
                           ": this module has no single-input forward (call its own methods, or "
                           "override forward(const Tensor&))");
}

void Module::check_name(const std::string& name) const {
    if (name.empty() || name.find('.') != std::string::npos) {
        throw std::invalid_argument(name_ + ": names must be non-empty and contain no '.' (got \"" +
                                    name + "\")");
    }
    for (const auto& p : params_) {
        if (p.first == name) {
            throw std::invalid_argument(name_ + ": a parameter named \"" + name +
                                        "\" is already registered");
        }
    }
    for (const auto& c : children_) {
        if (c.first == name) {
            throw std::invalid_argument(name_ + ": a submodule named \"" + name +
                                        "\" is already registered");
        }
    }
}

Tensor Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
    check_name(name);
    if (!tensor.defined()) {
        throw std::invalid_argument(name_ + ": parameter \"" + name + "\" is an undefined tensor");
    }
    if (!tensor.is_leaf()) {
        throw std::invalid_argument(name_ + ": parameter \"" + name +
                                    "\" must be a leaf (got the output of '" + tensor.op() +
                                    "'; use detach())");
    }
    tensor.set_requires_grad(requires_grad);
    params_.emplace_back(std::move(name), tensor);
    return tensor;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
    check_name(name);
    if (!module) {
        throw std::invalid_argument(name_ + ": submodule \"" + name + "\" is a null pointer");
    }
    children_.emplace_back(std::move(name), std::move(module));
}

const Tensor& Module::parameter(const std::string& name) const {
    for (const auto& p : params_) {
        if (p.first == name) return p.second;
    }
    throw std::invalid_argument(name_ + ": no parameter named \"" + name + "\"");
}

void Module::collect(const std::string& prefix, bool recurse, std::vector<NamedTensor>& out) const {
    for (const auto& p : params_) out.emplace_back(prefix + p.first, p.second);
    if (!recurse) return;
    for (const auto& c : children_) c.second->collect(prefix + c.first + ".", true, out);
}

std::vector<NamedTensor> Module::named_parameters(bool recurse) const {
    std::vector<NamedTensor> out;
    collect("", recurse, out);
    return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& p : named_parameters(recurse)) out.push_back(std::move(p.second));
    return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& c : children_) out.push_back(c.second);
    return out;
}

void Module::zero_grad() {
    for (auto& p : params_) p.second.zero_grad();
    for (auto& c : children_) c.second->zero_grad();
}

void Module::train(bool on) {
    training_ = on;
    for (auto& c : children_) c.second->train(on);
}

void Module::to(DType dtype) {
    for (auto& p : params_) {
        if (p.second.dtype() == dtype) continue;
        // NOTE: the accumulator is read with the value's dtype, so it goes before the value
        // changes dtype.
        p.second.zero_grad();
        p.second.mutable_value() = p.second.value().cast(dtype);
    }
    for (auto& c : children_) c.second->to(dtype);
}

void Module::pretty_print(std::ostream& os) const { os << name_ << "()"; }

namespace {
void print_tree(std::ostream& os, const Module& m, const std::string& indent) {
    if (m.named_children().empty()) {
        m.pretty_print(os);
        return;
    }
    // A container prints its type name and its children, one per line, indented.
    os << m.name() << "(\n";
    for (const auto& c : m.named_children()) {
        os << indent << "  (" << c.first << "): ";
        print_tree(os, *c.second, indent + "  ");
        os << "\n";
    }
    os << indent << ")";
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& module) {
    print_tree(os, module, "");
    return os;
}

std::string to_string(const Module& module) {
    std::ostringstream os;
    os << module;
    return os.str();
}

}  // namespace xgrad::nn
