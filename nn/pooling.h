#pragma once
// Pooling and reshaping layers: MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten,
// Unflatten, with LibTorch's Options and their functional forms.
//
// NOTE: ceil_mode and return_indices are not offered (always floor, values only).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <vector>

#include "nn/conv.h"
#include "nn/module.h"

namespace xgrad::nn {

/// MaxPool2dOptions(kernel_size).stride(s).padding(p).dilation(d); stride defaults to the
/// kernel size, as PyTorch.
class MaxPool2dOptions {
public:
    MaxPool2dOptions(Size2 kernel_size) : kernel_(kernel_size) {}  // NOLINT
    MaxPool2dOptions& stride(Size2 v) {
        stride_ = v;
        return *this;
    }
    MaxPool2dOptions& padding(Size2 v) {
        padding_ = v;
        return *this;
    }
    MaxPool2dOptions& dilation(Size2 v) {
        dilation_ = v;
        return *this;
    }
    Size2 kernel_size() const { return kernel_; }
    Size2 stride() const { return stride_ ? *stride_ : kernel_; }
    Size2 padding() const { return padding_; }
    Size2 dilation() const { return dilation_; }

private:
    Size2 kernel_;
    std::optional<Size2> stride_;
    Size2 padding_ = 0;
    Size2 dilation_ = 1;
};

/// MaxPool1dOptions(kernel_size).stride(s).padding(p).dilation(d); stride defaults to k.
class MaxPool1dOptions {
public:
    MaxPool1dOptions(std::size_t kernel_size) : kernel_(kernel_size) {}  // NOLINT
    MaxPool1dOptions& stride(std::size_t v) {
        stride_ = v;
        return *this;
    }
    MaxPool1dOptions& padding(std::size_t v) {
        padding_ = v;
        return *this;
    }
    MaxPool1dOptions& dilation(std::size_t v) {
        dilation_ = v;
        return *this;
    }
    std::size_t kernel_size() const { return kernel_; }
    std::size_t stride() const { return stride_ ? *stride_ : kernel_; }
    std::size_t padding() const { return padding_; }
    std::size_t dilation() const { return dilation_; }

private:
    std::size_t kernel_;
    std::optional<std::size_t> stride_;
    std::size_t padding_ = 0;
    std::size_t dilation_ = 1;
};

/// AvgPool2dOptions(kernel_size).stride(s).padding(p).count_include_pad(true); stride defaults
/// to the kernel size.
class AvgPool2dOptions {
public:
    AvgPool2dOptions(Size2 kernel_size) : kernel_(kernel_size) {}  // NOLINT
    AvgPool2dOptions& stride(Size2 v) {
        stride_ = v;
        return *this;
    }
    AvgPool2dOptions& padding(Size2 v) {
        padding_ = v;
        return *this;
    }
    AvgPool2dOptions& count_include_pad(bool v) {
        count_include_pad_ = v;
        return *this;
    }
    Size2 kernel_size() const { return kernel_; }
    Size2 stride() const { return stride_ ? *stride_ : kernel_; }
    Size2 padding() const { return padding_; }
    bool count_include_pad() const { return count_include_pad_; }

private:
    Size2 kernel_;
    std::optional<Size2> stride_;
    Size2 padding_ = 0;
    bool count_include_pad_ = true;
};

namespace functional {

/// Max over each window, as torch.nn.functional.max_pool2d: (N, C, H, W) or (C, H, W) ->
/// (N, C, OH, OW), the padding counting as -inf. The gradient goes to the first maximal element
/// of each window (recorded as a gather with a constant index, so it is differentiable again).
/// NaN propagates. Throws std::invalid_argument for a wrong rank, a kernel larger than the
/// padded input, or a padding over half the kernel (PyTorch's rule).
Tensor max_pool2d(const Tensor& input, const MaxPool2dOptions& options);
/// (N, C, L) or (C, L) -> (N, C, OL): max_pool2d over (N, C, 1, L).
Tensor max_pool1d(const Tensor& input, const MaxPool1dOptions& options);
/// Mean over each window, as torch.nn.functional.avg_pool2d (im2col, then a mean).
Tensor avg_pool2d(const Tensor& input, const AvgPool2dOptions& options);
/// Mean over PyTorch's adaptive windows [floor(i H / OH), ceil((i + 1) H / OH)): (N, C, H, W)
/// or (C, H, W) -> (N, C, OH, OW). Computed as one matmul with a constant averaging matrix.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size);
/// Dims start_dim..end_dim merged into one (negative dims count from the end).
Tensor flatten(const Tensor& input, std::int64_t start_dim = 1, std::int64_t end_dim = -1);
/// Dim `dim` split into `sizes` (their product must be the dim's size).
Tensor unflatten(const Tensor& input, std::int64_t dim, const std::vector<std::size_t>& sizes);

}  // namespace functional

/// Example: nn::MaxPool2d(nn::MaxPool2dOptions(2))  // (N, C, 28, 28) -> (N, C, 14, 14)
class MaxPool2d : public Module {
public:
    explicit MaxPool2d(const MaxPool2dOptions& options) : Module("MaxPool2d"), options_(options) {}
    Tensor forward(const Tensor& input) override;
    /// "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))".
    void pretty_print(std::ostream& os) const override;

private:
    MaxPool2dOptions options_;
};

/// Example: nn::MaxPool1d(nn::MaxPool1dOptions(3).stride(2))
class MaxPool1d : public Module {
public:
    explicit MaxPool1d(const MaxPool1dOptions& options) : Module("MaxPool1d"), options_(options) {}
    Tensor forward(const Tensor& input) override;
    /// "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1)".
    void pretty_print(std::ostream& os) const override;

private:
    MaxPool1dOptions options_;
};

/// Example: nn::AvgPool2d(nn::AvgPool2dOptions(2))
class AvgPool2d : public Module {
public:
    explicit AvgPool2d(const AvgPool2dOptions& options) : Module("AvgPool2d"), options_(options) {}
    Tensor forward(const Tensor& input) override;
    /// "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))".
    void pretty_print(std::ostream& os) const override;

private:
    AvgPool2dOptions options_;
};

/// Example: nn::AdaptiveAvgPool2d({1, 1})   // global average pooling: (N, C, H, W) -> (N, C, 1, 1)
class AdaptiveAvgPool2d : public Module {
public:
    explicit AdaptiveAvgPool2d(Size2 output_size)
        : Module("AdaptiveAvgPool2d"), output_size_(output_size) {}
    Tensor forward(const Tensor& input) override;
    /// "AdaptiveAvgPool2d(output_size=(1, 1))".
    void pretty_print(std::ostream& os) const override;

private:
    Size2 output_size_;
};

/// Flatten(start_dim = 1, end_dim = -1), as PyTorch: (N, C, H, W) -> (N, C H W).
class Flatten : public Module {
public:
    explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
        : Module("Flatten"), start_(start_dim), end_(end_dim) {}
    Tensor forward(const Tensor& input) override;
    /// "Flatten(start_dim=1, end_dim=-1)".
    void pretty_print(std::ostream& os) const override;

private:
    std::int64_t start_, end_;
};

/// Unflatten(dim, sizes): (N, 784) with Unflatten(1, {1, 28, 28}) -> (N, 1, 28, 28).
class Unflatten : public Module {
public:
    Unflatten(std::int64_t dim, std::vector<std::size_t> sizes)
        : Module("Unflatten"), dim_(dim), sizes_(std::move(sizes)) {}
    Tensor forward(const Tensor& input) override;
    /// "Unflatten(dim=1, unflattened_size=(1, 28, 28))".
    void pretty_print(std::ostream& os) const override;

private:
    std::int64_t dim_;
    std::vector<std::size_t> sizes_;
};

}  // namespace xgrad::nn
