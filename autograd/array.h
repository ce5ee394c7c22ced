#pragma once
// Array: the compact n-d buffer a tensor node caches. Public and xtensor-free; kernels view it
// through xtensor adaptors (autograd/xt.h) without copying.
//
// Why not xt::xarray in the node: an xarray carries shape, strides and backstrides in three
// inline svectors (~230 bytes) plus a heap buffer even for one element. The scalar-graph bar
// (<= 200 bytes and no heap allocation per scalar node) needs data of up to 8 bytes inline.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/shape.h"

namespace xgrad {

/// Raw element storage: up to 8 bytes inline (one double, two floats), else one heap block.
/// Which one is in use is decided by the owner from the byte count; Storage itself is dumb.
/// A heap block is reference counted (a header in front of the elements holds the count), so
/// several Arrays may share one: reshape and the view-like ops share their input's block, and
/// whoever writes to a block with more than one holder copies it first (make_unique).
struct Storage {
    union {
        alignas(8) unsigned char inline_[8];
        void* heap_;
    };
    /// The count of a heap block's holders, in a cache line in front of its elements (so the
    /// elements stay 64-byte aligned).
    struct alignas(64) Header {
        std::atomic<std::size_t> refs;
    };
    static bool fits_inline(std::size_t nbytes) { return nbytes <= 8; }
    /// Inline (zeroed) or heap (zeroed if asked); inline, as most graph values are small.
    void allocate(std::size_t nbytes, bool zero) {
        if (fits_inline(nbytes)) {
            heap_ = nullptr;  // zeroes the 8 inline bytes
        } else {
            allocate_heap(nbytes, zero);
        }
    }
    /// A heap block with one holder.
    void allocate_heap(std::size_t nbytes, bool zero);
    /// Drops this holder's reference; the last one frees the block. Inline bytes: nothing to
    /// free (inline, as a scalar's gradient is released every step).
    void release(std::size_t nbytes) {
        if (!fits_inline(nbytes) && heap_ != nullptr) release_heap(nbytes);
        heap_ = nullptr;
    }
    /// One more holder of the same heap block (inline bytes are copied with the Storage).
    void retain(std::size_t nbytes) const {
        if (!fits_inline(nbytes) && heap_ != nullptr) {
            header()->refs.fetch_add(1, std::memory_order_relaxed);
        }
    }
    /// Whether the heap block has another holder. Read with acquire: when it says no, the
    /// reads of holders that have let go happened before, so writing in place is safe.
    bool shared(std::size_t nbytes) const {
        return !fits_inline(nbytes) && heap_ != nullptr &&
               header()->refs.load(std::memory_order_acquire) != 1;
    }
    /// Copy-on-write: a shared block is copied into one of this holder's own first.
    void make_unique(std::size_t nbytes) {
        if (shared(nbytes)) unshare(nbytes);
    }
    void* get(std::size_t nbytes) { return fits_inline(nbytes) ? inline_ : heap_; }
    const void* get(std::size_t nbytes) const { return fits_inline(nbytes) ? inline_ : heap_; }

private:
    Header* header() const {
        return reinterpret_cast<Header*>(static_cast<unsigned char*>(heap_) - sizeof(Header));
    }
    void unshare(std::size_t nbytes);
    void release_heap(std::size_t nbytes);
};

[[noreturn]] void nbytes_error(const char* op, const Shape& shape, DType dtype);
[[noreturn]] void not_floating_error(const char* op, DType dtype);

/// Bytes that `shape` elements of `dtype` take. Throws std::length_error naming `op`, the shape
/// and the dtype when the element count or the byte count overflows, or exceeds PTRDIFF_MAX
/// (the most one object may span).
inline std::size_t checked_nbytes(const char* op, const Shape& shape, DType dtype) {
    const std::size_t n = shape.numel(op);
    std::size_t bytes = 0;
    if (__builtin_mul_overflow(n, itemsize(dtype), &bytes) ||
        bytes > static_cast<std::size_t>(PTRDIFF_MAX)) {
        nbytes_error(op, shape, dtype);
    }
    return bytes;
}

/// Calls f(T{}) with T = float or double according to `dtype`; for Int64 or Bool throws
/// std::invalid_argument "<op>: expected a floating dtype (got int64)". Float kernels go
/// through this, so they cannot silently run on integers.
template <class F>
decltype(auto) dispatch(const char* op, DType dtype, F&& f) {
    if (dtype == DType::Float32) return f(float{});
    if (dtype != DType::Float64) not_floating_error(op, dtype);
    return f(double{});
}
/// dispatch with the op named "array".
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
    return dispatch("array", dtype, std::forward<F>(f));
}
/// Calls f(T{}) with T = float, double, std::int64_t or bool according to `dtype`.
template <class F>
decltype(auto) dispatch_all(DType dtype, F&& f) {
    switch (dtype) {
        case DType::Float32:
            return f(float{});
        case DType::Float64:
            return f(double{});
        case DType::Int64:
            return f(std::int64_t{});
        case DType::Bool:
            break;
    }
    return f(bool{});
}

/// One element converted as PyTorch's `to()` does: float -> int64 truncates toward zero;
/// anything -> bool is `!= 0` (so NaN is true); bool -> number is 0 or 1.
template <class To, class From>
inline To convert_value(From v) {
    if constexpr (std::is_same_v<To, bool>) {
        return v != From(0);
    } else if constexpr (std::is_same_v<To, std::int64_t> && std::is_floating_point_v<From>) {
        // NOTE: NaN and values outside int64's range are undefined behaviour in C++; they give
        // INT64_MIN, which is what x86's cvttsd2si returns (and so what PyTorch gives on x86).
        const bool in_range = v >= From(-9223372036854775808.0) && v < From(9223372036854775808.0);
        return in_range ? static_cast<std::int64_t>(v) : INT64_MIN;
    } else {
        return static_cast<To>(v);
    }
}

/// An owning (or, from from_blob, borrowing), contiguous, row-major n-d array of float32,
/// float64, int64 or bool. A value: copying copies the elements. share() and reshaped() give a
/// second array on the same heap buffer instead (no copy), and the first write through either
/// one copies the buffer (copy-on-write), so no holder ever sees another's writes. A pointer
/// from the mutable data()/raw() stays valid until the array is shared, moved or destroyed.
/// Example:
///   Array a = Array::from_values(f64, {2, 2}, {1, 2, 3, 4});
///   a.at({1, 0}) == 3;  a.data<double>()[3] == 4;  a.shape().str() == "(2,2)"
///   Array i = Array::from_vector(std::vector<std::int64_t>{3, 1}); i.at<std::int64_t>(0) == 3
class Array {
public:
    /// An undefined array (no dtype, no data); `defined()` is false.
    Array() : defined_(false) { storage_.heap_ = nullptr; }
    /// Zero-filled array of the given dtype and shape. Throws std::length_error when the
    /// element or byte count overflows, std::bad_alloc (naming the shape) when memory runs out.
    Array(DType dtype, Shape shape) : shape_(std::move(shape)), dtype_(dtype) {
        allocate(/*zero=*/true);
    }
    /// Uninitialised array (contents unspecified): for kernels that overwrite every element.
    static Array empty(DType dtype, Shape shape) {
        Array a(dtype, std::move(shape), Uninitialized{});
        return a;
    }
    /// Every element `value`, converted as convert_value (so exact for int64 up to 2^53).
    static Array full(DType dtype, Shape shape, double value);
    /// Values in row-major order; throws std::invalid_argument if the count does not match.
    static Array from_values(DType dtype, Shape shape, const std::vector<double>& values);
    static Array scalar(DType dtype, double value) { return full(dtype, Shape{}, value); }
    /// Values of float, double or std::int64_t, with the matching dtype; 1-D, or of `shape`
    /// (throws std::invalid_argument if the count does not match).
    template <class T>
    static Array from_vector(const std::vector<T>& values) {
        return from_vector(values, Shape{values.size()});
    }
    template <class T>
    static Array from_vector(const std::vector<T>& values, Shape shape) {
        static_assert(!std::is_same_v<T, bool>, "unreachable: std::vector<bool> has an overload");
        check_count("from_vector", values.size(), shape);
        Array a = empty(dtype_of<T>, std::move(shape));
        if (!values.empty()) std::memcpy(a.raw(), values.data(), values.size() * sizeof(T));
        return a;
    }
    /// A Bool array (std::vector<bool> packs bits, so the values are copied one by one).
    static Array from_vector(const std::vector<bool>& values) {
        return from_vector(values, Shape{values.size()});
    }
    static Array from_vector(const std::vector<bool>& values, Shape shape);
    /// 1-D [start, start + step, ...) up to but excluding `end`, as torch::arange: the count is
    /// ceil((end - start) / step). Int64 values are computed in integers when start and step are
    /// integral. Throws std::invalid_argument for a zero or non-finite step, non-finite bounds, or
    /// a step whose sign does not lead from start towards end.
    static Array arange(DType dtype, double start, double end, double step = 1.0);
    /// A zero-copy Array over caller-owned memory: `data` must hold shape.numel() elements of
    /// `dtype`, aligned to the element size, and stay valid (and not be freed) for as long as
    /// this Array or any Array moved from it exists. Writes through the Array change the
    /// caller's memory. Copying the Array copies the data (the copy owns its memory); moving,
    /// share() and reshaped() keep borrowing the same memory, so it must outlive those arrays
    /// too, and writes through any of them are seen by all (no copy-on-write for memory that is
    /// not ours). Throws std::invalid_argument for a null or misaligned pointer.
    static Array from_blob(void* data, Shape shape, DType dtype);

    Array(const Array& other);
    /// The moved-from array is undefined.
    Array(Array&& other) noexcept
        : shape_(std::move(other.shape_)),
          storage_(other.storage_),
          dtype_(other.dtype_),
          defined_(other.defined_),
          borrowed_(other.borrowed_) {
        other.storage_.heap_ = nullptr;
        other.defined_ = false;
        other.borrowed_ = false;
    }
    Array& operator=(const Array& other);
    Array& operator=(Array&& other) noexcept {
        if (this != &other) {
            reset();
            shape_ = std::move(other.shape_);
            storage_ = other.storage_;
            dtype_ = other.dtype_;
            defined_ = other.defined_;
            borrowed_ = other.borrowed_;
            other.storage_.heap_ = nullptr;
            other.defined_ = false;
            other.borrowed_ = false;
        }
        return *this;
    }
    ~Array() { reset(); }

    bool defined() const { return defined_; }
    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    std::size_t ndim() const { return shape_.size(); }
    std::size_t numel() const { return shape_.numel(); }
    std::size_t nbytes() const { return numel() * itemsize(dtype_); }
    /// Whether the elements live in caller-owned memory (from_blob).
    bool is_borrowed() const { return borrowed_; }
    /// Whether another Array holds the same heap buffer (from share() or reshaped()); the next
    /// write through this one copies the buffer first.
    bool is_shared() const { return defined_ && !borrowed_ && storage_.shared(nbytes()); }
    /// The same elements without a copy: a second holder of this array's buffer (inline bytes
    /// are copied; a borrowed array's memory stays borrowed). Undefined from undefined.
    Array share() const;

    /// Typed pointer to the elements; throws std::logic_error if T is not the array's element
    /// type (float, double, std::int64_t or bool: dtype_of<T> must equal dtype()).
    template <class T>
    T* data() {
        check_type(dtype_of<T>);
        return static_cast<T*>(ptr());
    }
    template <class T>
    const T* data() const {
        check_type(dtype_of<T>);
        return static_cast<const T*>(ptr());
    }
    void* raw() { return ptr(); }
    const void* raw() const { return ptr(); }

    /// The single element of a one-element array, as double; throws otherwise.
    double item() const { return item<double>(); }
    /// The single element converted to T (as convert_value): item<std::int64_t>() reads an
    /// index exactly, which the double form cannot past 2^53.
    template <class T>
    T item() const {
        if (!defined_ || numel() != 1) item_error();
        return get<T>(0);
    }
    /// Element at a flat (row-major) index, as double; bounds-checked.
    double at(std::size_t flat) const { return at<double>(flat); }
    /// Element at a multi-index, as double; bounds-checked.
    double at(std::initializer_list<std::size_t> index) const { return at<double>(index); }
    /// The same, converted to T.
    template <class T>
    T at(std::size_t flat) const {
        check_flat("at", flat);
        return get<T>(flat);
    }
    template <class T>
    T at(std::initializer_list<std::size_t> index) const {
        return at<T>(flat_index(index));
    }
    /// Stores `value` at a flat index, converted as convert_value; bounds-checked.
    void set(std::size_t flat, double value);
    /// Every element as double (int64 beyond 2^53 rounds: use to_vector<std::int64_t>()).
    std::vector<double> to_vector() const { return to_vector<double>(); }
    /// Every element converted to T (float, double, std::int64_t or bool).
    template <class T>
    std::vector<T> to_vector() const {
        std::vector<T> out(numel());
        dispatch_all(dtype_, [&](auto t) {
            using S = decltype(t);
            const S* p = static_cast<const S*>(ptr());
            for (std::size_t i = 0; i < out.size(); ++i) out[i] = convert_value<T>(p[i]);
        });
        return out;
    }
    /// Sets every element to `value`, converted as convert_value.
    void fill(double value);
    /// Copy converted to another dtype by convert_value's rules (a plain copy if the same).
    Array cast(DType dtype) const;
    /// Same elements with a new shape of the same element count; throws otherwise. The result
    /// shares this array's buffer (as share()); the rvalue form takes it over.
    Array reshaped(Shape shape) const&;
    Array reshaped(Shape shape) &&;

    /// Low level: take the element storage out (the array becomes undefined) or adopt one.
    /// A borrowed array's elements are copied into owned storage first. The storage may be
    /// shared with other arrays: call Storage::make_unique before writing through it.
    Storage release_storage();
    static Array adopt(DType dtype, Shape shape, Storage storage) {
        Array a(dtype, std::move(shape), storage);
        return a;
    }

private:
    Array(DType dtype, Shape&& shape, Storage storage)
        : shape_(std::move(shape)), storage_(storage), dtype_(dtype) {}
    struct Uninitialized {};
    Array(DType dtype, Shape&& shape, Uninitialized) : shape_(std::move(shape)), dtype_(dtype) {
        allocate(/*zero=*/false);
    }
    void allocate(bool zero) {
        const std::size_t nb = checked_nbytes("array", shape_, dtype_);
        if (Storage::fits_inline(nb)) {
            storage_.heap_ = nullptr;  // zeroes the 8 inline bytes
        } else {
            allocate_heap(nb, zero);
        }
    }
    void allocate_heap(std::size_t nbytes, bool zero);  // std::bad_alloc naming the shape
    // Small owned arrays keep their bytes inline; borrowed ones always point at the caller's.
    // Every mutable access goes through here: a shared heap buffer is copied first.
    void* ptr() {
        if (borrowed_) return storage_.heap_;
        const std::size_t nb = nbytes();
        if (defined_) storage_.make_unique(nb);
        return storage_.get(nb);
    }
    const void* ptr() const { return borrowed_ ? storage_.heap_ : storage_.get(nbytes()); }
    template <class T>
    T get(std::size_t flat) const {
        return dispatch_all(dtype_, [&](auto t) {
            using S = decltype(t);
            return convert_value<T>(static_cast<const S*>(ptr())[flat]);
        });
    }
    void reset() {
        if (defined_ && !borrowed_ && !Storage::fits_inline(nbytes())) storage_.release(nbytes());
        defined_ = false;
        borrowed_ = false;
    }
    void check_type(DType want) const {
        if (!defined_ || want != dtype_) type_error(want);
    }
    void check_flat(const char* op, std::size_t flat) const {
        if (!defined_ || flat >= numel()) flat_error(op, flat);
    }
    static void check_count(const char* op, std::size_t count, const Shape& shape) {
        if (count != shape.numel(op)) count_error(op, count, shape);
    }
    std::size_t flat_index(std::initializer_list<std::size_t> index) const;
    [[noreturn]] void type_error(DType want) const;
    [[noreturn]] void item_error() const;
    [[noreturn]] void flat_error(const char* op, std::size_t flat) const;
    [[noreturn]] static void count_error(const char* op, std::size_t count, const Shape& shape);

    Shape shape_;
    Storage storage_;
    DType dtype_ = DType::Float32;
    bool defined_ = true;
    bool borrowed_ = false;  // storage_.heap_ points at caller-owned memory (from_blob)
};

/// "[[1, 2], [3, 4]]", abbreviated with "..." past `max_per_dim` entries per dimension.
/// Int64 elements print exactly; Bool ones as True/False (as PyTorch prints them).
std::string format_values(const Array& a, std::size_t max_per_dim = 6);

}  // namespace xgrad
