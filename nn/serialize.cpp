#include "nn/serialize.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "nn/data/file_util.h"

namespace xgrad::io {

namespace {

constexpr unsigned char kMagic[8] = {0x89, 'X', 'G', 'R', 'A', 'D', '\r', '\n'};
constexpr std::size_t kHeaderBytes = 24;
constexpr std::size_t kChecksumBytes = 4;
constexpr std::size_t kMaxNameBytes = 65535;
// name_len + a 1-byte name + dtype + ndim + reserved, for a record with no data.
constexpr std::size_t kMinRecordBytes = 4 + 1 + 1 + 1 + 2;
constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

// Writes v's low n bytes, little-endian, at *at and advances it.
void put_le(unsigned char** at, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) *(*at)++ = static_cast<unsigned char>(v >> (8 * i));
}

std::uint64_t get_le(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

// Copies `count` elements of `width` bytes, reversing each element's bytes on a big-endian host.
void copy_le(unsigned char* dst, const unsigned char* src, std::size_t count, std::size_t width) {
    if (kLittleEndian) {
        std::memcpy(dst, src, count * width);
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t b = 0; b < width; ++b) dst[i * width + b] = src[i * width + width - 1 - b];
    }
}

std::uint32_t crc32_of(const unsigned char* p, std::size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {  // zlib's crc32 takes a uInt length: feed it in chunks
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
    return buf;
}

std::string quoted(const std::string& name) {
    return "\"" + (name.size() <= 60 ? name : name.substr(0, 57) + "...") + "\"";
}

// Reads a decoded file's bytes with a bounds check before every field.
class Reader {
public:
    Reader(const unsigned char* data, std::size_t size, const std::string& source)
        : data_(data), size_(size), source_(source) {}

    [[noreturn]] void fail(const std::string& problem) const {
        throw std::runtime_error("load: " + source_ + ": " + problem);
    }

    NamedTensors run() {
        check_header();
        const std::size_t end = size_ - kChecksumBytes;
        pos_ = kHeaderBytes;
        const std::uint64_t count = get_le(data_ + 12, 4);
        if (count > (end - pos_) / kMinRecordBytes) {
            fail("malformed: " + std::to_string(count) + " records cannot fit in " +
                 std::to_string(end - pos_) + " bytes");
        }
        NamedTensors out;
        out.reserve(static_cast<std::size_t>(count));
        std::unordered_set<std::string> seen;
        for (std::uint64_t i = 0; i < count; ++i) {
            record_ = "record " + std::to_string(i);
            const std::size_t name_len = take_uint(4, "the name length", end);
            if (name_len == 0 || name_len > kMaxNameBytes) {
                fail("malformed " + record_ + ": bad name length (got " + std::to_string(name_len) +
                     ", expected 1.." + std::to_string(kMaxNameBytes) + ")");
            }
            need(name_len, "the name", end);
            std::string name(reinterpret_cast<const char*>(data_ + pos_), name_len);
            pos_ += name_len;
            if (name.find('\0') != std::string::npos)
                fail("malformed " + record_ + ": NUL in name");
            record_ += " " + quoted(name);
            if (!seen.insert(name).second) fail("malformed " + record_ + ": duplicate name");
            const std::size_t code = take_uint(1, "the dtype", end);
            const std::size_t ndim = take_uint(1, "the rank", end);
            const std::size_t reserved = take_uint(2, "the reserved field", end);
            if (code > 3) {
                fail("malformed " + record_ + ": unknown dtype code (got " + std::to_string(code) +
                     ", expected 0 for float32, 1 for float64, 2 for int64 or 3 for bool)");
            }
            if (reserved != 0) fail("malformed " + record_ + ": reserved field is not zero");
            const DType dtype = static_cast<DType>(code);  // the codes are DType's values
            need(8 * ndim, "the dimensions", end);
            std::vector<std::size_t> dims(ndim);
            std::uint64_t numel = 1, nonzero = 1;
            bool overflow = false;
            for (std::size_t d = 0; d < ndim; ++d) {
                const std::uint64_t dim = get_le(data_ + pos_ + 8 * d, 8);
                overflow = overflow || dim > std::numeric_limits<std::size_t>::max() ||
                           (dim != 0 && __builtin_mul_overflow(nonzero, dim, &nonzero));
                numel *= dim;
                dims[d] = static_cast<std::size_t>(dim);
            }
            pos_ += 8 * ndim;
            std::uint64_t nbytes = 0;
            overflow = overflow || __builtin_mul_overflow(numel, itemsize(dtype), &nbytes);
            if (overflow) fail("malformed " + record_ + ": declared size overflows");
            need(nbytes, "the data", end);
            if (dtype == DType::Bool) {  // any other byte would be an invalid bool
                for (std::uint64_t b = 0; b < nbytes; ++b) {
                    if (data_[pos_ + b] > 1)
                        fail("malformed " + record_ + ": bool byte not 0 or 1");
                }
            }
            Array value = Array::empty(dtype, Shape(dims));
            copy_le(static_cast<unsigned char*>(value.raw()), data_ + pos_,
                    static_cast<std::size_t>(numel), itemsize(dtype));
            pos_ += static_cast<std::size_t>(nbytes);
            out.emplace_back(std::move(name), Tensor(std::move(value)));
        }
        if (pos_ != end) {
            fail("malformed: " + std::to_string(end - pos_) + " bytes after the last record");
        }
        return out;
    }

private:
    void check_header() const {
        if (size_ == 0) fail("empty file (expected an xgrad tensor file)");
        const std::size_t prefix = std::min(size_, sizeof kMagic);
        if (std::memcmp(data_, kMagic, prefix) != 0) {
            fail(
                "not an xgrad tensor file (bad magic: expected the bytes 89 58 47 52 41 44 0D "
                "0A, \"\\x89XGRAD\\r\\n\")");
        }
        if (size_ < kHeaderBytes) {
            fail("truncated (got " + std::to_string(size_) + " bytes, the header alone has " +
                 std::to_string(kHeaderBytes) + ")");
        }
        const std::uint64_t version = get_le(data_ + 8, 4);
        if (version != kFormatVersion) {
            fail("unsupported format version (got " + std::to_string(version) + ", expected " +
                 std::to_string(kFormatVersion) + ")");
        }
        const std::uint64_t declared = get_le(data_ + 16, 8);
        if (size_ < declared) {
            fail("truncated (got " + std::to_string(size_) + " bytes, the header declares " +
                 std::to_string(declared) + ")");
        }
        if (size_ > declared) {
            fail("trailing data (got " + std::to_string(size_) + " bytes, the header declares " +
                 std::to_string(declared) + ")");
        }
        if (size_ < kHeaderBytes + kChecksumBytes) {
            fail("malformed: the declared size " + std::to_string(declared) +
                 " is smaller than an empty file (" +
                 std::to_string(kHeaderBytes + kChecksumBytes) + " bytes)");
        }
        const auto stored = static_cast<std::uint32_t>(get_le(data_ + size_ - 4, 4));
        const std::uint32_t computed = crc32_of(data_, size_ - kChecksumBytes);
        if (stored != computed) {
            fail("checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) +
                 "): the file is corrupted");
        }
    }

    void need(std::uint64_t n, const char* what, std::size_t end) const {
        if (n > end - pos_) {
            fail("malformed " + record_ + ": " + what + " needs " + std::to_string(n) +
                 " bytes but only " + std::to_string(end - pos_) + " remain");
        }
    }

    std::size_t take_uint(std::size_t n, const char* what, std::size_t end) {
        need(n, what, end);
        const auto v = static_cast<std::size_t>(get_le(data_ + pos_, n));
        pos_ += n;
        return v;
    }

    const unsigned char* data_;
    std::size_t size_;
    const std::string& source_;
    std::size_t pos_ = 0;
    std::string record_;
};

}  // namespace

std::vector<unsigned char> encode(const NamedTensors& tensors) {
    if (tensors.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw std::invalid_argument("save: too many tensors (got " +
                                    std::to_string(tensors.size()) + ", expected < 2^32)");
    }
    std::unordered_set<std::string> seen;
    std::size_t total = kHeaderBytes + kChecksumBytes;
    for (const auto& [name, t] : tensors) {
        if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos) {
            throw std::invalid_argument("save: bad tensor name " + quoted(name) + " (expected 1.." +
                                        std::to_string(kMaxNameBytes) + " bytes without NUL)");
        }
        if (!seen.insert(name).second) {
            throw std::invalid_argument("save: duplicate tensor name " + quoted(name));
        }
        if (!t.defined()) {
            throw std::invalid_argument("save: tensor " + quoted(name) + " is undefined");
        }
        if (t.ndim() > 255) {
            throw std::invalid_argument("save: tensor " + quoted(name) + " has " +
                                        std::to_string(t.ndim()) +
                                        " dimensions (expected at most 255)");
        }
        total += 4 + name.size() + 4 + 8 * t.ndim() + t.value().nbytes();
    }

    std::vector<unsigned char> out(total);
    unsigned char* w = out.data();
    std::memcpy(w, kMagic, sizeof kMagic);
    w += sizeof kMagic;
    put_le(&w, kFormatVersion, 4);
    put_le(&w, tensors.size(), 4);
    put_le(&w, total, 8);
    for (const auto& [name, t] : tensors) {
        const Array& v = t.value();
        put_le(&w, name.size(), 4);
        std::memcpy(w, name.data(), name.size());
        w += name.size();
        put_le(&w, static_cast<std::size_t>(v.dtype()), 1);  // 0 f32, 1 f64, 2 i64, 3 bool
        put_le(&w, v.ndim(), 1);
        put_le(&w, 0, 2);
        for (std::size_t d : v.shape()) put_le(&w, d, 8);
        copy_le(w, static_cast<const unsigned char*>(v.raw()), v.numel(), itemsize(v.dtype()));
        w += v.nbytes();
    }
    put_le(&w, crc32_of(out.data(), total - kChecksumBytes), 4);
    return out;
}

NamedTensors decode(const unsigned char* data, std::size_t size, const std::string& source) {
    return Reader(data, size, source).run();
}

void save(const std::string& path, const NamedTensors& tensors) {
    const std::vector<unsigned char> bytes = encode(tensors);
    data::detail::write_file_atomic(path, bytes.data(), bytes.size(), "save");
}

NamedTensors load(const std::string& path) {
    const std::vector<unsigned char> bytes = data::detail::read_file(path, "load");
    return decode(bytes.data(), bytes.size(), path);
}

void load_into(const std::string& path, const NamedTensors& targets, bool strict) {
    assign(load(path), targets, "load_into: " + path, strict);
}

void assign(const NamedTensors& file, const NamedTensors& targets, const std::string& context,
            bool strict) {
    std::unordered_map<std::string, std::size_t> in_file;
    for (std::size_t i = 0; i < file.size(); ++i) in_file.emplace(file[i].first, i);

    // Check everything first; copy only when nothing is wrong.
    std::vector<std::string> problems;
    std::vector<std::pair<Tensor, const Tensor*>> copies;
    std::unordered_set<std::string> target_names;
    for (const auto& [name, target] : targets) {
        if (!target_names.insert(name).second) {
            problems.push_back(quoted(name) + ": appears twice among the targets");
            continue;
        }
        if (!target.defined()) {
            problems.push_back(quoted(name) + ": the target tensor is undefined");
            continue;
        }
        if (!target.is_leaf()) {
            problems.push_back(quoted(name) + ": the target is not a leaf (got the output of '" +
                               target.op() + "')");
            continue;
        }
        const auto it = in_file.find(name);
        if (it == in_file.end()) {
            if (strict) problems.push_back(quoted(name) + ": missing from the file");
            continue;
        }
        const Tensor& stored = file[it->second].second;
        if (stored.shape() != target.shape()) {
            problems.push_back(quoted(name) + ": shape differs (got " + stored.shape().str() +
                               " in the file, expected " + target.shape().str() + ")");
        }
        if (stored.dtype() != target.dtype()) {
            problems.push_back(quoted(name) + ": dtype differs (got " + dtype_name(stored.dtype()) +
                               " in the file, expected " + dtype_name(target.dtype()) + ")");
        }
        copies.emplace_back(target, &stored);
    }
    if (strict) {
        for (const auto& [name, stored] : file) {
            if (target_names.count(name) == 0) {
                problems.push_back(quoted(name) + ": in the file but not among the targets");
            }
        }
    }
    if (!problems.empty()) {
        std::string msg = context + ": " + std::to_string(problems.size()) +
                          (problems.size() == 1 ? " mismatch" : " mismatches") +
                          ", nothing was changed:";
        for (const std::string& p : problems) msg += "\n  " + p;
        throw std::runtime_error(msg);
    }
    // Same shapes and dtypes: plain copies into the existing buffers, which cannot fail.
    for (auto& [target, stored] : copies) {
        std::memcpy(target.mutable_value().raw(), stored->value().raw(), stored->value().nbytes());
    }
}

}  // namespace xgrad::io
