// gather / scatter_add / index_select / index_add / cat / split. Each array is read as
// (outer, size along dim, inner): outer = product of the dims before dim, inner = after it.

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/kernels/nd.h"
#include "autograd/parallel.h"

namespace xgrad::kernels {

namespace {

struct Split3 {
    std::size_t outer = 1, size = 1, inner = 1;
};
Split3 split3(const Shape& s, std::size_t dim) {
    Split3 r;
    if (s.empty()) return r;  // a 0-D array: one element, dim 0 of size 1
    for (std::size_t d = 0; d < s.size(); ++d) {
        if (d < dim) r.outer *= s[d];
        if (d > dim) r.inner *= s[d];
    }
    r.size = s[dim];
    return r;
}

void check_dim(const char* op, std::size_t dim, const Array& a) {
    if (dim >= std::max<std::size_t>(a.ndim(), 1)) {
        throw std::invalid_argument(std::string(op) + ": dimension " + std::to_string(dim) +
                                    " out of range for shape " + a.shape().str());
    }
}

void check_index_dtype(const char* op, const Array& index) {
    if (!index.defined()) throw std::invalid_argument(std::string(op) + ": undefined index");
    if (index.dtype() != DType::Int64) {
        throw std::invalid_argument(std::string(op) + ": index must be an int64 tensor (got " +
                                    dtype_name(index.dtype()) + ")");
    }
}

// index value -> [0, size), negative counting from the end, else the PyTorch-style error.
std::size_t wrap_index(const char* op, std::int64_t i, std::size_t dim, std::size_t size) {
    const auto n = static_cast<std::int64_t>(size);
    if (i < -n || i >= n) {
        throw std::invalid_argument(std::string(op) + ": index " + std::to_string(i) +
                                    " is out of bounds for dimension " + std::to_string(dim) +
                                    " with size " + std::to_string(size));
    }
    return static_cast<std::size_t>(i < 0 ? i + n : i);
}

void check_addable(const char* op, const Array& a) {
    if (a.dtype() == DType::Bool) {
        throw std::invalid_argument(std::string(op) +
                                    ": expected a floating or int64 dtype (got bool)");
    }
}

void check_same_dtype(const char* op, const Array& a, const Array& b) {
    if (a.dtype() != b.dtype()) {
        throw std::invalid_argument(std::string(op) + ": dtypes differ (got " +
                                    dtype_name(a.dtype()) + " " + a.shape().str() + " and " +
                                    dtype_name(b.dtype()) + " " + b.shape().str() + ")");
    }
}

// Calls f(E{}) with E an unsigned integer of the element size: for copies that move bytes.
template <class F>
void by_size(DType dtype, F&& f) {
    switch (itemsize(dtype)) {
        case 1:
            f(std::uint8_t{});
            break;
        case 4:
            f(std::uint32_t{});
            break;
        default:
            f(std::uint64_t{});
            break;
    }
}

// The index of gather/scatter_add: input's rank, and within `bound` in every dim but `dim`.
void check_gather_index(const char* op, const Array& input, std::size_t dim, const Array& index,
                        const Shape& bound, const char* bound_name) {
    check_index_dtype(op, index);
    check_dim(op, dim, input);
    if (index.ndim() != input.ndim()) {
        throw std::invalid_argument(std::string(op) +
                                    ": index must have the same number of dimensions as input "
                                    "(got index " +
                                    index.shape().str() + " and input " + input.shape().str() +
                                    ")");
    }
    for (std::size_t d = 0; d < index.ndim(); ++d) {
        if (d != dim && index.shape()[d] > bound[d]) {
            throw std::invalid_argument(std::string(op) + ": size of index dimension " +
                                        std::to_string(d) + " exceeds that of " + bound_name +
                                        " (got index " + index.shape().str() + " and " +
                                        bound_name + " " + bound.str() + ")");
        }
    }
}

// For every element of `index` (multi-index i, flat position f): calls f(f, pos_in, pos_other)
// with pos_in the flat position in an array of shape `target` where dim is replaced by the
// index value, and pos_other the flat position of i in an array of shape `other`.
template <class F>
void for_gather(const char* op, const Array& index, std::size_t dim, const Shape& target,
                const Shape& other, F&& f) {
    const std::int64_t* idx = index.data<std::int64_t>();
    const std::size_t nd = index.ndim(), n = index.numel();
    if (nd == 0) {
        f(std::size_t{0}, wrap_index(op, idx[0], 0, 1), std::size_t{0});
        return;
    }
    // Strides and the running multi-index on the stack up to kStack dims (a capture replays
    // gather without allocating), on the heap beyond.
    constexpr std::size_t kStack = 8;
    std::size_t stack[3 * kStack];
    std::vector<std::size_t> heap(nd > kStack ? 3 * nd : 0);
    std::size_t* ts = nd > kStack ? heap.data() : stack;
    std::size_t *os = ts + nd, *i = os + nd;
    for (std::size_t d = nd, st = 1, so = 1; d-- > 0;) {
        ts[d] = st;
        os[d] = so;
        i[d] = 0;
        st *= target[d];
        so *= other[d];
    }
    for (std::size_t flat = 0; flat < n; ++flat) {
        std::size_t t = 0, o = 0;
        for (std::size_t d = 0; d < nd; ++d) {
            t += (d == dim ? wrap_index(op, idx[flat], dim, target[dim]) : i[d]) * ts[d];
            o += i[d] * os[d];
        }
        f(flat, t, o);
        for (std::size_t d = nd; d-- > 0;) {
            if (++i[d] < index.shape()[d]) break;
            i[d] = 0;
        }
    }
}

}  // namespace

Array gather(const Array& input, std::size_t dim, const Array& index) {
    check_gather_index("gather", input, dim, index, input.shape(), "input");
    Array out = Array::empty(input.dtype(), index.shape());
    gather_into(input, dim, index, out);
    return out;
}

void gather_into(const Array& input, std::size_t dim, const Array& index, Array& out) {
    by_size(input.dtype(), [&](auto tag) {
        using E = decltype(tag);
        const E* in = static_cast<const E*>(input.raw());
        E* o = static_cast<E*>(out.raw());
        for_gather("gather", index, dim, input.shape(), index.shape(),
                   [&](std::size_t f, std::size_t t, std::size_t) { o[f] = in[t]; });
    });
}

Array scatter_add(const Array& self, std::size_t dim, const Array& index, const Array& src) {
    check_gather_index("scatter_add", self, dim, index, self.shape(), "self");
    check_same_dtype("scatter_add", self, src);
    check_addable("scatter_add", self);
    if (src.ndim() != index.ndim()) {
        throw std::invalid_argument(
            "scatter_add: src must have the same number of dimensions as index (got src " +
            src.shape().str() + " and index " + index.shape().str() + ")");
    }
    for (std::size_t d = 0; d < index.ndim(); ++d) {
        if (index.shape()[d] > src.shape()[d]) {
            throw std::invalid_argument("scatter_add: size of index dimension " +
                                        std::to_string(d) + " exceeds that of src (got index " +
                                        index.shape().str() + " and src " + src.shape().str() +
                                        ")");
        }
    }
    Array out = self;
    dispatch_all(self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (!std::is_same_v<T, bool>) {
            T* o = out.data<T>();
            const T* s = src.data<T>();
            // Serial, in index order: repeated indices add in the same order every time.
            for_gather("scatter_add", index, dim, self.shape(), src.shape(),
                       [&](std::size_t, std::size_t t, std::size_t f) { o[t] += s[f]; });
        }
    });
    return out;
}

namespace {
std::vector<std::size_t> checked_indices(const char* op, const Array& index, std::size_t dim,
                                         std::size_t size) {
    check_index_dtype(op, index);
    if (index.ndim() > 1) {
        throw std::invalid_argument(std::string(op) + ": index must be 1-D or 0-D (got " +
                                    index.shape().str() + ")");
    }
    const std::int64_t* p = index.data<std::int64_t>();
    std::vector<std::size_t> out(index.numel());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = wrap_index(op, p[i], dim, size);
    return out;
}
}  // namespace

Array index_select(const Array& input, std::size_t dim, const Array& index) {
    check_dim("index_select", dim, input);
    const Split3 s = split3(input.shape(), dim);
    const std::vector<std::size_t> idx = checked_indices("index_select", index, dim, s.size);
    Shape out_shape = input.shape();
    if (!out_shape.empty()) out_shape[dim] = idx.size();
    Array out = Array::empty(input.dtype(), out_shape);
    const std::size_t bytes = s.inner * itemsize(input.dtype());
    const auto* in = static_cast<const unsigned char*>(input.raw());
    auto* o = static_cast<unsigned char*>(out.raw());
    for (std::size_t a = 0; a < s.outer; ++a) {
        for (std::size_t j = 0; j < idx.size(); ++j) {
            std::memcpy(o + (a * idx.size() + j) * bytes, in + (a * s.size + idx[j]) * bytes,
                        bytes);
        }
    }
    return out;
}

Array index_add(const Array& self, std::size_t dim, const Array& index, const Array& source,
                double alpha) {
    check_dim("index_add", dim, self);
    check_same_dtype("index_add", self, source);
    check_addable("index_add", self);
    const Split3 s = split3(self.shape(), dim);
    const std::vector<std::size_t> idx = checked_indices("index_add", index, dim, s.size);
    Shape expected = self.shape();
    if (!expected.empty()) expected[dim] = idx.size();
    if (source.shape() != expected && !(self.ndim() == 0 && source.numel() == idx.size())) {
        throw std::invalid_argument("index_add: source shape must be self's with dimension " +
                                    std::to_string(dim) + " of the index's length (got source " +
                                    source.shape().str() + ", expected " + expected.str() + ")");
    }
    Array out = self;
    dispatch_all(self.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (!std::is_same_v<T, bool>) {
            T* o = out.data<T>();
            const T* src = source.data<T>();
            const T al = convert_value<T>(alpha);
            for (std::size_t a = 0; a < s.outer; ++a) {
                for (std::size_t j = 0; j < idx.size(); ++j) {
                    T* dst = o + (a * s.size + idx[j]) * s.inner;
                    const T* in = src + (a * idx.size() + j) * s.inner;
                    if (alpha == 1.0) {
                        for (std::size_t i = 0; i < s.inner; ++i) dst[i] += in[i];
                    } else {
                        for (std::size_t i = 0; i < s.inner; ++i) dst[i] += al * in[i];
                    }
                }
            }
        }
    });
    return out;
}

Array cat(const std::vector<Array>& arrays, std::size_t dim) {
    if (arrays.empty()) throw std::invalid_argument("cat: expected a non-empty list of tensors");
    const Array& first = arrays[0];
    if (first.ndim() == 0) {
        throw std::invalid_argument(
            "cat: zero-dimensional tensor (at position 0) cannot be "
            "concatenated");
    }
    check_dim("cat", dim, first);
    std::size_t total = 0;
    for (std::size_t t = 0; t < arrays.size(); ++t) {
        const Array& a = arrays[t];
        if (a.dtype() != first.dtype()) {
            throw std::invalid_argument("cat: dtypes differ (got " +
                                        std::string(dtype_name(first.dtype())) +
                                        " for tensor 0 and " + dtype_name(a.dtype()) +
                                        " for tensor " + std::to_string(t) + ")");
        }
        bool same = a.ndim() == first.ndim();
        for (std::size_t d = 0; same && d < a.ndim(); ++d) {
            same = d == dim || a.shape()[d] == first.shape()[d];
        }
        if (!same) {
            throw std::invalid_argument("cat: sizes of tensors must match except in dimension " +
                                        std::to_string(dim) + " (got " + first.shape().str() +
                                        " for tensor 0 and " + a.shape().str() + " for tensor " +
                                        std::to_string(t) + ")");
        }
        if (__builtin_add_overflow(total, a.shape()[dim], &total)) {
            throw std::length_error("cat: the joined size of dimension " + std::to_string(dim) +
                                    " overflows");
        }
    }
    Shape out_shape = first.shape();
    out_shape[dim] = total;
    Array out = Array::empty(first.dtype(), out_shape);
    const Split3 s = split3(out_shape, dim);
    const std::size_t item = itemsize(first.dtype());
    auto* o = static_cast<unsigned char*>(out.raw());
    // Each outer row of the result is every input's block for that row, in order: input t's
    // block starts at byte start[t] of the row. The result's bytes are cut into chunks of
    // kParallelGrain float32s across the pool; a chunk copies the pieces of blocks it covers.
    const std::size_t k = arrays.size(), row = total * s.inner * item;
    std::vector<std::size_t> start(k + 1, 0);
    for (std::size_t t = 0; t < k; ++t)
        start[t + 1] = start[t] + arrays[t].shape()[dim] * s.inner * item;
    const std::size_t out_bytes = out.nbytes();
    if (out_bytes == 0) return out;
    parallel_for(0, out_bytes, kParallelGrain * 4, [&](std::size_t b, std::size_t e) {
        std::size_t r = b / row, off = b % row;
        // The input whose block holds byte `off` of a row (blocks of 0 bytes skipped).
        std::size_t t = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), off) -
                                                 start.begin() - 1);
        for (std::size_t at = b; at < e;) {
            const std::size_t bytes = start[t + 1] - start[t];
            const std::size_t len = std::min(e - at, start[t + 1] - off);
            std::memcpy(
                o + at,
                static_cast<const unsigned char*>(arrays[t].raw()) + r * bytes + (off - start[t]),
                len);
            at += len;
            off += len;
            while (t < k && off == start[t + 1]) ++t;  // next block (skipping empty ones)
            if (t == k) {
                t = 0;
                off = 0;
                ++r;
                while (start[t + 1] == 0) ++t;
            }
        }
    });
    return out;
}

std::vector<Array> split(const Array& a, const std::vector<std::size_t>& sizes, std::size_t dim) {
    if (a.ndim() == 0) throw std::invalid_argument("split: cannot split a 0-D tensor");
    check_dim("split", dim, a);
    std::size_t total = 0;
    bool overflow = false;
    for (std::size_t v : sizes) overflow |= __builtin_add_overflow(total, v, &total);
    if (overflow || total != a.shape()[dim]) {
        std::string list = "[";
        for (std::size_t i = 0; i < sizes.size(); ++i)
            list += (i ? ", " : "") + std::to_string(sizes[i]);
        throw std::invalid_argument("split: split sizes must sum to the size of dimension " +
                                    std::to_string(dim) + " (got " + list + "] for shape " +
                                    a.shape().str() + ")");
    }
    const Split3 s = split3(a.shape(), dim);
    const std::size_t item = itemsize(a.dtype());
    const auto* in = static_cast<const unsigned char*>(a.raw());
    std::vector<Array> out;
    std::size_t start = 0;
    for (std::size_t v : sizes) {
        Shape piece = a.shape();
        piece[dim] = v;
        Array p = Array::empty(a.dtype(), piece);
        const std::size_t bytes = v * s.inner * item;
        auto* o = static_cast<unsigned char*>(p.raw());
        for (std::size_t r = 0; r < s.outer; ++r) {
            std::memcpy(o + r * bytes, in + (r * s.size + start) * s.inner * item, bytes);
        }
        start += v;
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<Array> split(const Array& a, std::size_t split_size, std::size_t dim) {
    if (a.ndim() == 0) throw std::invalid_argument("split: cannot split a 0-D tensor");
    check_dim("split", dim, a);
    const std::size_t size = a.shape()[dim];
    if (split_size == 0 && size != 0) {
        throw std::invalid_argument(
            "split: split_size can only be 0 if dimension size is 0 (got "
            "split_size 0 for dimension " +
            std::to_string(dim) + " of shape " + a.shape().str() + ")");
    }
    std::vector<std::size_t> sizes;
    for (std::size_t at = 0; at < size; at += split_size)
        sizes.push_back(std::min(split_size, size - at));
    if (sizes.empty()) sizes.push_back(0);  // torch.split of an empty dim gives one empty piece
    return split(a, sizes, dim);
}

}  // namespace xgrad::kernels
