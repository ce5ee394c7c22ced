#include "nn/optim/adam.h"

#include <cmath>

namespace xgrad::nn::optim {

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam("Adam", std::move(params), options, /*decoupled=*/false) {}
Adam::Adam(const std::vector<NamedTensor>& params, const AdamOptions& options)
    : Adam("Adam", params, options, /*decoupled=*/false) {}

Adam::Adam(const char* name, std::vector<Tensor> params, const AdamOptions& options, bool decoupled)
    : Optimizer(name, std::move(params), options.lr()), options_(options), decoupled_(decoupled) {
    validate();
}
Adam::Adam(const char* name, const std::vector<NamedTensor>& params, const AdamOptions& options,
           bool decoupled)
    : Optimizer(name, params, options.lr()), options_(options), decoupled_(decoupled) {
    validate();
}

AdamW::AdamW(std::vector<Tensor> params, const AdamOptions& options)
    : Adam("AdamW", std::move(params), options, /*decoupled=*/true) {}
AdamW::AdamW(const std::vector<NamedTensor>& params, const AdamOptions& options)
    : Adam("AdamW", params, options, /*decoupled=*/true) {}

void Adam::validate() {
    check_range("beta1", options_.beta1(), 0, 1, /*hi_open=*/true);
    check_range("beta2", options_.beta2(), 0, 1, /*hi_open=*/true);
    check_range("eps", options_.eps(), 0, 1e300);
    check_range("weight_decay", options_.weight_decay(), 0, 1e300);
}

void Adam::step() {
    const double lr = this->lr(), wd = options_.weight_decay();
    const double b1 = options_.beta1(), b2 = options_.beta2(), eps = options_.eps();
    check_state_matches_params();
    for (std::size_t i = 0; i < params().size(); ++i) {
        Tensor p = params()[i];
        dispatch(p.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (!p.requires_grad()) return;  // frozen: skipped
            // Holds the gradient's lock for the update: a backward of another thread into the
            // same parameter waits (shared parameters, README "Threads").
            GradRef grad = p.mutable_grad();
            const T* g = grad.data<T>();
            if (g == nullptr) return;  // no gradient: skipped
            if (buffer(i, 0) == nullptr) {
                for (std::size_t b = 0; b < 3; ++b) create_buffer(i, b);
            }
            MutableValue step = buffer(i, 0)->mutable_value();
            const double t = step.at(0) + 1;
            step.set(0, t);
            T* w = p.mutable_value().data<T>();
            T* m = buffer(i, 1)->mutable_value().data<T>();
            T* v = buffer(i, 2)->mutable_value().data<T>();
            // p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), as PyTorch arranges it
            const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
            const T step_size = T(lr / bc1), inv_sqrt_bc2 = T(1 / std::sqrt(bc2));
            const T tb1 = T(b1), tb2 = T(b2), tc1 = T(1 - b1), tc2 = T(1 - b2), teps = T(eps);
            const T l2 = decoupled_ ? T(0) : T(wd), decay = decoupled_ ? T(1 - lr * wd) : T(1);
            // As PyTorch, no L2 term when it is 0: g + 0 * w would make an inf weight NaN.
            const bool coupled = !decoupled_ && wd != 0;
            for (std::size_t k = 0, n = p.numel(); k < n; ++k) {
                const T d = coupled ? g[k] + l2 * w[k] : g[k];
                w[k] *= decay;
                m[k] = tb1 * m[k] + tc1 * d;
                v[k] = tb2 * v[k] + tc2 * d * d;
                w[k] -= step_size * m[k] / (std::sqrt(v[k]) * inv_sqrt_bc2 + teps);
            }
        });
    }
}

}  // namespace xgrad::nn::optim
