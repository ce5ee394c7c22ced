#pragma once
// Activation modules: parameter-free wrappers of the engine's activation ops, so they can sit in
// a Sequential.

#include <iosfwd>
#include <string>
#include <utility>

#include "nn/module.h"

namespace xgrad::nn {

/// 1 / (1 + e^-x) element-wise (the course's g). Example: Sequential(Linear(2, 2), Sigmoid()).
class Sigmoid : public Module {
public:
    Sigmoid() : Module("Sigmoid") {}
    Tensor forward(const Tensor& input) override;
};

/// tanh(x) element-wise.
class Tanh : public Module {
public:
    Tanh() : Module("Tanh") {}
    Tensor forward(const Tensor& input) override;
};

/// max(x, 0) element-wise; relu'(0) := 0.
class ReLU : public Module {
public:
    ReLU() : Module("ReLU") {}
    Tensor forward(const Tensor& input) override;
};

/// The perceptron's sign activation: 1 if x >= 0 else -1; its gradient is 0 everywhere, so
/// nothing before it learns by backpropagation.
class Step : public Module {
public:
    Step() : Module("Step") {}
    Tensor forward(const Tensor& input) override;
};

/// softmax along `dim` (default: the last, the class axis of (N, C) logits).
/// Example: Softmax()(logits) gives rows that sum to 1.
/// NOTE: LibTorch's SoftmaxOptions(dim) has no default; -1 is kept here for the course code.
class Softmax : public Module {
public:
    explicit Softmax(int dim = -1) : Module("Softmax"), dim_(dim) {}
    Tensor forward(const Tensor& input) override;
    int dim() const { return dim_; }
    /// "Softmax(dim=-1)", PyTorch's repr.
    void pretty_print(std::ostream& os) const override;

private:
    int dim_;
};

/// log(softmax(x)) along `dim`, computed stably; pair it with nll_loss.
class LogSoftmax : public Module {
public:
    explicit LogSoftmax(int dim = -1) : Module("LogSoftmax"), dim_(dim) {}
    Tensor forward(const Tensor& input) override;
    int dim() const { return dim_; }
    /// "LogSoftmax(dim=-1)".
    void pretty_print(std::ostream& os) const override;

private:
    int dim_;
};

/// GELUOptions().approximate("none" | "tanh"), LibTorch's name and default.
class GELUOptions {
public:
    GELUOptions& approximate(std::string v) {
        approximate_ = std::move(v);
        return *this;
    }
    const std::string& approximate() const { return approximate_; }

private:
    std::string approximate_ = "none";
};

/// x Phi(x) (Phi the standard normal CDF), or PyTorch's tanh approximation
/// x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2. Example:
/// GELU(GELUOptions().approximate("tanh")). Throws std::invalid_argument at construction for
/// another approximate string.
class GELU : public Module {
public:
    explicit GELU(const GELUOptions& options = {});
    Tensor forward(const Tensor& input) override;
    const GELUOptions& options() const { return options_; }
    /// "GELU(approximate='none')".
    void pretty_print(std::ostream& os) const override;

private:
    GELUOptions options_;
};

/// x sigmoid(x) (swish).
class SiLU : public Module {
public:
    SiLU() : Module("SiLU") {}
    Tensor forward(const Tensor& input) override;
};

/// LeakyReLUOptions().negative_slope(0.01).
class LeakyReLUOptions {
public:
    LeakyReLUOptions& negative_slope(double v) {
        negative_slope_ = v;
        return *this;
    }
    double negative_slope() const { return negative_slope_; }

private:
    double negative_slope_ = 0.01;
};

/// x for x > 0, else negative_slope x.
class LeakyReLU : public Module {
public:
    explicit LeakyReLU(const LeakyReLUOptions& options = {})
        : Module("LeakyReLU"), options_(options) {}
    Tensor forward(const Tensor& input) override;
    const LeakyReLUOptions& options() const { return options_; }
    /// "LeakyReLU(negative_slope=0.01)".
    void pretty_print(std::ostream& os) const override;

private:
    LeakyReLUOptions options_;
};

/// ELUOptions().alpha(1).
class ELUOptions {
public:
    ELUOptions& alpha(double v) {
        alpha_ = v;
        return *this;
    }
    double alpha() const { return alpha_; }

private:
    double alpha_ = 1.0;
};

/// x for x > 0, else alpha (e^x - 1).
class ELU : public Module {
public:
    explicit ELU(const ELUOptions& options = {}) : Module("ELU"), options_(options) {}
    Tensor forward(const Tensor& input) override;
    const ELUOptions& options() const { return options_; }
    /// "ELU(alpha=1.0)".
    void pretty_print(std::ostream& os) const override;

private:
    ELUOptions options_;
};

/// SoftplusOptions().beta(1).threshold(20).
class SoftplusOptions {
public:
    SoftplusOptions& beta(double v) {
        beta_ = v;
        return *this;
    }
    SoftplusOptions& threshold(double v) {
        threshold_ = v;
        return *this;
    }
    double beta() const { return beta_; }
    double threshold() const { return threshold_; }

private:
    double beta_ = 1.0;
    double threshold_ = 20.0;
};

/// log(1 + e^(beta x)) / beta, or x where beta x > threshold (for stability).
/// Throws std::invalid_argument at construction for a beta that is zero or not finite.
class Softplus : public Module {
public:
    explicit Softplus(const SoftplusOptions& options = {});
    Tensor forward(const Tensor& input) override;
    const SoftplusOptions& options() const { return options_; }
    /// "Softplus(beta=1, threshold=20)". NOTE: PyTorch's defaults are Python ints, so they
    /// print without ".0"; we print every value the same way (2.5 as 2.5, 2 as 2).
    void pretty_print(std::ostream& os) const override;

private:
    SoftplusOptions options_;
};

/// The activations' functional forms, LibTorch's spelling: F::gelu(x, F::GELUFuncOptions()
/// .approximate("tanh")), F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)),
/// F::softmax(x, F::SoftmaxFuncOptions(1)). Each is the xgrad op of the same name.
namespace functional {

using GELUFuncOptions = GELUOptions;
using LeakyReLUFuncOptions = LeakyReLUOptions;
using ELUFuncOptions = ELUOptions;
using SoftplusFuncOptions = SoftplusOptions;
/// SoftmaxFuncOptions(dim), LogSoftmaxFuncOptions(dim): LibTorch's, dim without a default.
struct SoftmaxFuncOptions {
    explicit SoftmaxFuncOptions(int dim) : dim_(dim) {}
    int dim() const { return dim_; }
    int dim_;
};
using LogSoftmaxFuncOptions = SoftmaxFuncOptions;

Tensor relu(const Tensor& input);
Tensor sigmoid(const Tensor& input);
Tensor tanh(const Tensor& input);
Tensor gelu(const Tensor& input, const GELUFuncOptions& options = {});
Tensor silu(const Tensor& input);
Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options = {});
Tensor elu(const Tensor& input, const ELUFuncOptions& options = {});
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {});
Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options);
Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options);

}  // namespace functional

}  // namespace xgrad::nn
