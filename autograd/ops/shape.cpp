// Shape ops: transpose, permute, reshape and the ops that relabel a shape, expand.
// Reshape and the ops that relabel a shape share their input's buffer (copy-on-write); the ones
// that move elements copy: see the NOTE in ops.h.

#include <stdexcept>
#include <string>

#include "autograd/kernels/nd.h"
#include "autograd/op.h"

namespace xgrad {

namespace {
// out (c, r) = in (r, c)^T, in tiles so both sides stay in cache.
Array transposed(const Array& in) {
    const std::size_t r = in.shape()[0], c = in.shape()[1];
    Array out = Array::empty(in.dtype(), Shape{c, r});
    dispatch(in.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = in.data<T>();
        T* q = out.data<T>();
        constexpr std::size_t kTile = 32;
        for (std::size_t i0 = 0; i0 < r; i0 += kTile) {
            for (std::size_t j0 = 0; j0 < c; j0 += kTile) {
                for (std::size_t i = i0; i < std::min(r, i0 + kTile); ++i) {
                    for (std::size_t j = j0; j < std::min(c, j0 + kTile); ++j) {
                        q[j * r + i] = p[i * c + j];
                    }
                }
            }
        }
    });
    return out;
}
TensorGrads transpose_rule(const OpContext&, const Tensor& grad) {
    return TensorGrads(transpose(grad));  // (A^T)^T = A
}
const OpDef kTranspose = [] {
    OpDef d{};
    d.name = "transpose";
    d.backward = &transpose_rule;
    d.saves = 0;
    return d;
}();

// d/da = grad reshaped back: shares the gradient's buffer, as the forward shares a's.
TensorGrads reshape_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(reshape(grad, ctx.input(0).shape()));
}
// Replay: the value shares the input's again (no copy). The input's own replay then writes to
// a buffer this node still holds, so it copies it first (copy-on-write): one copy per replay,
// as a copying reshape would cost.
void reshape_forward_into(const Node& self, Array& out) {
    out = self.input(0).reshaped(out.shape());
}
const OpDef kReshape = [] {
    OpDef d{};
    d.name = "reshape";
    d.backward = &reshape_rule;
    d.saves = 0;
    d.forward_into = &reshape_forward_into;
    return d;
}();

// sum_to and expand_to are each other's derivative.
TensorGrads sum_to_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(expand_to(grad, ctx.input(0).shape()));
}
const OpDef kSumTo = [] {
    OpDef d{};
    d.name = "sum_to";
    d.backward = &sum_to_rule;
    d.saves = 0;
    return d;
}();

TensorGrads expand_to_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(sum_to(grad, ctx.input(0).shape()));
}
const OpDef kExpandTo = [] {
    OpDef d{};
    d.name = "expand";
    d.backward = &expand_to_rule;
    d.saves = 0;
    return d;
}();

}  // namespace

Tensor transpose(const Tensor& a, const CallSite&) {
    detail::check_defined("transpose", a);
    if (a.ndim() < 2) return a;
    if (a.ndim() > 2) {
        throw std::invalid_argument("transpose: expects a 2-D tensor (got " + a.shape().str() +
                                    ")");
    }
    return record(kTranspose, transposed(a.value()), {&a});
}

Tensor reshape(const Tensor& a, Shape shape, const CallSite&) {
    detail::check_defined("reshape", a);
    if (shape.numel("reshape") != a.numel()) {
        throw std::invalid_argument("reshape: element count differs (got " + a.shape().str() +
                                    " with " + std::to_string(a.numel()) + " elements, asked for " +
                                    shape.str() + ")");
    }
    return record(kReshape, a.value().reshaped(std::move(shape)), {&a});
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
    detail::check_defined("sum_to", g);
    if (g.shape() == shape) return g;
    Array out;
    if (!kernels::sum_to(g.value(), shape, out)) {
        throw std::invalid_argument("sum_to: shape " + shape.str() +
                                    " does not broadcast to the gradient's shape (got " +
                                    g.shape().str() + ")");
    }
    return record(kSumTo, std::move(out), {&g});
}

Tensor expand_to(const Tensor& x, const Shape& shape) {
    detail::check_defined("expand", x);
    if (x.shape() == shape) return x;
    const Shape b = broadcast_shapes("expand", x.shape(), shape);
    if (b != shape) {
        throw std::invalid_argument("expand: cannot expand shape " + x.shape().str() + " to " +
                                    shape.str());
    }
    Array out = dispatch(x.dtype(), [&](auto t) {
        using T = decltype(t);
        return kernels::map<T>(
            shape, [](T v) { return v; }, x.value());
    });
    return record(kExpandTo, std::move(out), {&x});
}

// ---- N-d shape ops ----

namespace {

std::size_t wrap(const char* op, std::int64_t dim, std::size_t ndim) {
    return kernels::normalize_dim(op, dim, ndim);
}

std::string list_str(const std::vector<std::int64_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + ")";
}

// Ops that only relabel the shape share reshape's rule (grad reshaped back to the input's
// shape) under their own names, as the graph tools show them.
constexpr OpDef reshape_like(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &reshape_rule;
    d.saves = 0;
    d.forward_into = &reshape_forward_into;
    return d;
}
const OpDef kView = reshape_like("view");
const OpDef kUnsqueeze = reshape_like("unsqueeze");
const OpDef kSqueeze = reshape_like("squeeze");
const OpDef kFlatten = reshape_like("flatten");

Tensor relabel(const OpDef& def, const Tensor& a, Shape shape) {
    if (shape == a.shape()) return a;
    return record(def, a.value().reshaped(std::move(shape)), {&a});
}

// permute: out.shape[i] = in.shape[dims[i]]; its derivative is the inverse permutation.
struct PermuteParams {
    std::vector<std::int64_t> dims;
};
TensorGrads permute_rule(const OpContext& ctx, const Tensor& grad) {
    const auto& dims = ctx.params<PermuteParams>().dims;
    std::vector<std::int64_t> inv(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i)
        inv[static_cast<std::size_t>(dims[i])] = static_cast<std::int64_t>(i);
    return TensorGrads(permute(grad, inv));
}
constexpr OpDef permute_like(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &permute_rule;
    d.saves = 0;
    d.destroy_params = destroy_params_of<PermuteParams>();
    return d;
}
const OpDef kPermute = permute_like("permute");
const OpDef kTransposeNd = permute_like("transpose");

Tensor permute_as(const OpDef& def, const Tensor& a, std::vector<std::int64_t> dims) {
    Array out = kernels::permute(a.value(), dims);
    for (auto& d : dims) d = static_cast<std::int64_t>(wrap("permute", d, a.ndim()));
    return record(def, std::move(out), {&a}, PermuteParams{std::move(dims)});
}

}  // namespace

Tensor transpose(const Tensor& a, std::int64_t dim0, std::int64_t dim1, const CallSite&) {
    detail::check_defined("transpose", a);
    const std::size_t n = a.ndim();
    const std::size_t d0 = wrap("transpose", dim0, n), d1 = wrap("transpose", dim1, n);
    if (d0 == d1 || n < 2) return a;
    std::vector<std::int64_t> dims(n);
    for (std::size_t i = 0; i < n; ++i) dims[i] = static_cast<std::int64_t>(i);
    std::swap(dims[d0], dims[d1]);
    return permute_as(kTransposeNd, a, std::move(dims));
}

Tensor t(const Tensor& a, const CallSite&) {
    detail::check_defined("t", a);
    if (a.ndim() > 2) {
        throw std::invalid_argument("t: expects a tensor with <= 2 dimensions (got " +
                                    a.shape().str() + ")");
    }
    return transpose(a);
}

Tensor permute(const Tensor& a, const std::vector<std::int64_t>& dims, const CallSite&) {
    detail::check_defined("permute", a);
    return permute_as(kPermute, a, dims);
}

Tensor reshape(const Tensor& a, const std::vector<std::int64_t>& shape, const CallSite& site) {
    detail::check_defined("reshape", a);
    std::vector<std::size_t> dims(shape.size());
    std::size_t infer = shape.size(), known = 1;
    bool zero = false;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            if (infer != shape.size()) {
                throw std::invalid_argument("reshape: only one dimension can be inferred (got " +
                                            list_str(shape) + ")");
            }
            infer = i;
            continue;
        }
        if (shape[i] < 0) {
            throw std::invalid_argument("reshape: invalid shape dimension " +
                                        std::to_string(shape[i]) + " (got " + list_str(shape) +
                                        ")");
        }
        dims[i] = static_cast<std::size_t>(shape[i]);
        zero |= dims[i] == 0;
        if (__builtin_mul_overflow(known, dims[i], &known)) {
            throw std::length_error("reshape: the element count of shape " + list_str(shape) +
                                    " overflows");
        }
    }
    if (infer != shape.size()) {
        // -1 = numel / product of the others; that product must divide numel, and be nonzero.
        if (zero || a.numel() % known != 0) {
            throw std::invalid_argument(
                "reshape: shape " + list_str(shape) + " is invalid for input of size " +
                std::to_string(a.numel()) + " (got " + a.shape().str() + ")");
        }
        dims[infer] = a.numel() / known;
    }
    return reshape(a, Shape(dims), site);
}

Tensor reshape(const Tensor& a, std::initializer_list<std::int64_t> shape, const CallSite& site) {
    return reshape(a, std::vector<std::int64_t>(shape), site);
}

Tensor unsqueeze(const Tensor& a, std::int64_t dim, const CallSite&) {
    detail::check_defined("unsqueeze", a);
    const std::size_t d = wrap("unsqueeze", dim, a.ndim() + 1);
    std::vector<std::size_t> s = a.shape().vec();
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(d), 1);
    return record(kUnsqueeze, a.value().reshaped(Shape(s)), {&a});
}

Tensor squeeze(const Tensor& a, std::int64_t dim, const CallSite&) {
    detail::check_defined("squeeze", a);
    const std::size_t d = wrap("squeeze", dim, a.ndim());
    if (a.ndim() == 0 || a.shape()[d] != 1) return a;
    std::vector<std::size_t> s = a.shape().vec();
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(d));
    return relabel(kSqueeze, a, Shape(s));
}

Tensor squeeze(const Tensor& a, const CallSite&) {
    detail::check_defined("squeeze", a);
    std::vector<std::size_t> s;
    for (std::size_t v : a.shape()) {
        if (v != 1) s.push_back(v);
    }
    return relabel(kSqueeze, a, Shape(s));
}

Tensor flatten(const Tensor& a, std::int64_t start_dim, std::int64_t end_dim, const CallSite&) {
    detail::check_defined("flatten", a);
    if (a.ndim() == 0) return relabel(kFlatten, a, Shape{1});
    const std::size_t s0 = wrap("flatten", start_dim, a.ndim());
    const std::size_t s1 = wrap("flatten", end_dim, a.ndim());
    if (s0 > s1) {
        throw std::invalid_argument("flatten: start_dim cannot come after end_dim (got " +
                                    std::to_string(start_dim) + " and " + std::to_string(end_dim) +
                                    " for shape " + a.shape().str() + ")");
    }
    std::vector<std::size_t> s;
    std::size_t merged = 1;
    for (std::size_t d = 0; d < a.ndim(); ++d) {
        if (d < s0 || d > s1) {
            s.push_back(a.shape()[d]);
        } else {
            merged *= a.shape()[d];  // a factor of numel: cannot overflow
            if (d == s1) s.push_back(merged);
        }
    }
    return relabel(kFlatten, a, Shape(s));
}

Tensor expand(const Tensor& a, const std::vector<std::int64_t>& sizes, const CallSite&) {
    detail::check_defined("expand", a);
    if (sizes.size() < a.ndim()) {
        throw std::invalid_argument("expand: the number of sizes provided (" +
                                    std::to_string(sizes.size()) +
                                    ") must be at least the number of dimensions (got " +
                                    a.shape().str() + " and " + list_str(sizes) + ")");
    }
    const std::size_t off = sizes.size() - a.ndim();
    std::vector<std::size_t> s(sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::size_t have = i >= off ? a.shape()[i - off] : 1;
        if (sizes[i] == -1 && i >= off) {
            s[i] = have;
        } else if (sizes[i] < 0) {
            throw std::invalid_argument("expand: invalid size " + std::to_string(sizes[i]) +
                                        " for dimension " + std::to_string(i) + " (got " +
                                        a.shape().str() + " to " + list_str(sizes) + ")");
        } else {
            s[i] = static_cast<std::size_t>(sizes[i]);
            if (i >= off && have != 1 && have != s[i]) {
                throw std::invalid_argument("expand: the expanded size " + std::to_string(s[i]) +
                                            " must match the existing size " +
                                            std::to_string(have) + " at non-singleton dimension " +
                                            std::to_string(i) + " (got " + a.shape().str() +
                                            " to " + list_str(sizes) + ")");
            }
        }
    }
    return expand_to(a, Shape(s));
}

Tensor contiguous(const Tensor& a, const CallSite&) {
    detail::check_defined("contiguous", a);
    return a;
}

}  // namespace xgrad
