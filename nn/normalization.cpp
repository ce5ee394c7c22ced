#include "nn/normalization.h"

#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "nn/activation_checkpoint.h"

namespace xgrad::nn {

namespace {

[[noreturn]] void fail(const std::string& layer, const std::string& what) {
    throw std::invalid_argument(layer + ": " + what);
}

void check_dtype(const std::string& layer, const Tensor& x, DType dtype) {
    if (x.dtype() != dtype) {
        fail(layer, std::string("input dtype ") + dtype_name(x.dtype()) +
                        " differs from the layer's " + dtype_name(dtype) +
                        " (convert with to(x, dtype) or module.to(dtype))");
    }
}

// (1, C, 1, ..., 1) of rank `ndim`: a per-channel vector broadcast along dim 1.
Shape channel_shape(std::size_t c, std::size_t ndim) {
    std::vector<std::size_t> dims(ndim, 1);
    dims[1] = c;
    return Shape(dims);
}

// (x - mean) / sqrt(var + eps) with mean and biased var over `axes` (kept): exact in ops.
Tensor normalize(const Tensor& x, const std::vector<int>& axes, double eps) {
    const Tensor xc = x - mean(x, axes, /*keepdims=*/true);
    const Tensor var = mean(square(xc), axes, /*keepdims=*/true);
    return xc / sqrt(var + eps);
}

std::string dims_str(const std::vector<std::size_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
}

}  // namespace

BatchNormBase::BatchNormBase(const char* name, const BatchNormOptions& options,
                             std::size_t min_rank, std::size_t max_rank)
    : Module(name), options_(options), min_rank_(min_rank), max_rank_(max_rank) {
    const std::size_t c = options.num_features();
    const DType dt = options.dtype();
    if (options.affine()) {
        weight_ = register_parameter("weight", ones(Shape{c}, dt));
        bias_ = register_parameter("bias", zeros(Shape{c}, dt));
    }
    if (options.track_running_stats()) {
        running_mean_ = register_buffer("running_mean", zeros(Shape{c}, dt));
        running_var_ = register_buffer("running_var", ones(Shape{c}, dt));
        num_batches_ = register_buffer("num_batches_tracked",
                                       Tensor(Array::from_vector<std::int64_t>({0}, Shape{})));
    }
}

Tensor BatchNormBase::forward(const Tensor& input) {
    check_not_moved_from("forward");
    const std::string& layer = name();
    if (!input.defined()) fail(layer, "undefined input");
    const std::size_t c = options_.num_features();
    if (input.ndim() < min_rank_ || input.ndim() > max_rank_) {
        fail(layer, std::string("expected ") +
                        (max_rank_ == 4 ? "4-D (N, C, H, W)" : "2-D (N, C) or 3-D (N, C, L)") +
                        " input (got " + input.shape().str() + ")");
    }
    if (input.shape()[1] != c) {
        fail(layer, "expected " + std::to_string(c) + " channels in dim 1 (got input " +
                        input.shape().str() + ")");
    }
    const DType dt = weight_.defined()         ? weight_.dtype()
                     : running_mean_.defined() ? running_mean_.dtype()
                                               : input.dtype();
    check_dtype(layer, input, dt);
    std::vector<int> axes{0};
    for (std::size_t d = 2; d < input.ndim(); ++d) axes.push_back(static_cast<int>(d));
    const Shape cs = channel_shape(c, input.ndim());
    const bool track = options_.track_running_stats();
    Tensor y;
    if (is_training() || !track) {
        const std::size_t count = input.numel() / std::max<std::size_t>(1, c);
        if (is_training() && count <= 1) {
            // PyTorch: "Expected more than 1 value per channel when training, got input size
            // torch.Size([1, 3])".
            fail(layer, "expected more than 1 value per channel when training (got input size " +
                            input.shape().str() + ")");
        }
        y = normalize(input, axes, options_.eps());
        // An activation checkpoint's recomputation repeats a forward that already updated the
        // statistics: updating them again would count the batch twice.
        if (is_training() && track && !checkpoint_recomputing()) {
            // running = (1 - m) running + m batch, with the unbiased variance, outside the graph.
            NoGradGuard no_grad;
            const Tensor bm = mean(input, axes);
            const Tensor bv = mean(square(input - reshape(bm, cs)), axes) *
                              (static_cast<double>(count) / static_cast<double>(count - 1));
            std::int64_t* nb = num_batches_.mutable_value().data<std::int64_t>();
            *nb += 1;
            const double m =
                options_.momentum() ? *options_.momentum() : 1.0 / static_cast<double>(*nb);
            running_mean_.mutable_value() = ((1.0 - m) * running_mean_.detach() + m * bm).value();
            running_var_.mutable_value() = ((1.0 - m) * running_var_.detach() + m * bv).value();
        }
    } else {
        // Constants (copies): a later training step changes the buffers in place.
        const Tensor rm = reshape(running_mean_.detach(), cs);
        const Tensor rv = reshape(running_var_.detach(), cs);
        y = (input - rm) / sqrt(rv + options_.eps());
    }
    if (weight_.defined()) y = y * reshape(weight_, cs) + reshape(bias_, cs);
    return y;
}

void BatchNormBase::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << name() << "(" << options_.num_features() << ", eps=" << eps.str() << ", momentum=";
    if (options_.momentum()) {
        os << *options_.momentum();
    } else {
        os << "None";
    }
    os << ", affine=" << (options_.affine() ? "true" : "false")
       << ", track_running_stats=" << (options_.track_running_stats() ? "true" : "false") << ")";
}

LayerNorm::LayerNorm(const LayerNormOptions& options) : Module("LayerNorm"), options_(options) {
    if (options.normalized_shape().empty()) {
        fail("LayerNorm", "normalized_shape must not be empty");
    }
    const Shape s(options.normalized_shape());
    if (options.elementwise_affine()) {
        weight_ = register_parameter("weight", ones(s, options.dtype()));
        bias_ = register_parameter("bias", zeros(s, options.dtype()));
    }
}

Tensor LayerNorm::forward(const Tensor& input) {
    check_not_moved_from("forward");
    if (!input.defined()) fail("LayerNorm", "undefined input");
    const auto& ns = options_.normalized_shape();
    const std::size_t d = ns.size(), r = input.ndim();
    bool fits = r >= d;
    for (std::size_t i = 0; fits && i < d; ++i) fits = input.shape()[r - d + i] == ns[i];
    if (!fits) {
        // PyTorch: "Given normalized_shape=[64], expected input with shape [*, 64], but got
        // input of size[2, 32]".
        fail("LayerNorm", "given normalized_shape=" + dims_str(ns) +
                              ", expected input with shape (*, " + dims_str(ns).substr(1) +
                              " (got " + input.shape().str() + ")");
    }
    check_dtype("LayerNorm", input, weight_.defined() ? weight_.dtype() : input.dtype());
    std::vector<int> axes;
    for (std::size_t i = r - d; i < r; ++i) axes.push_back(static_cast<int>(i));
    Tensor y = normalize(input, axes, options_.eps());
    // weight, bias: normalized_shape, broadcast over the leading dims.
    if (weight_.defined()) y = y * weight_ + bias_;
    return y;
}

void LayerNorm::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << "LayerNorm(" << dims_str(options_.normalized_shape()) << ", eps=" << eps.str()
       << ", elementwise_affine=" << (options_.elementwise_affine() ? "true" : "false") << ")";
}

GroupNorm::GroupNorm(const GroupNormOptions& options) : Module("GroupNorm"), options_(options) {
    if (options.num_groups() == 0 || options.num_channels() % options.num_groups() != 0) {
        fail("GroupNorm", "num_channels must be divisible by num_groups (got " +
                              std::to_string(options.num_channels()) + " channels and " +
                              std::to_string(options.num_groups()) + " groups)");
    }
    if (options.affine()) {
        weight_ =
            register_parameter("weight", ones(Shape{options.num_channels()}, options.dtype()));
        bias_ = register_parameter("bias", zeros(Shape{options.num_channels()}, options.dtype()));
    }
}

Tensor GroupNorm::forward(const Tensor& input) {
    check_not_moved_from("forward");
    if (!input.defined()) fail("GroupNorm", "undefined input");
    const std::size_t c = options_.num_channels(), g = options_.num_groups();
    if (input.ndim() < 2 || input.shape()[1] != c) {
        fail("GroupNorm",
             "expected input (N, " + std::to_string(c) + ", *) (got " + input.shape().str() + ")");
    }
    check_dtype("GroupNorm", input, weight_.defined() ? weight_.dtype() : input.dtype());
    const std::size_t n = input.shape()[0];
    // (N, C, *) -> (N, G, C/G * prod(*)): statistics over each group's channels and positions.
    const Tensor grouped =
        reshape(input, Shape{n, g, input.numel() / std::max<std::size_t>(1, n * g)});
    Tensor y = reshape(normalize(grouped, {2}, options_.eps()), input.shape());
    if (weight_.defined()) {
        const Shape cs = channel_shape(c, input.ndim());
        y = y * reshape(weight_, cs) + reshape(bias_, cs);
    }
    return y;
}

void GroupNorm::pretty_print(std::ostream& os) const {
    std::ostringstream eps;
    eps << options_.eps();
    os << "GroupNorm(" << options_.num_groups() << ", " << options_.num_channels()
       << ", eps=" << eps.str() << ", affine=" << (options_.affine() ? "true" : "false") << ")";
}

}  // namespace xgrad::nn
