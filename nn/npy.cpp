// .npy and .npz (see nn/npy.h for the formats).

#include "nn/npy.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

#include "autograd/kernels/nd.h"
#include "nn/data/file_util.h"

namespace xgrad::io {

namespace {

constexpr unsigned char kNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

[[noreturn]] void fail(const char* op, const std::string& source, const std::string& problem) {
    throw std::runtime_error(std::string(op) + ": " + source + ": " + problem);
}

std::uint64_t get_le(const unsigned char* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}
void put_le(std::vector<unsigned char>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

const char* descr_of(DType dtype) {
    switch (dtype) {
        case DType::Float32:
            return "<f4";
        case DType::Float64:
            return "<f8";
        case DType::Int64:
            return "<i8";
        case DType::Bool:
            break;
    }
    return "|b1";
}

bool little_endian_host() {
    const std::uint16_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

// ---- The header dict: a small parser of exactly what NumPy writes (and reorderings of it). ----

struct Header {
    std::string descr;
    bool fortran = false;
    std::vector<std::size_t> shape;
};

class DictParser {
public:
    DictParser(const std::string& text, const char* op, const std::string& source)
        : s_(text), op_(op), source_(source) {}

    Header parse() {
        Header h;
        std::set<std::string> seen;
        expect('{');
        for (;;) {
            skip_space();
            if (peek() == '}') {
                ++pos_;
                break;
            }
            const std::string key = string_literal();
            expect(':');
            if (!seen.insert(key).second) bad("repeated key '" + key + "'");
            if (key == "descr") {
                h.descr = string_literal();
            } else if (key == "fortran_order") {
                h.fortran = boolean();
            } else if (key == "shape") {
                h.shape = tuple();
            } else {
                bad("unexpected key '" + key + "' (expected descr, fortran_order, shape)");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != '}') {
                bad("expected ',' or '}' at byte " + std::to_string(pos_));
            }
        }
        skip_space();
        if (pos_ != s_.size()) bad("text after the dict");
        for (const char* k : {"descr", "fortran_order", "shape"}) {
            if (!seen.count(k)) bad(std::string("missing key '") + k + "'");
        }
        return h;
    }

private:
    [[noreturn]] void bad(const std::string& what) {
        fail(op_, source_, "malformed .npy header: " + what);
    }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }
    void expect(char c) {
        skip_space();
        if (peek() != c) bad(std::string("expected '") + c + "' at byte " + std::to_string(pos_));
        ++pos_;
    }
    std::string string_literal() {
        skip_space();
        const char q = peek();
        if (q != '\'' && q != '"') bad("expected a quoted string at byte " + std::to_string(pos_));
        const std::size_t end = s_.find(q, pos_ + 1);
        if (end == std::string::npos) bad("unterminated string");
        std::string v = s_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return v;
    }
    bool boolean() {
        skip_space();
        if (s_.compare(pos_, 4, "True") == 0) {
            pos_ += 4;
            return true;
        }
        if (s_.compare(pos_, 5, "False") == 0) {
            pos_ += 5;
            return false;
        }
        bad("fortran_order is neither True nor False");
    }
    std::vector<std::size_t> tuple() {
        expect('(');
        std::vector<std::size_t> dims;
        for (;;) {
            skip_space();
            if (peek() == ')') {
                ++pos_;
                return dims;
            }
            if (peek() < '0' || peek() > '9') bad("a shape entry is not a non-negative integer");
            std::uint64_t v = 0;
            while (peek() >= '0' && peek() <= '9') {
                if (__builtin_mul_overflow(v, 10u, &v) ||
                    __builtin_add_overflow(v, std::uint64_t(peek() - '0'), &v)) {
                    bad("a shape entry overflows 64 bits");
                }
                ++pos_;
            }
            if (peek() == 'L') ++pos_;  // Python 2's long suffix
            dims.push_back(static_cast<std::size_t>(v));
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != ')') {
                bad("expected ',' or ')' in the shape");
            }
        }
    }

    const std::string& s_;
    const char* op_;
    const std::string& source_;
    std::size_t pos_ = 0;
};

// descr -> dtype and byte order; throws naming the descr for anything else.
DType parse_descr(const std::string& d, bool* swap, const char* op, const std::string& source) {
    const bool le = little_endian_host();
    if (d == "|b1" || d == "b1" || d == "?" || d == "|?") {
        *swap = false;
        return DType::Bool;
    }
    if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=')) {
        const bool little = d[0] == '<' || (d[0] == '=' && le);
        *swap = little != le;
        const std::string t = d.substr(1);
        if (t == "f4") return DType::Float32;
        if (t == "f8") return DType::Float64;
        if (t == "i8") return DType::Int64;
    }
    fail(op, source,
         "unsupported dtype '" + d + "' (expected float32 '<f4', float64 '<f8', int64 '<i8' " +
             "or bool '|b1', either byte order)");
}

}  // namespace

std::vector<unsigned char> encode_npy(const Array& a) {
    if (!a.defined()) throw std::invalid_argument("save_npy: undefined array");
    std::string dict =
        std::string("{'descr': '") + descr_of(a.dtype()) + "', 'fortran_order': False, 'shape': (";
    for (std::size_t d = 0; d < a.ndim(); ++d) {
        dict += std::to_string(a.shape()[d]);
        if (d + 1 < a.ndim() || a.ndim() == 1) dict += a.ndim() == 1 ? "," : ", ";
    }
    dict += "), }";
    // magic (6) + version (2) + length (2 or 4) + dict + padding + '\n' = a multiple of 64.
    const bool v2 = dict.size() + 1 + 10 > 65535;
    const std::size_t prefix = v2 ? 12 : 10;
    const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - prefix - dict.size() - 1, ' ');
    dict += '\n';
    std::vector<unsigned char> out(kNpyMagic, kNpyMagic + 6);
    out.push_back(v2 ? 2 : 1);
    out.push_back(0);
    put_le(out, dict.size(), v2 ? 4 : 2);
    out.insert(out.end(), dict.begin(), dict.end());
    const auto* p = static_cast<const unsigned char*>(a.raw());
    const std::size_t item = itemsize(a.dtype());
    if (little_endian_host() || item == 1) {
        out.insert(out.end(), p, p + a.nbytes());
    } else {
        for (std::size_t i = 0; i < a.numel(); ++i) {
            for (std::size_t b = item; b-- > 0;) out.push_back(p[i * item + b]);
        }
    }
    return out;
}

Array decode_npy(const unsigned char* data, std::size_t size, const std::string& source) {
    const char* op = "load_npy";
    if (size < 10 || std::memcmp(data, kNpyMagic, 6) != 0) {
        fail(op, source, "not a .npy file (no \\x93NUMPY magic)");
    }
    const unsigned major = data[6];
    if (major < 1 || major > 3) {
        fail(op, source,
             "unsupported .npy format version " + std::to_string(major) + "." +
                 std::to_string(data[7]) + " (expected 1.0, 2.0 or 3.0)");
    }
    const std::size_t len_bytes = major == 1 ? 2 : 4, prefix = 8 + len_bytes;
    if (size < prefix) fail(op, source, "truncated (in the header length)");
    const std::uint64_t header_len = get_le(data + 8, len_bytes);
    if (header_len > size - prefix) fail(op, source, "truncated (in the header)");
    const std::string text(reinterpret_cast<const char*>(data + prefix),
                           static_cast<std::size_t>(header_len));
    const Header h = DictParser(text, op, source).parse();
    bool swap = false;
    const DType dtype = parse_descr(h.descr, &swap, op, source);
    const Shape shape(h.shape);
    std::size_t nbytes = 0;
    try {
        nbytes = checked_nbytes(op, shape, dtype);
    } catch (const std::length_error& e) {
        fail(op, source, std::string("declared size overflows: ") + e.what());
    }
    const std::size_t have = size - prefix - static_cast<std::size_t>(header_len);
    if (nbytes > have) {
        fail(op, source,
             "truncated (the header declares shape " + shape.str() + " of " + dtype_name(dtype) +
                 ": " + std::to_string(nbytes) + " bytes of data, the file holds " +
                 std::to_string(have) + ")");
    }
    if (nbytes < have) {
        fail(op, source,
             std::to_string(have - nbytes) + " bytes after the data of shape " + shape.str());
    }
    const unsigned char* src = data + prefix + header_len;
    if (dtype == DType::Bool) {
        for (std::size_t i = 0; i < nbytes; ++i) {
            if (src[i] > 1) fail(op, source, "a bool byte is neither 0 nor 1");
        }
    }
    // Fortran order: the bytes are the array of the reversed shape, row-major; transpose back.
    std::vector<std::size_t> stored = h.shape;
    if (h.fortran) std::reverse(stored.begin(), stored.end());
    Array a = Array::empty(dtype, Shape(stored));
    auto* dst = static_cast<unsigned char*>(a.raw());
    const std::size_t item = itemsize(dtype);
    if (!swap) {
        if (nbytes) std::memcpy(dst, src, nbytes);
    } else {
        for (std::size_t i = 0; i < a.numel(); ++i) {
            for (std::size_t b = 0; b < item; ++b) dst[i * item + b] = src[i * item + item - 1 - b];
        }
    }
    if (h.fortran && shape.size() > 1) {
        std::vector<std::int64_t> rev(shape.size());
        for (std::size_t d = 0; d < rev.size(); ++d) {
            rev[d] = static_cast<std::int64_t>(rev.size() - 1 - d);
        }
        return kernels::permute(a, rev);
    }
    return std::move(a).reshaped(shape);
}

void save_npy(const std::string& path, const Array& a) {
    const std::vector<unsigned char> bytes = encode_npy(a);
    data::detail::write_file_atomic(path, bytes.data(), bytes.size(), "save_npy");
}

Array load_npy(const std::string& path) {
    const std::vector<unsigned char> bytes = data::detail::read_file(path, "load_npy");
    return decode_npy(bytes.data(), bytes.size(), path);
}

// ---- .npz: a zip of .npy entries. ----

namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint64_t k32 = 0xffffffffu;
// 1980-01-01 00:00 in MS-DOS time and date, as zip tools write when the time is unknown.
constexpr std::uint16_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;

std::uint32_t crc_of(const unsigned char* p, std::size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {  // zlib takes uInt lengths
        const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

void check_names(const NamedTensors& tensors) {
    std::set<std::string> seen;
    if (tensors.size() > 65535) {
        throw std::invalid_argument("save_npz: too many tensors for a zip without zip64 (got " +
                                    std::to_string(tensors.size()) + ", at most 65535)");
    }
    for (const auto& [name, t] : tensors) {
        if (name.empty() || name.find('\0') != std::string::npos || name.size() > 60000) {
            throw std::invalid_argument("save_npz: bad tensor name \"" + name +
                                        "\" (expected 1..60000 bytes, no NUL)");
        }
        if (!seen.insert(name).second) {
            throw std::invalid_argument("save_npz: duplicate tensor name \"" + name + "\"");
        }
        if (!t.defined()) {
            throw std::invalid_argument("save_npz: tensor \"" + name + "\" is undefined");
        }
    }
}

}  // namespace

std::vector<unsigned char> encode_npz(const NamedTensors& tensors) {
    check_names(tensors);
    std::vector<unsigned char> out, central;
    for (const auto& [name, t] : tensors) {
        const std::vector<unsigned char> npy = encode_npy(t.value());
        const std::string file = name + ".npy";
        if (npy.size() >= k32 || out.size() >= k32) {
            throw std::invalid_argument(
                "save_npz: archive over 4 GiB needs zip64, which is not "
                "supported (at tensor \"" +
                name + "\")");
        }
        const std::uint32_t crc = crc_of(npy.data(), npy.size());
        const std::size_t offset = out.size();
        // Local file header: STORED (method 0), sizes known up front, no data descriptor.
        put_le(out, kLocalSig, 4);
        put_le(out, 20, 2);  // version needed: 2.0
        put_le(out, 0, 2);   // flags
        put_le(out, 0, 2);   // method: stored
        put_le(out, kDosTime, 2);
        put_le(out, kDosDate, 2);
        put_le(out, crc, 4);
        put_le(out, npy.size(), 4);
        put_le(out, npy.size(), 4);
        put_le(out, file.size(), 2);
        put_le(out, 0, 2);  // extra length
        out.insert(out.end(), file.begin(), file.end());
        out.insert(out.end(), npy.begin(), npy.end());
        // Its central directory entry.
        put_le(central, kCentralSig, 4);
        put_le(central, 20, 2);  // made by: 2.0, MS-DOS
        put_le(central, 20, 2);
        put_le(central, 0, 2);
        put_le(central, 0, 2);
        put_le(central, kDosTime, 2);
        put_le(central, kDosDate, 2);
        put_le(central, crc, 4);
        put_le(central, npy.size(), 4);
        put_le(central, npy.size(), 4);
        put_le(central, file.size(), 2);
        put_le(central, 0, 2);  // extra
        put_le(central, 0, 2);  // comment
        put_le(central, 0, 2);  // disk
        put_le(central, 0, 2);  // internal attributes
        put_le(central, 0, 4);  // external attributes
        put_le(central, offset, 4);
        central.insert(central.end(), file.begin(), file.end());
    }
    const std::size_t cd_offset = out.size();
    if (cd_offset + central.size() >= k32) {
        throw std::invalid_argument("save_npz: archive over 4 GiB needs zip64, not supported");
    }
    out.insert(out.end(), central.begin(), central.end());
    put_le(out, kEndSig, 4);
    put_le(out, 0, 2);  // this disk
    put_le(out, 0, 2);  // disk with the directory
    put_le(out, tensors.size(), 2);
    put_le(out, tensors.size(), 2);
    put_le(out, central.size(), 4);
    put_le(out, cd_offset, 4);
    put_le(out, 0, 2);  // comment length
    return out;
}

NamedTensors decode_npz(const unsigned char* data, std::size_t size, const std::string& source) {
    const char* op = "load_npz";
    // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
    if (size < 22) fail(op, source, "not a .npz file (too short for a zip archive)");
    std::size_t end = size - 22;
    for (;;) {
        if (get_le(data + end, 4) == kEndSig && end + 22 + get_le(data + end + 20, 2) == size) {
            break;
        }
        if (end == 0 || size - end > 22 + 65535) {
            fail(op, source, "not a .npz file (no zip end-of-central-directory record)");
        }
        --end;
    }
    const std::uint64_t count = get_le(data + end + 10, 2);
    const std::uint64_t cd_size = get_le(data + end + 12, 4),
                        cd_offset = get_le(data + end + 16, 4);
    if (count == 0xffff || cd_size == k32 || cd_offset == k32) {
        fail(op, source, "zip64 archives are not supported");
    }
    if (get_le(data + end + 4, 2) != 0 || get_le(data + end + 6, 2) != 0 ||
        get_le(data + end + 8, 2) != count) {
        fail(op, source, "multi-disk zip archives are not supported");
    }
    if (cd_offset > end || cd_size > end - cd_offset) {
        fail(op, source, "malformed zip: the central directory lies outside the file");
    }
    NamedTensors out;
    std::set<std::string> seen;
    std::size_t pos = static_cast<std::size_t>(cd_offset);
    const std::size_t cd_end = static_cast<std::size_t>(cd_offset + cd_size);
    for (std::uint64_t e = 0; e < count; ++e) {
        const std::string entry = "entry " + std::to_string(e);
        if (cd_end - pos < 46 || get_le(data + pos, 4) != kCentralSig) {
            fail(op, source, "malformed zip: bad central directory record for " + entry);
        }
        const std::uint64_t flags = get_le(data + pos + 8, 2), method = get_le(data + pos + 10, 2);
        const std::uint32_t crc = static_cast<std::uint32_t>(get_le(data + pos + 16, 4));
        std::uint64_t csize = get_le(data + pos + 20, 4), usize = get_le(data + pos + 24, 4);
        const std::size_t name_len = get_le(data + pos + 28, 2),
                          extra_len = get_le(data + pos + 30, 2),
                          comment_len = get_le(data + pos + 32, 2);
        std::uint64_t local = get_le(data + pos + 42, 4);
        if (cd_end - pos - 46 < name_len + extra_len + comment_len) {
            fail(op, source, "malformed zip: truncated central directory record for " + entry);
        }
        std::string name(reinterpret_cast<const char*>(data + pos + 46), name_len);
        // A zip64 extra field (numpy's zipfile writes one for large entries) carries the sizes
        // and offset that are 0xffffffff above, in that order.
        for (std::size_t x = pos + 46 + name_len, xe = x + extra_len; x + 4 <= xe;) {
            const std::uint64_t id = get_le(data + x, 2), len = get_le(data + x + 2, 2);
            if (x + 4 + len > xe) break;
            if (id == 1) {
                std::size_t q = x + 4;
                auto take = [&](std::uint64_t& v) {
                    if (v == k32 && q + 8 <= x + 4 + len) {
                        v = get_le(data + q, 8);
                        q += 8;
                    }
                };
                take(usize);
                take(csize);
                take(local);
            }
            x += 4 + static_cast<std::size_t>(len);
        }
        pos += 46 + name_len + extra_len + comment_len;
        const std::string what = entry + " \"" + name + "\"";
        if (flags & 1) fail(op, source, what + " is encrypted");
        if (method != 0 && method != 8) {
            fail(op, source,
                 what + " uses compression method " + std::to_string(method) +
                     " (expected 0, stored, or 8, deflated)");
        }
        if (local > cd_offset || cd_offset - local < 30 || get_le(data + local, 4) != kLocalSig) {
            fail(op, source, "malformed zip: bad local header for " + what);
        }
        const std::size_t lname = get_le(data + local + 26, 2),
                          lextra = get_le(data + local + 28, 2);
        const std::uint64_t start = local + 30 + lname + lextra;
        if (start > cd_offset || csize > cd_offset - start) {
            fail(op, source, "truncated: the data of " + what + " runs past the archive");
        }
        const unsigned char* cdata = data + start;
        std::vector<unsigned char> inflated;
        const unsigned char* npy = cdata;
        if (method == 8) {
            // Deflate expands at most 1032:1: refuse a declared size the data cannot hold.
            if (usize / 1032 > csize + 1) {
                fail(op, source,
                     what + " declares " + std::to_string(usize) + " bytes from " +
                         std::to_string(csize) + " compressed");
            }
            inflated.resize(static_cast<std::size_t>(usize));
            z_stream zs{};
            if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(op, source, "zlib inflateInit failed");
            zs.next_in = const_cast<unsigned char*>(cdata);
            zs.avail_in = static_cast<uInt>(std::min<std::uint64_t>(csize, UINT32_MAX));
            zs.next_out = inflated.data();
            zs.avail_out = static_cast<uInt>(std::min<std::uint64_t>(usize, UINT32_MAX));
            const int rc = inflate(&zs, Z_FINISH);
            const std::uint64_t produced = zs.total_out;
            inflateEnd(&zs);
            if (csize > UINT32_MAX || usize > UINT32_MAX) {
                fail(op, source, what + " is too large to inflate here (over 4 GiB)");
            }
            if (rc != Z_STREAM_END || produced != usize) {
                fail(op, source, "corrupt deflate data in " + what);
            }
            npy = inflated.data();
        } else if (csize != usize) {
            fail(op, source, "malformed zip: stored " + what + " has different sizes");
        }
        if (crc_of(npy, static_cast<std::size_t>(usize)) != crc) {
            fail(op, source, "CRC-32 mismatch in " + what + " (corrupted)");
        }
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
            name.resize(name.size() - 4);
        }
        if (!seen.insert(name).second) fail(op, source, "duplicate entry \"" + name + "\"");
        Array a = decode_npy(npy, static_cast<std::size_t>(usize), source + "[" + name + "]");
        out.emplace_back(std::move(name), Tensor(std::move(a)));
    }
    return out;
}

void save_npz(const std::string& path, const NamedTensors& tensors) {
    const std::vector<unsigned char> bytes = encode_npz(tensors);
    data::detail::write_file_atomic(path, bytes.data(), bytes.size(), "save_npz");
}

NamedTensors load_npz(const std::string& path) {
    const std::vector<unsigned char> bytes = data::detail::read_file(path, "load_npz");
    return decode_npz(bytes.data(), bytes.size(), path);
}

void load_npz_into(const std::string& path, const NamedTensors& targets, bool strict) {
    assign(load_npz(path), targets, "load_npz_into: " + path, strict);
}

}  // namespace xgrad::io
