#pragma once
// Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, as PyTorch, and their
// functional forms (nn::functional::batch_norm, layer_norm, group_norm). The normalisation with
// batch statistics is one fused op (two passes forward, two backward, per channel or row); its
// recorded rule is written in ops, so gradients of every order are exact.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace xgrad::nn {

/// BatchNormOptions(num_features).eps(1e-5).momentum(0.1).affine(true)
/// .track_running_stats(true), LibTorch's names and defaults. momentum nullopt: the cumulative
/// average (PyTorch's momentum=None).
class BatchNormOptions {
public:
    BatchNormOptions(std::size_t num_features) : num_features_(num_features) {}  // NOLINT
    BatchNormOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    BatchNormOptions& momentum(std::optional<double> v) {
        momentum_ = v;
        return *this;
    }
    BatchNormOptions& affine(bool v) {
        affine_ = v;
        return *this;
    }
    BatchNormOptions& track_running_stats(bool v) {
        track_ = v;
        return *this;
    }
    /// NOTE: not a LibTorch option (it converts with .to()); as Linear's dtype argument.
    BatchNormOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t num_features() const { return num_features_; }
    double eps() const { return eps_; }
    std::optional<double> momentum() const { return momentum_; }
    bool affine() const { return affine_; }
    bool track_running_stats() const { return track_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t num_features_;
    double eps_ = 1e-5;
    std::optional<double> momentum_ = 0.1;
    bool affine_ = true;
    bool track_ = true;
    DType dtype_ = f32;
};

/// The shared implementation of BatchNorm1d and BatchNorm2d: per channel (dim 1),
/// y = (x - mean) / sqrt(var + eps) * weight + bias. In training mode mean and var are the
/// batch's (var biased) and the buffers move towards them: running = (1 - momentum) running +
/// momentum batch (running_var with the unbiased var, as PyTorch), num_batches_tracked += 1; in
/// eval mode (or without running stats) the running statistics are used.
/// Buffers: running_mean (zeros), running_var (ones), num_batches_tracked (int64), as PyTorch.
class BatchNormBase : public Module {
public:
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    const Tensor& running_mean() const { return running_mean_; }
    const Tensor& running_var() const { return running_var_; }
    const Tensor& num_batches_tracked() const { return num_batches_; }
    const BatchNormOptions& options() const { return options_; }
    /// "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)".
    void pretty_print(std::ostream& os) const override;

protected:
    BatchNormBase(const char* name, const BatchNormOptions& options, std::size_t min_rank,
                  std::size_t max_rank);

private:
    BatchNormOptions options_;
    std::size_t min_rank_, max_rank_;
    Tensor weight_, bias_, running_mean_, running_var_, num_batches_;
};

/// Batch normalisation over (N, C) or (N, C, L) inputs.
/// Example: nn::BatchNorm1d bn(nn::BatchNormOptions(64));
class BatchNorm1d : public BatchNormBase {
public:
    explicit BatchNorm1d(const BatchNormOptions& options)
        : BatchNormBase("BatchNorm1d", options, 2, 3) {}
};

/// Batch normalisation over (N, C, H, W) inputs.
/// Example: nn::BatchNorm2d bn(nn::BatchNormOptions(6));   // after Conv2d(1, 6, 5)
class BatchNorm2d : public BatchNormBase {
public:
    explicit BatchNorm2d(const BatchNormOptions& options)
        : BatchNormBase("BatchNorm2d", options, 4, 4) {}
};

/// LayerNormOptions(normalized_shape).eps(1e-5).elementwise_affine(true).
class LayerNormOptions {
public:
    LayerNormOptions(std::vector<std::size_t> normalized_shape)  // NOLINT
        : shape_(std::move(normalized_shape)) {}
    LayerNormOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    LayerNormOptions& elementwise_affine(bool v) {
        affine_ = v;
        return *this;
    }
    LayerNormOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    const std::vector<std::size_t>& normalized_shape() const { return shape_; }
    double eps() const { return eps_; }
    bool elementwise_affine() const { return affine_; }
    DType dtype() const { return dtype_; }

private:
    std::vector<std::size_t> shape_;
    double eps_ = 1e-5;
    bool affine_ = true;
    DType dtype_ = f32;
};

/// y = (x - mean) / sqrt(var + eps) * weight + bias over the last dims (normalized_shape),
/// var biased; weight ones and bias zeros of normalized_shape, as PyTorch.
/// Example: nn::LayerNorm ln(nn::LayerNormOptions({64}));   // x: (B, T, 64)
class LayerNorm : public Module {
public:
    explicit LayerNorm(const LayerNormOptions& options);
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    /// "LayerNorm((64,), eps=1e-05, elementwise_affine=true)".
    void pretty_print(std::ostream& os) const override;

private:
    LayerNormOptions options_;
    Tensor weight_, bias_;
};

/// GroupNormOptions(num_groups, num_channels).eps(1e-5).affine(true).
class GroupNormOptions {
public:
    GroupNormOptions(std::size_t num_groups, std::size_t num_channels)
        : groups_(num_groups), channels_(num_channels) {}
    GroupNormOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    GroupNormOptions& affine(bool v) {
        affine_ = v;
        return *this;
    }
    GroupNormOptions& dtype(DType v) {
        dtype_ = v;
        return *this;
    }
    std::size_t num_groups() const { return groups_; }
    std::size_t num_channels() const { return channels_; }
    double eps() const { return eps_; }
    bool affine() const { return affine_; }
    DType dtype() const { return dtype_; }

private:
    std::size_t groups_, channels_;
    double eps_ = 1e-5;
    bool affine_ = true;
    DType dtype_ = f32;
};

/// Normalises each sample's channels in num_groups groups (mean and biased var over the
/// group's channels and all positions), then a per-channel weight and bias, as PyTorch.
/// Input (N, C, *). Example: nn::GroupNorm gn(nn::GroupNormOptions(4, 16));
class GroupNorm : public Module {
public:
    explicit GroupNorm(const GroupNormOptions& options);
    Tensor forward(const Tensor& input) override;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }
    /// "GroupNorm(4, 16, eps=1e-05, affine=true)".
    void pretty_print(std::ostream& os) const override;

private:
    GroupNormOptions options_;
    Tensor weight_, bias_;
};

namespace functional {

/// Options of functional::batch_norm, LibTorch's names and defaults.
struct BatchNormFuncOptions {
    BatchNormFuncOptions& weight(Tensor v) {
        weight_ = std::move(v);
        return *this;
    }
    BatchNormFuncOptions& bias(Tensor v) {
        bias_ = std::move(v);
        return *this;
    }
    BatchNormFuncOptions& training(bool v) {
        training_ = v;
        return *this;
    }
    BatchNormFuncOptions& momentum(std::optional<double> v) {
        momentum_ = v;
        return *this;
    }
    BatchNormFuncOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    Tensor weight_, bias_;
    bool training_ = false;
    std::optional<double> momentum_ = 0.1;
    double eps_ = 1e-5;
};

/// Per channel (dim 1) of an (N, C, *) input: y = (x - mean) / sqrt(var + eps) * weight + bias.
/// training: mean and biased var of the batch, and running_mean/running_var (when defined) move
/// in place towards the batch's mean and unbiased var by `momentum` (not while an activation
/// checkpoint recomputes). Otherwise the running statistics are used (they must be defined).
/// weight and bias (C) are optional. d/dx with batch statistics:
/// (weight / sigma) (g - mean(g) - xhat mean(g xhat)), xhat = (x - mean) / sigma.
/// NOTE: momentum nullopt (PyTorch's cumulative average) needs the module's batch count: it is
/// an error here, as LibTorch's functional form (which calls momentum.value()).
/// Example: y = F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().weight(w).training(true));
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options = {});

/// Options of functional::layer_norm: normalized_shape, and optional weight, bias, eps.
struct LayerNormFuncOptions {
    LayerNormFuncOptions(std::vector<std::size_t> normalized_shape)  // NOLINT
        : normalized_shape_(std::move(normalized_shape)) {}
    LayerNormFuncOptions& weight(Tensor v) {
        weight_ = std::move(v);
        return *this;
    }
    LayerNormFuncOptions& bias(Tensor v) {
        bias_ = std::move(v);
        return *this;
    }
    LayerNormFuncOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    std::vector<std::size_t> normalized_shape_;
    Tensor weight_, bias_;
    double eps_ = 1e-5;
};

/// Over the last dims (normalized_shape): y = (x - mean) / sqrt(var + eps) * weight + bias,
/// var biased; weight and bias of normalized_shape, optional.
/// Example: y = F::layer_norm(x, F::LayerNormFuncOptions({64}).weight(w).bias(b));
Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options);

/// Options of functional::group_norm: num_groups, and optional weight, bias (C), eps.
struct GroupNormFuncOptions {
    GroupNormFuncOptions(std::size_t num_groups) : num_groups_(num_groups) {}  // NOLINT
    GroupNormFuncOptions& weight(Tensor v) {
        weight_ = std::move(v);
        return *this;
    }
    GroupNormFuncOptions& bias(Tensor v) {
        bias_ = std::move(v);
        return *this;
    }
    GroupNormFuncOptions& eps(double v) {
        eps_ = v;
        return *this;
    }
    std::size_t num_groups_;
    Tensor weight_, bias_;
    double eps_ = 1e-5;
};

/// Each sample's channels (dim 1 of (N, C, *)) in num_groups groups, normalised over the
/// group's channels and positions, then a per-channel weight and bias.
Tensor group_norm(const Tensor& input, const GroupNormFuncOptions& options);

}  // namespace functional

}  // namespace xgrad::nn
