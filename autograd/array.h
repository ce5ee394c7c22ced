#pragma once
// Array: the compact n-d buffer a tensor node caches. Public and xtensor-free; kernels view it
// through xtensor adaptors (autograd/xt.h) without copying.
//
// Why not xt::xarray in the node: an xarray carries shape, strides and backstrides in three
// inline svectors (~230 bytes) plus a heap buffer even for one element. The scalar-graph bar
// (<= 200 bytes and no heap allocation per scalar node) needs data of up to 8 bytes inline.

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/shape.h"

namespace xgrad {

/// Raw element storage: up to 8 bytes inline (one double, two floats), else one heap block.
/// Which one is in use is decided by the owner from the byte count; Storage itself is dumb.
struct Storage {
    union {
        alignas(8) unsigned char inline_[8];
        void* heap_;
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
    void allocate_heap(std::size_t nbytes, bool zero);
    void release(std::size_t nbytes);
    void* get(std::size_t nbytes) { return fits_inline(nbytes) ? inline_ : heap_; }
    const void* get(std::size_t nbytes) const { return fits_inline(nbytes) ? inline_ : heap_; }
};

/// An owning, contiguous, row-major n-d array of float32 or float64.
/// Example:
///   Array a = Array::from_values(f64, {2, 2}, {1, 2, 3, 4});
///   a.at({1, 0}) == 3;  a.data<double>()[3] == 4;  a.shape().str() == "(2,2)"
class Array {
public:
    /// An undefined array (no dtype, no data); `defined()` is false.
    Array() : defined_(false) { storage_.heap_ = nullptr; }
    /// Zero-filled array of the given dtype and shape.
    Array(DType dtype, Shape shape) : shape_(std::move(shape)), dtype_(dtype) {
        storage_.allocate(nbytes(), /*zero=*/true);
    }
    /// Uninitialised array (contents unspecified): for kernels that overwrite every element.
    static Array empty(DType dtype, Shape shape) {
        Array a(dtype, std::move(shape), Uninitialized{});
        return a;
    }
    static Array full(DType dtype, Shape shape, double value);
    /// Values in row-major order; throws std::invalid_argument if the count does not match.
    static Array from_values(DType dtype, Shape shape, const std::vector<double>& values);
    static Array scalar(DType dtype, double value) { return full(dtype, Shape{}, value); }

    Array(const Array& other);
    /// The moved-from array is undefined.
    Array(Array&& other) noexcept
        : shape_(std::move(other.shape_)),
          storage_(other.storage_),
          dtype_(other.dtype_),
          defined_(other.defined_) {
        other.storage_.heap_ = nullptr;
        other.defined_ = false;
    }
    Array& operator=(const Array& other);
    Array& operator=(Array&& other) noexcept {
        if (this != &other) {
            reset();
            shape_ = std::move(other.shape_);
            storage_ = other.storage_;
            dtype_ = other.dtype_;
            defined_ = other.defined_;
            other.storage_.heap_ = nullptr;
            other.defined_ = false;
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

    /// Typed pointer to the elements; throws std::logic_error if T is not the array's dtype.
    template <class T>
    T* data() {
        check_type(sizeof(T));
        return static_cast<T*>(storage_.get(nbytes()));
    }
    template <class T>
    const T* data() const {
        check_type(sizeof(T));
        return static_cast<const T*>(storage_.get(nbytes()));
    }
    void* raw() { return storage_.get(nbytes()); }
    const void* raw() const { return storage_.get(nbytes()); }

    /// The single element of a one-element array, as double; throws otherwise.
    double item() const;
    /// Element at a flat (row-major) index, as double; bounds-checked.
    double at(std::size_t flat) const;
    /// Element at a multi-index, as double; bounds-checked.
    double at(std::initializer_list<std::size_t> index) const;
    void set(std::size_t flat, double value);
    std::vector<double> to_vector() const;
    void fill(double value);
    /// Copy converted to another dtype (a plain copy if it is the same).
    Array cast(DType dtype) const;
    /// Same elements with a new shape of the same element count; throws otherwise.
    Array reshaped(Shape shape) const&;
    Array reshaped(Shape shape) &&;

    /// Low level: take the element storage out (the array becomes undefined) or adopt one.
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
        storage_.allocate(nbytes(), /*zero=*/false);
    }
    void reset() {
        if (defined_ && !Storage::fits_inline(nbytes())) storage_.release(nbytes());
        defined_ = false;
    }
    void check_type(std::size_t size) const {
        if (!defined_ || size != itemsize(dtype_)) type_error(size);
    }
    [[noreturn]] void type_error(std::size_t size) const;

    Shape shape_;
    Storage storage_;
    DType dtype_ = DType::Float32;
    bool defined_ = true;
};

/// "[[1, 2], [3, 4]]", abbreviated with "..." past `max_per_dim` entries per dimension.
std::string format_values(const Array& a, std::size_t max_per_dim = 6);

/// Calls f(T{}) with T = float or double according to `dtype`.
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
    if (dtype == DType::Float32) return f(float{});
    return f(double{});
}

}  // namespace xgrad
