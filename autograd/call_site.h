#pragma once
// The call-site capture every op in ops.h takes as a defaulted argument, so a tool that wants
// to know where the user is (anomaly mode, autograd/debug/anomaly.h) can ask.
//
// Why CallSite is a defaulted *reference* argument: C++17 has no std::source_location, but g++
// and clang evaluate __builtin_FILE()/__builtin_LINE() in a default argument at the caller, and
// a temporary bound to a reference parameter lives until the end of the caller's full
// expression. So `Tensor y = log(x);` constructs a CallSite on the user's line before `log`
// runs and destroys it after; while anomaly mode is on, the outermost live CallSite of the
// thread is "where the user is" while some tool asked for call sites. Overloaded operators cannot
// take an extra argument; their first Tensor operand is a TensorArg, whose converting constructor
// captures the line instead (the trick std::format uses for its format string). When no tool asks
// for them anywhere in the process, a CallSite costs two stores, one relaxed atomic load and a
// predictable branch.

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
/// How many call-site requests are alive in the whole process: the one global read on the fast
/// path of every op (zero: nobody wants call sites).
extern std::atomic<int> g_call_site_requests;
inline bool call_sites_wanted() {
    return __builtin_expect(g_call_site_requests.load(std::memory_order_relaxed) != 0, 0);
}
}  // namespace detail

/// The defaulted last argument of every op (`const CallSite& = CallSite::current()`): captures
/// the caller's file and line. Users never write one. While this thread asks for call sites
/// (CallSiteRequest), the outermost live CallSite is current_call_site().
/// NOTE: no default constructor, so a braced argument (`sum(x, {})`, `sum(x, {0})`) can never
/// convert to a CallSite and make an overload ambiguous.
class CallSite {
public:
    struct Tag {
        explicit Tag() = default;
    };
    CallSite(Tag, const char* file, int line) noexcept : location_{file, line} {
        if (detail::call_sites_wanted()) enter();
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

/// RAII: while alive, this thread tracks its outermost live CallSite (what anomaly mode records
/// as a node's creation site).
class CallSiteRequest {
public:
    CallSiteRequest();
    ~CallSiteRequest();
    CallSiteRequest(const CallSiteRequest&) = delete;
    CallSiteRequest& operator=(const CallSiteRequest&) = delete;
};

/// The outermost live CallSite of this thread while it asks for call sites, else null.
const CallSite* current_call_site();

}  // namespace xgrad
