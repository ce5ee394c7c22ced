#include "nn/clip_grad.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace xgrad::nn {

namespace {
void check_limit(const char* op, const char* what, double v) {
    if (std::isnan(v) || v < 0) {
        throw std::invalid_argument(std::string(op) + ": " + what + " must be >= 0 (got " +
                                    std::to_string(v) + ")");
    }
}

// Calls f(g, n) with the gradient of every parameter that has one, typed.
template <class F>
void for_each_grad(const std::vector<Tensor>& params, F&& f) {
    for (const Tensor& p : params) {
        if (!p.defined() || !p.requires_grad()) continue;
        Tensor q = p;
        GradRef grad = q.mutable_grad();  // locked while read or scaled in place
        dispatch(p.dtype(), [&](auto tag) {
            using T = decltype(tag);
            if (T* g = grad.data<T>()) f(g, p.numel());
        });
    }
}
}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
    check_limit("clip_grad_norm_", "max_norm", max_norm);
    double sq = 0;  // accumulated in double, whatever the dtypes
    for_each_grad(params, [&](auto* g, std::size_t n) {
        for (std::size_t k = 0; k < n; ++k) sq += double(g[k]) * double(g[k]);
    });
    const double norm = std::sqrt(sq);
    const double coef = max_norm / (norm + 1e-6);  // 1e-6 as PyTorch: no division by 0
    if (coef < 1) {
        for_each_grad(params, [&](auto* g, std::size_t n) {
            using T = std::remove_pointer_t<decltype(g)>;
            for (std::size_t k = 0; k < n; ++k) g[k] = static_cast<T>(g[k] * coef);
        });
    }
    return norm;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
    check_limit("clip_grad_value_", "clip_value", clip_value);
    for_each_grad(params, [&](auto* g, std::size_t n) {
        using T = std::remove_pointer_t<decltype(g)>;
        const T c = static_cast<T>(clip_value);
        for (std::size_t k = 0; k < n; ++k) {
            if (g[k] > c) g[k] = c;
            if (g[k] < -c) g[k] = -c;
        }
    });
}

}  // namespace xgrad::nn
