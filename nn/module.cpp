#include "nn/module.h"

#include <ostream>
#include <sstream>
#include <stdexcept>

#include "nn/detail/random.h"

namespace xgrad::nn {

Module::Module(std::string name) : name_(std::move(name)) {}

// NOTE: the name is copied, not moved, so that errors about the moved-from module still say
// what it was ("Linear: forward on a moved-from module").
Module::Module(Module&& other)
    : name_(other.name_),
      params_(std::move(other.params_)),
      buffers_(std::move(other.buffers_)),
      children_(std::move(other.children_)),
      training_(other.training_),
      has_default_draw_(other.has_default_draw_),
      default_draw_(other.default_draw_),
      default_fingerprint_(other.default_fingerprint_) {
    other.params_.clear();
    other.buffers_.clear();
    other.children_.clear();
    other.moved_from_ = true;
    other.has_default_draw_ = false;
}

Module& Module::operator=(Module&& other) {
    if (this == &other) return *this;
    name_ = other.name_;
    params_ = std::move(other.params_);
    buffers_ = std::move(other.buffers_);
    children_ = std::move(other.children_);
    training_ = other.training_;
    moved_from_ = other.moved_from_;
    has_default_draw_ = other.has_default_draw_;
    default_draw_ = other.default_draw_;
    default_fingerprint_ = other.default_fingerprint_;
    other.params_.clear();
    other.buffers_.clear();
    other.children_.clear();
    other.moved_from_ = true;
    other.has_default_draw_ = false;
    return *this;
}

void Module::check_not_moved_from(const char* op) const {
    if (!moved_from_) return;
    throw std::logic_error(name_ + ": " + op +
                           " on a moved-from module (its parameters and submodules now belong "
                           "to the module it was moved into; use that one)");
}

namespace {

// FNV-1a over every parameter's dtype, shape and bytes: cheap next to initialising them, and
// any change of a value, a shape or a dtype changes it (up to hash collisions).
std::uint64_t fingerprint(const std::vector<NamedTensor>& params) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    const auto mix = [&h](const unsigned char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    };
    for (const auto& [name, t] : params) {
        const Array& v = t.value();
        const auto dtype = static_cast<unsigned char>(v.dtype());
        mix(&dtype, 1);
        for (std::size_t d : v.shape().vec()) {
            mix(reinterpret_cast<const unsigned char*>(&d), sizeof d);
        }
        mix(static_cast<const unsigned char*>(v.raw()), v.nbytes());
    }
    return h;
}

}  // namespace

void Module::record_default_draw(const detail::SeedDraw& draw) {
    has_default_draw_ = true;
    default_draw_ = draw;
    default_fingerprint_ = fingerprint(params_);
}

void Module::reseed_default(std::uint64_t) {
    throw std::logic_error(name_ + ": reseed_default is not implemented for this module");
}

bool Module::default_state_untouched() const {
    return has_default_draw_ && fingerprint(params_) == default_fingerprint_;
}

void Module::deal_default_draws(const std::vector<std::shared_ptr<Module>>& fresh, long own_refs) {
    // Every module that recorded a draw of the current stream, in registration order: each
    // fresh child, then its subtree depth-first (an explicit stack: no recursion).
    const detail::SeedDraw now = detail::default_stream_position();
    std::vector<Module*> drew;
    for (const auto& child : fresh) {
        if (child.use_count() != own_refs) continue;  // also held elsewhere: built earlier
        std::vector<Module*> stack{child.get()};
        while (!stack.empty()) {
            Module* m = stack.back();
            stack.pop_back();
            if (m->has_default_draw_ && m->default_draw_.stream == now.stream &&
                m->default_draw_.index < now.index) {
                drew.push_back(m);
            }
            for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it) {
                stack.push_back(it->second.get());
            }
        }
    }
    // The arguments' draws are the stream's latest ones: the block of consecutive indices that
    // ends at the current position. Older draws belong to modules built before the call.
    std::vector<const detail::SeedDraw*> by_index(drew.size(), nullptr);
    std::size_t block = 0;
    for (;;) {
        bool found = false;
        for (Module* m : drew) {
            if (m->default_draw_.index + block + 1 == now.index) {
                if (block < by_index.size()) by_index[block] = &m->default_draw_;
                found = true;
            }
        }
        if (!found) break;
        ++block;
    }
    if (block < 2) return;
    const std::uint64_t base = now.index - block;
    std::vector<detail::SeedDraw> draws(block);  // draws[i]: the draw of index base + i
    for (std::size_t b = 0; b < block; ++b) draws[block - 1 - b] = *by_index[b];
    // The j-th module in registration order takes draw base + j, as if built j-th. A module
    // changed since its draw (values set by hand, a Dropout that drew masks) keeps its state
    // but still takes its place, so that the others' draws do not depend on the order either.
    std::size_t j = 0;
    for (Module* m : drew) {
        if (m->default_draw_.index < base) continue;
        const detail::SeedDraw& target = draws[j++];
        if (m->default_draw_.index == target.index || !m->default_state_untouched()) continue;
        m->reseed_default(target.seed);
        m->record_default_draw(target);
    }
}

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
    for (const auto& b : buffers_) {
        if (b.first == name) {
            throw std::invalid_argument(name_ + ": a buffer named \"" + name +
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

Tensor Module::register_buffer(std::string name, Tensor tensor) {
    check_name(name);
    if (!tensor.defined()) {
        throw std::invalid_argument(name_ + ": buffer \"" + name + "\" is an undefined tensor");
    }
    if (!tensor.is_leaf()) {
        throw std::invalid_argument(name_ + ": buffer \"" + name +
                                    "\" must be a leaf (got the output of '" + tensor.op() +
                                    "'; use detach())");
    }
    tensor.set_requires_grad(false);
    buffers_.emplace_back(std::move(name), tensor);
    return tensor;
}

void Module::set_extra_state(const Tensor& state) {
    if (state.defined()) {
        throw std::invalid_argument(name_ + ": set_extra_state: this module keeps no extra state " +
                                    "(got a tensor of shape " + state.shape().str() + ")");
    }
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

// Depth-first, parents first: the order named_parameters() has always had. Module trees are
// shallow (a few levels), so this recursion is over modules, never over the graph.
void Module::collect(const std::string& prefix, bool recurse, bool buffers,
                     std::vector<NamedTensor>& out) const {
    for (const auto& p : buffers ? buffers_ : params_) out.emplace_back(prefix + p.first, p.second);
    if (!recurse) return;
    for (const auto& c : children_) c.second->collect(prefix + c.first + ".", true, buffers, out);
}

std::vector<NamedTensor> Module::named_parameters(bool recurse) const {
    std::vector<NamedTensor> out;
    collect("", recurse, /*buffers=*/false, out);
    return out;
}

std::vector<NamedTensor> Module::named_buffers(bool recurse) const {
    std::vector<NamedTensor> out;
    collect("", recurse, /*buffers=*/true, out);
    return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
    // Pre-order, as PyTorch's named_modules(), with an explicit stack.
    std::vector<std::pair<std::string, const Module*>> out, stack{{"", this}};
    while (!stack.empty()) {
        auto [path, m] = stack.back();
        stack.pop_back();
        out.emplace_back(path, m);
        const std::string prefix = path.empty() ? "" : path + ".";
        for (auto c = m->children_.rbegin(); c != m->children_.rend(); ++c) {
            stack.emplace_back(prefix + c->first, c->second.get());
        }
    }
    return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    for (auto& [name, m] : static_cast<const Module*>(this)->named_modules()) {
        out.emplace_back(name, const_cast<Module*>(m));
    }
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
        p.second.set_data(p.second.value().cast(dtype));
    }
    for (auto& b : buffers_) {
        // NOTE: as PyTorch's to(dtype), only floating buffers convert (a step counter stays
        // int64); set_data, since an in-place assignment must keep the dtype.
        const DType from = b.second.dtype();
        if (from != dtype && is_floating_point(from) && is_floating_point(dtype)) {
            b.second.set_data(b.second.value().cast(dtype));
        }
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
