#pragma once
// Convolutions: Conv1d and Conv2d with LibTorch's Options, and their functional forms.
//
// How they compute (nn/conv.cpp): conv2d = channel_matmul(W, im2col(x)) + b, where im2col
// (PyTorch's unfold) lays every receptive field out as a column and channel_matmul is one BLAS
// gemm per sample and group. im2col and col2im (fold) are each other's derivative, and
// channel_matmul's derivatives are channel_matmul and its weight-gradient contraction, so the
// whole rule is written in ops and differentiable again.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>

#include "nn/module.h"

namespace xgrad::nn {

/// Two sizes (height, width), built from one int for both or from {h, w}, as LibTorch's
/// ExpandingArray<2>.
struct Size2 {
    Size2(std::size_t v) : h(v), w(v) {}  // NOLINT: implicit, as LibTorch's ExpandingArray
    Size2(std::initializer_list<std::size_t> hw);
    std::size_t h, w;
};

/// "same" and "valid" padding, as LibTorch's torch::kSame and torch::kValid.
enum class PaddingMode { kExplicit, kSame, kValid };
inline constexpr PaddingMode kSame = PaddingMode::kSame;
inline constexpr PaddingMode kValid = PaddingMode::kValid;

/// Padding: a size per side pair (int or {h, w}), kSame/"same" or kValid/"valid".
struct Padding2 {
    Padding2(std::size_t v) : size(v) {}  // NOLINT: implicit, as LibTorch's padding_t
    Padding2(std::initializer_list<std::size_t> hw) : size(hw) {}
    Padding2(PaddingMode m) : size(0), mode(m) {}  // NOLINT
    /// "same" or "valid" (a template, so that a literal 0 is a size, not a null pointer).
    template <std::size_t N>
    Padding2(const char (&name)[N]) : Padding2(parse(name)) {}  // NOLINT
    Size2 size;
    PaddingMode mode = PaddingMode::kExplicit;

private:
    static PaddingMode parse(const char* name);
};

/// Conv2d's options, LibTorch's spelling: Conv2dOptions(in, out, kernel_size).stride(2)
/// .padding(1).dilation(1).groups(1).bias(true). Getters have the setters' names.
/// NOTE: padding_mode is always "zeros"; dtype is an option here (LibTorch converts with .to()).
class Conv2dOptions {
public:
    Conv2dOptions(std::size_t in_channels, std::size_t out_channels, Size2 kernel_size)
        : in_(in_channels), out_(out_channels), kernel_(kernel_size) {}
    Conv2dOptions& stride(Size2 v) {
        stride_ = v;
        return *this;
    }
    Conv2dOptions& padding(Padding2 v) {
        padding_ = v;
        return *this;
    }
    Conv2dOptions& dilation(Size2 v) {
        dilation_ = v;
        return *this;
    }
    Conv2dOptions& groups(std::size_t v) {
        groups_ = v;
        return *this;
    }
    Conv2dOptions& bias(bool v) {
        bias_ = v;
        return *this;
    }
    Conv2dOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t in_channels() const { return in_; }
    std::size_t out_channels() const { return out_; }
    Size2 kernel_size() const { return kernel_; }
    Size2 stride() const { return stride_; }
    Padding2 padding() const { return padding_; }
    Size2 dilation() const { return dilation_; }
    std::size_t groups() const { return groups_; }
    bool bias() const { return bias_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t in_, out_;
    Size2 kernel_;
    Size2 stride_ = 1;
    Padding2 padding_ = 0;
    Size2 dilation_ = 1;
    std::size_t groups_ = 1;
    bool bias_ = true;
    DType dtype_ = f32;
};

/// Conv1d's options: Conv1dOptions(in, out, kernel_size).stride().padding() (int, kSame,
/// "same", "valid").dilation().groups().bias().
class Conv1dOptions {
public:
    Conv1dOptions(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_size)
        : in_(in_channels), out_(out_channels), kernel_(kernel_size) {}
    Conv1dOptions& stride(std::size_t v) {
        stride_ = v;
        return *this;
    }
    Conv1dOptions& padding(Padding2 v) {
        padding_ = v;
        return *this;
    }
    Conv1dOptions& dilation(std::size_t v) {
        dilation_ = v;
        return *this;
    }
    Conv1dOptions& groups(std::size_t v) {
        groups_ = v;
        return *this;
    }
    Conv1dOptions& bias(bool v) {
        bias_ = v;
        return *this;
    }
    Conv1dOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t in_channels() const { return in_; }
    std::size_t out_channels() const { return out_; }
    std::size_t kernel_size() const { return kernel_; }
    std::size_t stride() const { return stride_; }
    Padding2 padding() const { return padding_; }
    std::size_t dilation() const { return dilation_; }
    std::size_t groups() const { return groups_; }
    bool bias() const { return bias_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t in_, out_, kernel_;
    std::size_t stride_ = 1;
    Padding2 padding_ = 0;
    std::size_t dilation_ = 1;
    std::size_t groups_ = 1;
    bool bias_ = true;
    DType dtype_ = f32;
};

namespace functional {

/// Options of functional::conv2d (what Conv2dOptions holds besides the sizes).
struct Conv2dFuncOptions {
    Conv2dFuncOptions& stride(Size2 v) {
        stride_ = v;
        return *this;
    }
    Conv2dFuncOptions& padding(Padding2 v) {
        padding_ = v;
        return *this;
    }
    Conv2dFuncOptions& dilation(Size2 v) {
        dilation_ = v;
        return *this;
    }
    Conv2dFuncOptions& groups(std::size_t v) {
        groups_ = v;
        return *this;
    }
    Size2 stride_ = 1;
    Padding2 padding_ = 0;
    Size2 dilation_ = 1;
    std::size_t groups_ = 1;
};

/// 2-D cross-correlation as torch.nn.functional.conv2d: input (N, C, H, W) or (C, H, W),
/// weight (O, C/groups, kh, kw), bias (O) or undefined -> (N, O, OH, OW) with
/// OH = (H + pad_h - dil_h (kh - 1) - 1) / stride_h + 1. Throws std::invalid_argument naming
/// `layer` and both shapes for a wrong rank, channel count or dtype, and for a kernel larger
/// than the padded input.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              const Conv2dFuncOptions& options = {}, const char* layer = "conv2d");
/// 1-D cross-correlation: input (N, C, L) or (C, L), weight (O, C/groups, k) -> (N, O, OL);
/// computed as conv2d over (N, C, 1, L).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              std::size_t stride = 1, Padding2 padding = 0, std::size_t dilation = 1,
              std::size_t groups = 1, const char* layer = "conv1d");
/// im2col as torch.nn.functional.unfold: (N, C, H, W) -> (N, C kh kw, L), L = OH OW; rows
/// ordered (c, i, j). d/dx = fold.
Tensor unfold(const Tensor& input, Size2 kernel_size, Size2 dilation = 1, Size2 padding = 0,
              Size2 stride = 1);
/// col2im as torch.nn.functional.fold: (N, C kh kw, L) -> (N, C, H, W) with (H, W) =
/// output_size, overlapping entries summed (unfold's adjoint). d/dcols = unfold.
Tensor fold(const Tensor& input, Size2 output_size, Size2 kernel_size, Size2 dilation = 1,
            Size2 padding = 0, Size2 stride = 1);

}  // namespace functional

/// A 2-D convolution layer (cross-correlation, as PyTorch). Weight (out, in/groups, kh, kw) and
/// bias (out), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups kh kw
/// (PyTorch's kaiming_uniform with a = sqrt(5)), from nn::manual_seed's stream.
///
/// Example:
///   nn::Conv2d conv(nn::Conv2dOptions(1, 6, 5).padding(2));
///   Tensor y = conv(x);   // x: (N, 1, 28, 28) -> y: (N, 6, 28, 28)
class Conv2d : public Module {
public:
    explicit Conv2d(const Conv2dOptions& options);
    /// (N, in, H, W) or (in, H, W) -> (N, out, OH, OW) or (out, OH, OW).
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    /// Undefined for a layer without bias.
    const Tensor& bias() const { return bias_; }
    const Conv2dOptions& options() const { return options_; }
    /// "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))", PyTorch's repr.
    void pretty_print(std::ostream& os) const override;

protected:
    void reseed_default(std::uint64_t seed) override;

private:
    Conv2dOptions options_;
    Tensor weight_, bias_;
};

/// A 1-D convolution layer: weight (out, in/groups, k), bias (out), PyTorch's init.
/// Example: nn::Conv1d conv(nn::Conv1dOptions(4, 8, 3).padding("same"));  // (N,4,L)->(N,8,L)
class Conv1d : public Module {
public:
    explicit Conv1d(const Conv1dOptions& options);
    /// (N, in, L) or (in, L) -> (N, out, OL) or (out, OL).
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    const Conv1dOptions& options() const { return options_; }
    /// "Conv1d(4, 8, kernel_size=(3,), stride=(1,))".
    void pretty_print(std::ostream& os) const override;

protected:
    void reseed_default(std::uint64_t seed) override;

private:
    Conv1dOptions options_;
    Tensor weight_, bias_;
};

}  // namespace xgrad::nn
