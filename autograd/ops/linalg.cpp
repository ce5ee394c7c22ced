// Matrix products with torch.matmul's rules: 1-D operands, 2-D, and batches with broadcast
// batch dims, one BLAS gemm per matrix (or one over the stacked rows when a batch meets a single
// matrix). Transposes are BLAS flags carried as the node's parameters, never copies.

#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/kernels/nd.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

struct MatmulParams {
    bool ta = false, tb = false;
};

// The operand as the product reads it: the last two dims swapped when its flag is set (a 1-D
// operand has no flag to apply).
Shape logical(const Shape& s, bool t) {
    Shape r = s;
    if (t && s.size() >= 2) std::swap(r[s.size() - 1], r[s.size() - 2]);
    return r;
}

kernels::MatmulPlan plan_of(const Shape& sa, const Shape& sb, MatmulParams p) {
    return kernels::matmul_plan(logical(sa, p.ta), logical(sb, p.tb), "matmul");
}

Tensor matmul_flags(const Tensor& a, const Tensor& b, MatmulParams p);

// Leading dims that broadcast: g summed to `shape` (the engine's sum_to), as a Tensor op.
Tensor reduce_to(const Tensor& g, const Shape& shape) {
    return g.shape() == shape ? g : sum_to(g, shape);
}

// C = op(A) op(B) per batch, with G = dL/dC:
//   d op(A) = G op(B)^T, so dA = ta ? op(B) G^T : G op(B)^T;
//   d op(B) = op(A)^T G, so dB = tb ? G^T op(A) : op(A)^T G.
// Each product is itself a flagged matmul (no transposed copies), and so differentiable again.
// A 1-D operand is a (1,k) row on the left and a (k,1) column on the right, its dim dropped from
// C; batch dims that broadcast an operand are summed back (sum_to) to its own batch shape.
// A batch of a against one 2-D b (a Linear on (N,T,in)): dB = A^T G over the stacked rows,
// one gemm with k = batches * m instead of a (batches,k,n) temporary.
TensorGrads matmul_rule(const OpContext& ctx, const Tensor& grad) {
    const MatmulParams p = ctx.params<MatmulParams>();
    const Tensor &a = ctx.input(0), &b = ctx.input(1);
    const kernels::MatmulPlan pl = plan_of(a.shape(), b.shape(), p);
    const bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
    const Tensor A = a_vec ? reshape(a, Shape{1, pl.k}) : a;
    const Tensor B = b_vec ? reshape(b, Shape{pl.k, 1}) : b;
    std::vector<std::size_t> gv = pl.batch.vec();  // grad as batch + (m, n)
    gv.push_back(pl.m);
    gv.push_back(pl.n);
    const Tensor G = grad.shape() == Shape(gv) ? grad : reshape(grad, Shape(gv));
    Tensor ga, gb;
    if (ctx.needs_grad(0)) {
        ga = p.ta ? matmul_flags(B, G, {p.tb, true}) : matmul_flags(G, B, {false, !p.tb});
        ga = reduce_to(ga, A.shape());
        if (ga.shape() != a.shape()) ga = reshape(ga, a.shape());
    }
    if (ctx.needs_grad(1)) {
        const bool folded = B.ndim() == 2 && A.ndim() > 2 && !p.ta;
        if (folded) {
            // A (batches*m, k), G (batches*m, n): dB = A^T G, or G^T A when tb.
            const std::size_t rows = pl.a_batches * pl.m;
            const Tensor A2 = reshape(A, Shape{rows, pl.k});
            const Tensor G2 = reshape(G, Shape{rows, pl.n});
            gb = p.tb ? matmul_flags(G2, A2, {true, false}) : matmul_flags(A2, G2, {true, false});
        } else {
            gb = p.tb ? matmul_flags(G, A, {true, p.ta}) : matmul_flags(A, G, {!p.ta, false});
            gb = reduce_to(gb, B.shape());
        }
        if (gb.shape() != b.shape()) gb = reshape(gb, b.shape());
    }
    return TensorGrads(std::move(ga), std::move(gb));
}

// The trace writes a dot product's derivatives: d(a.b)/da = b for 1-D a and b.
const char* dot_local(const Node& n, std::size_t i) {
    if (n.input(0).ndim() != 1 || n.input(1).ndim() != 1) return nullptr;
    return i == 0 ? "{b}" : "{a}";
}

template <class T>
void batched_gemm(const kernels::MatmulPlan& pl, MatmulParams p, const T* A, const T* B, T* C) {
    const std::size_t sa = pl.m * pl.k, sb = pl.k * pl.n, sc = pl.m * pl.n;
    bool identity = pl.b_batches == 1 && pl.a_batches == pl.a_index.size() && !p.ta;
    for (std::size_t i = 0; identity && i < pl.a_index.size(); ++i) identity = pl.a_index[i] == i;
    if (identity) {
        // Every matrix of a, in order, against one b: (batches*m, k) @ op(B) (k, n), one gemm.
        kernels::gemm(A, false, B, p.tb, C, pl.a_batches * pl.m, pl.n, pl.k);
        return;
    }
    for (std::size_t i = 0; i < pl.a_index.size(); ++i) {
        kernels::gemm(A + pl.a_index[i] * sa, p.ta, B + pl.b_index[i] * sb, p.tb, C + i * sc, pl.m,
                      pl.n, pl.k);
    }
}

// Capture replay: the product again into the node's value. Operands of at most two dims are
// one gemm with (m, k, n) read off the shapes, as the plan would give them (no allocation);
// batches go through the plan, as the forward does (its index tables are the only allocation).
void matmul_forward_into(const Node& self, Array& out) {
    const MatmulParams p = self.params<MatmulParams>();
    const Array &a = self.input(0), &b = self.input(1);
    dispatch("matmul", out.dtype(), [&](auto t) {
        using T = decltype(t);
        const T *A = a.data<T>(), *B = b.data<T>();
        T* C = out.data<T>();
        if (a.ndim() <= 2 && b.ndim() <= 2) {
            // op(A): (m, k), op(B): (k, n); a 1-D a is a (1, k) row, a 1-D b a (k, 1) column.
            const Shape& sa = a.shape();
            const Shape& sb = b.shape();
            const std::size_t m = a.ndim() == 2 ? sa[p.ta ? 1 : 0] : 1;
            const std::size_t k = a.ndim() == 2 ? sa[p.ta ? 0 : 1] : sa[0];
            const std::size_t n = b.ndim() == 2 ? sb[p.tb ? 0 : 1] : 1;
            kernels::gemm(A, p.ta, B, p.tb, C, m, n, k);  // the flags as the forward passes them
            return;
        }
        batched_gemm<T>(plan_of(a.shape(), b.shape(), p), p, A, B, C);
    });
}

const OpDef kMatmul = [] {
    OpDef d{};
    d.name = "matmul";
    d.backward = &matmul_rule;
    d.local_of = &dot_local;
    d.forward_into = &matmul_forward_into;
    return d;
}();

Tensor matmul_flags(const Tensor& a, const Tensor& b, MatmulParams p) {
    detail::check_defined("matmul", a, "input 0");
    detail::check_defined("matmul", b, "input 1");
    detail::check_same_dtype("matmul", a, b);
    const kernels::MatmulPlan pl = plan_of(a.shape(), b.shape(), p);
    Array c = Array::empty(a.dtype(), pl.out);
    dispatch("matmul", a.dtype(), [&](auto t) {
        using T = decltype(t);
        batched_gemm<T>(pl, p, a.value().data<T>(), b.value().data<T>(), c.data<T>());
    });
    return record(kMatmul, std::move(c), {&a, &b}, p);
}

// ---- addmm: beta input + alpha (mat1 @ mat2), nn::Linear's fused product and bias ----

struct AddmmParams {
    double beta = 1, alpha = 1;
};

// out = beta input + alpha (m1 @ m2), input broadcast to (n, p), with G = dL/dout:
//   d input = beta G (the engine sums it back to input's shape),
//   d m1 = alpha G m2^T, d m2 = alpha m1^T G,
// the products flagged matmuls (no transposed copies), so differentiable again.
TensorGrads addmm_rule(const OpContext& ctx, const Tensor& grad) {
    const AddmmParams p = ctx.params<AddmmParams>();
    const auto scaled = [](const Tensor& t, double s) { return s == 1 ? t : t * s; };
    Tensor gi, g1, g2;
    if (ctx.needs_grad(0)) gi = scaled(grad, p.beta);
    if (ctx.needs_grad(1)) g1 = scaled(matmul_flags(grad, ctx.input(2), {false, true}), p.alpha);
    if (ctx.needs_grad(2)) g2 = scaled(matmul_flags(ctx.input(1), grad, {true, false}), p.alpha);
    return TensorGrads(std::vector<Tensor>{std::move(gi), std::move(g1), std::move(g2)});
}

// The forward into `out` (n, p). With alpha 1 the input is copied into out, broadcast, and the
// gemm adds the product into it (beta = 1 in BLAS terms: no zeroing pass and no separate bias
// pass, as torch's addmm). Otherwise the product goes to a temporary and is combined after.
// beta 0 ignores the input's values (a NaN in it does not propagate), as torch.addmm.
void addmm_into(const Array& input, const Array& m1, const Array& m2, AddmmParams p, Array& out) {
    const std::size_t n = m1.shape()[0], k = m1.shape()[1], q = m2.shape()[1];
    dispatch("addmm", out.dtype(), [&](auto t) {
        using T = decltype(t);
        const T beta = static_cast<T>(p.beta), alpha = static_cast<T>(p.alpha);
        if (p.alpha == 1 && p.beta != 0) {
            if (p.beta == 1) {
                kernels::map_into<T>(
                    out, [](T v) { return v; }, input);
            } else {
                kernels::map_into<T>(
                    out, [beta](T v) { return beta * v; }, input);
            }
            kernels::gemm(m1.data<T>(), false, m2.data<T>(), false, out.data<T>(), n, q, k, T(1));
            return;
        }
        if (p.beta == 0) {
            kernels::gemm(m1.data<T>(), false, m2.data<T>(), false, out.data<T>(), n, q, k);
            T* o = out.data<T>();
            for (std::size_t i = 0, e = out.numel(); i < e; ++i) o[i] *= alpha;
            return;
        }
        Array prod = Array::empty(out.dtype(), out.shape());
        kernels::gemm(m1.data<T>(), false, m2.data<T>(), false, prod.data<T>(), n, q, k);
        kernels::map_into<T>(
            out, [beta, alpha](T v, T c) { return beta * v + alpha * c; }, input, prod);
    });
}

void addmm_forward_into(const Node& self, Array& out) {
    addmm_into(self.input(0), self.input(1), self.input(2), self.params<AddmmParams>(), out);
}

const OpDef kAddmm = [] {
    OpDef d{};
    d.name = "addmm";
    d.backward = &addmm_rule;
    d.forward_into = &addmm_forward_into;
    d.destroy_params = destroy_params_of<AddmmParams>();  // two doubles: on the heap
    return d;
}();

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, const CallSite&) {
    return matmul_flags(a, b, MatmulParams{});
}

Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta, double alpha,
             const CallSite&) {
    detail::check_defined("addmm", input, "input");
    detail::check_defined("addmm", mat1, "mat1");
    detail::check_defined("addmm", mat2, "mat2");
    if (mat1.ndim() != 2 || mat2.ndim() != 2) {
        throw std::invalid_argument("addmm: expected 2-D mat1 and mat2 (got " + mat1.shape().str() +
                                    " and " + mat2.shape().str() + ")");
    }
    if (mat1.shape()[1] != mat2.shape()[0]) {
        throw std::invalid_argument("addmm: inner dimensions differ (got " + mat1.shape().str() +
                                    " and " + mat2.shape().str() + ")");
    }
    detail::check_same_dtype("addmm", mat1, mat2);
    detail::check_same_dtype("addmm", input, mat1);
    const Shape out_shape{mat1.shape()[0], mat2.shape()[1]};
    // The engine's broadcast rule (as expand's check); its own error is replaced by one that
    // names mat1 and mat2 too.
    bool fits = false;
    try {
        fits = broadcast_shapes("addmm", input.shape(), out_shape) == out_shape;
    } catch (const std::invalid_argument&) {
    }
    if (!fits) {
        throw std::invalid_argument("addmm: input of shape " + input.shape().str() +
                                    " cannot be broadcast to the product's shape " +
                                    out_shape.str() + " (mat1 " + mat1.shape().str() + ", mat2 " +
                                    mat2.shape().str() + ")");
    }
    const AddmmParams p{beta, alpha};
    Array out = Array::empty(mat1.dtype(), out_shape);
    addmm_into(input.value(), mat1.value(), mat2.value(), p, out);
    return record(kAddmm, std::move(out), {&input, &mat1, &mat2}, p);
}

Tensor bmm(const Tensor& a, const Tensor& b, const CallSite&) {
    detail::check_defined("bmm", a, "input 0");
    detail::check_defined("bmm", b, "input 1");
    if (a.ndim() != 3 || b.ndim() != 3) {
        throw std::invalid_argument("bmm: expected two 3-D tensors (got " + a.shape().str() +
                                    " and " + b.shape().str() + ")");
    }
    if (a.shape()[0] != b.shape()[0]) {
        throw std::invalid_argument("bmm: batch sizes differ (got " + a.shape().str() + " and " +
                                    b.shape().str() + ")");
    }
    if (a.shape()[2] != b.shape()[1]) {
        throw std::invalid_argument("bmm: inner dimensions differ (got " + a.shape().str() +
                                    " and " + b.shape().str() + ")");
    }
    return matmul_flags(a, b, MatmulParams{});
}

}  // namespace xgrad
