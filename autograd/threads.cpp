#include "autograd/threads.h"

#include <cctype>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

// OpenBLAS's controls. Weak, so a build linked to another BLAS (BLA_VENDOR=Generic) still links
// and simply cannot be configured.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace xgrad {

namespace detail {
void set_pool_threads(int n);  // autograd/parallel.cpp
int pool_threads();
void set_pool_active(bool on);
bool pool_active();

WaitPolicy parse_wait_policy(const char* value) {
    std::string v(value);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "passive") return WaitPolicy::kPassive;
    if (v == "active") return WaitPolicy::kActive;
    throw std::invalid_argument(
        std::string("XGRAD_WAIT_POLICY: expected passive or active (got \"") + value + "\")");
}
}  // namespace detail

namespace {
std::once_flag g_default_once;

void apply_default() {
    if (const char* policy = std::getenv("XGRAD_WAIT_POLICY")) {
        detail::set_pool_active(detail::parse_wait_policy(policy) == WaitPolicy::kActive);
    }
    const char* env = std::getenv("XGRAD_NUM_THREADS");
    if (env != nullptr) {
        const int n = std::atoi(env);
        if (n > 0 && openblas_set_num_threads) openblas_set_num_threads(n);
        if (n > 0) detail::set_pool_threads(n);
        return;
    }
    if (std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("OMP_NUM_THREADS")) return;
    if (openblas_set_num_threads) openblas_set_num_threads(1);
}
}  // namespace

void ensure_thread_defaults() { std::call_once(g_default_once, apply_default); }

void set_num_threads(int n) {
    if (n < 1) {
        throw std::invalid_argument("set_num_threads: need at least 1 thread (got " +
                                    std::to_string(n) + ")");
    }
    ensure_thread_defaults();
    if (openblas_set_num_threads) openblas_set_num_threads(n);
    detail::set_pool_threads(n);
}

int num_threads() {
    ensure_thread_defaults();
    return detail::pool_threads();
}

void set_wait_policy(WaitPolicy policy) {
    ensure_thread_defaults();
    detail::set_pool_active(policy == WaitPolicy::kActive);
}

WaitPolicy wait_policy() {
    ensure_thread_defaults();
    return detail::pool_active() ? WaitPolicy::kActive : WaitPolicy::kPassive;
}

}  // namespace xgrad
