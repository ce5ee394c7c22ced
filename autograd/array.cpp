#include "autograd/array.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <sstream>
#include <string>

#include "autograd/parallel.h"

namespace xgrad {

namespace {

constexpr std::size_t kAlign = 64;  // a cache line; also what AVX-512 loads like

// Blocks of 2 MB or more start on a 2 MB boundary and ask for transparent huge pages
// (madvise: the kernel's default mode here is `madvise`, which backs only such ranges), as
// PyTorch's CPU allocator does under THP_MEM_ALLOC_ENABLE: one TLB entry and one page fault per
// 2 MB instead of 512. A transpose touches a new 4 KB page at almost every cache line it reads
// or writes, and 16 MB of them overflow the 2048-entry L2 TLB. permute(...).contiguous() of
// (64,128,256) float32 against a memcpy into a buffer of the same allocator (bench_nd,
// interleaved, idle): (2,0,1) 2.7-2.9x on 4 KB pages, 1.5-1.85x on 2 MB pages; (2,1,0)
// 2.6-3.0x and 1.65-2.34x (median 1.9 over 9 runs).
// NOTE: PyTorch leaves this off unless THP_MEM_ALLOC_ENABLE=1 is set. Here it is on: the
// buffer cache below reuses these blocks, so the kernel's work to find a 2 MB page (direct
// compaction under the `madvise` defrag mode) is paid once per buffer, not per op.
constexpr std::size_t kHugePage = std::size_t(2) << 20;

std::align_val_t block_align(std::size_t nbytes) {
    return std::align_val_t(nbytes >= kHugePage ? kHugePage : kAlign);
}

void* heap_new(std::size_t nbytes) {
    void* p = ::operator new(nbytes, block_align(nbytes));
    if (nbytes >= kHugePage) {
        // Only the whole huge pages inside the block: the tail's page may belong to malloc's
        // next chunk. A refusal (THP off, old kernel) leaves 4 KB pages: nothing to handle.
#if defined(MADV_HUGEPAGE)  // Linux; elsewhere the alignment alone
        (void)madvise(p, nbytes / kHugePage * kHugePage, MADV_HUGEPAGE);
#endif
    }
    return p;
}
void heap_delete(void* p, std::size_t nbytes) { ::operator delete(p, block_align(nbytes)); }

// A per-thread cache of freed large buffers, reused for the same byte count. glibc serves a
// large block by mmap, or from the heap top that free() trims back: either way a new 1 MB
// result is page-faulted in and zeroed by the kernel on every op (XTENSOR.md 3.4; 6% of
// sum(matmul) at n = 512). Training repeats the same shapes every step, so exact sizes match.
// Small blocks stay with malloc, which is fast for them. Bounded in bytes and entries; the
// oldest entries go first. Off under AddressSanitizer, which must see every buffer freed.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kCacheBytes = 0;
#else
constexpr std::size_t kCacheBytes = std::size_t(64) << 20;  // per thread
#endif
constexpr std::size_t kCacheMinBlock = std::size_t(128) << 10;  // glibc's default mmap threshold
constexpr std::size_t kCacheEntries = 32;

// Trivially destructible, so a buffer freed during thread or program exit, after the drain
// below ran, still finds valid storage (and then goes straight to the allocator).
struct BufferCache {
    struct Entry {
        void* p;
        std::size_t nbytes;
    };
    Entry entries[kCacheEntries];  // oldest first
    std::size_t count = 0, bytes = 0;
    bool registered = false, closed = false;

    void drop_oldest() {
        heap_delete(entries[0].p, entries[0].nbytes);
        bytes -= entries[0].nbytes;
        std::memmove(entries, entries + 1, (count - 1) * sizeof(Entry));
        --count;
    }
};
thread_local BufferCache t_buffers;

struct BufferCacheDrain {
    ~BufferCacheDrain() {
        BufferCache& c = t_buffers;
        c.closed = true;
        while (c.count > 0) c.drop_oldest();
    }
};

[[gnu::noinline]] void register_buffer_cache_drain() {
    thread_local BufferCacheDrain drain;
    (void)drain;
    t_buffers.registered = true;
}

void* cached_new(std::size_t nbytes) {
    if (nbytes >= kCacheMinBlock) {
        BufferCache& c = t_buffers;
        for (std::size_t i = c.count; i-- > 0;) {  // newest first: likely still in cache
            if (c.entries[i].nbytes == nbytes) {
                void* p = c.entries[i].p;
                std::memmove(c.entries + i, c.entries + i + 1,
                             (c.count - i - 1) * sizeof(c.entries[0]));
                --c.count;
                c.bytes -= nbytes;
                return p;
            }
        }
    }
    return heap_new(nbytes);
}

void cached_delete(void* p, std::size_t nbytes) {
    BufferCache& c = t_buffers;
    if (nbytes < kCacheMinBlock || nbytes > kCacheBytes || c.closed) {
        heap_delete(p, nbytes);
        return;
    }
    if (!c.registered) register_buffer_cache_drain();
    while (c.count == kCacheEntries || c.bytes + nbytes > kCacheBytes) c.drop_oldest();
    c.entries[c.count++] = {p, nbytes};
    c.bytes += nbytes;
}

}  // namespace

// A heap block is the Header (the holder count), then the elements.
static_assert(sizeof(Storage::Header) == kAlign, "the elements must stay 64-byte aligned");

void Storage::allocate_heap(std::size_t nbytes, bool zero) {
    auto* block = static_cast<unsigned char*>(cached_new(sizeof(Header) + nbytes));
    ::new (block) Header{{1}};
    heap_ = block + sizeof(Header);
    if (zero) {
        // Chunks of kParallelGrain float32s across the pool (a zero gradient, a max mask).
        auto* p = static_cast<unsigned char*>(heap_);
        if (nbytes < kParallelGrain * 4) {
            std::memset(p, 0, nbytes);
        } else {
            parallel_for(0, nbytes, kParallelGrain * 4,
                         [p](std::size_t b, std::size_t e) { std::memset(p + b, 0, e - b); });
        }
    }
}

void Storage::release_heap(std::size_t nbytes) {
    Header* h = header();
    // A count of 1 read with acquire: this is the only holder, nobody can add or drop one (the
    // locked decrement is skipped, as Node's drop_ref). Else the last to let go frees, after
    // every other holder's reads (acq_rel).
    if (h->refs.load(std::memory_order_acquire) == 1 ||
        h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        h->~Header();
        cached_delete(h, sizeof(Header) + nbytes);
    }
}

void Storage::unshare(std::size_t nbytes) {
    Storage own;
    own.allocate_heap(nbytes, /*zero=*/false);
    std::memcpy(own.heap_, heap_, nbytes);
    release(nbytes);
    heap_ = own.heap_;
}

namespace {
// std::bad_alloc with a message that names what was being allocated.
class AllocationError : public std::bad_alloc {
public:
    explicit AllocationError(std::string what) : what_(std::move(what)) {}
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};
}  // namespace

void nbytes_error(const char* op, const Shape& shape, DType dtype) {
    throw std::length_error(std::string(op) + ": shape " + shape.str() + " of " +
                            dtype_name(dtype) + " is too large (" +
                            std::to_string(shape.numel(op)) + " elements of " +
                            std::to_string(itemsize(dtype)) + " bytes exceed the limit of " +
                            std::to_string(PTRDIFF_MAX) + " bytes)");
}

void not_floating_error(const char* op, DType dtype) {
    throw std::invalid_argument(std::string(op) + ": expected a floating dtype (got " +
                                dtype_name(dtype) + ")");
}

void Array::allocate_heap(std::size_t nbytes, bool zero) {
    try {
        storage_.allocate_heap(nbytes, zero);
    } catch (const std::bad_alloc&) {
        throw AllocationError("array: out of memory allocating " + std::to_string(nbytes) +
                              " bytes for shape " + shape_.str() + " of " + dtype_name(dtype_));
    }
}

Array Array::full(DType dtype, Shape shape, double value) {
    Array a = empty(dtype, std::move(shape));
    a.fill(value);
    return a;
}

void Array::count_error(const char* op, std::size_t count, const Shape& shape) {
    throw std::invalid_argument(std::string(op) + ": value count does not match the shape (got " +
                                std::to_string(count) + " values for shape " + shape.str() +
                                ", expected " + std::to_string(shape.numel(op)) + ")");
}

Array Array::from_values(DType dtype, Shape shape, const std::vector<double>& values) {
    check_count("tensor", values.size(), shape);
    Array a = empty(dtype, std::move(shape));
    dispatch_all(dtype, [&](auto t) {
        using T = decltype(t);
        T* p = static_cast<T*>(a.ptr());
        for (std::size_t i = 0; i < values.size(); ++i) p[i] = convert_value<T>(values[i]);
    });
    return a;
}

Array Array::from_vector(const std::vector<bool>& values, Shape shape) {
    check_count("from_vector", values.size(), shape);
    Array a = empty(DType::Bool, std::move(shape));
    bool* p = a.data<bool>();
    for (std::size_t i = 0; i < values.size(); ++i) p[i] = values[i];
    return a;
}

Array Array::arange(DType dtype, double start, double end, double step) {
    if (!std::isfinite(start) || !std::isfinite(end)) {
        throw std::invalid_argument("arange: bounds must be finite (got start " +
                                    std::to_string(start) + ", end " + std::to_string(end) + ")");
    }
    if (step == 0 || !std::isfinite(step)) {
        throw std::invalid_argument("arange: step must be nonzero and finite (got " +
                                    std::to_string(step) + ")");
    }
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
        throw std::invalid_argument(
            "arange: upper bound and larger bound inconsistent with step sign (got start " +
            std::to_string(start) + ", end " + std::to_string(end) + ", step " +
            std::to_string(step) + ")");
    }
    const double count = std::ceil((end - start) / step);
    if (!(count < 9.0e18)) {
        throw std::length_error("arange: too many elements (got start " + std::to_string(start) +
                                ", end " + std::to_string(end) + ", step " + std::to_string(step) +
                                ")");
    }
    const std::size_t n = static_cast<std::size_t>(count);
    Array a = empty(dtype, Shape{n});
    const bool integral = std::floor(start) == start && std::floor(step) == step &&
                          std::fabs(start) < 9.0e18 && std::fabs(step) < 9.0e18;
    if (dtype == DType::Int64 && integral) {
        std::int64_t* p = a.data<std::int64_t>();
        const auto s0 = static_cast<std::int64_t>(start), st = static_cast<std::int64_t>(step);
        for (std::size_t i = 0; i < n; ++i) p[i] = s0 + static_cast<std::int64_t>(i) * st;
        return a;
    }
    dispatch_all(dtype, [&](auto t) {
        using T = decltype(t);
        T* p = static_cast<T*>(a.ptr());
        // start + i * step rather than a running sum: no accumulated rounding.
        for (std::size_t i = 0; i < n; ++i) {
            p[i] = convert_value<T>(start + static_cast<double>(i) * step);
        }
    });
    return a;
}

Array Array::from_blob(void* data, Shape shape, DType dtype) {
    const std::size_t nb = checked_nbytes("from_blob", shape, dtype);
    if (data == nullptr && nb > 0) {
        throw std::invalid_argument("from_blob: null data pointer for shape " + shape.str() +
                                    " of " + dtype_name(dtype));
    }
    if (reinterpret_cast<std::uintptr_t>(data) % itemsize(dtype) != 0) {
        throw std::invalid_argument(
            "from_blob: data pointer not aligned to the element size (got "
            "an address that is not a multiple of " +
            std::to_string(itemsize(dtype)) + " for " + dtype_name(dtype) + ")");
    }
    Storage st;
    st.heap_ = data;
    Array a(dtype, std::move(shape), st);
    a.borrowed_ = true;
    return a;
}

Array::Array(const Array& other)
    : shape_(other.shape_), dtype_(other.dtype_), defined_(other.defined_) {
    if (!defined_) {
        storage_.heap_ = nullptr;
        return;
    }
    allocate(/*zero=*/false);
    std::memcpy(raw(), other.raw(), nbytes());
}

Array Array::share() const {
    if (!defined_) return Array();
    if (!borrowed_) storage_.retain(nbytes());  // a no-op for inline bytes (they are copied)
    Array a(dtype_, Shape(shape_), storage_);
    a.borrowed_ = borrowed_;
    return a;
}

Array& Array::operator=(const Array& other) {
    if (this != &other) *this = Array(other);
    return *this;
}

void Array::type_error(DType want) const {
    if (!defined_) throw std::logic_error("array: access to an undefined array");
    throw std::logic_error(std::string("array: element type mismatch (got a request for ") +
                           dtype_name(want) + ", array is " + dtype_name(dtype_) + ")");
}

void Array::item_error() const {
    throw std::invalid_argument("item: array must have exactly one element (got shape " +
                                shape_.str() + ")");
}

void Array::flat_error(const char* op, std::size_t flat) const {
    throw std::out_of_range(std::string(op) + ": flat index " + std::to_string(flat) +
                            " out of range for shape " + shape_.str());
}

std::size_t Array::flat_index(std::initializer_list<std::size_t> index) const {
    if (index.size() != ndim()) {
        throw std::out_of_range("at: got " + std::to_string(index.size()) + " indices for shape " +
                                shape_.str());
    }
    std::size_t flat = 0, d = 0;
    for (std::size_t i : index) {
        if (i >= shape_[d]) {
            throw std::out_of_range("at: index " + std::to_string(i) + " out of range in dim " +
                                    std::to_string(d) + " of shape " + shape_.str());
        }
        flat = flat * shape_[d++] + i;
    }
    return flat;
}

void Array::set(std::size_t flat, double value) {
    check_flat("set", flat);
    dispatch_all(dtype_, [&](auto t) {
        using T = decltype(t);
        static_cast<T*>(ptr())[flat] = convert_value<T>(value);
    });
}

void Array::fill(double value) {
    if (!defined_) type_error(dtype_);
    dispatch_all(dtype_, [&](auto t) {
        using T = decltype(t);
        T* p = static_cast<T*>(ptr());
        const T v = convert_value<T>(value);
        auto run = [p, v](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) p[i] = v;
        };
        const std::size_t n = numel();
        if (n < kParallelGrain) {
            run(0, n);
        } else {
            parallel_for(0, n, kParallelGrain, run);
        }
    });
}

Array Array::cast(DType dtype) const {
    if (dtype == dtype_) return *this;
    if (!defined_) type_error(dtype);
    Array out = empty(dtype, shape_);
    const std::size_t n = numel();
    dispatch_all(dtype_, [&](auto from) {
        using S = decltype(from);
        const S* src = static_cast<const S*>(ptr());
        dispatch_all(dtype, [&](auto to) {
            using D = decltype(to);
            D* dst = static_cast<D*>(out.ptr());
            for (std::size_t i = 0; i < n; ++i) dst[i] = convert_value<D>(src[i]);
        });
    });
    return out;
}

Array Array::reshaped(Shape shape) const& { return share().reshaped(std::move(shape)); }

Array Array::reshaped(Shape shape) && {
    if (shape.numel("reshape") != numel()) {
        throw std::invalid_argument("reshape: element count differs (got " + shape_.str() +
                                    " with " + std::to_string(numel()) + " elements, asked for " +
                                    shape.str() + ")");
    }
    // Same byte count, so the storage stays inline or stays on the heap (or stays borrowed),
    // with the same holders: only the shape changes.
    shape_ = std::move(shape);
    return std::move(*this);
}

Storage Array::release_storage() {
    if (borrowed_) *this = Array(*this);  // the caller's memory is not ours to hand on
    Storage s = storage_;
    storage_.heap_ = nullptr;
    defined_ = false;
    return s;
}

namespace {
template <class T>
void format_one(std::ostringstream& os, T v) {
    if constexpr (std::is_same_v<T, bool>) {
        os << (v ? "True" : "False");
    } else {
        os << v;
    }
}

void format_rec(std::ostringstream& os, const Array& a, std::size_t dim, std::size_t offset,
                std::size_t stride, std::size_t max_per_dim) {
    auto element = [&](std::size_t flat) {
        dispatch_all(a.dtype(), [&](auto t) {
            using T = decltype(t);
            // float prints through double, as before; int64 and bool print exactly.
            if constexpr (std::is_floating_point_v<T>) {
                format_one(os, a.at<double>(flat));
            } else {
                format_one(os, a.at<T>(flat));
            }
        });
    };
    if (a.ndim() == 0) {
        element(0);
        return;
    }
    const std::size_t n = a.shape()[dim];
    const std::size_t inner = stride / (n == 0 ? 1 : n);
    os << '[';
    for (std::size_t i = 0; i < n; ++i) {
        if (n > max_per_dim && i == max_per_dim / 2) {
            os << "..., ";
            i = n - max_per_dim / 2;
        }
        if (dim + 1 == a.ndim()) {
            element(offset + i);
        } else {
            format_rec(os, a, dim + 1, offset + i * inner, inner, max_per_dim);
        }
        if (i + 1 < n) os << ", ";
    }
    os << ']';
}
}  // namespace

std::string format_values(const Array& a, std::size_t max_per_dim) {
    if (!a.defined()) return "<undefined>";
    std::ostringstream os;
    os.precision(6);
    format_rec(os, a, 0, 0, a.numel(), max_per_dim);
    return os.str();
}

}  // namespace xgrad
