#include "autograd/shape.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace xgrad {

const char* dtype_name(DType dtype) { return dtype == DType::Float32 ? "float32" : "float64"; }

Shape::Shape(std::initializer_list<std::size_t> dims) { assign(dims.begin(), dims.size()); }
Shape::Shape(const std::vector<std::size_t>& dims) { assign(dims.data(), dims.size()); }
Shape::Shape(const std::size_t* dims, std::size_t ndim) { assign(dims, ndim); }
Shape::Shape(const Shape& other) { assign(other.data(), other.ndim_); }

Shape::Shape(Shape&& other) noexcept : ndim_(other.ndim_) {
    if (ndim_ <= kInline) {
        std::memcpy(inline_, other.inline_, sizeof(inline_));
    } else {
        heap_ = other.heap_;
        other.ndim_ = 0;
    }
}

Shape& Shape::operator=(const Shape& other) {
    if (this != &other) {
        if (ndim_ > kInline) delete[] heap_;
        ndim_ = 0;
        assign(other.data(), other.ndim_);
    }
    return *this;
}

Shape& Shape::operator=(Shape&& other) noexcept {
    if (this != &other) {
        if (ndim_ > kInline) delete[] heap_;
        ndim_ = other.ndim_;
        if (ndim_ <= kInline) {
            std::memcpy(inline_, other.inline_, sizeof(inline_));
        } else {
            heap_ = other.heap_;
            other.ndim_ = 0;
        }
    }
    return *this;
}

Shape::~Shape() {
    if (ndim_ > kInline) delete[] heap_;
}

void Shape::assign(const std::size_t* dims, std::size_t ndim) {
    ndim_ = ndim;
    if (ndim > kInline) heap_ = new std::size_t[ndim];
    if (ndim > 0) std::memcpy(data(), dims, ndim * sizeof(std::size_t));
}

std::size_t Shape::numel() const {
    std::size_t n = 1;
    for (std::size_t d : *this) n *= d;
    return n;
}

std::string Shape::str() const {
    std::string s = "(";
    for (std::size_t i = 0; i < ndim_; ++i) {
        if (i) s += ',';
        s += std::to_string((*this)[i]);
    }
    return s + ")";
}

bool operator==(const Shape& a, const Shape& b) {
    return a.ndim_ == b.ndim_ && std::equal(a.begin(), a.end(), b.begin());
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
    if (a == b) return a;
    const std::size_t n = std::max(a.size(), b.size());
    Shape out;
    std::vector<std::size_t> dims(n);
    for (std::size_t i = 0; i < n; ++i) {
        // Align trailing dimensions: missing leading dimensions count as 1.
        const std::size_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
        const std::size_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
        if (da != db && da != 1 && db != 1) {
            throw std::invalid_argument(std::string(op) + ": shapes cannot be broadcast (got " +
                                        a.str() + " and " + b.str() + ")");
        }
        dims[i] = da == 1 ? db : da;
    }
    return Shape(dims);
}

}  // namespace xgrad
