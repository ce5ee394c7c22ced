// libFuzzer target for read_idx, raw and gzip. The first input byte chooses the dtype and how
// the rest is written: as it is, gzip-compressed (so that mutations of the IDX content reach
// the parser through the gzip path), or as it is under a .gz name (mutations of the gzip
// stream itself). Every input must read or throw std::runtime_error; the raw and the
// compressed file of the same content must give the same result; a failed read must change
// nothing on disk.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "nn/data/idx.h"
#include "tests/fuzz/fuzz_util.h"

using namespace xgrad;

namespace {

// The array, or "" when read_idx threw std::runtime_error.
std::string read_bits(const std::string& path, DType dtype, bool* ok) {
    const auto before = fuzz::snapshot_scratch();
    try {
        const Array a = data::read_idx(path, dtype);
        *ok = true;
        if (a.dtype() != dtype || a.ndim() == 0) fuzz::finding("read_idx: bad result shape");
        return fuzz::array_bits(a);
    } catch (const std::runtime_error&) {
        *ok = false;
        if (fuzz::snapshot_scratch() != before) fuzz::finding("a failed read_idx changed files");
        return "";
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const DType dtype = (mode & 1) != 0 ? f64 : f32;
    const fuzz::Bytes content(data + 1, data + size);
    bool ok = false;
    if ((mode & 6) == 2) {  // a gzip stream as the fuzzer made it
        read_bits(fuzz::write_scratch("in.idx.gz", content), dtype, &ok);
        return 0;
    }
    const std::string raw = read_bits(fuzz::write_scratch("in.idx", content), dtype, &ok);
    if ((mode & 6) == 4) {  // the same content through the gzip path must read the same
        bool gz_ok = false;
        const std::string gz =
            read_bits(fuzz::write_scratch("in.idx.gz", fuzz::gzip(content)), dtype, &gz_ok);
        if (gz_ok != ok || gz != raw) fuzz::finding("read_idx: raw and gzip files disagree");
    }
    return 0;
}
