#include "nn/optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace xgrad::nn::optim {

namespace {
std::vector<NamedTensor> numbered(std::vector<Tensor> params) {
    std::vector<NamedTensor> out;
    for (std::size_t i = 0; i < params.size(); ++i) {
        out.emplace_back(std::to_string(i), std::move(params[i]));
    }
    return out;
}
}  // namespace

Optimizer::Optimizer(std::string name, std::vector<Tensor> params, double lr)
    : Optimizer(std::move(name), numbered(std::move(params)), lr) {}

Optimizer::Optimizer(std::string name, const std::vector<NamedTensor>& params, double lr)
    : name_(std::move(name)), lr_(0) {
    // As PyTorch ("optimizer got an empty parameter list"): an optimizer over nothing would
    // silently train nothing, e.g. when built from a module without parameters.
    if (params.empty()) {
        throw std::invalid_argument(name_ +
                                    ": got an empty parameter list (expected at least one "
                                    "parameter; does the module have any?)");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (!params[i].second.defined()) {
            throw std::invalid_argument(name_ + ": parameter " + std::to_string(i) + " (\"" +
                                        params[i].first + "\") is an undefined tensor");
        }
        if (!params[i].second.is_leaf()) {
            throw std::invalid_argument(name_ + ": parameter \"" + params[i].first +
                                        "\" is not a leaf (got the output of '" +
                                        params[i].second.op() + "')");
        }
        // NOTE: PyTorch only warns about a duplicate within one group; here it would be
        // stepped twice per step() (and hold two states), so it is an error.
        for (std::size_t j = 0; j < i; ++j) {
            if (params_[j].node() == params[i].second.node()) {
                throw std::invalid_argument(
                    name_ + ": parameter " + std::to_string(i) + " (\"" + params[i].first +
                    "\") is the same tensor as parameter " + std::to_string(j) + " (\"" +
                    names_[j] + "\"); each parameter may appear only once");
            }
        }
        names_.push_back(params[i].first);
        params_.push_back(params[i].second);
    }
    buffers_.resize(params_.size());
    set_lr(lr);
}

void Optimizer::check_range(const char* what, double v, double lo, double hi, bool hi_open) const {
    const bool ok = std::isfinite(v) && v >= lo && (hi_open ? v < hi : v <= hi);
    if (ok) return;
    std::ostringstream os;
    os << name_ << ": " << what << " must be a finite number in [" << lo << ", " << hi
       << (hi_open ? ")" : "]") << " (got " << v << ")";
    throw std::invalid_argument(os.str());
}

void Optimizer::set_lr(double lr) {
    if (!std::isfinite(lr) || lr < 0) {
        std::ostringstream os;
        os << name_ << ": learning rate must be a finite number >= 0 (got " << lr << ")";
        throw std::invalid_argument(os.str());
    }
    lr_ = lr;
}

void Optimizer::zero_grad() {
    for (Tensor& p : params_) p.zero_grad();
}

void Optimizer::check_state_matches_params() const {
    const std::vector<BufferSpec> specs = buffer_specs();
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const Tensor& p = params_[i];
        for (std::size_t b = 0; b < buffers_[i].size(); ++b) {
            const Tensor& buf = buffers_[i][b];
            if (!buf.defined() || specs[b].scalar) continue;
            if (buf.dtype() != p.dtype() || buf.shape() != p.shape()) {
                throw std::logic_error(
                    name_ + ": parameter \"" + names_[i] + "\" is now " + p.shape().str() + " " +
                    dtype_name(p.dtype()) + " but its state \"" + names_[i] + "." + specs[b].name +
                    "\" is " + buf.shape().str() + " " + dtype_name(buf.dtype()) +
                    " (was the module converted with to() after the optimizer stepped? build "
                    "the optimizer after to(), or load_state() a state of the new dtype); "
                    "nothing was updated");
            }
        }
    }
}

Tensor* Optimizer::buffer(std::size_t i, std::size_t b) {
    std::vector<Tensor>& bs = buffers_[i];
    return b < bs.size() && bs[b].defined() ? &bs[b] : nullptr;
}

Tensor& Optimizer::create_buffer(std::size_t i, std::size_t b) {
    const std::vector<BufferSpec> specs = buffer_specs();
    std::vector<Tensor>& bs = buffers_[i];
    if (bs.size() < specs.size()) bs.resize(specs.size());
    const Tensor& p = params_[i];
    bs[b] = specs[b].scalar ? zeros(Shape{}, f64) : zeros(p.shape(), p.dtype());
    return bs[b];
}

std::vector<NamedTensor> Optimizer::state() const {
    const std::vector<BufferSpec> specs = buffer_specs();
    std::vector<NamedTensor> out;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (std::size_t b = 0; b < buffers_[i].size(); ++b) {
            if (buffers_[i][b].defined()) {
                out.emplace_back(names_[i] + "." + specs[b].name, buffers_[i][b]);
            }
        }
    }
    return out;
}

void Optimizer::load_state(const std::vector<NamedTensor>& state) {
    const std::vector<BufferSpec> specs = buffer_specs();
    // Validate everything first, so a bad entry leaves the state as it was.
    std::vector<std::pair<std::size_t, std::size_t>> where;
    std::vector<std::vector<bool>> given(params_.size(), std::vector<bool>(specs.size(), false));
    for (const auto& [key, t] : state) {
        const std::size_t dot = key.rfind('.');
        const std::string param = dot == std::string::npos ? "" : key.substr(0, dot);
        const std::string buf = dot == std::string::npos ? key : key.substr(dot + 1);
        std::size_t i = 0, b = 0;
        while (i < names_.size() && names_[i] != param) ++i;
        while (b < specs.size() && buf != specs[b].name) ++b;
        if (i == names_.size() || b == specs.size()) {
            throw std::invalid_argument(name_ + ": unknown state entry \"" + key +
                                        "\" (expected \"<parameter>.<buffer>\")");
        }
        if (!t.defined()) {
            throw std::invalid_argument(name_ + ": state entry \"" + key + "\" is undefined");
        }
        if (given[i][b]) {
            throw std::invalid_argument(name_ + ": state entry \"" + key + "\" appears twice");
        }
        given[i][b] = true;
        const Shape expected = specs[b].scalar ? Shape{} : params_[i].shape();
        const DType dtype = specs[b].scalar ? f64 : params_[i].dtype();
        if (t.shape() != expected || t.dtype() != dtype) {
            throw std::invalid_argument(name_ + ": state entry \"" + key + "\" has shape " +
                                        t.shape().str() + " " + dtype_name(t.dtype()) +
                                        " (expected " + expected.str() + " " + dtype_name(dtype) +
                                        ")");
        }
        where.emplace_back(i, b);
    }
    // NOTE: a step uses all of a parameter's buffers at once (Adam reads m and v at step t), so
    // a partial set would leave it reading a buffer that does not exist.
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const auto n = std::count(given[i].begin(), given[i].end(), true);
        if (n == 0 || static_cast<std::size_t>(n) == specs.size()) continue;
        for (std::size_t b = 0; b < specs.size(); ++b) {
            if (!given[i][b]) {
                throw std::invalid_argument(name_ + ": state of parameter \"" + names_[i] +
                                            "\" lacks \"" + names_[i] + "." + specs[b].name +
                                            "\" (expected all of its buffers or none)");
            }
        }
    }
    for (std::vector<Tensor>& bs : buffers_) bs.clear();
    for (std::size_t k = 0; k < state.size(); ++k) {
        const auto [i, b] = where[k];
        create_buffer(i, b).mutable_value() = state[k].second.value();
    }
}

std::vector<NamedTensor> Optimizer::state_layout() const {
    const std::vector<BufferSpec> specs = buffer_specs();
    std::vector<NamedTensor> out;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        for (const BufferSpec& spec : specs) {
            const Tensor& p = params_[i];
            out.emplace_back(names_[i] + "." + spec.name,
                             spec.scalar ? zeros(Shape{}, f64) : zeros(p.shape(), p.dtype()));
        }
    }
    return out;
}

}  // namespace xgrad::nn::optim
