#pragma once
// Shape and dtype: the two small value types every tensor carries. No xtensor here.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

namespace xgrad {

/// Element type of a tensor. Training defaults to Float32; gradient checks run in Float64;
/// Int64 holds indices and Bool masks (stored one byte per element, 0 or 1), as PyTorch's
/// torch::kInt64 and torch::kBool.
enum class DType : std::uint8_t { Float32, Float64, Int64, Bool };

/// "float32", "float64", "int64" or "bool" (PyTorch's names).
const char* dtype_name(DType dtype);
/// Bytes per element: 4, 8, 8 or 1.
inline constexpr std::size_t itemsize(DType dtype) {
    return dtype == DType::Float32 ? 4 : dtype == DType::Bool ? 1 : 8;
}
/// True for Float32 and Float64 (the dtypes that can require grad).
inline constexpr bool is_floating_point(DType dtype) {
    return dtype == DType::Float32 || dtype == DType::Float64;
}

inline constexpr DType f32 = DType::Float32;
inline constexpr DType f64 = DType::Float64;
inline constexpr DType i64 = DType::Int64;
// NOTE: `bool` is a keyword; NumPy spells the dtype object the same way (np.bool_).
inline constexpr DType bool_ = DType::Bool;

/// The DType of a C++ element type: dtype_of<float> == f32, dtype_of<std::int64_t> == i64,
/// dtype_of<bool> == bool_ (a Bool array's bytes are read as bool).
template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
    static constexpr DType value = DType::Float32;
};
template <>
struct DTypeOf<double> {
    static constexpr DType value = DType::Float64;
};
template <>
struct DTypeOf<std::int64_t> {
    static constexpr DType value = DType::Int64;
};
template <>
struct DTypeOf<bool> {
    static constexpr DType value = DType::Bool;
};
template <class T>
inline constexpr DType dtype_of = DTypeOf<T>::value;
static_assert(sizeof(bool) == 1, "Bool arrays store one byte per element, read as bool");

/// The dimensions of a tensor, row-major. Up to 4 dimensions are stored inline (no heap), so a
/// scalar or small tensor costs no allocation for its shape.
/// Example:
///   Shape s{32, 784};   s.size() == 2, s.numel() == 25088, s.str() == "(32,784)"
class Shape {
public:
    static constexpr std::size_t kInline = 4;

    Shape() = default;  // 0-D: a scalar
    Shape(std::initializer_list<std::size_t> dims) { assign(dims.begin(), dims.size()); }
    explicit Shape(const std::vector<std::size_t>& dims) { assign(dims.data(), dims.size()); }
    Shape(const std::size_t* dims, std::size_t ndim) { assign(dims, ndim); }
    // Copies and moves are inline: every op and every backward step moves a few shapes.
    Shape(const Shape& other) { assign(other.data(), other.ndim_); }
    /// The moved-from shape is 0-D.
    Shape(Shape&& other) noexcept : ndim_(other.ndim_) {
        std::memcpy(inline_, other.inline_, sizeof(inline_));  // the heap pointer, if any
        other.ndim_ = 0;
    }
    Shape& operator=(const Shape& other) {
        if (this != &other) {
            free_heap();
            assign(other.data(), other.ndim_);
        }
        return *this;
    }
    Shape& operator=(Shape&& other) noexcept {
        if (this != &other) {
            free_heap();
            ndim_ = other.ndim_;
            std::memcpy(inline_, other.inline_, sizeof(inline_));
            other.ndim_ = 0;
        }
        return *this;
    }
    ~Shape() { free_heap(); }

    std::size_t size() const { return ndim_; }
    bool empty() const { return ndim_ == 0; }
    const std::size_t* data() const { return ndim_ <= kInline ? inline_ : heap_; }
    std::size_t* data() { return ndim_ <= kInline ? inline_ : heap_; }
    const std::size_t* begin() const { return data(); }
    const std::size_t* end() const { return data() + ndim_; }
    std::size_t operator[](std::size_t i) const { return data()[i]; }
    std::size_t& operator[](std::size_t i) { return data()[i]; }
    /// Product of the dimensions (1 for a scalar, 0 if any dimension is 0). Throws
    /// std::length_error naming `op` and the shape when the product overflows 64 bits.
    std::size_t numel(const char* op = "shape") const {
        if (ndim_ == 0) return 1;  // scalars: the scalar graphs ask for every value
        std::size_t n = 1;
        bool overflow = false, zero = false;
        for (std::size_t d : *this) {
            overflow |= __builtin_mul_overflow(n, d, &n);
            zero |= d == 0;
        }
        // A zero dimension makes the count 0 however large the others are. (The wrapped product
        // itself can be 0 without one: 2^32 * 2^32.)
        if (overflow) return zero ? 0 : numel_overflow(op);
        return n;
    }
    std::vector<std::size_t> vec() const { return {begin(), end()}; }
    /// "(2,3)"; a scalar prints as "()".
    std::string str() const;

    friend bool operator==(const Shape& a, const Shape& b) {
        if (a.ndim_ != b.ndim_) return false;
        for (std::size_t i = 0; i < a.ndim_; ++i) {
            if (a[i] != b[i]) return false;
        }
        return true;
    }
    friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

private:
    [[noreturn]] std::size_t numel_overflow(const char* op) const;
    void assign(const std::size_t* dims, std::size_t ndim) {
        ndim_ = ndim;
        if (ndim > kInline) heap_ = new std::size_t[ndim];
        if (ndim > 0) std::memcpy(data(), dims, ndim * sizeof(std::size_t));
    }
    void free_heap() {
        if (ndim_ > kInline) delete[] heap_;
    }
    union {
        std::size_t inline_[kInline] = {};  // zeroed: moves copy all four slots
        std::size_t* heap_;
    };
    std::size_t ndim_ = 0;
};

/// NumPy broadcast of two shapes; throws std::invalid_argument naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace xgrad
