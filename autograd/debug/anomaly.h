#pragma once
// Anomaly mode: the first op whose forward or backward produces NaN or Inf throws an
// AnomalyError naming the op, its input shapes and the line of the user's code that created it.
// Off by default. An observer of the graph (autograd/observer.h): the engine does not know it.

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "autograd/call_site.h"

namespace xgrad {

/// The error anomaly mode throws: what() names the op, the phase, the non-finite values, the
/// input shapes and where the node was created.
class AnomalyError : public std::runtime_error {
public:
    AnomalyError(const std::string& message, std::string op, bool backward, SourceLocation location)
        : std::runtime_error(message),
          op_(std::move(op)),
          backward_(backward),
          location_(location) {}
    /// The op that produced the non-finite value ("log", "sqrt", a custom op's name).
    const std::string& op() const { return op_; }
    /// True if its backward rule produced it, false if its forward did.
    bool in_backward() const { return backward_; }
    /// Where the user's code created the node (file and line; line 0 if unknown).
    const SourceLocation& location() const { return location_; }

private:
    std::string op_;
    bool backward_;
    SourceLocation location_;
};

/// True while a DetectAnomalyGuard is alive in this thread.
bool anomaly_enabled();

/// RAII: while alive, this thread runs in anomaly mode. Every op recorded with grad mode on
/// checks its forward value, and every backward rule run by this thread checks the gradients
/// it returns; the first NaN or Inf throws AnomalyError. Nodes created meanwhile remember the
/// user's line, so a backward anomaly names where its node was created. Thread-local like
/// grad mode; slow (a lock and a scan per op), for debugging only.
/// Example:
///   { DetectAnomalyGuard anomaly; Tensor y = log(x); }  // x == 0: throws "log: forward ..."
class DetectAnomalyGuard {
public:
    DetectAnomalyGuard();
    ~DetectAnomalyGuard();
    DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
    DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

private:
    struct State;  // the observer and the call-site request it registers
    std::unique_ptr<State> state_;
};

}  // namespace xgrad
