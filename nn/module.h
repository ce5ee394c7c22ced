#pragma once
// Module: the base of every layer and model. Parameters and submodules are registered by name;
// the tree of names gives `named_parameters()` its dotted names ("0.weight", "fc1.bias").
//
// Modules are used through std::shared_ptr, as in the PyTorch C++ frontend: a parent holds its
// children by shared_ptr, and a parameter is a Tensor handle, so a module and whoever else holds
// its parameters (an optimizer) see the same values. Modules are not copyable (a copy would
// silently share every parameter); they are movable, so a freshly built module can be handed to
// a Sequential by value.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn {

/// A named tensor: what `named_parameters()` and optimizer `state()` return.
using NamedTensor = std::pair<std::string, Tensor>;

namespace detail {
/// A seed drawn from nn::manual_seed's stream, and where: the stream (one per manual_seed()
/// call) and the number of draws before it in that stream.
struct SeedDraw {
    std::uint64_t stream = 0;
    std::uint64_t index = 0;
    std::uint64_t seed = 0;
};
}  // namespace detail

/// Base class of layers and models.
///
/// Example, a model of your own:
///   struct Net : nn::Module {
///       Net() : Module("Net") {
///           fc1 = register_module("fc1", std::make_shared<nn::Linear>(2, 2));
///           fc2 = register_module("fc2", std::make_shared<nn::Linear>(2, 1));
///       }
///       Tensor forward(const Tensor& x) override { return fc2->forward(sigmoid(fc1->forward(x)));
///       } std::shared_ptr<nn::Linear> fc1, fc2;
///   };
///   auto net = std::make_shared<Net>();
///   net->named_parameters();   // fc1.weight, fc1.bias, fc2.weight, fc2.bias
///   std::cout << *net;         // Net(\n  (fc1): Linear(in=2, out=2, bias=true)\n  ...)
class Module {
public:
    /// `name` is the type name shown in printouts ("Linear", "Net").
    explicit Module(std::string name);
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    /// A moved-from module is left empty and marked so: using it is a clear error (see
    /// check_not_moved_from), not a silent identity or an undefined tensor.
    Module(Module&& other);
    Module& operator=(Module&& other);

    /// The module's computation on one input. The default throws std::logic_error: modules with
    /// other signatures define their own methods.
    virtual Tensor forward(const Tensor& input);
    /// Same as forward(input).
    Tensor operator()(const Tensor& input) { return forward(input); }

    /// Parameters of this module, then of each submodule in registration order (recursively
    /// unless `recurse` is false).
    std::vector<Tensor> parameters(bool recurse = true) const;
    /// Parameters with dotted names: "weight", "0.weight", "fc1.bias".
    std::vector<NamedTensor> named_parameters(bool recurse = true) const;
    /// Buffers (state that is saved with the model but not trained, e.g. running statistics)
    /// with dotted names, in the same order as named_parameters().
    std::vector<NamedTensor> named_buffers(bool recurse = true) const;
    /// Direct submodules in registration order.
    std::vector<std::shared_ptr<Module>> children() const;
    /// Every module of the tree with its dotted path ("" for this one, then "0", "fc1.drop"),
    /// parents before children.
    std::vector<std::pair<std::string, Module*>> named_modules();
    std::vector<std::pair<std::string, const Module*>> named_modules() const;
    /// Direct submodules with their names.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
        return children_;
    }

    /// Forgets the accumulated gradient of every parameter (recursively).
    void zero_grad();
    /// Sets training mode here and in every submodule (Dropout drops only in training mode).
    virtual void train(bool on = true);
    /// Same as train(false).
    void eval() { train(false); }
    bool is_training() const { return training_; }
    /// Converts every parameter and floating buffer to `dtype` in place (gradients are dropped;
    /// int64 and bool buffers keep their dtype, as PyTorch).
    void to(DType dtype);

    /// The type name given at construction.
    const std::string& name() const { return name_; }
    /// One line describing this module alone, e.g. "Linear(in=2, out=3, bias=true)". The
    /// default prints name() + "()". operator<< uses it for modules without submodules; a
    /// module with submodules prints as its name and its children.
    virtual void pretty_print(std::ostream& os) const;

    /// Registers a parameter under `name` and returns it (a handle to the same node). Marks it
    /// requires_grad unless told otherwise. Throws std::invalid_argument for an empty or dotted
    /// name, a name already used, or an undefined or non-leaf tensor.
    Tensor register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
    /// Registers a submodule under `name` and returns it (same name rules).
    template <class M>
    std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
        add_child(std::move(name), module);
        return module;
    }
    /// The parameter registered here as `name`; throws std::invalid_argument if there is none.
    const Tensor& parameter(const std::string& name) const;
    /// Registers a buffer: a leaf tensor saved in checkpoints with the parameters but never
    /// given to an optimizer (requires_grad is turned off). Same name rules as parameters.
    Tensor register_buffer(std::string name, Tensor tensor);

    /// State beyond parameters and buffers that a checkpoint must carry to resume exactly (as
    /// PyTorch's get_extra_state), e.g. Dropout's random generator; an undefined Tensor (the
    /// default) means none. Saved as "<path>._extra_state".
    virtual Tensor get_extra_state() const { return {}; }
    /// Restores what get_extra_state() returned. Throws std::invalid_argument when `state` does
    /// not fit, and then changes nothing.
    virtual void set_extra_state(const Tensor& state);

    /// Whether this module's contents were moved into another module.
    bool is_moved_from() const { return moved_from_; }

protected:
    /// Throws std::logic_error "<name>: <op> on a moved-from module ..." when this module's
    /// contents were moved into another one.
    void check_not_moved_from(const char* op) const;

    /// A layer that initialises itself from nn::manual_seed's stream (rather than from a seed
    /// it was given) records the draw here, right after initialising its parameters.
    void record_default_draw(const detail::SeedDraw& draw);
    /// Re-initialises this module as if its recorded draw had given `seed` (the default throws
    /// std::logic_error: only modules that record a draw override it).
    virtual void reseed_default(std::uint64_t seed);
    /// Whether the state is still exactly what the recorded draw made: by default, whether the
    /// module's own parameters are bit-identical to their values when the draw was recorded.
    virtual bool default_state_untouched() const;

    /// Makes initialisation independent of the order in which the compiler evaluated the
    /// arguments that built `fresh` (C++ leaves it unspecified; g++ goes right to left): the
    /// seeds drawn while building them (the stream's latest draws) are dealt out again in
    /// registration order, pre-order over their subtrees, so a container built from an
    /// argument list gets the weights the same modules get when built and added one by one.
    /// Modules held elsewhere too (`own_refs` is the number of references this container
    /// holds) and draws older than that block are left alone; a module changed since its draw
    /// keeps its state (and its place in the order).
    void deal_default_draws(const std::vector<std::shared_ptr<Module>>& fresh, long own_refs);

private:
    void add_child(std::string name, std::shared_ptr<Module> module);
    void check_name(const std::string& name) const;
    void collect(const std::string& prefix, bool recurse, bool buffers,
                 std::vector<NamedTensor>& out) const;

    std::string name_;
    std::vector<NamedTensor> params_;
    std::vector<NamedTensor> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
    bool moved_from_ = false;
    bool has_default_draw_ = false;
    detail::SeedDraw default_draw_;
    std::uint64_t default_fingerprint_ = 0;  // of params_ when the draw was recorded
};

/// Prints the module tree:
///   Sequential(
///     (0): Linear(in=2, out=2, bias=true)
///     (1): Sigmoid()
///   )
std::ostream& operator<<(std::ostream& os, const Module& module);

/// "Sequential(...)" as operator<< prints it.
std::string to_string(const Module& module);

}  // namespace xgrad::nn
