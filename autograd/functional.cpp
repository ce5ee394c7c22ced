#include "autograd/functional.h"

#include <stdexcept>
#include <string>

#include "autograd/node.h"
#include "autograd/ops.h"

namespace xgrad {

namespace detail {
[[noreturn]] void no_graph_error(const char* what, const Node* n);  // tensor.cpp
}  // namespace detail

namespace {

std::string describe(const Tensor& t) { return t.shape().str() + " " + dtype_name(t.dtype()); }

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
    if (outputs.empty()) throw std::invalid_argument("grad: no outputs given (got 0)");
    if (inputs.empty()) throw std::invalid_argument("grad: no inputs given (got 0)");
    if (!grad_outputs.empty() && grad_outputs.size() != outputs.size()) {
        throw std::invalid_argument(
            "grad: grad_outputs has " + std::to_string(grad_outputs.size()) + " entries for " +
            std::to_string(outputs.size()) + " outputs (expected one per output, or none)");
    }
    BackwardCall call;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& y = outputs[i];
        if (!y.defined()) {
            throw std::invalid_argument("grad: output " + std::to_string(i) + " is undefined");
        }
        if (!y.requires_grad()) {
            try {
                detail::no_graph_error("grad", y.node());
            } catch (const std::logic_error& e) {
                throw std::logic_error(std::string(e.what()) + " [output " + std::to_string(i) +
                                       "]");
            }
        }
        Tensor seed = grad_outputs.empty() ? Tensor() : grad_outputs[i];
        if (!seed.defined()) {
            if (y.numel() != 1) {
                throw std::invalid_argument(
                    "grad: output " + std::to_string(i) + " has shape " + y.shape().str() +
                    ", so grad_outputs[" + std::to_string(i) +
                    "] is needed (only a one-element output is seeded with 1)");
            }
            seed = Tensor(Array::full(y.dtype(), y.shape(), 1.0));
        } else if (seed.shape() != y.shape() || seed.dtype() != y.dtype()) {
            throw std::invalid_argument("grad: grad_outputs[" + std::to_string(i) + "] is " +
                                        describe(seed) + " but output " + std::to_string(i) +
                                        " is " + describe(y) +
                                        " (expected the same shape and "
                                        "dtype)");
        }
        call.roots.push_back(y);
        call.seeds.push_back(std::move(seed));
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw std::invalid_argument("grad: input " + std::to_string(i) + " is undefined");
        }
        if (!inputs[i].requires_grad()) {
            throw std::invalid_argument("grad: input " + std::to_string(i) + " of shape " +
                                        inputs[i].shape().str() +
                                        " does not require grad (so it has no gradient)");
        }
    }
    call.retain_graph = retain_graph.value_or(create_graph);
    call.create_graph = create_graph;
    call.inputs = &inputs;
    std::vector<Tensor> out = run_backward(call);
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (!out[i].defined() && !allow_unused) {
            throw std::invalid_argument(
                "grad: input " + std::to_string(i) + " of shape " + inputs[i].shape().str() +
                " is not used by the outputs (pass allow_unused=true to get an undefined "
                "gradient for it)");
        }
    }
    return out;
}

namespace {

// The inputs the helpers differentiate: the caller's own tensors when a graph is asked for and
// they carry one, else fresh leaves with the same values (torch.autograd.functional's rule).
std::vector<Tensor> prepare(const std::vector<Tensor>& inputs, bool create_graph,
                            const char* what) {
    if (inputs.empty()) throw std::invalid_argument(std::string(what) + ": no inputs (got 0)");
    std::vector<Tensor> xs;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw std::invalid_argument(std::string(what) + ": input " + std::to_string(i) +
                                        " is undefined");
        }
        if (create_graph && inputs[i].requires_grad()) {
            xs.push_back(inputs[i]);
        } else {
            xs.emplace_back(inputs[i].value(), /*requires_grad=*/true);
        }
    }
    return xs;
}

Tensor call(const TensorFunction& f, const std::vector<Tensor>& xs, const char* what) {
    Tensor y = f(xs);
    if (!y.defined()) throw std::logic_error(std::string(what) + ": f returned undefined");
    return y;
}

// Undefined gradients (an input f does not use) become zeros: the derivative is 0.
std::vector<Tensor> zeros_for_unused(std::vector<Tensor> gs, const std::vector<Tensor>& xs) {
    for (std::size_t i = 0; i < gs.size(); ++i) {
        if (!gs[i].defined()) gs[i] = zeros(xs[i].shape(), xs[i].dtype());
    }
    return gs;
}

std::vector<Tensor> grads_of(const Tensor& y, const std::vector<Tensor>& xs, const Tensor& v,
                             bool create_graph, bool retain) {
    if (!y.requires_grad()) {
        std::vector<Tensor> z;
        for (const Tensor& x : xs) z.push_back(zeros(x.shape(), x.dtype()));
        return z;
    }
    return zeros_for_unused(grad({y}, xs, {v}, retain, create_graph, /*allow_unused=*/true), xs);
}

void check_v(const std::vector<Tensor>& v, const std::vector<Tensor>& xs, const char* what) {
    if (v.size() != xs.size()) {
        throw std::invalid_argument(std::string(what) + ": v has " + std::to_string(v.size()) +
                                    " tensors for " + std::to_string(xs.size()) + " inputs");
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].defined() || v[i].shape() != xs[i].shape() || v[i].dtype() != xs[i].dtype()) {
            throw std::invalid_argument(
                std::string(what) + ": v[" + std::to_string(i) + "] is " +
                (v[i].defined() ? describe(v[i]) : std::string("undefined")) + " but input " +
                std::to_string(i) + " is " + describe(xs[i]));
        }
    }
}

}  // namespace

std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f,
                                           const std::vector<Tensor>& inputs, const Tensor& v,
                                           bool create_graph) {
    const std::vector<Tensor> xs = prepare(inputs, create_graph, "vjp");
    Tensor y = call(f, xs, "vjp");
    std::vector<Tensor> g = grads_of(y, xs, v, create_graph, create_graph);
    return {create_graph ? y : y.detach(), std::move(g)};
}

std::pair<Tensor, Tensor> jvp(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& v, bool create_graph) {
    const std::vector<Tensor> xs = prepare(inputs, create_graph, "jvp");
    check_v(v, xs, "jvp");
    Tensor y = call(f, xs, "jvp");
    // Double vjp: g(u) = J^T u is linear in u, so d(v . g)/du = J v.
    Tensor u = zeros(y.shape(), y.dtype(), /*requires_grad=*/true);
    if (!y.requires_grad()) return {y, zeros(y.shape(), y.dtype())};
    std::vector<Tensor> g = grad({y}, xs, {u}, true, /*create_graph=*/true, true);
    std::vector<Tensor> outs, seeds;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (g[i].defined() && g[i].requires_grad()) {
            outs.push_back(g[i]);
            seeds.push_back(v[i]);
        }
    }
    if (outs.empty()) return {create_graph ? y : y.detach(), zeros(y.shape(), y.dtype())};
    std::vector<Tensor> jv = grad(outs, {u}, seeds, create_graph, create_graph, true);
    Tensor r = jv[0].defined() ? jv[0] : zeros(y.shape(), y.dtype());
    return {create_graph ? y : y.detach(), r};
}

std::pair<Tensor, std::vector<Tensor>> hvp(const TensorFunction& f,
                                           const std::vector<Tensor>& inputs,
                                           const std::vector<Tensor>& v, bool create_graph) {
    const std::vector<Tensor> xs = prepare(inputs, create_graph, "hvp");
    check_v(v, xs, "hvp");
    Tensor y = call(f, xs, "hvp");
    if (y.numel() != 1) {
        throw std::invalid_argument("hvp: f must return one element (got shape " + y.shape().str() +
                                    ")");
    }
    std::vector<Tensor> g = grads_of(y, xs, Tensor(), /*create_graph=*/true, true);
    std::vector<Tensor> outs, seeds;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (g[i].requires_grad()) {
            outs.push_back(g[i]);
            seeds.push_back(v[i]);
        }
    }
    std::vector<Tensor> hv;
    if (outs.empty()) {
        for (const Tensor& x : xs) hv.push_back(zeros(x.shape(), x.dtype()));
    } else {
        hv = zeros_for_unused(grad(outs, xs, seeds, create_graph, create_graph, true), xs);
    }
    return {create_graph ? y : y.detach(), std::move(hv)};
}

std::vector<Tensor> jacobian(const TensorFunction& f, const std::vector<Tensor>& inputs,
                             bool create_graph) {
    const std::vector<Tensor> xs = prepare(inputs, create_graph, "jacobian");
    Tensor y = call(f, xs, "jacobian");
    const std::size_t m = y.numel();
    // Row r of every input's Jacobian is the vjp with the r-th unit vector.
    std::vector<std::vector<Tensor>> rows(xs.size());
    for (std::size_t r = 0; r < m; ++r) {
        Array e(y.dtype(), y.shape());
        e.set(r, 1.0);
        std::vector<Tensor> g = grads_of(y, xs, Tensor(std::move(e)), create_graph, true);
        for (std::size_t i = 0; i < xs.size(); ++i) rows[i].push_back(g[i]);
    }
    std::vector<Tensor> out;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        std::vector<std::size_t> dims = y.shape().vec();
        for (std::size_t d : xs[i].shape()) dims.push_back(d);
        std::vector<Tensor> flat;
        for (const Tensor& row : rows[i]) flat.push_back(reshape(row, Shape{row.numel()}));
        // Stack the rows: each row is the vjp of one output element, laid out row-major.
        Array values = Array::empty(xs[i].dtype(), Shape(dims));
        const std::size_t k = xs[i].numel();
        if (!create_graph) {
            for (std::size_t r = 0; r < m; ++r) {
                const std::vector<double> v = flat[r].to_vector();
                for (std::size_t j = 0; j < k; ++j) values.set(r * k + j, v[j]);
            }
            out.emplace_back(std::move(values));
        } else {
            // Recorded: a sum of rows placed by one-hot masks keeps every row differentiable.
            Tensor acc;
            for (std::size_t r = 0; r < m; ++r) {
                Array place(xs[i].dtype(), Shape{m, 1});
                place.set(r, 1.0);
                Tensor term = Tensor(std::move(place)) * reshape(flat[r], Shape{1, k});
                acc = acc.defined() ? acc + term : term;
            }
            out.push_back(reshape(acc, Shape(dims)));
        }
    }
    return out;
}

std::vector<std::vector<Tensor>> hessian(const TensorFunction& f, const std::vector<Tensor>& inputs,
                                         bool create_graph) {
    const std::vector<Tensor> xs = prepare(inputs, /*create_graph=*/true, "hessian");
    std::vector<std::vector<Tensor>> h(xs.size());
    // Row i of the Hessian: the Jacobian of df/dx_i with respect to every input.
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const TensorFunction gi = [&f, i](const std::vector<Tensor>& x) {
            Tensor y = f(x);
            if (y.numel() != 1) {
                throw std::invalid_argument("hessian: f must return one element (got shape " +
                                            y.shape().str() + ")");
            }
            if (!y.requires_grad()) return zeros(x[i].shape(), x[i].dtype());
            Tensor g = grad({y}, {x[i]}, {}, true, /*create_graph=*/true, true)[0];
            return g.defined() ? g : zeros(x[i].shape(), x[i].dtype());
        };
        h[i] = jacobian(gi, xs, create_graph);
    }
    return h;
}

}  // namespace xgrad
