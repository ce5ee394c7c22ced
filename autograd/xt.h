#pragma once
// The one header that includes xtensor. Every TU that includes it must see the same
// configuration (XTENSOR.md pitfall 16: the macros change the array types), so it is set here.
// Internal: never include from a public header (each xtensor TU costs ~3 s and 300 MB).

#if defined(XGRAD_USE_XSIMD) && XGRAD_USE_XSIMD
#ifndef XTENSOR_USE_XSIMD
#define XTENSOR_USE_XSIMD
#endif
// xsimd's aligned allocator calls posix_memalign: +50 ns per array (XTENSOR.md 3.3).
#ifndef XTENSOR_DEFAULT_ALLOCATOR
#include <memory>
#define XTENSOR_DEFAULT_ALLOCATOR(T) std::allocator<T>
#endif
#endif

#include <array>
#include <xtensor-blas/xblas.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "autograd/array.h"

namespace xgrad::xt_bridge {

/// A 2-D row-major xtensor view of raw memory (no copy, no ownership).
template <class T>
auto matrix(const T* p, std::size_t rows, std::size_t cols) {
    return xt::adapt(const_cast<T*>(p), rows * cols, xt::no_ownership(),
                     std::array<std::size_t, 2>{rows, cols});
}

}  // namespace xgrad::xt_bridge
