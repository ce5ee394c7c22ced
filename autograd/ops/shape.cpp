// Shape ops: transpose and reshape. Values are copied (arrays own their storage).

#include <stdexcept>
#include <string>

#include "autograd/op_helpers.h"
#include "autograd/ops.h"

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
}  // namespace

Tensor transpose(const Tensor& a, const CallSite&) {
    detail::check_defined("transpose", a);
    if (a.ndim() < 2) return a;
    if (a.ndim() > 2) {
        throw std::invalid_argument("transpose: expects a 2-D tensor (got " + a.shape().str() +
                                    ")");
    }
    return from_op("transpose", transposed(a.value()), a, [](const Node&, const Array& grad) {
        return Grads(transposed(grad));  // (A^T)^T = A
    });
}

Tensor reshape(const Tensor& a, Shape shape, const CallSite&) {
    detail::check_defined("reshape", a);
    if (shape.numel("reshape") != a.numel()) {
        throw std::invalid_argument("reshape: element count differs (got " + a.shape().str() +
                                    " with " + std::to_string(a.numel()) + " elements, asked for " +
                                    shape.str() + ")");
    }
    return from_op("reshape", a.value().reshaped(std::move(shape)), a,
                   [](const Node& self, const Array& grad) {
                       return Grads(grad.reshaped(self.input(0).shape()));
                   });
}

}  // namespace xgrad
