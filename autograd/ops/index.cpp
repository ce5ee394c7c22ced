// Indexing ops: narrow, slice, select (strided copies of a view of the input), index_select,
// gather, scatter_add, index_add, embedding, where and masked_fill. Each rule is written in
// these ops, so second derivatives work: a strided copy and the scatter of its gradient into
// zeros are each other's derivative, as are gather/scatter_add and index_select/index_add.

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/kernels/nd.h"
#include "autograd/op.h"

namespace xgrad {

namespace {

std::size_t wrap(const char* op, std::int64_t dim, std::size_t ndim) {
    return kernels::normalize_dim(op, dim, ndim);
}

// A view of a contiguous `base`: element i of the view is base[offset + sum_d i_d strides[d]].
struct StridedParams {
    Shape base, view;
    std::vector<std::size_t> strides;
    std::size_t offset = 0;
};

Tensor strided_copy(const OpDef& def, const Tensor& a, StridedParams p);
Tensor strided_scatter(const Tensor& g, const StridedParams& p);

// d(view of a)/da: grad added into zeros of a's shape at the viewed positions.
TensorGrads strided_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(strided_scatter(grad, ctx.params<StridedParams>()));
}
constexpr OpDef strided_def(const char* name) {
    OpDef d{};
    d.name = name;
    d.backward = &strided_rule;
    d.saves = 0;
    d.destroy_params = destroy_params_of<StridedParams>();
    return d;
}
const OpDef kNarrow = strided_def("narrow");
const OpDef kSlice = strided_def("slice");
const OpDef kSelect = strided_def("select");
const OpDef kAsStrided = strided_def("as_strided");

// The scatter is linear in g; its derivative reads the same view of the incoming gradient.
TensorGrads scatter_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(strided_copy(kAsStrided, grad, ctx.params<StridedParams>()));
}
const OpDef kStridedScatter = [] {
    OpDef d{};
    d.name = "as_strided_scatter";
    d.backward = &scatter_rule;
    d.saves = 0;
    d.destroy_params = destroy_params_of<StridedParams>();
    return d;
}();

Tensor strided_copy(const OpDef& def, const Tensor& a, StridedParams p) {
    Array out = kernels::copy_strided(a.value(), p.view, p.strides, p.offset);
    return record(def, std::move(out), {&a}, std::move(p));
}

Tensor strided_scatter(const Tensor& g, const StridedParams& p) {
    Array out(g.dtype(), p.base);
    kernels::add_strided(out, g.value(), p.strides, p.offset);
    return record(kStridedScatter, std::move(out), {&g}, StridedParams(p));
}

// The view of `a` keeping dim d's elements start, start+step, ... (count of them).
StridedParams slice_view(const Shape& s, std::size_t d, std::size_t start, std::size_t count,
                         std::size_t step) {
    StridedParams p;
    p.base = s;
    p.view = s;
    p.strides = kernels::contiguous_strides(s);
    p.offset = count == 0 ? 0 : start * p.strides[d];  // an empty view reads nothing
    p.view[d] = count;
    p.strides[d] *= step;
    return p;
}

std::string dim_size(std::size_t d, const Shape& s) {
    return "dimension " + std::to_string(d) + " of size " + std::to_string(s[d]) + " (shape " +
           s.str() + ")";
}

void need_rank(const char* op, const Tensor& a) {
    if (a.ndim() == 0) {
        throw std::invalid_argument(std::string(op) + ": cannot be applied to a 0-D tensor");
    }
}

}  // namespace

Tensor narrow(const Tensor& a, std::int64_t dim, std::int64_t start, std::int64_t length,
              const CallSite&) {
    detail::check_defined("narrow", a);
    need_rank("narrow", a);
    const std::size_t d = wrap("narrow", dim, a.ndim());
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    if (start < -size || start > size) {
        throw std::invalid_argument("narrow: start " + std::to_string(start) +
                                    " is out of range for " + dim_size(d, a.shape()));
    }
    if (start < 0) start += size;
    if (length < 0 || length > size - start) {
        throw std::invalid_argument("narrow: start (" + std::to_string(start) + ") + length (" +
                                    std::to_string(length) + ") exceeds " + dim_size(d, a.shape()));
    }
    if (start == 0 && length == size) return a;
    return strided_copy(kNarrow, a,
                        slice_view(a.shape(), d, static_cast<std::size_t>(start),
                                   static_cast<std::size_t>(length), 1));
}

Tensor slice(const Tensor& a, std::int64_t dim, std::optional<std::int64_t> start,
             std::optional<std::int64_t> end, std::int64_t step, const CallSite&) {
    detail::check_defined("slice", a);
    need_rank("slice", a);
    const std::size_t d = wrap("slice", dim, a.ndim());
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    if (step <= 0) {
        throw std::invalid_argument("slice: step must be positive (got " + std::to_string(step) +
                                    ")");
    }
    std::int64_t s = start.value_or(0), e = end.value_or(size);
    // Negative bounds count from the end, as Python's; past either end is an error (NOTE in ops.h).
    const std::int64_t s0 = s, e0 = e;
    if (s < 0) s += size;
    if (e < 0) e += size;
    if (s < 0 || s > size || e < 0 || e > size) {
        throw std::invalid_argument("slice: [" + std::to_string(s0) + ":" + std::to_string(e0) +
                                    "] is past the end of " + dim_size(d, a.shape()));
    }
    const std::int64_t count = e > s ? (e - s + step - 1) / step : 0;
    if (s == 0 && count == size && step == 1) return a;
    return strided_copy(
        kSlice, a,
        slice_view(a.shape(), d, static_cast<std::size_t>(s), static_cast<std::size_t>(count),
                   static_cast<std::size_t>(step)));
}

Tensor select(const Tensor& a, std::int64_t dim, std::int64_t index, const CallSite&) {
    detail::check_defined("select", a);
    need_rank("select", a);
    const std::size_t d = wrap("select", dim, a.ndim());
    const auto size = static_cast<std::int64_t>(a.shape()[d]);
    if (index < -size || index >= size) {
        throw std::invalid_argument("select: index " + std::to_string(index) +
                                    " is out of range for " + dim_size(d, a.shape()));
    }
    if (index < 0) index += size;
    StridedParams p = slice_view(a.shape(), d, static_cast<std::size_t>(index), 1, 1);
    std::vector<std::size_t> v = p.view.vec();
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(d));
    p.strides.erase(p.strides.begin() + static_cast<std::ptrdiff_t>(d));
    p.view = Shape(v);
    return strided_copy(kSelect, a, std::move(p));
}

// ---- index_select / index_add, gather / scatter_add: each pair the other's derivative. ----

namespace {

struct DimParams {
    std::int64_t dim;
};
struct IndexAddParams {
    std::int64_t dim;
    double alpha;
};

void check_index(const char* op, const Tensor& index) {
    detail::check_defined(op, index, "index");
    if (index.dtype() != DType::Int64) {
        throw std::invalid_argument(std::string(op) + ": index must be an int64 tensor (got " +
                                    dtype_name(index.dtype()) + " " + index.shape().str() + ")");
    }
}

TensorGrads index_select_rule(const OpContext& ctx, const Tensor& grad) {
    const std::int64_t dim = ctx.params<DimParams>().dim;
    const Tensor& x = ctx.input(0);
    return TensorGrads(index_add(zeros(x.shape(), grad.dtype()), dim, ctx.input(1), grad),
                       Tensor());
}
const OpDef kIndexSelect = [] {
    OpDef d{};
    d.name = "index_select";
    d.backward = &index_select_rule;
    d.saves = 2;  // the index
    return d;
}();

TensorGrads index_add_rule(const OpContext& ctx, const Tensor& grad) {
    const IndexAddParams p = ctx.params<IndexAddParams>();
    TensorGrads g = TensorGrads::sized(3);
    if (ctx.needs_grad(0)) g[0] = grad;
    if (ctx.needs_grad(2)) {
        g[2] = index_select(grad, p.dim, ctx.input(1));
        if (p.alpha != 1.0) g[2] = g[2] * p.alpha;
    }
    return g;
}
const OpDef kIndexAdd = [] {
    OpDef d{};
    d.name = "index_add";
    d.backward = &index_add_rule;
    d.saves = 2;
    d.destroy_params = destroy_params_of<IndexAddParams>();
    return d;
}();

TensorGrads gather_rule(const OpContext& ctx, const Tensor& grad) {
    const std::int64_t dim = ctx.params<DimParams>().dim;
    return TensorGrads(
        scatter_add(zeros(ctx.input(0).shape(), grad.dtype()), dim, ctx.input(1), grad), Tensor());
}
// Capture replay: the same gather from the input's and the index's current values (the index
// values are checked against the bounds again, so a bad index is an error, as in the forward).
void gather_forward_into(const Node& self, Array& out) {
    kernels::gather_into(self.input(0), static_cast<std::size_t>(self.params<DimParams>().dim),
                         self.input(1), out);
}
const OpDef kGather = [] {
    OpDef d{};
    d.name = "gather";
    d.backward = &gather_rule;
    d.saves = 2;
    d.forward_into = &gather_forward_into;
    return d;
}();

TensorGrads scatter_add_rule(const OpContext& ctx, const Tensor& grad) {
    const std::int64_t dim = ctx.params<DimParams>().dim;
    TensorGrads g = TensorGrads::sized(3);
    if (ctx.needs_grad(0)) g[0] = grad;
    if (ctx.needs_grad(2)) {
        const Tensor& src = ctx.input(2);
        Tensor picked = gather(grad, dim, ctx.input(1));  // index's shape
        // src may be larger than index in any dim: its other elements get no gradient.
        if (picked.shape() != src.shape()) {
            StridedParams p;
            p.base = src.shape();
            p.view = picked.shape();
            p.strides = kernels::contiguous_strides(src.shape());
            picked = strided_scatter(picked, p);
        }
        g[2] = picked;
    }
    return g;
}
const OpDef kScatterAdd = [] {
    OpDef d{};
    d.name = "scatter_add";
    d.backward = &scatter_add_rule;
    d.saves = 2;
    return d;
}();

}  // namespace

Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index, const CallSite&) {
    detail::check_defined("index_select", a);
    check_index("index_select", index);
    const std::size_t d = wrap("index_select", dim, a.ndim());
    Array out = kernels::index_select(a.value(), d, index.value());
    return record(kIndexSelect, std::move(out), {&a, &index},
                  DimParams{static_cast<std::int64_t>(d)});
}

Tensor index_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& source,
                 double alpha, const CallSite&) {
    detail::check_defined("index_add", self);
    detail::check_defined("index_add", source, "source");
    check_index("index_add", index);
    detail::check_same_dtype("index_add", self, source);
    const std::size_t d = wrap("index_add", dim, self.ndim());
    Array out = kernels::index_add(self.value(), d, index.value(), source.value(), alpha);
    return record(kIndexAdd, std::move(out), {&self, &index, &source},
                  IndexAddParams{static_cast<std::int64_t>(d), alpha});
}

Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index, const CallSite&) {
    detail::check_defined("gather", a);
    check_index("gather", index);
    const std::size_t d = wrap("gather", dim, a.ndim());
    Array out = kernels::gather(a.value(), d, index.value());
    return record(kGather, std::move(out), {&a, &index}, DimParams{static_cast<std::int64_t>(d)});
}

Tensor scatter_add(const Tensor& self, std::int64_t dim, const Tensor& index, const Tensor& src,
                   const CallSite&) {
    detail::check_defined("scatter_add", self);
    detail::check_defined("scatter_add", src, "src");
    check_index("scatter_add", index);
    detail::check_same_dtype("scatter_add", self, src);
    const std::size_t d = wrap("scatter_add", dim, self.ndim());
    Array out = kernels::scatter_add(self.value(), d, index.value(), src.value());
    return record(kScatterAdd, std::move(out), {&self, &index, &src},
                  DimParams{static_cast<std::int64_t>(d)});
}

// ---- embedding ----

namespace {

// weight (V,D), indices (...) -> (..., D); d/dweight = grad rows (N,D) added at their indices.
TensorGrads embedding_rule(const OpContext& ctx, const Tensor& grad) {
    const Tensor &w = ctx.input(0), &idx = ctx.input(1);
    const Tensor flat_idx = reshape(idx, Shape{idx.numel()});
    const Tensor rows = reshape(grad, Shape{idx.numel(), w.shape()[1]});
    return TensorGrads(index_add(zeros(w.shape(), grad.dtype()), 0, flat_idx, rows), Tensor());
}
const OpDef kEmbedding = [] {
    OpDef d{};
    d.name = "embedding";
    d.backward = &embedding_rule;
    d.saves = 2;
    return d;
}();

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, const CallSite&) {
    detail::check_defined("embedding", weight, "weight");
    check_index("embedding", indices);
    if (weight.ndim() != 2) {
        throw std::invalid_argument("embedding: weight must be 2-D (num_embeddings, dim) (got " +
                                    weight.shape().str() + ")");
    }
    const std::size_t rows = weight.shape()[0];
    const std::int64_t* ix = indices.value().data<std::int64_t>();
    for (std::size_t i = 0; i < indices.numel(); ++i) {
        // NOTE: no negative indices, as torch.nn.functional.embedding.
        if (ix[i] < 0 || static_cast<std::size_t>(ix[i]) >= rows) {
            throw std::invalid_argument("embedding: index " + std::to_string(ix[i]) +
                                        " is out of range for dimension 0 with size " +
                                        std::to_string(rows) + " (weight " + weight.shape().str() +
                                        ")");
        }
    }
    Array flat = indices.value().reshaped(Shape{indices.numel()});
    std::vector<std::size_t> s = indices.shape().vec();
    s.push_back(weight.shape()[1]);
    Array out = kernels::index_select(weight.value(), 0, flat).reshaped(Shape(s));
    return record(kEmbedding, std::move(out), {&weight, &indices});
}

// ---- where / masked_fill ----

namespace {

void check_bool(const char* op, const char* role, const Tensor& t) {
    detail::check_defined(op, t, role);
    if (t.dtype() != DType::Bool) {
        throw std::invalid_argument(std::string(op) + ": " + role + " must be a bool tensor (got " +
                                    dtype_name(t.dtype()) + " " + t.shape().str() + ")");
    }
}

// out = c ? x : y over the broadcast shape; c read as 0/1 in x's dtype.
Array select_values(const Shape& shape, const Array& cond, const Array& x, const Array& y) {
    return dispatch("where", x.dtype(), [&](auto t) {
        using T = decltype(t);
        const Array c = cond.cast(x.dtype());
        return kernels::map<T>(
            shape, [](T m, T u, T v) { return m != T(0) ? u : v; }, c, x, y);
    });
}

TensorGrads where_rule(const OpContext& ctx, const Tensor& grad) {
    const Tensor& cond = ctx.input(0);
    const Tensor zero = zeros({}, grad.dtype());
    TensorGrads g = TensorGrads::sized(3);
    if (ctx.needs_grad(1)) g[1] = where(cond, grad, zero);
    if (ctx.needs_grad(2)) g[2] = where(cond, zero, grad);
    return g;
}
const OpDef kWhere = [] {
    OpDef d{};
    d.name = "where";
    d.backward = &where_rule;
    d.saves = 1;  // the condition
    return d;
}();

TensorGrads masked_fill_rule(const OpContext& ctx, const Tensor& grad) {
    return TensorGrads(where(ctx.input(1), zeros({}, grad.dtype()), grad), Tensor());
}
const OpDef kMaskedFill = [] {
    OpDef d{};
    d.name = "masked_fill";
    d.backward = &masked_fill_rule;
    d.saves = 2;  // the mask
    return d;
}();

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, const CallSite&) {
    check_bool("where", "condition", cond);
    detail::check_defined("where", a, "input");
    detail::check_defined("where", b, "other");
    detail::check_same_dtype("where", a, b);
    const Shape shape =
        broadcast_shapes("where", cond.shape(), broadcast_shapes("where", a.shape(), b.shape()));
    Array out = select_values(shape, cond.value(), a.value(), b.value());
    return record(kWhere, std::move(out), {&cond, &a, &b});
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, double value, const CallSite&) {
    detail::check_defined("masked_fill", a);
    check_bool("masked_fill", "mask", mask);
    if (broadcast_shapes("masked_fill", a.shape(), mask.shape()) != a.shape()) {
        throw std::invalid_argument("masked_fill: mask " + mask.shape().str() +
                                    " does not broadcast to the input's shape " + a.shape().str());
    }
    Array fill = Array::scalar(a.dtype(), value);
    Array out = select_values(a.shape(), mask.value(), fill, a.value());
    return record(kMaskedFill, std::move(out), {&a, &mask}, value);
}

}  // namespace xgrad
