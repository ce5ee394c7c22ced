#pragma once
// Anomaly mode: the first op whose forward or backward produces NaN or Inf throws an
// AnomalyError naming the op, its input shapes and the line of the user's code that created it.
// Off by default. Also the call-site capture every op in ops.h takes as a defaulted argument.
//
// Why CallSite is a defaulted *reference* argument: C++17 has no std::source_location, but g++
// and clang evaluate __builtin_FILE()/__builtin_LINE() in a default argument at the caller, and
// a temporary bound to a reference parameter lives until the end of the caller's full
// expression. So `Tensor y = log(x);` constructs a CallSite on the user's line before `log`
// runs and destroys it after; while anomaly mode is on, the outermost live CallSite of the
// thread is "where the user is". Overloaded operators cannot take an extra argument; their
// first Tensor operand is a TensorArg, whose converting constructor captures the line instead
// (the trick std::format uses for its format string). When anomaly mode is off nowhere in the
// process, a CallSite costs two stores, one relaxed atomic load and a predictable branch.

#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>

namespace xgrad {

class Tensor;

/// A place in the source code: a file name as the compiler spelled it, and a line (0: unknown).
struct SourceLocation {
    const char* file = nullptr;
    int line = 0;
    /// "file:line", or "an unknown place" when no location was captured.
    std::string str() const;
};

namespace detail {
/// How many anomaly-mode guards are alive in the whole process: the one global read on the
/// fast path of every op (zero means anomaly mode is off everywhere).
extern std::atomic<int> g_anomaly_guards;
inline bool anomaly_possible() {
    return __builtin_expect(g_anomaly_guards.load(std::memory_order_relaxed) != 0, 0);
}
}  // namespace detail

/// The defaulted last argument of every op (`const CallSite& = CallSite::current()`): captures
/// the caller's file and line. Users never write one. While anomaly mode is on in this thread,
/// the outermost live CallSite is the location recorded in the nodes created under it.
/// NOTE: no default constructor, so a braced argument (`sum(x, {})`, `sum(x, {0})`) can never
/// convert to a CallSite and make an overload ambiguous.
class CallSite {
public:
    struct Tag {
        explicit Tag() = default;
    };
    CallSite(Tag, const char* file, int line) noexcept : location_{file, line} {
        if (detail::anomaly_possible()) enter();
    }
    /// The caller's location (both arguments default at the call site).
    static CallSite current(const char* file = __builtin_FILE(),
                            int line = __builtin_LINE()) noexcept {
        return CallSite(Tag{}, file, line);  // guaranteed elision: `this` is the final object
    }
    ~CallSite() {
        if (active_) leave();
    }
    CallSite(const CallSite&) = delete;
    CallSite& operator=(const CallSite&) = delete;
    const SourceLocation& location() const { return location_; }

private:
    void enter() noexcept;
    void leave() noexcept;
    SourceLocation location_;
    bool active_ = false;
};

/// The first operand of the overloaded operators: a `const Tensor&` that also captures the
/// caller's line (an operator cannot take a defaulted argument). Converts implicitly from Tensor.
class TensorArg {
public:
    TensorArg(const Tensor& tensor, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) noexcept
        : tensor_(tensor), site_(CallSite::Tag{}, file, line) {}
    operator const Tensor&() const { return tensor_; }
    const Tensor& get() const { return tensor_; }

private:
    const Tensor& tensor_;
    CallSite site_;
};

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
    bool previous_;
};

}  // namespace xgrad
