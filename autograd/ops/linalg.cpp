// Matrix products through xtensor-blas to BLAS (OpenBLAS on Debian), written straight into the
// result buffer: no temporaries, transposes passed to BLAS as flags instead of materialised.

#include <stdexcept>
#include <string>

#include "autograd/op.h"
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
// op(A) is (m,k) and op(B) is (k,n), with op = transpose where the flag says so.
struct Dims {
    std::size_t m, k, n;
};

struct MatmulParams {
    bool ta = false, tb = false;
};

Dims matmul_dims(const Shape& sa, const Shape& sb, MatmulParams p) {
    if (sa.size() < 1 || sa.size() > 2 || sb.size() < 1 || sb.size() > 2) {
        throw std::invalid_argument("matmul: operands must be 1-D or 2-D (got " + sa.str() +
                                    " and " + sb.str() + ")");
    }
    // A vector stands for (1,k) on the left and (k,1) on the right; flags apply to matrices.
    const std::size_t ra = sa.size() == 2 ? sa[0] : 1, ca = sa[sa.size() - 1];
    const std::size_t rb = sb[0], cb = sb.size() == 2 ? sb[1] : 1;
    const std::size_t m = p.ta ? ca : ra, ka = p.ta ? ra : ca;
    const std::size_t kb = p.tb ? cb : rb, n = p.tb ? rb : cb;
    if (ka != kb) {
        throw std::invalid_argument("matmul: inner dimensions differ (got " + sa.str() + " and " +
                                    sb.str() + ")");
    }
    return {m, ka, n};
}

Shape matmul_shape(const Shape& sa, const Shape& sb, const Dims& d) {
    if (sa.size() == 2 && sb.size() == 2) return Shape{d.m, d.n};
    if (sa.size() == 2) return Shape{d.m};
    if (sb.size() == 2) return Shape{d.n};
    return Shape{};
}

Tensor matmul_flags(const Tensor& a, const Tensor& b, MatmulParams p);

// C = op(A) op(B), with G = dL/dC (m,n):
//   d op(A) = G op(B)^T, so dA = ta ? op(B) G^T : G op(B)^T;
//   d op(B) = op(A)^T G, so dB = tb ? G^T op(A) : op(A)^T G.
// Each product is itself a flagged matmul (no transposed copies), and so differentiable again.
// Vector operands are viewed as (1,k) rows or (k,1) columns for the products.
TensorGrads matmul_rule(const OpContext& ctx, const Tensor& grad) {
    const MatmulParams p = ctx.params<MatmulParams>();
    const Tensor &a = ctx.input(0), &b = ctx.input(1);
    const Dims d = matmul_dims(a.shape(), b.shape(), p);
    const bool matrices = a.ndim() == 2 && b.ndim() == 2;
    const Tensor A = matrices || a.ndim() == 2 ? a : reshape(a, Shape{1, d.k});
    const Tensor B = matrices || b.ndim() == 2 ? b : reshape(b, Shape{d.k, 1});
    const Tensor G = matrices ? grad : reshape(grad, Shape{d.m, d.n});
    Tensor ga, gb;
    if (ctx.needs_grad(0)) {
        ga = p.ta ? matmul_flags(B, G, {p.tb, true}) : matmul_flags(G, B, {false, !p.tb});
        if (ga.shape() != a.shape()) ga = reshape(ga, a.shape());
    }
    if (ctx.needs_grad(1)) {
        gb = p.tb ? matmul_flags(G, A, {true, p.ta}) : matmul_flags(A, G, {!p.ta, false});
        if (gb.shape() != b.shape()) gb = reshape(gb, b.shape());
    }
    return TensorGrads(std::move(ga), std::move(gb));
}

// The trace writes a dot product's derivatives: d(a.b)/da = b for 1-D a and b.
const char* dot_local(const Node& n, std::size_t i) {
    if (n.input(0).ndim() != 1 || n.input(1).ndim() != 1) return nullptr;
    return i == 0 ? "{b}" : "{a}";
}

const OpDef kMatmul = [] {
    OpDef d{};
    d.name = "matmul";
    d.backward = &matmul_rule;
    d.local_of = &dot_local;
    return d;
}();

Tensor matmul_flags(const Tensor& a, const Tensor& b, MatmulParams p) {
    detail::check_defined("matmul", a, "input 0");
    detail::check_defined("matmul", b, "input 1");
    detail::check_same_dtype("matmul", a, b);
    const Dims d = matmul_dims(a.shape(), b.shape(), p);
    Array c = Array::empty(a.dtype(), matmul_shape(a.shape(), b.shape(), d));
    dispatch(a.dtype(), [&](auto t) {
        using T = decltype(t);
        gemm(a.value().data<T>(), p.ta, b.value().data<T>(), p.tb, c.data<T>(), d.m, d.n, d.k);
    });
    return record(kMatmul, std::move(c), {&a, &b}, p);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const CallSite&) {
    return matmul_flags(a, b, MatmulParams{});
}

}  // namespace xgrad
