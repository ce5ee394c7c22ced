#pragma once
// Every differentiable function, grouped by family. Binary element-wise ops broadcast as NumPy
// does; operands must share a dtype (mixing float32 and float64 throws: convert with to()).
// A scalar operand (`2 * x`, `x + 1`) takes the tensor's dtype.
//
// Every op's last argument is a defaulted CallSite, and every operator's first tensor operand
// a TensorArg: both capture the caller's file and line for anomaly mode
// (autograd/debug/anomaly.h) and are never written by users. They cost a few instructions
// when anomaly mode is off.
//
// Every op's backward rule is itself written in these ops (autograd/op.h), so every gradient
// can be differentiated again: grad(..., create_graph=true) in autograd/functional.h.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/call_site.h"
#include "autograd/tensor.h"

namespace xgrad {

// ---- Element-wise, binary (broadcasting) ----
/// a + b. d/da = grad, d/db = grad (summed over broadcast axes by the engine).
Tensor add(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a - b. d/da = grad, d/db = -grad.
Tensor sub(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a * b. d/da = grad * b, d/db = grad * a.
Tensor mul(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a / b (IEEE: x/0 is inf or nan, no exception). d/da = grad / b, d/db = -grad * a / b^2.
Tensor div(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// max(a, b) element-wise (NaN propagates). d/da = grad [a > b], d/db = grad [b > a]; at a tie
/// each gets grad / 2, as PyTorch.
Tensor maximum(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// min(a, b) element-wise (NaN propagates). d/da = grad [a < b], d/db = grad [b < a]; ties halve.
Tensor minimum(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a^exponent element-wise. d/da = exponent a^(exponent-1) (0 where exponent == 0),
/// d/dexponent = a^exponent log a (0 where a == 0 and exponent >= 0), as PyTorch.
Tensor pow(const Tensor& a, const Tensor& exponent, const CallSite& site = CallSite::current());

// ---- Element-wise, unary ----
/// -a.
Tensor neg(const Tensor& a, const CallSite& site = CallSite::current());
/// a^p for a scalar exponent p. d/da = p a^(p-1).
Tensor pow(const Tensor& a, double p, const CallSite& site = CallSite::current());
/// e^a. d/da = e^a.
Tensor exp(const Tensor& a, const CallSite& site = CallSite::current());
/// Natural log (IEEE: log(0) = -inf, log(<0) = nan, no exception). d/da = 1/a.
Tensor log(const Tensor& a, const CallSite& site = CallSite::current());
/// Square root. d/da = 1 / (2 sqrt(a)).
Tensor sqrt(const Tensor& a, const CallSite& site = CallSite::current());
/// |a|. d/da = sign(a); NOTE: abs'(0) := 0, as PyTorch.
Tensor abs(const Tensor& a, const CallSite& site = CallSite::current());
/// a^2. d/da = 2a.
Tensor square(const Tensor& a, const CallSite& site = CallSite::current());
/// max(a, min) element-wise (NaN propagates). d/da = [a >= min], as PyTorch.
Tensor clamp_min(const Tensor& a, double min, const CallSite& site = CallSite::current());
/// min(a, max) element-wise (NaN propagates). d/da = [a <= max], as PyTorch.
Tensor clamp_max(const Tensor& a, double max, const CallSite& site = CallSite::current());
/// a clamped to [min, max]; either bound may be left out (not both).
/// NOTE: recorded as clamp_min then clamp_max (two nodes); PyTorch records one clamp node.
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max = std::nullopt,
             const CallSite& site = CallSite::current());
/// 1/a. d/da = -1/a^2.
Tensor reciprocal(const Tensor& a, const CallSite& site = CallSite::current());
/// 1/sqrt(a). d/da = -a^(-3/2) / 2.
Tensor rsqrt(const Tensor& a, const CallSite& site = CallSite::current());
/// log(1 + a), accurate for small a. d/da = 1 / (1 + a).
Tensor log1p(const Tensor& a, const CallSite& site = CallSite::current());
/// e^a - 1, accurate for small a. d/da = e^a.
Tensor expm1(const Tensor& a, const CallSite& site = CallSite::current());
/// sin(a). d/da = cos(a).
Tensor sin(const Tensor& a, const CallSite& site = CallSite::current());
/// cos(a). d/da = -sin(a).
Tensor cos(const Tensor& a, const CallSite& site = CallSite::current());
/// The error function. d/da = 2/sqrt(pi) e^(-a^2).
Tensor erf(const Tensor& a, const CallSite& site = CallSite::current());
/// sign(a) in {-1, 0, 1}; NOTE: sign(NaN) = 0, as PyTorch. Zero gradient everywhere.
Tensor sign(const Tensor& a, const CallSite& site = CallSite::current());
/// Conversion to any dtype by PyTorch's rules (float -> int64 truncates toward zero, anything
/// -> bool is != 0, bool -> number is 0 or 1); the same tensor when the dtype is already
/// `dtype`. Between float dtypes the gradient converts back; an int64 or bool result is a
/// constant (no gradient flows through it, as PyTorch).
Tensor to(const Tensor& a, DType dtype, const CallSite& site = CallSite::current());

// ---- Comparisons and logic: Bool results, NumPy broadcasting, no gradient (nothing recorded) ----
/// a == b element-wise. Tensor operands share a dtype (any: float, int64, bool); a scalar
/// operand is compared in the tensor's dtype for floats (float32 0.1 == 0.1 is true, as
/// PyTorch), exactly for int64.
Tensor eq(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor eq(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// a != b (NaN != NaN is true).
Tensor ne(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor ne(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// a < b.
Tensor lt(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor lt(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// a <= b.
Tensor le(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor le(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// a > b.
Tensor gt(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor gt(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// a >= b.
Tensor ge(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
Tensor ge(const Tensor& a, double b, const CallSite& site = CallSite::current());
/// (a != 0) and (b != 0), any dtypes (they may differ, as PyTorch).
Tensor logical_and(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// (a != 0) or (b != 0).
Tensor logical_or(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// (a != 0) xor (b != 0).
Tensor logical_xor(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// a == 0.
Tensor logical_not(const Tensor& a, const CallSite& site = CallSite::current());

// ---- Activations ----
/// 1 / (1 + e^-a), stable for large |a|. d/da = s (1 - s).
Tensor sigmoid(const Tensor& a, const CallSite& site = CallSite::current());
/// tanh(a). d/da = 1 - tanh(a)^2.
Tensor tanh(const Tensor& a, const CallSite& site = CallSite::current());
/// max(a, 0) (NaN propagates). NOTE: relu'(0) := 0, as PyTorch.
Tensor relu(const Tensor& a, const CallSite& site = CallSite::current());
/// a Phi(a), Phi the standard normal CDF (approximate "none"), or with PyTorch's "tanh"
/// approximation a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))) / 2. d/da = Phi(a) + a phi(a)
/// (exact); other strings throw std::invalid_argument.
Tensor gelu(const Tensor& a, const std::string& approximate = "none",
            const CallSite& site = CallSite::current());
/// a sigmoid(a) (swish). d/da = s (1 + a (1 - s)), s = sigmoid(a).
Tensor silu(const Tensor& a, const CallSite& site = CallSite::current());
/// log(1 + e^(beta a)) / beta, or a where beta a > threshold (PyTorch's defaults 1 and 20).
/// d/da = sigmoid(beta a), or 1 above the threshold. beta must be finite and nonzero.
Tensor softplus(const Tensor& a, double beta = 1, double threshold = 20,
                const CallSite& site = CallSite::current());
/// a for a > 0, else negative_slope a. d/da = 1 or negative_slope (negative_slope at 0).
Tensor leaky_relu(const Tensor& a, double negative_slope = 0.01,
                  const CallSite& site = CallSite::current());
/// a for a > 0, else alpha (e^a - 1). d/da = 1 or alpha e^a (alpha e^0 at 0), as PyTorch.
Tensor elu(const Tensor& a, double alpha = 1, const CallSite& site = CallSite::current());
/// The course's sign activation: 1 if a >= 0 else -1. Its gradient is 0 everywhere.
Tensor step(const Tensor& a, const CallSite& site = CallSite::current());
/// softmax along `axis` (negative counts from the end), stable for logits of 1e4.
/// d/da = s * (grad - sum(grad * s, axis)).
Tensor softmax(const Tensor& a, int axis = -1, const CallSite& site = CallSite::current());
/// log(softmax(a)) computed as a - logsumexp(a), stable. d/da = grad - softmax * sum(grad, axis).
Tensor log_softmax(const Tensor& a, int axis = -1, const CallSite& site = CallSite::current());

// ---- Reductions ----
/// Sum of all elements, a 0-D tensor. d/da = grad broadcast.
Tensor sum(const Tensor& a, const CallSite& site = CallSite::current());
/// Sum along `axes` (negative counts from the end); reduced axes kept as size 1 if keepdims.
Tensor sum(const Tensor& a, const std::vector<int>& axes, bool keepdims = false,
           const CallSite& site = CallSite::current());
/// Mean of all elements. d/da = grad / n.
Tensor mean(const Tensor& a, const CallSite& site = CallSite::current());
/// Mean along `axes`.
Tensor mean(const Tensor& a, const std::vector<int>& axes, bool keepdims = false,
            const CallSite& site = CallSite::current());
/// (values, indices) of the maximum along `dim`, as torch::max(a, dim, keepdim): indices are
/// Int64, the first maximal element of each slice (NaN is the maximum, so it propagates).
/// d/da = grad at that element, 0 elsewhere. Throws std::invalid_argument on an empty dim.
/// Example: auto [values, indices] = max(logits, 1);
std::tuple<Tensor, Tensor> max(const Tensor& a, int dim, bool keepdim = false,
                               const CallSite& site = CallSite::current());
/// (values, indices) of the minimum along `dim` (NaN is the minimum). d/da as max.
std::tuple<Tensor, Tensor> min(const Tensor& a, int dim, bool keepdim = false,
                               const CallSite& site = CallSite::current());
/// The largest element, 0-D (= amax over every dim). Throws on an empty tensor.
Tensor max(const Tensor& a, const CallSite& site = CallSite::current());
/// The smallest element, 0-D (= amin over every dim).
Tensor min(const Tensor& a, const CallSite& site = CallSite::current());
/// Maximum over `dims` (none: every dim), NaN propagating. d/da = grad [a == amax] / (number
/// of maximal elements in the slice): ties share the gradient evenly, as PyTorch.
Tensor amax(const Tensor& a, const std::vector<int>& dims = {}, bool keepdim = false,
            const CallSite& site = CallSite::current());
/// Minimum over `dims` (none: every dim). d/da: as amax, ties share evenly.
Tensor amin(const Tensor& a, const std::vector<int>& dims = {}, bool keepdim = false,
            const CallSite& site = CallSite::current());
/// Int64 index of the first maximum along `dim` (NaN counts as the maximum), or into the
/// flattened tensor when no dim is given (0-D; keepdim then gives all dims of size 1).
/// No gradient.
Tensor argmax(const Tensor& a, std::optional<int> dim = std::nullopt, bool keepdim = false,
              const CallSite& site = CallSite::current());
/// Int64 index of the first minimum (NaN counts as the minimum). No gradient.
Tensor argmin(const Tensor& a, std::optional<int> dim = std::nullopt, bool keepdim = false,
              const CallSite& site = CallSite::current());
/// Variance over `dims` (negative counts from the end; none: every element) with Bessel's
/// correction when unbiased (divides by n - 1, else n), as torch::var(a, dim, unbiased,
/// keepdim); NaN when n - 1 <= 0, as PyTorch. d/da = 2 (a - mean) / (n - correction) grad.
/// Composed of mean, sub, square, sum and div (two passes: no cancellation).
/// NOTE: one overload, not LibTorch's extra var(a, bool unbiased): with it, var(a, {1}) would
/// silently pick unbiased = true instead of dim 1. Write var(a, {}, false) for the biased
/// variance of every element.
Tensor var(const Tensor& a, const std::vector<int>& dims = {}, bool unbiased = true,
           bool keepdim = false, const CallSite& site = CallSite::current());
/// sqrt(var(a, dims, unbiased, keepdim)). d/da = (a - mean) / ((n - correction) std) grad (NaN
/// where std = 0, as PyTorch).
Tensor std(const Tensor& a, const std::vector<int>& dims = {}, bool unbiased = true,
           bool keepdim = false, const CallSite& site = CallSite::current());
/// log(sum(exp(a), dims)), stable (shifted by the maximum; a slice of -inf gives -inf), as
/// torch::logsumexp(a, dim, keepdim). d/da = grad exp(a - logsumexp) = grad softmax(a).
/// Composed of amax (a constant shift), sub, exp, sum, log and add. dims must not be empty.
Tensor logsumexp(const Tensor& a, const std::vector<int>& dims, bool keepdim = false,
                 const CallSite& site = CallSite::current());
/// Product of all elements, 0-D. d/da_i = grad prod_{j != i} a_j (= grad prod / a_i without
/// zeros). NOTE: the second derivative through an input slice holding a zero is not supported
/// (std::invalid_argument under create_graph); PyTorch supports it.
Tensor prod(const Tensor& a, const CallSite& site = CallSite::current());
/// Product along `dim`, as torch::prod(a, dim, keepdim).
Tensor prod(const Tensor& a, int dim, bool keepdim = false,
            const CallSite& site = CallSite::current());
/// Running sum along `dim`: y_i = sum_{j <= i} a_j. d/da = the reversed running sum of grad.
Tensor cumsum(const Tensor& a, int dim, const CallSite& site = CallSite::current());
/// The p-norm of all elements, for p = 1 (sum |a|), 2 (sqrt(sum a^2)) or INFINITY (max |a|);
/// other p throw std::invalid_argument. d/da: sign(a) (p = 1), a / norm (p = 2; 0 where the
/// norm is 0, as PyTorch), sign(a) [|a| = max] / ties (p = inf, ties share evenly).
Tensor norm(const Tensor& a, double p = 2, const CallSite& site = CallSite::current());
/// The p-norm along `dims` (none: every dim), as torch::norm(a, p, dim, keepdim).
Tensor norm(const Tensor& a, double p, const std::vector<int>& dims, bool keepdim = false,
            const CallSite& site = CallSite::current());
/// Sum of a list of same-shape tensors in one node (n inputs, one output).
Tensor add_n(const std::vector<Tensor>& terms, const CallSite& site = CallSite::current());

// ---- Linear algebra ----
/// Matrix product with torch.matmul's rules, through BLAS: (m,k)·(k,n) -> (m,n); (m,k)·(k) ->
/// (m); (k)·(k,n) -> (n); (k)·(k) -> (); N-d operands are batches of matrices whose batch dims
/// broadcast, e.g. (2,1,3,4)·(5,4,2) -> (2,5,3,2). d/dA = grad · B^T, d/dB = A^T · grad (per
/// batch, summed over the batch dims that broadcast an operand).
Tensor matmul(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());
/// beta·input + alpha·(mat1·mat2), as torch::addmm: mat1 (n,m), mat2 (m,p), input broadcast to
/// (n,p); nn::Linear's product and bias in one gemm. d/dinput = beta·grad (summed to input's
/// shape), d/dmat1 = alpha·grad·mat2^T, d/dmat2 = alpha·mat1^T·grad. beta 0 ignores input's
/// values (NaN in it does not propagate).
Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta = 1,
             double alpha = 1, const CallSite& site = CallSite::current());
/// Batched product of two 3-D tensors (b,n,m)·(b,m,p) -> (b,n,p), no broadcasting. As matmul.
Tensor bmm(const Tensor& a, const Tensor& b, const CallSite& site = CallSite::current());

// ---- Shape: every result is a contiguous tensor ----
// Every tensor is contiguous (arrays have no strides), so reshape, unsqueeze, squeeze and
// flatten share the input's buffer without a copy, and contiguous() is the identity; transpose,
// permute, expand and the slices (below) copy.
// NOTE: PyTorch's views alias their base: an in-place write through one is seen by the other,
// and autograd tracks it with version counters and view metadata. Ours are copy-on-write
// values: the first write to a shared buffer (Tensor::mutable_value, set_data, an optimizer
// step, the engine adding into a shared gradient) copies it, so a view keeps the value it was
// computed with, and its backward stays right. Without strides, a buffer shared by shape alone
// is all a view can be; aliasing writes would need version counters on every view as well.
/// 2-D transpose (m,n) -> (n,m); a 1-D or 0-D tensor is returned unchanged.
Tensor transpose(const Tensor& a, const CallSite& site = CallSite::current());
/// Swaps dims dim0 and dim1 (negative counts from the end). d/da = transpose(grad, dim0, dim1).
Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1,
                 const CallSite& site = CallSite::current());
/// torch::t: transpose of a tensor of at most 2 dims. Throws for more.
Tensor t(const Tensor& a, const CallSite& site = CallSite::current());
/// Dims reordered: out.shape[i] = a.shape[dims[i]]. d/da = permute(grad, inverse of dims).
Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims,
               const CallSite& site = CallSite::current());
/// Same elements, new shape (same count). d/da = grad reshaped back.
Tensor reshape(const Tensor& a, Shape shape, const CallSite& site = CallSite::current());
/// The same with one dim given as -1, inferred from the element count: reshape(x, {-1, 4}).
Tensor reshape(const Tensor& a, const std::vector<std::int64_t>& shape,
               const CallSite& site = CallSite::current());
Tensor reshape(const Tensor& a, std::initializer_list<std::int64_t> shape,
               const CallSite& site = CallSite::current());
/// A size-1 dim inserted at `dim` (in [-ndim-1, ndim]). d/da = grad reshaped back.
Tensor unsqueeze(const Tensor& a, std::int64_t dim, const CallSite& site = CallSite::current());
/// Dim `dim` removed if its size is 1 (else a is returned unchanged, as PyTorch).
Tensor squeeze(const Tensor& a, std::int64_t dim, const CallSite& site = CallSite::current());
/// Every size-1 dim removed.
Tensor squeeze(const Tensor& a, const CallSite& site = CallSite::current());
/// Dims start_dim..end_dim merged into one; a 0-D tensor becomes (1).
Tensor flatten(const Tensor& a, std::int64_t start_dim = 0, std::int64_t end_dim = -1,
               const CallSite& site = CallSite::current());
/// a broadcast to `sizes` (-1 keeps a dim; new dims go in front). d/da = grad summed back.
Tensor expand(const Tensor& a, const std::vector<std::int64_t>& sizes,
              const CallSite& site = CallSite::current());
/// a itself: every tensor is contiguous (see the NOTE above).
Tensor contiguous(const Tensor& a, const CallSite& site = CallSite::current());

// ---- Indexing (index tensors are int64; negative indices count from the end) ----
/// Elements start..start+length-1 along dim. d/da = grad scattered into zeros.
Tensor narrow(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t length,
              const CallSite& site = CallSite::current());
/// Elements start, start+step, ... < end along dim (start defaults to 0, end to the size).
/// NOTE: PyTorch clamps start/end past the end silently; we throw (issue 10: a slice past the
/// end is an error). d/da = grad scattered into zeros at the sliced positions.
Tensor slice(const Tensor& a, std::int64_t dim = 0,
             std::optional<std::int64_t> start = std::nullopt,
             std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1,
             const CallSite& site = CallSite::current());
/// The slice at `index` along dim, that dim removed. d/da = grad placed at index, zeros elsewhere.
Tensor select(const Tensor& a, std::int64_t dim, std::int64_t index,
              const CallSite& site = CallSite::current());
/// Slices index[0], index[1], ... along dim (index 1-D or 0-D int64). d/da = index_add of grad.
Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index,
                    const CallSite& site = CallSite::current());
/// out[i][j] = a[index[i][j]][j] for dim 0 (torch.gather). d/da = scatter_add of grad.
Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index,
              const CallSite& site = CallSite::current());
/// self with src added where gather would read (repeated indices accumulate).
/// d/dself = grad, d/dsrc = gather(grad, dim, index).
Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src,
                   const CallSite& site = CallSite::current());
/// self with alpha * source's slice i added to self's slice index[i] along dim.
/// d/dself = grad, d/dsource = alpha * index_select(grad, dim, index).
Tensor index_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& source,
                 double alpha = 1.0, const CallSite& site = CallSite::current());
/// Rows of weight (V,D) picked by indices of any shape: out indices.shape + (D). d/dweight =
/// grad rows added into zeros at their indices (repeated indices accumulate).
Tensor embedding(const Tensor& weight, const Tensor& indices,
                 const CallSite& site = CallSite::current());
/// a where cond else b, all three broadcast (cond bool). d/da = where(cond, grad, 0),
/// d/db = where(cond, 0, grad).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b,
             const CallSite& site = CallSite::current());
/// a with `value` where mask (bool, broadcast to a's shape). d/da = where(mask, 0, grad).
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value,
                   const CallSite& site = CallSite::current());

// ---- Joining ----
/// The tensors joined along dim (same shape except along dim). d/d(input i) = its piece of grad.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0,
           const CallSite& site = CallSite::current());
/// The tensors (all one shape) stacked along a new dim. d/d(input i) = select(grad, dim, i).
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0,
             const CallSite& site = CallSite::current());
/// Pieces of split_size along dim, the last one smaller. Each piece is a narrow of a.
std::vector<Tensor> split(const Tensor& a, std::int64_t split_size, std::int64_t dim = 0,
                          const CallSite& site = CallSite::current());
/// Pieces of the given sizes along dim (they must sum to the dim's size).
/// NOTE: LibTorch spells this split_with_sizes; split with a list is its Python form.
std::vector<Tensor> split(const Tensor& a, const std::vector<std::int64_t>& split_sizes,
                          std::int64_t dim = 0, const CallSite& site = CallSite::current());
std::vector<Tensor> split_with_sizes(const Tensor& a, const std::vector<std::int64_t>& split_sizes,
                                     std::int64_t dim = 0,
                                     const CallSite& site = CallSite::current());
/// `chunks` pieces of ceil(size / chunks) along dim (fewer when they run out), as torch.chunk.
std::vector<Tensor> chunk(const Tensor& a, std::int64_t chunks, std::int64_t dim = 0,
                          const CallSite& site = CallSite::current());
/// The slices along dim, that dim removed: select(a, dim, i) for each i.
std::vector<Tensor> unbind(const Tensor& a, std::int64_t dim = 0,
                           const CallSite& site = CallSite::current());

// ---- Operators: tensors and scalars mix ----
Tensor operator+(const TensorArg& a, const Tensor& b);
Tensor operator-(const TensorArg& a, const Tensor& b);
Tensor operator*(const TensorArg& a, const Tensor& b);
Tensor operator/(const TensorArg& a, const Tensor& b);
Tensor operator-(const TensorArg& a);
Tensor operator+(const TensorArg& a, double b);
Tensor operator+(double a, const TensorArg& b);
Tensor operator-(const TensorArg& a, double b);
Tensor operator-(double a, const TensorArg& b);
Tensor operator*(const TensorArg& a, double b);
Tensor operator*(double a, const TensorArg& b);
Tensor operator/(const TensorArg& a, double b);
Tensor operator/(double a, const TensorArg& b);

}  // namespace xgrad
