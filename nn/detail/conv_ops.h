#pragma once
// Internal to xgrad::nn: the ops under convolution and pooling (nn/conv.cpp), recorded in the op
// form (autograd/op.h) so that every rule is written in ops and differentiable again.

#include <cstddef>
#include <utility>

#include "autograd/tensor.h"
#include "nn/conv.h"

namespace xgrad::nn::detail {

/// Where a kernel reads: input planes (c, h, w), kernel (kh, kw), stride, dilation, padding
/// top/bottom/left/right, output (oh, ow). Products are overflow-checked by conv_geometry.
struct ConvGeometry {
    std::size_t c = 0, h = 0, w = 0, kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    std::size_t pt = 0, pb = 0, pl = 0, pr = 0, oh = 0, ow = 0;
};

/// The geometry with its output size; throws std::invalid_argument naming `op` for a zero
/// kernel, stride or dilation, a kernel larger than the padded input, or an overflow.
ConvGeometry conv_geometry(const char* op, std::size_t c, std::size_t h, std::size_t w,
                           Size2 kernel, Size2 stride, Size2 dilation, std::size_t pt,
                           std::size_t pb, std::size_t pl, std::size_t pr);

/// x (N, C, H, W) -> cols (N, C kh kw, OH, OW): cols[n, (c kh + i) kw + j, oy, ox] =
/// x[n, c, oy sh + i dh - pt, ox sw + j dw - pl] (0 in the padding). d/dx = col2im.
Tensor im2col(const Tensor& x, const ConvGeometry& g);
/// The adjoint of im2col: cols (N, C kh kw, OH, OW) -> (N, C, H, W), overlaps summed.
/// d/dcols = im2col.
Tensor col2im(const Tensor& cols, const ConvGeometry& g);

/// A grouped 1x1 convolution: W (g P, Q), X (N, g Q, S...) -> (N, g P, S...) with
/// Y[n, k] = W_k X[n, k] (+ bias (g P) per channel); with transpose_w, X (N, g P, S...) ->
/// (N, g Q, S...), Y[n, k] = W_k^T X[n, k] (no bias). One gemm per sample and group.
/// d/dW = channel_contract, d/dX = channel_matmul with the other transpose_w.
Tensor channel_matmul(const Tensor& w, const Tensor& x, const Tensor& bias, std::size_t groups,
                      bool transpose_w);
/// A (N, g P, S...), B (N, g Q, S...) -> (g P, Q), R_k = sum_n A[n, k] B[n, k]^T.
Tensor channel_contract(const Tensor& a, const Tensor& b, std::size_t groups);

/// y = channel_matmul(W, im2col(x, g)) + bias as one record: x (N, C, H, W), W (O, C/groups kh
/// kw), bias (O) or undefined -> (N, O, OH, OW). Its rule is that composition's (so it is
/// differentiable again); its fast path is fused per sample.
Tensor conv2d_op(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g,
                 std::size_t groups);

/// (before, after) padding of one dim of `p` for kernel k and dilation d ("same" puts the odd
/// one after, as PyTorch).
std::pair<std::size_t, std::size_t> pad_of(const Padding2& p, bool height, std::size_t k,
                                           std::size_t d);

}  // namespace xgrad::nn::detail
