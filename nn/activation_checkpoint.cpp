#include "nn/activation_checkpoint.h"

#include <memory>
#include <stdexcept>
#include <string>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "nn/detail/rng_state.h"

namespace xgrad::nn {

namespace {

// The generators the first run drew from, rewound for a recomputation and put back after it
// (the rest of the forward and later steps continue from where the first run left them).
class Rewind {
public:
    explicit Rewind(detail::CheckpointContext& ctx) : ctx_(ctx) {
        for (auto& s : ctx_.generators) {
            after_.push_back(*s.generator);
            *s.generator = s.state;
        }
    }
    ~Rewind() {
        for (std::size_t i = 0; i < after_.size(); ++i) *ctx_.generators[i].generator = after_[i];
    }
    Rewind(const Rewind&) = delete;
    Rewind& operator=(const Rewind&) = delete;

private:
    detail::CheckpointContext& ctx_;
    std::vector<std::mt19937_64> after_;
};

// fn gets the first `n_args` inputs; the rest are parameters fn reaches by itself (they are
// inputs of the node only so that backward reaches it; the nested backward accumulates into
// them directly).
Tensor checkpoint_impl(const CheckpointFunction& fn, std::vector<Tensor> inputs,
                       std::size_t n_args) {
    if (!fn) throw std::invalid_argument("checkpoint: the function is empty");
    bool any = false;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw std::invalid_argument("checkpoint: input " + std::to_string(i) + " is undefined");
        }
        any = any || inputs[i].requires_grad();
    }
    if (!any && grad_enabled()) {
        throw std::invalid_argument(
            "checkpoint: none of the " + std::to_string(inputs.size()) +
            " input(s) requires grad, so backward would never recompute the function and its "
            "parameters would get no gradient (PyTorch only warns); pass the parameters it uses "
            "among the inputs, or use checkpoint(module, x)");
    }
    if (!grad_enabled()) {
        std::vector<Tensor> args(inputs.begin(),
                                 inputs.begin() + static_cast<std::ptrdiff_t>(n_args));
        return fn(args);  // nothing to recompute: no graph is recorded anyway
    }
    auto ctx = std::make_shared<detail::CheckpointContext>();
    auto forward = [fn, ctx, n_args](const std::vector<Tensor>& in) {
        detail::CheckpointScope scope(ctx.get());
        return fn(
            std::vector<Tensor>(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n_args)));
    };
    auto backward = [fn, ctx, n_args](const std::vector<Tensor>& in, const Tensor&,
                                      const Tensor& grad) {
        // Leaves holding the inputs' values: the recomputed graph ends at them.
        std::vector<Tensor> args;
        for (std::size_t i = 0; i < n_args; ++i) {
            args.push_back(in[i].detach().set_requires_grad(in[i].requires_grad()));
        }
        Tensor out;
        {
            Rewind rewind(*ctx);
            ctx->recomputing = true;
            detail::CheckpointScope scope(ctx.get());
            GradModeGuard enable(true);
            out = fn(args);
            ctx->recomputing = false;
        }
        if (!out.defined() || !out.requires_grad()) {
            throw std::logic_error(
                "checkpoint: the recomputed output does not depend on the inputs (it requires no "
                "grad); checkpoint only functions of their inputs");
        }
        if (out.shape() != grad.shape()) {
            throw std::logic_error("checkpoint: the recomputation gave another shape (got " +
                                   out.shape().str() + ", expected " + grad.shape().str() +
                                   "): the function must compute the same thing twice");
        }
        out.backward(grad);
        std::vector<Tensor> grads(in.size());
        bool reached = false, wanted = false;
        for (std::size_t i = 0; i < n_args; ++i) {
            if (!args[i].requires_grad()) continue;
            wanted = true;
            if (args[i].has_grad()) {
                grads[i] = args[i].grad();
                reached = true;
            }
        }
        if (wanted && !reached) {
            throw std::logic_error(
                "checkpoint: the output does not depend on any input that requires grad (got " +
                std::to_string(n_args) + " input(s), none reached by backward)");
        }
        return grads;
    };
    return custom_op("checkpoint", inputs, forward, backward);
}

}  // namespace

Tensor checkpoint(const CheckpointFunction& fn, const std::vector<Tensor>& inputs) {
    return checkpoint_impl(fn, inputs, inputs.size());
}

Tensor checkpoint(Module& module, const Tensor& input) {
    std::vector<Tensor> inputs{input};
    for (Tensor& p : module.parameters()) {
        if (p.requires_grad()) inputs.push_back(p);
    }
    return checkpoint_impl(
        [&module](const std::vector<Tensor>& in) { return module.forward(in[0]); }, inputs, 1);
}

Tensor checkpoint_sequential(Sequential& seq, std::size_t segments, const Tensor& input) {
    const std::size_t n = seq.size();
    if (segments == 0 || segments > n) {
        throw std::invalid_argument("checkpoint_sequential: segments must be in [1, " +
                                    std::to_string(n) + "] for a Sequential of " +
                                    std::to_string(n) + " modules (got " +
                                    std::to_string(segments) + ")");
    }
    Tensor x = input;
    std::size_t begin = 0;
    for (std::size_t s = 0; s < segments; ++s) {
        const std::size_t len = n / segments + (s < n % segments ? 1 : 0);
        const std::size_t end = begin + len;
        if (s + 1 == segments) {
            // The last segment runs as usual, as in PyTorch: backward starts there at once,
            // so recomputing it would only cost time.
            for (std::size_t i = begin; i < end; ++i) x = seq[i]->forward(x);
            break;
        }
        std::vector<Tensor> inputs{x};
        for (std::size_t i = begin; i < end; ++i) {
            for (Tensor& p : seq[i]->parameters()) {
                if (p.requires_grad()) inputs.push_back(p);
            }
        }
        x = checkpoint_impl(
            [&seq, begin, end](const std::vector<Tensor>& in) {
                Tensor h = in[0];
                for (std::size_t i = begin; i < end; ++i) h = seq[i]->forward(h);
                return h;
            },
            inputs, 1);
        begin = end;
    }
    return x;
}

bool checkpoint_recomputing() { return detail::recomputing(); }

}  // namespace xgrad::nn
