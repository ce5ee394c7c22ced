// Batched matrix products with torch.matmul's rules, straight to CBLAS (no xtensor: this TU
// compiles in a second). Transposes are BLAS flags, never copies.

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

#include "autograd/kernels/nd.h"

namespace xgrad {

void ensure_thread_defaults();  // autograd/threads.cpp

namespace kernels {

namespace {

int blas_int(std::size_t v, std::size_t m, std::size_t n, std::size_t k) {
    if (v > static_cast<std::size_t>(INT_MAX)) {
        throw std::length_error(
            "matmul: a matrix dimension exceeds BLAS's int range (got m=" + std::to_string(m) +
            ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ")");
    }
    return static_cast<int>(v);
}

void blas_gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b,
               int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b,
               int ldb, double beta, double* c, int ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

[[noreturn]] void shape_error(const char* op, const char* what, const Shape& a, const Shape& b) {
    throw std::invalid_argument(std::string(op) + ": " + what + " (got " + a.str() + " and " +
                                b.str() + ")");
}

void check_operands(const char* op, const Array& a, const Array& b) {
    if (!a.defined() || !b.defined())
        throw std::invalid_argument(std::string(op) + ": undefined array");
    if (a.dtype() != b.dtype()) {
        throw std::invalid_argument(std::string(op) + ": dtypes differ (got " +
                                    dtype_name(a.dtype()) + " " + a.shape().str() + " and " +
                                    dtype_name(b.dtype()) + " " + b.shape().str() + ")");
    }
    dispatch(op, a.dtype(), [](auto) {});  // floating only
}

// The batches of `a` are used each once, in order, against a single matrix of `b`: the whole
// product is one gemm over the stacked rows of `a` (m' = batches * m).
bool folds(const MatmulPlan& p) {
    if (p.b_batches != 1 || p.a_batches != p.a_index.size()) return false;
    for (std::size_t i = 0; i < p.a_index.size(); ++i) {
        if (p.a_index[i] != i) return false;
    }
    return true;
}

}  // namespace

template <class T>
void gemm(const T* a, bool ta, const T* b, bool tb, T* c, std::size_t m, std::size_t n,
          std::size_t k, T beta) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (beta == T(0)) std::fill(c, c + m * n, T(0));
        return;
    }
    ensure_thread_defaults();
    const int im = blas_int(m, m, n, k), in = blas_int(n, m, n, k), ik = blas_int(k, m, n, k);
    blas_gemm(ta, tb, im, in, ik, a, ta ? im : ik, b, tb ? ik : in, beta, c, in);
}
template void gemm<float>(const float*, bool, const float*, bool, float*, std::size_t, std::size_t,
                          std::size_t, float);
template void gemm<double>(const double*, bool, const double*, bool, double*, std::size_t,
                           std::size_t, std::size_t, double);

MatmulPlan matmul_plan(const Shape& a, const Shape& b, const char* op) {
    if (a.empty() || b.empty()) shape_error(op, "both arguments need at least 1 dimension", a, b);
    MatmulPlan p;
    const std::size_t na = a.size(), nb = b.size();
    p.m = na >= 2 ? a[na - 2] : 1;
    p.k = a[na - 1];
    const std::size_t kb = nb >= 2 ? b[nb - 2] : b[0];
    p.n = nb >= 2 ? b[nb - 1] : 1;
    if (p.k != kb) shape_error(op, "inner dimensions differ", a, b);
    const std::size_t ba = na > 2 ? na - 2 : 0, bb = nb > 2 ? nb - 2 : 0;
    const std::size_t nbatch = std::max(ba, bb);
    std::vector<std::size_t> batch(nbatch), out;
    for (std::size_t i = 0; i < nbatch; ++i) {
        // Trailing batch dims aligned; a missing leading dim counts as 1.
        const std::size_t da = i + ba >= nbatch ? a[i + ba - nbatch] : 1;
        const std::size_t db = i + bb >= nbatch ? b[i + bb - nbatch] : 1;
        if (da != db && da != 1 && db != 1) {
            shape_error(op, "batch dimensions cannot be broadcast", a, b);
        }
        batch[i] = da == 1 ? db : da;
    }
    p.batch = Shape(batch);
    out = batch;
    if (na >= 2) out.push_back(p.m);
    if (nb >= 2) out.push_back(p.n);
    p.out = Shape(out);
    (void)p.out.numel(op);  // overflow-checked
    p.a_batches = Shape(a.data(), ba).numel(op);
    p.b_batches = Shape(b.data(), bb).numel(op);
    // For each broadcast batch (row-major over `batch`), the flat matrix index in a and in b.
    const std::size_t count = p.batch.numel(op);
    p.a_index.assign(count, 0);
    p.b_index.assign(count, 0);
    std::vector<std::size_t> sa(nbatch, 0), sb(nbatch, 0);
    for (std::size_t d = nbatch, acc_a = 1, acc_b = 1; d-- > 0;) {
        const std::size_t off_a = nbatch - ba, off_b = nbatch - bb;
        if (d >= off_a) {
            sa[d] = a[d - off_a] == 1 ? 0 : acc_a;
            acc_a *= a[d - off_a];
        }
        if (d >= off_b) {
            sb[d] = b[d - off_b] == 1 ? 0 : acc_b;
            acc_b *= b[d - off_b];
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t q = i, ia = 0, ib = 0;
        for (std::size_t d = nbatch; d-- > 0;) {
            const std::size_t id = q % batch[d];
            q /= batch[d];
            ia += id * sa[d];
            ib += id * sb[d];
        }
        p.a_index[i] = ia;
        p.b_index[i] = ib;
    }
    return p;
}

Array matmul(const Array& a, const Array& b) {
    check_operands("matmul", a, b);
    const MatmulPlan p = matmul_plan(a.shape(), b.shape());
    Array c = Array::empty(a.dtype(), p.out);
    dispatch(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *A = a.data<T>(), *B = b.data<T>();
        T* C = c.data<T>();
        if (folds(p)) {
            // (batches * m, k) @ (k, n)
            gemm(A, false, B, false, C, p.a_batches * p.m, p.n, p.k);
            return;
        }
        for (std::size_t i = 0; i < p.a_index.size(); ++i) {
            gemm(A + p.a_index[i] * p.m * p.k, false, B + p.b_index[i] * p.k * p.n, false,
                 C + i * p.m * p.n, p.m, p.n, p.k);
        }
    });
    return c;
}

Array matmul_backward_a(const Array& grad, const Array& a, const Array& b) {
    check_operands("matmul_backward", a, b);
    const MatmulPlan p = matmul_plan(a.shape(), b.shape());
    if (grad.shape() != p.out || grad.dtype() != a.dtype()) {
        shape_error("matmul_backward", "gradient does not match the result", grad.shape(), p.out);
    }
    Array ga = Array::empty(a.dtype(), a.shape());
    dispatch(a.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *G = grad.data<T>(), *B = b.data<T>();
        T* GA = ga.data<T>();
        if (folds(p)) {
            // dA (batches * m, k) = G (batches * m, n) @ B^T (n, k)
            gemm(G, false, B, true, GA, p.a_batches * p.m, p.k, p.n);
            return;
        }
        // dA_j = sum over the batches i that read matrix j of a: G_i @ B_i^T, in batch order.
        std::vector<bool> written(p.a_batches, false);
        for (std::size_t i = 0; i < p.a_index.size(); ++i) {
            const std::size_t j = p.a_index[i];
            gemm(G + i * p.m * p.n, false, B + p.b_index[i] * p.k * p.n, true, GA + j * p.m * p.k,
                 p.m, p.k, p.n, written[j] ? T(1) : T(0));
            written[j] = true;
        }
        for (std::size_t j = 0; j < p.a_batches; ++j) {  // no batch reads it: a zero gradient
            if (!written[j]) std::fill(GA + j * p.m * p.k, GA + (j + 1) * p.m * p.k, T(0));
        }
    });
    return ga;
}

Array matmul_backward_b(const Array& grad, const Array& a, const Array& b) {
    check_operands("matmul_backward", a, b);
    const MatmulPlan p = matmul_plan(a.shape(), b.shape());
    if (grad.shape() != p.out || grad.dtype() != a.dtype()) {
        shape_error("matmul_backward", "gradient does not match the result", grad.shape(), p.out);
    }
    Array gb = Array::empty(b.dtype(), b.shape());
    dispatch(b.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T *G = grad.data<T>(), *A = a.data<T>();
        T* GB = gb.data<T>();
        if (folds(p)) {
            // dB (k, n) = A^T (k, batches * m) @ G (batches * m, n)
            gemm(A, true, G, false, GB, p.k, p.n, p.a_batches * p.m);
            return;
        }
        std::vector<bool> written(p.b_batches, false);
        for (std::size_t i = 0; i < p.b_index.size(); ++i) {
            const std::size_t j = p.b_index[i];
            gemm(A + p.a_index[i] * p.m * p.k, true, G + i * p.m * p.n, false, GB + j * p.k * p.n,
                 p.k, p.n, p.m, written[j] ? T(1) : T(0));
            written[j] = true;
        }
        for (std::size_t j = 0; j < p.b_batches; ++j) {
            if (!written[j]) std::fill(GB + j * p.k * p.n, GB + (j + 1) * p.k * p.n, T(0));
        }
    });
    return gb;
}

}  // namespace kernels
}  // namespace xgrad
