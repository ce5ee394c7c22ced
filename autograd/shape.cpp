#include "autograd/shape.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace xgrad {

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::Float32:
            return "float32";
        case DType::Float64:
            return "float64";
        case DType::Int64:
            return "int64";
        case DType::Bool:
            return "bool";
    }
    return "unknown dtype";
}

std::size_t Shape::numel_overflow(const char* op) const {
    throw std::length_error(std::string(op) + ": the element count of shape " + str() +
                            " overflows 64 bits (the product of the dimensions exceeds " +
                            std::to_string(SIZE_MAX) + ")");
}

std::string Shape::str() const {
    std::string s = "(";
    for (std::size_t i = 0; i < ndim_; ++i) {
        if (i) s += ',';
        s += std::to_string((*this)[i]);
    }
    return s + ")";
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
