// Matrix products through xtensor-blas to BLAS (OpenBLAS on Debian), written straight into the
// result buffer: no temporaries, transposes passed to BLAS as flags instead of materialised.

#include <stdexcept>
#include <string>

#include "autograd/op_helpers.h"
#include "autograd/ops.h"
#include "autograd/xt.h"

namespace xgrad {

void ensure_thread_defaults();  // autograd/threads.cpp

namespace {

// C (m,n) = op(A) · op(B), where op(A) is (m,k) and op(B) is (k,n); A, B row-major with
// their stored shapes (ta ? (k,m) : (m,k)) and (tb ? (n,k) : (k,n)).
template <class T>
void gemm(const T* a, bool ta, const T* b, bool tb, T* c, std::size_t m, std::size_t n,
          std::size_t k) {
    if (m == 0 || n == 0) return;
    ensure_thread_defaults();
    if (k == 0) {
        std::fill(c, c + m * n, T(0));
        return;
    }
    auto A = xt_bridge::matrix(a, ta ? k : m, ta ? m : k);
    auto B = xt_bridge::matrix(b, tb ? n : k, tb ? k : n);
    auto C = xt_bridge::matrix(c, m, n);
    xt::blas::gemm(A, B, C, ta, tb);
}

// The operands as matrices: a vector on the left is a row (1,k); on the right a column (k,1).
struct Dims {
    std::size_t m, k, n;
};

Dims matmul_dims(const Tensor& a, const Tensor& b) {
    const Shape &sa = a.shape(), &sb = b.shape();
    if (sa.size() < 1 || sa.size() > 2 || sb.size() < 1 || sb.size() > 2) {
        throw std::invalid_argument("matmul: operands must be 1-D or 2-D (got " + sa.str() +
                                    " and " + sb.str() + ")");
    }
    const std::size_t ka = sa[sa.size() - 1], kb = sb[0];
    if (ka != kb) {
        throw std::invalid_argument("matmul: inner dimensions differ (got " + sa.str() + " and " +
                                    sb.str() + ")");
    }
    return {sa.size() == 2 ? sa[0] : 1, ka, sb.size() == 2 ? sb[1] : 1};
}

Shape matmul_shape(const Shape& sa, const Shape& sb) {
    if (sa.size() == 2 && sb.size() == 2) return Shape{sa[0], sb[1]};
    if (sa.size() == 2) return Shape{sa[0]};
    if (sb.size() == 2) return Shape{sb[1]};
    return Shape{};
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const CallSite&) {
    detail::check_defined("matmul", a);
    detail::check_defined("matmul", b);
    detail::check_same_dtype("matmul", a, b);
    const Dims d = matmul_dims(a, b);
    Array c = Array::empty(a.dtype(), matmul_shape(a.shape(), b.shape()));
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        gemm(a.value().data<T>(), false, b.value().data<T>(), false, c.data<T>(), d.m, d.n, d.k);
    });
    return from_op("matmul", std::move(c), a, b, [d](const Node& self, const Array& grad) {
        // C = A B  =>  dA = G B^T (m,k),  dB = A^T G (k,n); vectors are (1,k) rows / (k,1)
        // columns, so the same two products cover every case.
        const Array &A = self.input(0), &B = self.input(1);
        Array ga, gb;
        dispatch(grad.dtype(), [&](auto t) {
            using T = decltype(t);
            const T* g = grad.data<T>();
            if (self.needs_grad(0)) {
                ga = Array::empty(A.dtype(), A.shape());
                gemm(g, false, B.data<T>(), true, ga.data<T>(), d.m, d.k, d.n);
            }
            if (self.needs_grad(1)) {
                gb = Array::empty(B.dtype(), B.shape());
                gemm(A.data<T>(), true, g, false, gb.data<T>(), d.k, d.n, d.m);
            }
        });
        return Grads(std::move(ga), std::move(gb));
    });
}

}  // namespace xgrad
