#pragma once
// Kernels for the N-d ops (issue 10): strided copies, permute, batched matmul, gather/scatter,
// index_select/index_add, cat/split. Plain functions on Arrays, any rank; no graph, no grad.
// The ops in autograd/ops/ are thin wrappers over them. Internal; xtensor-free.
//
// Conventions: dims are already normalised (0 <= dim < ndim: use normalize_dim); every other
// bad input throws std::invalid_argument "<op>: what (got X, expected Y)" naming the shapes.
// Index arrays are Int64 (negative indices count from the end, as PyTorch).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "autograd/array.h"

namespace xgrad::kernels {

// ---- Dims and strides. ----

/// `dim` in [-ndim, ndim) mapped to [0, ndim), as PyTorch's wrap_dim; a 0-D array takes dims
/// -1 and 0. Throws std::invalid_argument "<op>: dimension out of range (expected to be in
/// range of [-2, 1], but got 2)".
std::size_t normalize_dim(const char* op, std::int64_t dim, std::size_t ndim);

/// Row-major strides (in elements) of a contiguous array of `shape`.
std::vector<std::size_t> contiguous_strides(const Shape& shape);

// ---- Strided copies (the primitive under permute, transpose, slice, narrow, select, expand). ----

/// A new contiguous array of `shape` whose element at multi-index i is
/// src.raw()[offset + sum_d i_d * strides[d]] (strides in elements, 0 for a broadcast dim;
/// strides.size() == shape.size()). Any dtype. Throws std::logic_error if the view reaches past
/// src's elements (a caller's bug). Parallel from 32K elements; the inner loops are memcpy
/// when the innermost stride is 1, and 2-D tiles when another dim has stride 1 (transposes).
Array copy_strided(const Array& src, const Shape& shape, const std::vector<std::size_t>& strides,
                   std::size_t offset = 0);

/// The adjoint of copy_strided, for backward: dst.raw()[offset + sum_d i_d * strides[d]] +=
/// src[i] for every multi-index i of src's shape (elements reached twice, as through an
/// expand, receive both). dst and src: the same floating or int64 dtype.
void add_strided(Array& dst, const Array& src, const std::vector<std::size_t>& strides,
                 std::size_t offset = 0);

/// permute(a, dims).contiguous(): out.shape[i] = a.shape[dims[i]]. Throws std::invalid_argument
/// "permute: ..." unless dims is a permutation of 0..ndim-1 (dims may be negative).
Array permute(const Array& a, const std::vector<std::int64_t>& dims);

// ---- Batched matrix products (torch.matmul's rules). ----

/// How a @ b is computed: operands read as batches of (m, k) and (k, n) matrices (a 1-D left
/// operand is a (1, k) row, a 1-D right one a (k, 1) column, and those dims are dropped from
/// the result), batch dims broadcast as NumPy. Example: (2,1,3,4) @ (5,4,2) -> (2,5,3,2).
struct MatmulPlan {
    Shape out;                                  // the result's shape
    Shape batch;                                // the broadcast batch dims
    std::size_t m = 0, k = 0, n = 0;            // per-batch product (m, k) @ (k, n)
    std::vector<std::size_t> a_index, b_index;  // per batch: which matrix of a / b it uses
    std::size_t a_batches = 1, b_batches = 1;   // matrices stored in a / b
};
/// Shape inference with the errors: "matmul: both arguments need at least 1 dimension (got ()
/// and (3))", "matmul: inner dimensions differ (got (2,3) and (4,5))", "matmul: batch
/// dimensions cannot be broadcast (got (2,3,4) and (5,4,2))". `op` names the caller.
MatmulPlan matmul_plan(const Shape& a, const Shape& b, const char* op = "matmul");

/// a @ b as torch.matmul (float32 or float64, same dtype). One BLAS gemm per batch; a batch of
/// `a` against a single 2-D `b` is one gemm over the stacked rows.
Array matmul(const Array& a, const Array& b);
/// d(a @ b)/da applied to `grad` (of the result's shape): grad @ b^T per batch, summed over the
/// batches that broadcast `a`, in a's shape. BLAS transpose flags: no transposed copies.
Array matmul_backward_a(const Array& grad, const Array& a, const Array& b);
/// d(a @ b)/db: a^T @ grad per batch, summed over the batches that broadcast `b`.
Array matmul_backward_b(const Array& grad, const Array& a, const Array& b);

/// C = op(A) op(B) for row-major matrices, op(A) (m, k) and op(B) (k, n); A stored (k, m) when
/// ta, B stored (n, k) when tb. beta 0 overwrites C, 1 adds to it. T = float or double.
template <class T>
void gemm(const T* a, bool ta, const T* b, bool tb, T* c, std::size_t m, std::size_t n,
          std::size_t k, T beta = T(0));

// ---- Indexing and joining. ----

/// out[i][j][k] = input[index[i][j][k]][j][k] for dim 0 (and likewise for other dims), as
/// torch.gather: index Int64 of input's rank, index.size(d) <= input.size(d) for d != dim; the
/// result has index's shape. Any dtype of input.
Array gather(const Array& input, std::size_t dim, const Array& index);
/// gather into `out` (index's shape, input's dtype; the caller checked the index's rank and
/// sizes, as gather does): no allocation up to 8 dims. Capture replays gather with it.
void gather_into(const Array& input, std::size_t dim, const Array& index, Array& out);
/// self with src added where gather would read: out[index[i][j]][j] += src[i][j] (dim 0), as
/// torch.scatter_add (repeated indices accumulate; src at least index's size in every dim).
/// Float or int64. gather's backward: scatter_add(zeros(input shape), dim, index, grad).
Array scatter_add(const Array& self, std::size_t dim, const Array& index, const Array& src);
/// The slices index[0], index[1], ... of `input` along `dim` (index 1-D or 0-D Int64), as
/// torch.index_select: out.shape[dim] = index.numel(). Any dtype.
Array index_select(const Array& input, std::size_t dim, const Array& index);
/// self with alpha * source's slice i added to slice index[i] along dim (repeated indices
/// accumulate), as torch.index_add: source.shape[dim] = index.numel(), other dims as self.
/// Float or int64. index_select's (and embedding's) backward.
Array index_add(const Array& self, std::size_t dim, const Array& index, const Array& source,
                double alpha = 1.0);
/// The arrays joined along dim (torch.cat): same dtype, same shape except along dim.
/// NOTE: PyTorch still skips legacy 1-D empty tensors of shape (0) in cat; we do not (it
/// reports their shape like any other mismatch).
Array cat(const std::vector<Array>& arrays, std::size_t dim);
/// Pieces of `sizes[i]` along dim (torch.split with a list; sizes must sum to the dim's size).
std::vector<Array> split(const Array& a, const std::vector<std::size_t>& sizes, std::size_t dim);
/// Pieces of split_size along dim, the last one smaller (torch.split with an int); a 0 size is
/// an error unless the dim is 0.
std::vector<Array> split(const Array& a, std::size_t split_size, std::size_t dim);

}  // namespace xgrad::kernels
