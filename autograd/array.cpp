#include "autograd/array.h"

#include <cmath>
#include <cstdlib>
#include <new>
#include <sstream>

namespace xgrad {

namespace {

constexpr std::size_t kAlign = 64;  // a cache line; also what AVX-512 loads like

void* heap_new(std::size_t nbytes) { return ::operator new(nbytes, std::align_val_t(kAlign)); }
void heap_delete(void* p) { ::operator delete(p, std::align_val_t(kAlign)); }

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
        heap_delete(entries[0].p);
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
        heap_delete(p);
        return;
    }
    if (!c.registered) register_buffer_cache_drain();
    while (c.count == kCacheEntries || c.bytes + nbytes > kCacheBytes) c.drop_oldest();
    c.entries[c.count++] = {p, nbytes};
    c.bytes += nbytes;
}

}  // namespace

void Storage::allocate_heap(std::size_t nbytes, bool zero) {
    heap_ = cached_new(nbytes);
    if (zero) std::memset(heap_, 0, nbytes);
}

void Storage::release(std::size_t nbytes) {
    if (!fits_inline(nbytes) && heap_ != nullptr) cached_delete(heap_, nbytes);
    heap_ = nullptr;
}

Array Array::full(DType dtype, Shape shape, double value) {
    Array a = empty(dtype, std::move(shape));
    a.fill(value);
    return a;
}

Array Array::from_values(DType dtype, Shape shape, const std::vector<double>& values) {
    if (values.size() != shape.numel()) {
        throw std::invalid_argument("tensor: value count does not match the shape (got " +
                                    std::to_string(values.size()) + " values for shape " +
                                    shape.str() + ", expected " + std::to_string(shape.numel()) +
                                    ")");
    }
    Array a = empty(dtype, std::move(shape));
    dispatch(dtype, [&](auto t) {
        using T = decltype(t);
        T* p = a.data<T>();
        for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
    });
    return a;
}

Array::Array(const Array& other)
    : shape_(other.shape_), dtype_(other.dtype_), defined_(other.defined_) {
    if (!defined_) {
        storage_.heap_ = nullptr;
        return;
    }
    storage_.allocate(nbytes(), /*zero=*/false);
    std::memcpy(raw(), other.raw(), nbytes());
}

Array& Array::operator=(const Array& other) {
    if (this != &other) *this = Array(other);
    return *this;
}

void Array::type_error(std::size_t size) const {
    if (!defined_) throw std::logic_error("array: access to an undefined array");
    throw std::logic_error(std::string("array: element type mismatch (got a request for ") +
                           (size == 4 ? "float32" : "float64") + ", array is " +
                           dtype_name(dtype_) + ")");
}

double Array::item() const {
    if (!defined_ || numel() != 1) {
        throw std::invalid_argument("item: array must have exactly one element (got shape " +
                                    shape_.str() + ")");
    }
    return at(std::size_t{0});
}

double Array::at(std::size_t flat) const {
    if (!defined_ || flat >= numel()) {
        throw std::out_of_range("at: flat index " + std::to_string(flat) +
                                " out of range for shape " + shape_.str());
    }
    return dtype_ == DType::Float32 ? double(data<float>()[flat]) : data<double>()[flat];
}

double Array::at(std::initializer_list<std::size_t> index) const {
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
    return at(flat);
}

void Array::set(std::size_t flat, double value) {
    if (!defined_ || flat >= numel()) {
        throw std::out_of_range("set: flat index " + std::to_string(flat) +
                                " out of range for shape " + shape_.str());
    }
    if (dtype_ == DType::Float32) {
        data<float>()[flat] = static_cast<float>(value);
    } else {
        data<double>()[flat] = value;
    }
}

std::vector<double> Array::to_vector() const {
    std::vector<double> out(numel());
    dispatch(dtype_, [&](auto t) {
        using T = decltype(t);
        const T* p = data<T>();
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i];
    });
    return out;
}

void Array::fill(double value) {
    dispatch(dtype_, [&](auto t) {
        using T = decltype(t);
        T* p = data<T>();
        const T v = static_cast<T>(value);
        for (std::size_t i = 0, n = numel(); i < n; ++i) p[i] = v;
    });
}

Array Array::cast(DType dtype) const {
    if (dtype == dtype_) return *this;
    Array out = empty(dtype, shape_);
    const std::size_t n = numel();
    if (dtype_ == DType::Float32) {
        const float* s = data<float>();
        double* d = out.data<double>();
        for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
    } else {
        const double* s = data<double>();
        float* d = out.data<float>();
        for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
    }
    return out;
}

Array Array::reshaped(Shape shape) const& { return Array(*this).reshaped(std::move(shape)); }

Array Array::reshaped(Shape shape) && {
    if (shape.numel() != numel()) {
        throw std::invalid_argument("reshape: element count differs (got " + shape_.str() +
                                    " with " + std::to_string(numel()) + " elements, asked for " +
                                    shape.str() + ")");
    }
    // Same byte count, so the storage stays inline or stays on the heap: only the shape changes.
    shape_ = std::move(shape);
    return std::move(*this);
}

Storage Array::release_storage() {
    Storage s = storage_;
    storage_.heap_ = nullptr;
    defined_ = false;
    return s;
}

namespace {
void format_rec(std::ostringstream& os, const Array& a, std::size_t dim, std::size_t offset,
                std::size_t stride, std::size_t max_per_dim) {
    if (a.ndim() == 0) {
        os << a.at(std::size_t{0});
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
            os << a.at(offset + i);
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
