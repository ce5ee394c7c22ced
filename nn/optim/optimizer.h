#pragma once
// Optimizer: the base of SGD, Adam and AdamW. It holds handles to the parameters (the same
// nodes the model holds), a learning rate, and per-parameter state created lazily by step().

#include <cstddef>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace xgrad::nn::optim {

/// Base class. A step skips parameters that have no gradient (none accumulated since creation
/// or the last zero_grad()), so frozen or unused parameters are left alone.
///
/// State is a list of named tensors, "<parameter>.<buffer>" (e.g. "0.weight.momentum_buffer",
/// "fc1.bias.exp_avg"), created at a parameter's first step; `state()` exposes it for saving and
/// `load_state()` restores it.
///
/// Example:
///   optim::SGD opt(net->named_parameters(), optim::SGDOptions(0.1).momentum(0.9));
///   for (...) { opt.zero_grad(); loss(net->forward(x), y).backward(); opt.step(); }
class Optimizer {
public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    /// Updates every parameter that has a gradient.
    virtual void step() = 0;
    /// Forgets every parameter's gradient.
    void zero_grad();

    double lr() const { return lr_; }
    /// Sets the learning rate; throws std::invalid_argument unless finite and >= 0.
    void set_lr(double lr);
    const std::vector<Tensor>& params() const { return params_; }
    /// "SGD", "Adam", "AdamW".
    const std::string& name() const { return name_; }

    /// The state tensors created so far, named "<parameter>.<buffer>". The tensors are the
    /// optimizer's own (writing into them changes its state).
    std::vector<NamedTensor> state() const;
    /// Replaces the state with `state`, as state() returned it: values are copied, and a
    /// parameter without entries has no state afterwards (as if it had never stepped). Checks
    /// everything first and changes nothing when it throws std::invalid_argument: for an unknown
    /// parameter or buffer name, a repeated entry, a shape or dtype that does not fit, or a
    /// parameter given some of its buffers but not all.
    void load_state(const std::vector<NamedTensor>& state);
    /// Zero tensors for every buffer of every parameter, named, shaped and typed as state()
    /// shows them once every parameter has stepped: the targets to read a saved state into.
    /// Example:
    ///   Adam(net->named_parameters()).state_layout()   // "0.weight.step" (), "0.weight.exp_avg"
    ///                                                  // (in, out), "0.weight.exp_avg_sq", ...
    std::vector<NamedTensor> state_layout() const;

protected:
    /// Parameters named "0", "1", ... in state(). Throws std::invalid_argument for an empty
    /// list, an undefined or non-leaf tensor, or a tensor given twice.
    Optimizer(std::string name, std::vector<Tensor> params, double lr);
    /// Parameters named as given (e.g. from Module::named_parameters()).
    Optimizer(std::string name, const std::vector<NamedTensor>& params, double lr);

    /// The buffers each parameter may have, in order: name and whether it is a scalar (else it
    /// has the parameter's shape and dtype).
    struct BufferSpec {
        const char* name;
        bool scalar;
    };
    virtual std::vector<BufferSpec> buffer_specs() const = 0;
    /// Buffer `b` (an index into buffer_specs()) of parameter i, or nullptr before it exists.
    Tensor* buffer(std::size_t i, std::size_t b);
    /// Creates buffer `b` of parameter i, zero-filled (scalars are float64).
    Tensor& create_buffer(std::size_t i, std::size_t b);
    /// Throws std::logic_error naming the parameter when a parameter's shape or dtype no longer
    /// matches its state (Module::to() after a step). A step calls it before updating anything,
    /// so a failed step changes neither parameters nor state.
    void check_state_matches_params() const;

    /// Throws std::invalid_argument "<name>: <what> must be ... (got v)" unless lo <= v <= hi
    /// (or lo <= v < hi when `hi_open`), and v is finite.
    void check_range(const char* what, double v, double lo, double hi, bool hi_open = false) const;

private:
    std::string name_;
    std::vector<std::string> names_;
    std::vector<Tensor> params_;
    std::vector<std::vector<Tensor>> buffers_;  // [param][buffer], undefined until created
    double lr_;
};

}  // namespace xgrad::nn::optim
