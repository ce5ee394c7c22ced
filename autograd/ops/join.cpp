// Joining ops: cat and stack (one node with n inputs; the gradient of each input is its piece
// of grad), and split, chunk and unbind (one narrow or select node per piece).

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/kernels/nd.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

struct DimParam {
    std::int64_t dim;
};

std::string list_str(const std::vector<std::int64_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

// d cat(x_0..x_n-1)/dx_i = grad[..., off_i : off_i + size_i, ...] along dim.
TensorGrads cat_rule(const OpContext& ctx, const Tensor& grad) {
    const std::int64_t dim = ctx.params<DimParam>().dim;
    TensorGrads g = TensorGrads::sized(ctx.num_inputs());
    std::int64_t off = 0;
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
        const auto len =
            static_cast<std::int64_t>(ctx.input(i).shape()[static_cast<std::size_t>(dim)]);
        if (ctx.needs_grad(i)) g[i] = narrow(grad, dim, off, len);
        off += len;
    }
    return g;
}
const OpDef kCat = [] {
    OpDef d{};
    d.name = "cat";
    d.backward = &cat_rule;
    d.saves = 0;
    return d;
}();

// d stack(x_0..x_n-1)/dx_i = select(grad, dim, i).
TensorGrads stack_rule(const OpContext& ctx, const Tensor& grad) {
    const std::int64_t dim = ctx.params<DimParam>().dim;
    TensorGrads g = TensorGrads::sized(ctx.num_inputs());
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
        if (ctx.needs_grad(i)) g[i] = select(grad, dim, static_cast<std::int64_t>(i));
    }
    return g;
}
const OpDef kStack = [] {
    OpDef d{};
    d.name = "stack";
    d.backward = &stack_rule;
    d.saves = 0;
    return d;
}();

void check_list(const char* op, const std::vector<Tensor>& tensors) {
    if (tensors.empty()) {
        throw std::invalid_argument(std::string(op) + ": expected a non-empty list of tensors");
    }
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (!tensors[i].defined()) {
            throw std::invalid_argument(std::string(op) + ": tensor " + std::to_string(i) +
                                        " is an undefined tensor");
        }
    }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim, const CallSite&) {
    check_list("cat", tensors);
    if (tensors[0].ndim() == 0) {
        throw std::invalid_argument(
            "cat: zero-dimensional tensor (at position 0) cannot be "
            "concatenated");
    }
    const std::size_t d = kernels::normalize_dim("cat", dim, tensors[0].ndim());
    if (tensors.size() == 1) return tensors[0];
    std::vector<Array> values;
    values.reserve(tensors.size());
    // NOTE: the kernel needs its own vector of Arrays; the copies are what a join costs anyway
    // until arrays can share storage.
    for (const Tensor& t : tensors) values.push_back(t.value());
    Array out = kernels::cat(values, d);
    return record(kCat, std::move(out), tensors, DimParam{static_cast<std::int64_t>(d)});
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim, const CallSite&) {
    check_list("stack", tensors);
    const Shape& s0 = tensors[0].shape();
    for (std::size_t i = 1; i < tensors.size(); ++i) {
        if (tensors[i].shape() != s0) {
            throw std::invalid_argument("stack: expects each tensor to be equal size (got " +
                                        s0.str() + " for tensor 0 and " + tensors[i].shape().str() +
                                        " for tensor " + std::to_string(i) + ")");
        }
        detail::check_same_dtype("stack", tensors[0], tensors[i]);
    }
    const std::size_t d = kernels::normalize_dim("stack", dim, s0.size() + 1);
    std::vector<std::size_t> s = s0.vec();
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(d), 1);
    std::vector<Array> values;
    values.reserve(tensors.size());
    for (const Tensor& t : tensors) values.push_back(t.value().reshaped(Shape(s)));
    Array out = kernels::cat(values, d);
    return record(kStack, std::move(out), tensors, DimParam{static_cast<std::int64_t>(d)});
}

std::vector<Tensor> split_with_sizes(const Tensor& a, const std::vector<std::int64_t>& split_sizes,
                                     std::int64_t dim, const CallSite&) {
    detail::check_defined("split", a);
    if (a.ndim() == 0) throw std::invalid_argument("split: cannot split a 0-D tensor");
    const std::size_t d = kernels::normalize_dim("split", dim, a.ndim());
    std::int64_t total = 0;
    for (std::int64_t v : split_sizes) {
        if (v < 0) {
            throw std::invalid_argument("split: split sizes must be non-negative (got " +
                                        list_str(split_sizes) + ")");
        }
        if (__builtin_add_overflow(total, v, &total)) {
            throw std::length_error("split: the sum of split sizes " + list_str(split_sizes) +
                                    " overflows");
        }
    }
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    if (total != size) {
        throw std::invalid_argument("split: split sizes must sum to the size of dimension " +
                                    std::to_string(d) + " (got " + list_str(split_sizes) +
                                    " summing to " + std::to_string(total) + ", expected " +
                                    std::to_string(size) + " for shape " + a.shape().str() + ")");
    }
    std::vector<Tensor> out;
    out.reserve(split_sizes.size());
    std::int64_t off = 0;
    for (std::int64_t v : split_sizes) {
        out.push_back(narrow(a, static_cast<std::int64_t>(d), off, v));
        off += v;
    }
    return out;
}

std::vector<Tensor> split(const Tensor& a, const std::vector<std::int64_t>& split_sizes,
                          std::int64_t dim, const CallSite& site) {
    return split_with_sizes(a, split_sizes, dim, site);
}

std::vector<Tensor> split(const Tensor& a, std::int64_t split_size, std::int64_t dim,
                          const CallSite& site) {
    detail::check_defined("split", a);
    if (a.ndim() == 0) throw std::invalid_argument("split: cannot split a 0-D tensor");
    const std::size_t d = kernels::normalize_dim("split", dim, a.ndim());
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    if (split_size < 0 || (split_size == 0 && size != 0)) {
        throw std::invalid_argument("split: split_size must be positive (got " +
                                    std::to_string(split_size) + " for dimension " +
                                    std::to_string(d) + " of size " + std::to_string(size) + ")");
    }
    std::vector<std::int64_t> sizes;
    if (size == 0) sizes.push_back(0);
    for (std::int64_t off = 0; off < size; off += split_size) {
        sizes.push_back(std::min(split_size, size - off));
    }
    return split_with_sizes(a, sizes, dim, site);
}

std::vector<Tensor> chunk(const Tensor& a, std::int64_t chunks, std::int64_t dim,
                          const CallSite& site) {
    detail::check_defined("chunk", a);
    if (chunks <= 0) {
        throw std::invalid_argument("chunk: number of chunks must be positive (got " +
                                    std::to_string(chunks) + ")");
    }
    if (a.ndim() == 0) throw std::invalid_argument("chunk: cannot chunk a 0-D tensor");
    const std::size_t d = kernels::normalize_dim("chunk", dim, a.ndim());
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    // ceil(size / chunks), as torch.chunk; at least 1 so an empty dim gives one empty piece.
    const std::int64_t piece = std::max<std::int64_t>((size + chunks - 1) / chunks, 1);
    return split(a, size == 0 ? 0 : piece, dim, site);
}

std::vector<Tensor> unbind(const Tensor& a, std::int64_t dim, const CallSite&) {
    detail::check_defined("unbind", a);
    if (a.ndim() == 0) throw std::invalid_argument("unbind: cannot unbind a 0-D tensor");
    const std::size_t d = kernels::normalize_dim("unbind", dim, a.ndim());
    std::vector<Tensor> out;
    out.reserve(a.shape()[d]);
    for (std::size_t i = 0; i < a.shape()[d]; ++i) {
        out.push_back(select(a, static_cast<std::int64_t>(d), static_cast<std::int64_t>(i)));
    }
    return out;
}

}  // namespace xgrad
