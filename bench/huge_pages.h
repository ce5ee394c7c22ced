#pragma once
// Buffers for the hand-written baselines, allocated as the library allocates its arrays
// (autograd/array.cpp): blocks of 2 MB or more on a 2 MB boundary with madvise(MADV_HUGEPAGE),
// smaller ones on a cache line. On std::vector's 4 KB pages a baseline would pay TLB misses
// that the engine's arrays do not, and the ratio would credit the engine with them.

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <vector>

namespace bench {

template <class T>
struct HugePageAllocator {
    using value_type = T;
    static constexpr std::size_t kHugePage = std::size_t(2) << 20;

    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) {}

    static std::align_val_t align(std::size_t bytes) {
        return std::align_val_t(bytes >= kHugePage ? kHugePage : 64);
    }
    T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        void* p = ::operator new(bytes, align(bytes));
#if defined(MADV_HUGEPAGE)
        if (bytes >= kHugePage) (void)madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t n) { ::operator delete(p, align(n * sizeof(T))); }
};
template <class T, class U>
bool operator==(const HugePageAllocator<T>&, const HugePageAllocator<U>&) {
    return true;
}
template <class T, class U>
bool operator!=(const HugePageAllocator<T>&, const HugePageAllocator<U>&) {
    return false;
}

/// A baseline's buffer.
template <class T>
using Buffer = std::vector<T, HugePageAllocator<T>>;

}  // namespace bench
