#include "nn/activation.h"

#include <cmath>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "autograd/ops.h"

namespace xgrad::nn {

namespace {

// The shortest decimal that reads back as v, as Python's repr of a float ("1.0", "0.01").
std::string python_float(double v) {
    std::ostringstream os;
    for (int precision = 1; precision <= 17; ++precision) {
        os.str("");
        os.precision(precision);
        os << v;
        // Python switches to an exponent only below 1e-4 or from 1e16 on ("20", not "2e+01")
        const bool python_exponent = std::fabs(v) < 1e-4 || std::fabs(v) >= 1e16;
        const bool exponent = os.str().find('e') != std::string::npos;
        if (std::stod(os.str()) == v && (exponent == python_exponent || v == 0)) break;
    }
    std::string s = os.str();
    if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

// The shortest decimal that reads back as v, without a forced ".0" (Python's repr of an int
// default such as Softplus's beta=1).
std::string shortest(double v) {
    std::string s = python_float(v);
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s;
}

}  // namespace

Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return tanh(input); }
Tensor ReLU::forward(const Tensor& input) { return relu(input); }
Tensor Step::forward(const Tensor& input) { return step(input); }

Tensor Softmax::forward(const Tensor& input) { return softmax(input, dim_); }
void Softmax::pretty_print(std::ostream& os) const { os << "Softmax(dim=" << dim_ << ")"; }

Tensor LogSoftmax::forward(const Tensor& input) { return log_softmax(input, dim_); }
void LogSoftmax::pretty_print(std::ostream& os) const { os << "LogSoftmax(dim=" << dim_ << ")"; }

GELU::GELU(const GELUOptions& options) : Module("GELU"), options_(options) {
    if (options_.approximate() != "none" && options_.approximate() != "tanh") {
        throw std::invalid_argument("GELU: approximate must be 'none' or 'tanh' (got '" +
                                    options_.approximate() + "')");
    }
}
Tensor GELU::forward(const Tensor& input) { return gelu(input, options_.approximate()); }
void GELU::pretty_print(std::ostream& os) const {
    os << "GELU(approximate='" << options_.approximate() << "')";
}

Tensor SiLU::forward(const Tensor& input) { return silu(input); }

Tensor LeakyReLU::forward(const Tensor& input) {
    return leaky_relu(input, options_.negative_slope());
}
void LeakyReLU::pretty_print(std::ostream& os) const {
    os << "LeakyReLU(negative_slope=" << python_float(options_.negative_slope()) << ")";
}

Tensor ELU::forward(const Tensor& input) { return elu(input, options_.alpha()); }
void ELU::pretty_print(std::ostream& os) const {
    os << "ELU(alpha=" << python_float(options_.alpha()) << ")";
}

Softplus::Softplus(const SoftplusOptions& options) : Module("Softplus"), options_(options) {
    if (options_.beta() == 0 || !std::isfinite(options_.beta())) {
        throw std::invalid_argument("Softplus: beta must be finite and nonzero (got " +
                                    python_float(options_.beta()) + ")");
    }
}
Tensor Softplus::forward(const Tensor& input) {
    return softplus(input, options_.beta(), options_.threshold());
}
void Softplus::pretty_print(std::ostream& os) const {
    os << "Softplus(beta=" << shortest(options_.beta())
       << ", threshold=" << shortest(options_.threshold()) << ")";
}

namespace functional {

Tensor relu(const Tensor& input) { return xgrad::relu(input); }
Tensor sigmoid(const Tensor& input) { return xgrad::sigmoid(input); }
Tensor tanh(const Tensor& input) { return xgrad::tanh(input); }
Tensor gelu(const Tensor& input, const GELUFuncOptions& options) {
    return xgrad::gelu(input, options.approximate());
}
Tensor silu(const Tensor& input) { return xgrad::silu(input); }
Tensor leaky_relu(const Tensor& input, const LeakyReLUFuncOptions& options) {
    return xgrad::leaky_relu(input, options.negative_slope());
}
Tensor elu(const Tensor& input, const ELUFuncOptions& options) {
    return xgrad::elu(input, options.alpha());
}
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options) {
    return xgrad::softplus(input, options.beta(), options.threshold());
}
Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options) {
    return xgrad::softmax(input, options.dim());
}
Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options) {
    return xgrad::log_softmax(input, options.dim());
}

}  // namespace functional

}  // namespace xgrad::nn
