#include "nn/data/idx.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "nn/data/file_util.h"

namespace xgrad::data {

namespace {

// Element size in bytes of an IDX type code, 0 for an unknown code.
std::size_t element_size(unsigned code) {
    switch (code) {
        case 0x08:  // unsigned byte
        case 0x09:  // signed byte
            return 1;
        case 0x0B:  // int16
            return 2;
        case 0x0C:  // int32
        case 0x0D:  // float32
            return 4;
        case 0x0E:  // float64
            return 8;
        default:
            return 0;
    }
}

std::uint64_t load_be(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

// Element i of big-endian IDX data of type `code`, as a double.
double element(const unsigned char* data, unsigned code, std::size_t i) {
    switch (code) {
        case 0x08:
            return data[i];
        case 0x09:
            return static_cast<signed char>(data[i]);
        case 0x0B:
            return static_cast<std::int16_t>(static_cast<std::uint16_t>(load_be(data + 2 * i, 2)));
        case 0x0C:
            return static_cast<std::int32_t>(static_cast<std::uint32_t>(load_be(data + 4 * i, 4)));
        case 0x0D: {
            const auto bits = static_cast<std::uint32_t>(load_be(data + 4 * i, 4));
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
        default: {
            const std::uint64_t bits = load_be(data + 8 * i, 8);
            double d;
            std::memcpy(&d, &bits, 8);
            return d;
        }
    }
}

std::string hex(std::uint64_t v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%0*llX", digits, static_cast<unsigned long long>(v));
    return buf;
}

std::string dims_str(const std::vector<std::uint64_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
    return s + ")";
}

}  // namespace

Array read_idx(const std::string& path, DType dtype) {
    detail::InputFile in(path, "read_idx");
    unsigned char magic[4];
    const std::size_t got = in.read(magic, 4);
    if (got == 0) in.fail("empty file (expected an IDX header)");
    if (got < 4) in.fail("truncated: the data ends inside the 4-byte magic number");
    if (magic[0] != 0 || magic[1] != 0) {
        in.fail("bad magic number (got " + hex(load_be(magic, 4), 8) +
                ", expected 0x0000TTNN: two zero bytes, a type code, a dimension count)");
    }
    const unsigned code = magic[2];
    const std::size_t esize = element_size(code);
    if (esize == 0) {
        in.fail("unknown element type code (got " + hex(code, 2) +
                ", expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)");
    }
    const unsigned ndim = magic[3];
    if (ndim == 0) in.fail("no dimensions (got 0, expected at least 1)");

    unsigned char raw_dims[4 * 255];
    in.read_exact(raw_dims, 4 * ndim, "the dimensions");
    std::vector<std::uint64_t> dims(ndim);
    std::uint64_t numel = 1, nonzero = 1;  // nonzero: the product skipping 0s, (0,2^31,2^31) too
    bool overflow = false;
    for (unsigned i = 0; i < ndim; ++i) {
        dims[i] = load_be(raw_dims + 4 * i, 4);
        numel *= dims[i];
        if (dims[i] != 0) overflow = overflow || __builtin_mul_overflow(nonzero, dims[i], &nonzero);
    }
    std::uint64_t data_bytes = 0, out_bytes = 0;
    overflow = overflow || __builtin_mul_overflow(numel, std::uint64_t{esize}, &data_bytes) ||
               __builtin_mul_overflow(nonzero, std::uint64_t{itemsize(dtype)}, &out_bytes) ||
               out_bytes > std::numeric_limits<std::size_t>::max();
    if (overflow) in.fail("declared size overflows (dimensions " + dims_str(dims) + ")");

    const std::uint64_t header_bytes = 4 + 4 * std::uint64_t{ndim};
    const std::string declared = "the header declares dimensions " + dims_str(dims) + ", " +
                                 std::to_string(data_bytes) + " bytes of data";
    if (!in.compressed()) {
        // (The file can have shrunk since it was opened: never let the subtraction wrap.)
        const std::uint64_t rest =
            in.file_size() > header_bytes ? in.file_size() - header_bytes : 0;
        if (rest < data_bytes) {
            in.fail("truncated: " + declared + " but the file has " + std::to_string(rest));
        }
        if (rest > data_bytes) {
            in.fail("size mismatch: " + declared + " but the file has " + std::to_string(rest));
        }
    } else if (data_bytes > detail::max_gunzipped_size(in.file_size())) {
        in.fail("impossible size: " + declared + ", more than a gzip file of " +
                std::to_string(in.file_size()) + " bytes can hold");
    }

    // Read in growing chunks: memory follows the data that is really there.
    std::vector<unsigned char> data;
    std::size_t chunk = std::size_t{1} << 20;
    while (data.size() < data_bytes) {
        const std::size_t old = data.size();
        const std::size_t n = std::min<std::uint64_t>(chunk, data_bytes - old);
        data.resize(old + n);
        const std::size_t read = in.read(data.data() + old, n);
        if (read < n) {
            in.fail("truncated: " + declared + " but the file has " + std::to_string(old + read));
        }
        chunk = std::min<std::size_t>(chunk * 2, std::size_t{1} << 26);
    }
    unsigned char extra;
    if (in.read(&extra, 1) != 0) {
        in.fail("size mismatch: " + declared + " but the file has more");
    }

    std::vector<std::size_t> shape(dims.begin(), dims.end());
    Array out = Array::empty(dtype, Shape(shape));
    dispatch(dtype, [&](auto t) {
        using T = decltype(t);
        T* p = out.data<T>();
        const std::size_t n = out.numel();
        if (code == 0x08) {  // the common case, without the per-element switch
            for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(data[i]);
        } else {
            for (std::size_t i = 0; i < n; ++i)
                p[i] = static_cast<T>(element(data.data(), code, i));
        }
    });
    return out;
}

Dataset load_mnist(const std::string& images_path, const std::string& labels_path,
                   const MnistOptions& options) {
    Array images = read_idx(images_path, options.dtype);
    Array labels = read_idx(labels_path, options.dtype);
    if (labels.ndim() != 1) {
        detail::file_error("load_mnist", labels_path,
                           "not a label file (got dimensions " + labels.shape().str() +
                               ", expected one dimension)");
    }
    if (images.ndim() < 2) {
        detail::file_error(
            "load_mnist", images_path,
            "not an image file (got dimensions " + images.shape().str() + ", expected (N, H, W))");
    }
    if (images.shape()[0] != labels.shape()[0]) {
        detail::file_error("load_mnist", images_path,
                           "image and label counts differ (got " +
                               std::to_string(images.shape()[0]) + " images and " +
                               std::to_string(labels.shape()[0]) + " labels in " + labels_path +
                               ")");
    }
    if (options.scale) {
        dispatch(options.dtype, [&](auto t) {
            using T = decltype(t);
            T* p = images.data<T>();
            for (std::size_t i = 0, n = images.numel(); i < n; ++i) p[i] /= T(255);
        });
    }
    if (options.flatten) {
        std::size_t row = 1;  // cannot overflow: read_idx checked the product of the dimensions
        for (std::size_t k = 1; k < images.ndim(); ++k) row *= images.shape()[k];
        images = std::move(images).reshaped(Shape{images.shape()[0], row});
    }
    return Dataset(std::move(images), std::move(labels));
}

}  // namespace xgrad::data
