#include "nn/optim/sgd.h"

#include <stdexcept>

namespace xgrad::nn::optim {

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : Optimizer("SGD", std::move(params), options.lr()), options_(options) {
    validate();
}

SGD::SGD(const std::vector<NamedTensor>& params, const SGDOptions& options)
    : Optimizer("SGD", params, options.lr()), options_(options) {
    validate();
}

void SGD::validate() {
    check_range("momentum", options_.momentum(), 0, 1);
    check_range("dampening", options_.dampening(), 0, 1);
    check_range("weight_decay", options_.weight_decay(), 0, 1e300);
    if (options_.nesterov() && (options_.momentum() <= 0 || options_.dampening() != 0)) {
        throw std::invalid_argument(
            "SGD: nesterov needs momentum > 0 and dampening 0 (got momentum " +
            std::to_string(options_.momentum()) + ", dampening " +
            std::to_string(options_.dampening()) + ")");
    }
}

void SGD::step() {
    const double lr = this->lr(), wd = options_.weight_decay(), mu = options_.momentum();
    const double damp = options_.dampening();
    const bool nesterov = options_.nesterov();
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
            T* w = p.mutable_value().data<T>();
            const std::size_t n = p.numel();
            const T tlr = T(lr), twd = T(wd), tmu = T(mu), tdamp = T(1 - damp);
            // As PyTorch, weight decay 0 leaves the gradient alone: g + 0 * w would turn an inf
            // weight's update into NaN.
            const bool decay = wd != 0;
            if (mu == 0) {
                if (!decay) {
                    for (std::size_t k = 0; k < n; ++k) w[k] -= tlr * g[k];
                } else {
                    for (std::size_t k = 0; k < n; ++k) w[k] -= tlr * (g[k] + twd * w[k]);
                }
                return;
            }
            Tensor* buf = buffer(i, 0);
            const bool first = buf == nullptr;
            if (first) buf = &create_buffer(i, 0);
            T* b = buf->mutable_value().data<T>();
            for (std::size_t k = 0; k < n; ++k) {
                const T d = decay ? g[k] + twd * w[k] : g[k];
                b[k] = first ? d : tmu * b[k] + tdamp * d;
                w[k] -= tlr * (nesterov ? d + tmu * b[k] : b[k]);
            }
        });
    }
}

}  // namespace xgrad::nn::optim
