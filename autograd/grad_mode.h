#pragma once
// Grad mode: whether ops record the graph. Thread-local, so each thread has its own.

namespace xgrad {

/// True unless a NoGradGuard is alive in this thread.
bool grad_enabled();

/// RAII: while alive, ops in this thread record no graph (results are constant leaves).
/// Example:
///   { NoGradGuard no_grad; w.mutable_value() ...; Tensor y = model(x); }  // no graph built
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// RAII: sets grad mode to `enabled` in this thread while alive (LibTorch's AutoGradMode).
class GradModeGuard {
public:
    explicit GradModeGuard(bool enabled);
    ~GradModeGuard();
    GradModeGuard(const GradModeGuard&) = delete;
    GradModeGuard& operator=(const GradModeGuard&) = delete;

private:
    bool previous_;
};

}  // namespace xgrad
