#include "autograd/call_site.h"

namespace xgrad {

namespace detail {
std::atomic<int> g_call_site_requests{0};
}  // namespace detail

namespace {
thread_local int t_requests = 0;
// The outermost live CallSite of this thread while it asks for call sites: "where the user is".
thread_local const CallSite* t_site = nullptr;
}  // namespace

std::string SourceLocation::str() const {
    if (file == nullptr || line == 0) return "an unknown place";
    return std::string(file) + ":" + std::to_string(line);
}

void CallSite::enter() noexcept {
    // Outermost wins: ops that call other ops (operators on scalars, composites) keep the
    // location of the user's call.
    if (t_requests > 0 && t_site == nullptr) {
        t_site = this;
        active_ = true;
    }
}

void CallSite::leave() noexcept {
    if (t_site == this) t_site = nullptr;
    active_ = false;
}

CallSiteRequest::CallSiteRequest() {
    ++t_requests;
    detail::g_call_site_requests.fetch_add(1, std::memory_order_relaxed);
}

CallSiteRequest::~CallSiteRequest() {
    detail::g_call_site_requests.fetch_sub(1, std::memory_order_relaxed);
    --t_requests;
}

const CallSite* current_call_site() { return t_requests > 0 ? t_site : nullptr; }

}  // namespace xgrad
