#pragma once
// gradcheck: the engine's gradients against central finite differences, as public API.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad {

/// Defaults are PyTorch's gradcheck defaults.
struct GradcheckOptions {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
    /// Seed of the random probe weights w: the check compares d(sum(w * f))/dx, so an op whose
    /// backward ignores its upstream gradient cannot pass by accident as it could with sum(f).
    std::uint64_t seed = 20261121;
};

/// The first mismatch, or ok. Converts to bool.
struct GradcheckResult {
    bool ok = true;
    std::size_t input = 0;    ///< which input failed
    std::size_t element = 0;  ///< flat (row-major) index of the failing element
    double analytic = 0;
    double numeric = 0;
    std::string message;  ///< "input 1 element 3 (0,1): analytic 0.5, numeric 0.25 (...)"
    explicit operator bool() const { return ok; }
};

/// Checks f's gradient with respect to every input that requires grad. Inputs are copied to
/// float64; w ~ U[-1, 1] of f's output shape; backward(w) gives the analytic side; the numeric
/// side is (sum(w * f(x + eps e_i)) - sum(w * f(x - eps e_i))) / (2 eps), evaluated with plain
/// loops under NoGradGuard. Passes when |analytic - numeric| <= atol + rtol * |numeric|.
/// Example:
///   auto r = gradcheck([](const std::vector<Tensor>& x) { return exp(x[0]); },
///                      {uniform({3}, -1, 1, /*seed=*/1, f64, /*requires_grad=*/true)});
///   if (!r) std::cerr << r.message;
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

/// Checks f's second derivatives with respect to every input that requires grad, as
/// torch.autograd.gradgradcheck: with w ~ U[-1, 1] of f's output shape and v_k ~ U[-1, 1] of
/// input k's shape, the analytic side is d/dx [sum_k v_k . g_k(x)], where g(x) = d(w . f)/dx is
/// computed with create_graph=true and then differentiated again; the numeric side is the
/// central difference of sum_k v_k . g_k(x) with g from first-order backwards (plain loops for
/// the dot products). Same defaults and result as gradcheck.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace xgrad
