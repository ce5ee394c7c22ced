// Strided copies and permute. The view is first simplified (size-1 dims dropped, dims that are
// contiguous with their inner neighbour merged), then copied by one of three loops: memcpy rows
// (innermost stride 1), 16x16 tiles (a transpose: some other dim has stride 1), or a strided
// row. Every permutation of a contiguous array is one of the first two: (2,0,1) of (A,B,C) is one
// (A*B, C) transpose, (2,1,0) a batch of B strided (A, C) transposes.

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "autograd/kernels/nd.h"
#include "autograd/parallel.h"

namespace xgrad::kernels {

std::size_t normalize_dim(const char* op, std::int64_t dim, std::size_t ndim) {
    const auto n = static_cast<std::int64_t>(ndim == 0 ? 1 : ndim);  // a scalar takes -1 and 0
    if (dim < -n || dim >= n) {
        throw std::invalid_argument(std::string(op) +
                                    ": dimension out of range (expected to be in range of [" +
                                    std::to_string(-n) + ", " + std::to_string(n - 1) +
                                    "], but got " + std::to_string(dim) + ")");
    }
    return static_cast<std::size_t>(dim < 0 ? dim + n : dim);
}

std::vector<std::size_t> contiguous_strides(const Shape& shape) {
    std::vector<std::size_t> s(shape.size());
    std::size_t acc = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
        s[d] = acc;
        acc *= shape[d];
    }
    return s;
}

namespace {

struct View {
    std::vector<std::size_t> size, stride;  // outermost first; no size-1 dims
};

// Drops size-1 dims and merges dim d into d+1 when stride[d] == stride[d+1] * size[d+1].
View simplify(const Shape& shape, const std::vector<std::size_t>& strides) {
    View v;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        if (!v.size.empty() && v.stride.back() == strides[d] * shape[d]) {
            v.size.back() *= shape[d];
            v.stride.back() = strides[d];
        } else {
            v.size.push_back(shape[d]);
            v.stride.push_back(strides[d]);
        }
    }
    return v;
}

// Source offset of the first element of outer row `row` (a multi-index over v's dims but the
// last `inner_dims`).
std::size_t row_offset(const View& v, std::size_t row, std::size_t outer_dims) {
    std::size_t off = 0;
    for (std::size_t d = outer_dims; d-- > 0;) {
        off += (row % v.size[d]) * v.stride[d];
        row /= v.size[d];
    }
    return off;
}

// Odometer over the outer dims [0, outer_dims) that keeps the source offset.
struct Odometer {
    const View& v;
    std::size_t outer_dims;
    std::vector<std::size_t> idx;
    std::size_t off;
    Odometer(const View& view, std::size_t dims, std::size_t row)
        : v(view), outer_dims(dims), idx(dims, 0), off(row_offset(view, row, dims)) {
        for (std::size_t d = dims; d-- > 0;) {
            idx[d] = row % v.size[d];
            row /= v.size[d];
        }
    }
    void next() {
        for (std::size_t d = outer_dims; d-- > 0;) {
            if (++idx[d] < v.size[d]) {
                off += v.stride[d];
                return;
            }
            off -= (idx[d] - 1) * v.stride[d];
            idx[d] = 0;
        }
    }
};

#if defined(__AVX2__)
// d[c * ld + r] = s[r * ls + c] for an 8x8 block of 4-byte elements: eight row loads, the
// standard unpack/shuffle/permute transpose, eight row stores.
[[gnu::always_inline]] inline void transpose8x8(const std::uint32_t* src, std::size_t ls,
                                                std::uint32_t* dst, std::size_t ld) {
    const float* s = reinterpret_cast<const float*>(src);
    float* d = reinterpret_cast<float*>(dst);
    __m256 r[8], t[8], u[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(s + std::size_t(k) * ls);
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; ++k) {
        _mm256_storeu_ps(d + std::size_t(k) * ld, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
        _mm256_storeu_ps(d + std::size_t(k + 4) * ld, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
    }
}
#endif

// Software prefetch into L2 of the next 2-D block of a batched transpose (its source and its
// destination, each one contiguous range) while this one is transposed, a few lines per 8x8
// block: the strided reads and writes of a transpose then hit L2 instead of waiting on L3 or
// memory, which the hardware prefetchers do not fetch ahead for them. (0,2,1) of (64,128,256)
// float32, 100 interleaved runs on the loaded machine: 1.31-1.36x a memcpy with it, 1.81-1.86x
// without from memory; 1.44-1.66x vs 1.52-1.71x from L3.
struct Prefetch {
    std::uintptr_t src = 0, src_end = 0, dst = 0, dst_end = 0;  // [begin, end) of each range
    std::size_t lines = 0;                                      // per step, on each side
    void step() {
        for (std::size_t k = 0; k < lines; ++k) {
            if (src < src_end) __builtin_prefetch(reinterpret_cast<const void*>(src), 0, 2);
            // A read prefetch of the destination: the line arrives exclusive, and the store
            // then owns it without another trip.
            if (dst < dst_end) __builtin_prefetch(reinterpret_cast<const void*>(dst), 0, 2);
            src += 64;
            dst += 64;
        }
    }
};

// One tile of a transpose in 8x8 blocks: d[i * ld + j] = s[i + j * ls] for i < ni, j < nj.
template <class E>
inline void transpose_blocks8(const E* s, std::size_t ls, E* d, std::size_t ld, std::size_t ni,
                              std::size_t nj, Prefetch& pf) {
    std::size_t i0 = 0;
#if defined(__AVX2__)
    if constexpr (sizeof(E) == 4) {
        for (; i0 + 8 <= ni; i0 += 8) {
            std::size_t j0 = 0;
            for (; j0 + 8 <= nj; j0 += 8) {
                pf.step();
                transpose8x8(s + i0 + j0 * ls, ls, d + i0 * ld + j0, ld);
            }
            for (std::size_t i = i0; i < i0 + 8; ++i) {
                for (std::size_t j = j0; j < nj; ++j) d[i * ld + j] = s[i + j * ls];
            }
        }
    }
#endif
    (void)pf;
    for (std::size_t i = i0; i < ni; ++i) {
        for (std::size_t j = 0; j < nj; ++j) d[i * ld + j] = s[i + j * ls];
    }
}

// A tile of a transpose is one cache line of elements on each side (16x16 float32): it reads
// 16 whole source lines and writes 16 whole destination lines, so every line is fetched and
// written once whatever the strides. 8x8 float32 tiles read and write half lines, and when the
// strides alias (rows 2^k bytes apart share a cache set; (2,1,0) of (64,128,256) float32 reads
// rows 128 KB apart and writes rows 32 KB apart) the other half is often fetched again.
template <class E>
inline constexpr std::size_t kLine = 64 / sizeof(E);

// One tile: d[i * ld + j] = s[i + j * ls] for i < ni, j < nj (ni, nj <= kLine<E>).
template <class E>
[[gnu::always_inline]] inline void transpose_tile(const E* s, std::size_t ls, E* d, std::size_t ld,
                                                  std::size_t ni, std::size_t nj) {
#if defined(__AVX2__)
    if constexpr (sizeof(E) == 4) {
        if (ni == 16 && nj == 16) {
            // Source rows 0-7 whole (two 8x8 blocks), then rows 8-15, into a buffer that stays
            // in L1; then the 16 destination lines, each whole.
            alignas(64) std::uint32_t buf[16 * 16];
            transpose8x8(s, ls, buf, 16);
            transpose8x8(s + 8, ls, buf + 8 * 16, 16);
            transpose8x8(s + 8 * ls, ls, buf + 8, 16);
            transpose8x8(s + 8 * ls + 8, ls, buf + 8 * 16 + 8, 16);
            for (std::size_t i = 0; i < 16; ++i) {
                const float* b = reinterpret_cast<const float*>(buf + i * 16);
                float* o = reinterpret_cast<float*>(d + i * ld);
                _mm256_storeu_ps(o, _mm256_load_ps(b));
                _mm256_storeu_ps(o + 8, _mm256_load_ps(b + 8));
            }
            return;
        }
    }
#endif
    for (std::size_t i = 0; i < ni; ++i) {
        for (std::size_t j = 0; j < nj; ++j) d[i * ld + j] = s[i + j * ls];
    }
}

template <class E>  // E: an unsigned integer of the element's size (the copy moves bytes)
void copy_view(const E* src, E* dst, const View& v) {
    const std::size_t nd = v.size.size();
    if (nd == 0) {
        dst[0] = src[0];
        return;
    }
    std::size_t n = 1;
    for (std::size_t s : v.size) n *= s;
    const std::size_t inner = v.size[nd - 1], inner_stride = v.stride[nd - 1];
    // A transpose: the innermost output dim is strided, another dim t has stride 1. Copy 2-D
    // tiles over (t, innermost) so that reads and writes both stay within a few cache lines.
    std::size_t t = nd;
    if (inner_stride != 1) {
        for (std::size_t d = 0; d + 1 < nd; ++d) {
            if (v.stride[d] == 1) t = d;
        }
    }
    if (t < nd) {
        // Output dims: [outer..., t, middle..., inner]; tile over t and inner only, looping the
        // other dims as "rows" of the index space with t and inner taken out.
        View rest;
        std::size_t dst_t = 1;  // output stride of dim t
        for (std::size_t d = t + 1; d < nd; ++d) dst_t *= v.size[d];
        std::vector<std::size_t> dst_stride(nd);
        for (std::size_t d = nd, acc = 1; d-- > 0;) {
            dst_stride[d] = acc;
            acc *= v.size[d];
        }
        std::vector<std::size_t> rest_dst;
        for (std::size_t d = 0; d + 1 < nd; ++d) {
            if (d == t) continue;
            rest.size.push_back(v.size[d]);
            rest.stride.push_back(v.stride[d]);
            rest_dst.push_back(dst_stride[d]);
        }
        const std::size_t rt = v.size[t];
        const std::size_t n_rest = n / (rt * inner);
        const auto offsets = [&](std::size_t r, std::size_t& so, std::size_t& dof) {
            so = 0;
            dof = 0;
            for (std::size_t d = rest.size.size(), q = r; d-- > 0;) {
                const std::size_t i = q % rest.size[d];
                q /= rest.size[d];
                so += i * rest.stride[d];
                dof += i * rest_dst[d];
            }
        };
        // A batch of small matrices, each one range of bytes on both sides ((0,2,1) of
        // (64,128,256) float32: 64 blocks of 128 KB): each block in 8x8 tiles while the next one
        // is prefetched into L2. Bands of line tiles (below) took 2.3x a memcpy there against
        // 1.5-1.7x for this (bench_nd, paired runs, other builds paused); for one large matrix
        // or strided blocks ((2,0,1), (2,1,0)) the bands are faster (3.1-3.7x vs 3.5-4.7x).
        const bool small_dense_blocks = n_rest > 1 && inner_stride == rt && dst_t == inner &&
                                        rt * inner * sizeof(E) <= (256u << 10);
        if (small_dense_blocks) {
            // The next block is prefetched when its source rows are adjacent (a batch of full
            // matrices, as (0,2,1)) and its destination too: each is then one range of bytes.
            const bool src_dense = inner_stride == rt, dst_dense = dst_t == inner;
            const std::size_t block_bytes = rt * inner * sizeof(E);
            const std::size_t steps = std::max<std::size_t>(1, (rt / 8) * (inner / 8));
            auto blocks = [&](std::size_t r0, std::size_t r1) {
                for (std::size_t r = r0; r < r1; ++r) {
                    std::size_t so = 0, dof = 0;
                    offsets(r, so, dof);
                    Prefetch pf;
                    if (r + 1 < n_rest && (src_dense || dst_dense)) {
                        std::size_t nso = 0, ndo = 0;
                        offsets(r + 1, nso, ndo);
                        if (src_dense) {
                            pf.src = reinterpret_cast<std::uintptr_t>(src + nso);
                            pf.src_end = pf.src + block_bytes;
                        }
                        if (dst_dense) {
                            pf.dst = reinterpret_cast<std::uintptr_t>(dst + ndo);
                            pf.dst_end = pf.dst + block_bytes;
                        }
                        pf.lines = (block_bytes / 64 + steps - 1) / steps;
                    }
                    // 64x64 tiles; 32x32 when the strided reads are 32 KB or more apart, where
                    // 64 rows of a tile map to a few cache sets and evict each other (measured,
                    // loaded machine: permute (2,1,0) of (64,128,256) float32 took 5.4x a memcpy
                    // with 64, 2.8x with 32, 3.7x with 16; (0,2,1) 1.9x with 64, 2.8x with 32).
                    // The tile's strided side (jt source rows, inner_stride apart) is cut to 32
                    // rows when the stride is a multiple of 1 KB: such rows fall into 1/16 of L1's
                    // sets, and 64 of them need more ways than L1 has (the (0,2,1) permute of
                    // (64,128,256) float32 has a 1 KB stride).
                    const std::size_t kTile = inner_stride * sizeof(E) >= (32u << 10) ? 32 : 64;
                    const std::size_t jt = (inner_stride * sizeof(E)) % 1024 == 0 ? 32 : kTile;
                    for (std::size_t i0 = 0; i0 < rt; i0 += kTile) {
                        const std::size_t ni = std::min(rt - i0, kTile);
                        for (std::size_t j0 = 0; j0 < inner; j0 += jt) {
                            transpose_blocks8(src + so + i0 + j0 * inner_stride, inner_stride,
                                              dst + dof + i0 * dst_t + j0, dst_t, ni,
                                              std::min(inner - j0, jt), pf);
                        }
                    }
                }
            };
            const std::size_t per = rt * inner;
            if (n < kParallelGrain) {
                blocks(0, n_rest);
            } else {
                parallel_for(0, n_rest, std::max<std::size_t>(1, kParallelGrain / per), blocks);
            }
            return;
        }
        // Work items: a band of L source rows (L consecutive indices of `inner`) of one block,
        // all of t, one tile after the other along t: each item reads L source rows from left
        // to right (streams) and writes a column of L-element pieces of rt output rows.
        // Bands along t instead (L output rows each, reading a column of source lines) took
        // 2.1-2.8x a memcpy for (1,2,0) of (64,128,256) float32 and 2.2-3.1x for (2,1,0), whose
        // source rows are 128 KB apart, against 1.5-2.0x and 1.8-2.2x (a standalone timing
        // loop, medians of 300, loaded machine).
        constexpr std::size_t L = kLine<E>;
        const std::size_t bands = (inner + L - 1) / L, tiles = (rt + L - 1) / L;
        const std::size_t n_items = n_rest * bands;
        struct Band {
            const E* s;
            E* d;
            std::size_t nj;  // source rows in the band: L, or fewer in a block's last band
        };
        const auto band = [&](std::size_t w) {
            std::size_t so = 0, dof = 0;
            offsets(w / bands, so, dof);
            const std::size_t j0 = (w % bands) * L;
            return Band{src + so + j0 * inner_stride, dst + dof + j0, std::min(L, inner - j0)};
        };
        auto items = [&](std::size_t w0, std::size_t w1) {
            // A second cursor kAhead tiles ahead prefetches its tile's source and destination
            // lines into L2: the hardware follows neither the jump to the next item's rows nor
            // the destination's column of lines (with bands along t, (1,2,0) took 3.3-3.5x a
            // memcpy without the prefetch, 1.9-2.3x with it).
            constexpr std::size_t kAhead = 8;
            std::size_t wa = std::min(w0 + kAhead / tiles, n_items),
                        qa = wa < n_items ? kAhead % tiles : 0;
            Band ahead = wa < n_items ? band(wa) : Band{};
            for (std::size_t w = w0; w < w1; ++w) {
                const Band b = band(w);
                for (std::size_t i0 = 0; i0 < rt; i0 += L) {
                    if (wa < n_items) {
                        const E* ps = ahead.s + qa * L;
                        E* pd = ahead.d + qa * L * dst_t;
                        for (std::size_t j = 0; j < ahead.nj; ++j)
                            __builtin_prefetch(ps + j * inner_stride, 0, 2);
                        for (std::size_t i = 0, ni = std::min(L, rt - qa * L); i < ni; ++i)
                            __builtin_prefetch(pd + i * dst_t, 1, 2);
                        if (++qa == tiles) {
                            qa = 0;
                            if (++wa < n_items) ahead = band(wa);
                        }
                    }
                    transpose_tile(b.s + i0, inner_stride, b.d + i0 * dst_t, dst_t,
                                   std::min(L, rt - i0), b.nj);
                }
            }
        };
        if (n < kParallelGrain) {
            items(0, n_items);
        } else {
            parallel_for(0, n_items, std::max<std::size_t>(1, kParallelGrain / (L * rt)), items);
        }
        return;
    }
    const std::size_t n_rows = n / inner;
    // Contiguous rows that are not adjacent in the source ((1,0,2) of (64,128,256) float32:
    // 1 KB rows 128 KB apart): the source of the row kAhead rows on is prefetched into L2, as
    // the hardware only finds each row's stream after its first lines. (1,0,2): 1.4-1.8x a
    // memcpy with it, 1.7-2.0x without (3 runs of 9, loaded machine). Rows of up to 4 KB: a
    // longer row is a stream the hardware follows.
    constexpr std::size_t kAhead = 4;
    const std::size_t row_lines = inner_stride == 1 ? (inner * sizeof(E) + 63) / 64 : 0;
    auto rows = [&](std::size_t r0, std::size_t r1) {
        Odometer od(v, nd - 1, r0);
        Odometer ahead(v, nd - 1, std::min(r0 + kAhead, n_rows - 1));
        for (std::size_t r = r0; r < r1; ++r, od.next()) {
            E* d = dst + r * inner;
            const E* s = src + od.off;
            if (inner_stride == 1) {
                if (row_lines <= 64 && r + kAhead < n_rows) {
                    const char* p = reinterpret_cast<const char*>(src + ahead.off);
                    for (std::size_t k = 0; k < row_lines; ++k)
                        __builtin_prefetch(p + 64 * k, 0, 2);
                    ahead.next();
                }
                std::memcpy(d, s, inner * sizeof(E));
            } else {
                for (std::size_t j = 0; j < inner; ++j) d[j] = s[j * inner_stride];
            }
        }
    };
    if (n < kParallelGrain) {
        rows(0, n_rows);
    } else {
        parallel_for(0, n_rows, std::max<std::size_t>(1, kParallelGrain / inner), rows);
    }
}

// The offset one past the furthest element the view reaches (0 for an empty view).
std::size_t view_extent(const Shape& shape, const std::vector<std::size_t>& strides,
                        std::size_t offset, bool* overflow) {
    std::size_t last = offset;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 0) return 0;
        std::size_t step = 0;
        *overflow |= __builtin_mul_overflow(shape[d] - 1, strides[d], &step);
        *overflow |= __builtin_add_overflow(last, step, &last);
    }
    return last + 1;
}

void check_view(const char* op, const Array& src, const Shape& shape,
                const std::vector<std::size_t>& strides, std::size_t offset) {
    if (strides.size() != shape.size()) {
        throw std::logic_error(std::string(op) + ": " + std::to_string(strides.size()) +
                               " strides for shape " + shape.str());
    }
    bool overflow = false;
    const std::size_t extent = view_extent(shape, strides, offset, &overflow);
    if (overflow || extent > src.numel()) {
        throw std::logic_error(std::string(op) + ": view of shape " + shape.str() +
                               " reaches past the source's " + std::to_string(src.numel()) +
                               " elements " + src.shape().str());
    }
}

}  // namespace

Array copy_strided(const Array& src, const Shape& shape, const std::vector<std::size_t>& strides,
                   std::size_t offset) {
    check_view("copy_strided", src, shape, strides, offset);
    Array out = Array::empty(src.dtype(), shape);
    if (out.numel() == 0) return out;
    const View v = simplify(shape, strides);
    switch (itemsize(src.dtype())) {
        case 1:
            copy_view(static_cast<const std::uint8_t*>(src.raw()) + offset,
                      static_cast<std::uint8_t*>(out.raw()), v);
            break;
        case 4:
            copy_view(static_cast<const std::uint32_t*>(src.raw()) + offset,
                      static_cast<std::uint32_t*>(out.raw()), v);
            break;
        default:
            copy_view(static_cast<const std::uint64_t*>(src.raw()) + offset,
                      static_cast<std::uint64_t*>(out.raw()), v);
            break;
    }
    return out;
}

void add_strided(Array& dst, const Array& src, const std::vector<std::size_t>& strides,
                 std::size_t offset) {
    check_view("add_strided", dst, src.shape(), strides, offset);
    if (src.dtype() != dst.dtype()) {
        throw std::logic_error(std::string("add_strided: dtypes differ (got ") +
                               dtype_name(dst.dtype()) + " and " + dtype_name(src.dtype()) + ")");
    }
    if (src.dtype() == DType::Bool) {
        throw std::invalid_argument("add_strided: expected a floating or int64 dtype (got bool)");
    }
    if (src.numel() == 0) return;
    const View v = simplify(src.shape(), strides);
    dispatch_all(src.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (!std::is_same_v<T, bool>) {
            T* d = static_cast<T*>(dst.raw()) + offset;
            const T* s = static_cast<const T*>(src.raw());
            const std::size_t nd = v.size.size();
            if (nd == 0) {
                d[0] += s[0];
                return;
            }
            // Serial: with a broadcast (stride 0) view, rows of different chunks hit the same
            // elements, and the order of the additions must not depend on the thread count.
            const std::size_t inner = v.size[nd - 1], inner_stride = v.stride[nd - 1];
            const std::size_t n_rows = src.numel() / inner;
            Odometer od(v, nd - 1, 0);
            for (std::size_t r = 0; r < n_rows; ++r, od.next()) {
                T* row = d + od.off;
                const T* in = s + r * inner;
                for (std::size_t j = 0; j < inner; ++j) row[j * inner_stride] += in[j];
            }
        }
    });
}

Array permute(const Array& a, const std::vector<std::int64_t>& dims) {
    const std::size_t nd = a.ndim();
    if (dims.size() != nd) {
        std::string got = "(";
        for (std::size_t i = 0; i < dims.size(); ++i)
            got += (i ? "," : "") + std::to_string(dims[i]);
        throw std::invalid_argument("permute: expected " + std::to_string(nd) +
                                    " dims, one per dimension of shape " + a.shape().str() +
                                    " (got " + std::to_string(dims.size()) + ": " + got + "))");
    }
    std::vector<bool> seen(nd, false);
    std::vector<std::size_t> out_dims(nd), strides(nd);
    const std::vector<std::size_t> in_strides = contiguous_strides(a.shape());
    for (std::size_t i = 0; i < nd; ++i) {
        const std::size_t d = normalize_dim("permute", dims[i], nd);
        if (seen[d]) {
            throw std::invalid_argument("permute: repeated dim " + std::to_string(dims[i]) +
                                        " for shape " + a.shape().str());
        }
        seen[d] = true;
        out_dims[i] = a.shape()[d];
        strides[i] = in_strides[d];
    }
    return copy_strided(a, Shape(out_dims), strides);
}

}  // namespace xgrad::kernels
