// The replaced global operator new/delete (see alloc_tracker.h). Every other form (nothrow,
// array) forwards to these in libstdc++.

#include "bench/alloc_tracker.h"

void* operator new(std::size_t n) { return xgrad::bench::detail::alloc(n); }
void* operator new[](std::size_t n) { return xgrad::bench::detail::alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    return xgrad::bench::detail::alloc_aligned(n, a);
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return xgrad::bench::detail::alloc_aligned(n, a);
}
void operator delete(void* p) noexcept { xgrad::bench::detail::release(p); }
void operator delete[](void* p) noexcept { xgrad::bench::detail::release(p); }
void operator delete(void* p, std::size_t) noexcept { xgrad::bench::detail::release(p); }
void operator delete[](void* p, std::size_t) noexcept { xgrad::bench::detail::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { xgrad::bench::detail::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { xgrad::bench::detail::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    xgrad::bench::detail::release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    xgrad::bench::detail::release(p);
}
