#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "autograd/functional.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"

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

// Passes when |analytic - numeric| <= atol + rtol |numeric| (and both or neither are NaN);
// else the failure names the input, the element, and both values.
GradcheckResult compare(const char* what, std::size_t input, std::size_t e, const Shape& shape,
                        double a, double numeric, const GradcheckOptions& options) {
    const bool close = std::abs(a - numeric) <= options.atol + options.rtol * std::abs(numeric);
    if (close && std::isnan(a) == std::isnan(numeric)) return {};
    GradcheckResult r;
    r.ok = false;
    r.input = input;
    r.element = e;
    r.analytic = a;
    r.numeric = numeric;
    std::ostringstream os;
    os.precision(10);
    os << what << ": input " << input << " element " << e << " " << index_str(shape, e)
       << " of shape " << shape.str() << ": analytic " << a << ", numeric " << numeric << " (atol "
       << options.atol << ", rtol " << options.rtol << ")";
    r.message = os.str();
    return r;
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
            GradcheckResult r =
                compare("gradcheck", i, e, base.shape(), analytic[e], numeric, options);
            if (!r) return r;
        }
    }
    return {};
}

namespace {

std::vector<Tensor> float64_copies(const std::vector<Tensor>& inputs, const char* what,
                                   std::vector<std::size_t>& checked) {
    std::vector<Tensor> xs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& t = inputs[i];
        if (!t.defined()) throw std::invalid_argument(std::string(what) + ": undefined input");
        xs.emplace_back(t.value().cast(f64), t.requires_grad());
        if (t.requires_grad()) checked.push_back(i);
    }
    if (checked.empty()) {
        throw std::invalid_argument(std::string(what) +
                                    ": no input requires grad (nothing to check)");
    }
    return xs;
}

// g(x) = d(w . f(x))/dx for the checked inputs (zeros where unused), first order, as numbers.
std::vector<std::vector<double>> first_grads(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& xs,
    const std::vector<std::size_t>& checked, const Tensor& w) {
    std::vector<Tensor> wrt;
    for (std::size_t i : checked) wrt.push_back(xs[i]);
    const Tensor y = f(xs);
    std::vector<std::vector<double>> out(checked.size());
    std::vector<Tensor> g;
    if (y.requires_grad()) g = grad({y}, wrt, {w}, false, false, /*allow_unused=*/true);
    for (std::size_t k = 0; k < checked.size(); ++k) {
        out[k] = (k < g.size() && g[k].defined()) ? g[k].to_vector()
                                                  : std::vector<double>(wrt[k].numel(), 0.0);
    }
    return out;
}

}  // namespace

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
    std::vector<std::size_t> checked;
    const std::vector<Tensor> xs = float64_copies(inputs, "gradgradcheck", checked);
    std::vector<Tensor> wrt;
    for (std::size_t i : checked) wrt.push_back(xs[i]);
    const Tensor y = f(xs);
    if (!y.requires_grad()) {
        throw std::invalid_argument(
            "gradgradcheck: f's output does not depend on any input that requires grad");
    }
    const Tensor w = uniform(y.shape(), -1.0, 1.0, options.seed, f64);
    std::vector<Tensor> v;
    std::vector<std::vector<double>> vv;
    for (std::size_t k = 0; k < checked.size(); ++k) {
        v.push_back(uniform(wrt[k].shape(), -1.0, 1.0, options.seed + 1 + k, f64));
        vv.push_back(v.back().to_vector());
    }
    // Analytic: s = sum_k v_k . g_k with g recorded, then ds/dx.
    const std::vector<Tensor> g = grad({y}, wrt, {w}, true, /*create_graph=*/true, true);
    Tensor s;
    for (std::size_t k = 0; k < g.size(); ++k) {
        if (!g[k].defined() || !g[k].requires_grad()) continue;
        Tensor term = sum(v[k] * g[k]);
        s = s.defined() ? s + term : term;
    }
    std::vector<std::vector<double>> analytic(checked.size());
    std::vector<Tensor> h;
    if (s.defined()) h = grad({s}, wrt, {}, false, false, /*allow_unused=*/true);
    for (std::size_t k = 0; k < checked.size(); ++k) {
        analytic[k] = (k < h.size() && h[k].defined()) ? h[k].to_vector()
                                                       : std::vector<double>(wrt[k].numel(), 0);
    }
    // Numeric: central differences of S(x) = sum_k v_k . g_k(x).
    auto S = [&](const std::vector<Tensor>& at) {
        const std::vector<std::vector<double>> gk = first_grads(f, at, checked, w);
        double total = 0;
        for (std::size_t k = 0; k < gk.size(); ++k) {
            for (std::size_t e = 0; e < gk[k].size(); ++e) total += vv[k][e] * gk[k][e];
        }
        return total;
    };
    for (std::size_t k = 0; k < checked.size(); ++k) {
        const std::size_t i = checked[k];
        const Array base = xs[i].value();
        for (std::size_t e = 0; e < base.numel(); ++e) {
            std::vector<Tensor> plus = xs, minus = xs;
            Array p = base, m = base;
            p.set(e, base.at(e) + options.eps);
            m.set(e, base.at(e) - options.eps);
            plus[i] = Tensor(std::move(p), true);
            minus[i] = Tensor(std::move(m), true);
            const double numeric = (S(plus) - S(minus)) / (2 * options.eps);
            GradcheckResult r =
                compare("gradgradcheck", i, e, base.shape(), analytic[k][e], numeric, options);
            if (!r) return r;
        }
    }
    return {};
}

}  // namespace xgrad
