#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "autograd/grad_mode.h"

namespace xgrad {

namespace {

// sum(w * f(xs)) with plain loops: deliberately not the engine's own mul and sum.
double probe(const std::function<Tensor(const std::vector<Tensor>&)>& f,
             const std::vector<Tensor>& xs, const std::vector<double>& w) {
    NoGradGuard no_grad;
    const std::vector<double> y = f(xs).to_vector();
    if (y.size() != w.size()) {
        throw std::invalid_argument("gradcheck: f's output size changed between calls (got " +
                                    std::to_string(y.size()) + ", expected " +
                                    std::to_string(w.size()) + ")");
    }
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
    return s;
}

std::string index_str(const Shape& s, std::size_t flat) {
    std::vector<std::size_t> idx(s.size());
    for (std::size_t d = s.size(); d-- > 0;) {
        idx[d] = flat % s[d];
        flat /= s[d];
    }
    std::string out = "(";
    for (std::size_t d = 0; d < idx.size(); ++d) out += (d ? "," : "") + std::to_string(idx[d]);
    return out + ")";
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
    std::vector<Tensor> xs;
    bool any = false;
    for (const Tensor& t : inputs) {
        if (!t.defined()) throw std::invalid_argument("gradcheck: undefined input");
        xs.emplace_back(t.value().cast(f64), t.requires_grad());
        any = any || t.requires_grad();
    }
    if (!any) {
        throw std::invalid_argument("gradcheck: no input requires grad (nothing to check)");
    }
    const Tensor y = f(xs);
    const Tensor w = uniform(y.shape(), -1.0, 1.0, options.seed, f64);
    if (!y.requires_grad()) {
        throw std::invalid_argument(
            "gradcheck: f's output does not depend on any input that "
            "requires grad");
    }
    y.backward(w);
    const std::vector<double> wv = w.to_vector();

    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (!xs[i].requires_grad()) continue;
        const std::vector<double> analytic = xs[i].grad().to_vector();
        const Array base = xs[i].value();
        for (std::size_t e = 0; e < base.numel(); ++e) {
            std::vector<Tensor> plus = xs, minus = xs;
            Array p = base, m = base;
            p.set(e, base.at(e) + options.eps);
            m.set(e, base.at(e) - options.eps);
            plus[i] = Tensor(std::move(p));
            minus[i] = Tensor(std::move(m));
            const double numeric = (probe(f, plus, wv) - probe(f, minus, wv)) / (2 * options.eps);
            const double a = analytic[e];
            const bool close =
                std::abs(a - numeric) <= options.atol + options.rtol * std::abs(numeric);
            if (!close || std::isnan(a) != std::isnan(numeric)) {
                GradcheckResult r;
                r.ok = false;
                r.input = i;
                r.element = e;
                r.analytic = a;
                r.numeric = numeric;
                std::ostringstream os;
                os.precision(10);
                os << "gradcheck: input " << i << " element " << e << " "
                   << index_str(base.shape(), e) << " of shape " << base.shape().str()
                   << ": analytic " << a << ", numeric " << numeric << " (atol " << options.atol
                   << ", rtol " << options.rtol << ")";
                r.message = os.str();
                return r;
            }
        }
    }
    return {};
}

}  // namespace xgrad
