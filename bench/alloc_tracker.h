#pragma once
// Heap accounting for the memory benchmarks. A binary that links alloc_tracker.cpp replaces the
// global operator new/delete; while tracking is on they count the bytes in use the way glibc's
// allocator does (usable size + the 8-byte chunk header), so the numbers agree with
// mallinfo2().uordblks. Off, the replacements only forward to malloc/free.

#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace xgrad::bench {

struct AllocTracker {
    bool on = false;
    long long live = 0;  // bytes in use since start(): may go negative when older blocks die
    long long peak = 0;
    void start() {
        live = peak = 0;
        on = true;
    }
    void stop() { on = false; }
};
inline AllocTracker g_tracker;

/// glibc's in-use bytes (what mallinfo2 reports as uordblks).
inline long long heap_in_use() { return static_cast<long long>(mallinfo2().uordblks); }

namespace detail {
inline void on_alloc(void* p) {
    if (g_tracker.on && p != nullptr) {
        g_tracker.live += static_cast<long long>(malloc_usable_size(p) + sizeof(std::size_t));
        if (g_tracker.live > g_tracker.peak) g_tracker.peak = g_tracker.live;
    }
}
inline void on_free(void* p) {
    if (g_tracker.on && p != nullptr) {
        g_tracker.live -= static_cast<long long>(malloc_usable_size(p) + sizeof(std::size_t));
    }
}
inline void* alloc(std::size_t n) {
    void* p = std::malloc(n ? n : 1);
    if (p == nullptr) throw std::bad_alloc();
    on_alloc(p);
    return p;
}
inline void* alloc_aligned(std::size_t n, std::align_val_t al) {
    const std::size_t a = static_cast<std::size_t>(al);
    void* p = std::aligned_alloc(a, (n + a - 1) / a * a);
    if (p == nullptr) throw std::bad_alloc();
    on_alloc(p);
    return p;
}
inline void release(void* p) {
    on_free(p);
    std::free(p);
}
}  // namespace detail

}  // namespace xgrad::bench
