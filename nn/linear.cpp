#include "nn/linear.h"

#include <cmath>
#include <ostream>
#include <stdexcept>
#include <string>

#include "autograd/ops.h"
#include "nn/detail/random.h"
#include "nn/init.h"

namespace xgrad::nn {

Linear::Linear(std::size_t in, std::size_t out, bool bias, DType dtype)
    : Module("Linear"), in_(in), out_(out) {
    weight_ = register_parameter("weight", zeros(Shape{in, out}, dtype));
    if (bias) bias_ = register_parameter("bias", zeros(Shape{out}, dtype));
    const detail::SeedDraw draw = detail::next_default_draw();
    reseed_default(draw.seed);
    record_default_draw(draw);
}

void Linear::reseed_default(std::uint64_t seed) {
    // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    const double b = in_ > 0 ? 1.0 / std::sqrt(static_cast<double>(in_)) : 0.0;
    init::uniform_(parameters(), -b, b, seed);
}

Tensor Linear::forward(const Tensor& x) {
    check_not_moved_from("forward");
    if (!x.defined()) throw std::invalid_argument("Linear: undefined input");
    if (x.ndim() < 1 || x.shape()[x.ndim() - 1] != in_) {
        throw std::invalid_argument("Linear: input shape " + x.shape().str() +
                                    " does not match in=" + std::to_string(in_) +
                                    " (expected (*, " + std::to_string(in_) + "))");
    }
    if (x.dtype() != weight_.dtype()) {
        throw std::invalid_argument(std::string("Linear: input dtype ") + dtype_name(x.dtype()) +
                                    " differs from the weight's " + dtype_name(weight_.dtype()) +
                                    " (convert with to(x, dtype) or module.to(dtype))");
    }
    // x: (N, in)  W: (in, out)  y: (N, out); b (out) broadcasts over the rows. As PyTorch, any
    // leading dims (*, in) -> (*, out): flattened to rows so that it stays one GEMM.
    if (x.ndim() > 2) {
        Shape out_shape = x.shape();
        out_shape[x.ndim() - 1] = out_;
        std::size_t rows = 1;  // no overflow: the product of dims of an existing tensor
        for (std::size_t d = 0; d + 1 < x.ndim(); ++d) rows *= x.shape()[d];
        return reshape(forward(reshape(x, Shape{rows, in_})), out_shape);
    }
    // As torch's F.linear: a 2-D input with a bias is one addmm (the bias copied into the
    // result, then the gemm adds the product into it: no zeroing or bias pass).
    if (bias_.defined() && x.ndim() == 2) return addmm(bias_, x, weight_);
    Tensor y = matmul(x, weight_);
    return bias_.defined() ? y + bias_ : y;
}

void Linear::pretty_print(std::ostream& os) const {
    os << "Linear(in=" << in_ << ", out=" << out_ << ", bias=" << (has_bias() ? "true" : "false")
       << ")";
}

}  // namespace xgrad::nn
