// Shape ops: transpose and reshape. Values are copied (arrays own their storage).

#include <stdexcept>
#include <string>

#include "autograd/op.h"

namespace xgrad {

namespace {
// out (c, r) = in (r, c)^T, in tiles so both sides stay in cache.
Array transposed(const Array& in) {
    const std::size_t r = in.shape()[0], c = in.shape()[1];
    Array out = Array::empty(in.dtype(), Shape{c, r});
    dispatch(in.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = in.data<T>();
        T* q = out.data<T>();
        constexpr std::size_t kTile = 32;
        for (std::size_t i0 = 0; i0 < r; i0 += kTile) {
            for (std::size_t j0 = 0; j0 < c; j0 += kTile) {
                for (std::size_t i = i0; i < std::min(r, i0 + kTile); ++i) {
                    for (std::size_t j = j0; j < std::min(c, j0 + kTile); ++j) {
                        q[j * r + i] = p[i * c + j];
                    }
                }
            }
        }
    });
    return out;
}
TensorGrads transpose_rule(const OpContext&, const Tensor& grad) {
    return TensorGrads(transpose(grad));  // (A^T)^T = A
}
const OpDef kTranspose = [] {
    OpDef d{};
    d.name = "transpose";
    d.backward = &transpose_rule;
    d.saves = 0;
    return d;
}();

TensorGrads reshape_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(reshape(grad, ctx.input(0).shape()));
}
const OpDef kReshape = [] {
    OpDef d{};
    d.name = "reshape";
    d.backward = &reshape_rule;
    d.saves = 0;
    return d;
}();

// sum_to and expand_to are each other's derivative.
TensorGrads sum_to_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(expand_to(grad, ctx.input(0).shape()));
}
const OpDef kSumTo = [] {
    OpDef d{};
    d.name = "sum_to";
    d.backward = &sum_to_rule;
    d.saves = 0;
    return d;
}();

TensorGrads expand_to_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(sum_to(grad, ctx.input(0).shape()));
}
const OpDef kExpandTo = [] {
    OpDef d{};
    d.name = "expand";
    d.backward = &expand_to_rule;
    d.saves = 0;
    return d;
}();

}  // namespace

Tensor transpose(const Tensor& a, const CallSite&) {
    detail::check_defined("transpose", a);
    if (a.ndim() < 2) return a;
    if (a.ndim() > 2) {
        throw std::invalid_argument("transpose: expects a 2-D tensor (got " + a.shape().str() +
                                    ")");
    }
    return record(kTranspose, transposed(a.value()), {&a});
}

Tensor reshape(const Tensor& a, Shape shape, const CallSite&) {
    detail::check_defined("reshape", a);
    if (shape.numel("reshape") != a.numel()) {
        throw std::invalid_argument("reshape: element count differs (got " + a.shape().str() +
                                    " with " + std::to_string(a.numel()) + " elements, asked for " +
                                    shape.str() + ")");
    }
    return record(kReshape, a.value().reshaped(std::move(shape)), {&a});
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
    detail::check_defined("sum_to", g);
    if (g.shape() == shape) return g;
    Array out;
    if (!kernels::sum_to(g.value(), shape, out)) {
        throw std::invalid_argument("sum_to: shape " + shape.str() +
                                    " does not broadcast to the gradient's shape (got " +
                                    g.shape().str() + ")");
    }
    return record(kSumTo, std::move(out), {&g});
}

Tensor expand_to(const Tensor& x, const Shape& shape) {
    detail::check_defined("expand", x);
    if (x.shape() == shape) return x;
    const Shape b = broadcast_shapes("expand", x.shape(), shape);
    if (b != shape) {
        throw std::invalid_argument("expand: cannot expand shape " + x.shape().str() + " to " +
                                    shape.str());
    }
    Array out = dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            shape, [](T v) { return v; }, x.value());
    });
    return record(kExpandTo, std::move(out), {&x});
}

}  // namespace xgrad
