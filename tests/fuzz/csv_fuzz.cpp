// libFuzzer target for read_csv. The first input byte chooses the options (header, delimiter,
// dtype) and whether the file is written gzip-compressed; the rest is the file's text. Every
// input must parse or throw std::runtime_error (anything else, a crash or a sanitizer report is
// a finding), read_csv must agree with parse_csv on the same text (success or failure, and the
// values bit for bit), and a failed read must change nothing on disk.
// Build and run: see tests/CMakeLists.txt (the fuzz targets) and README.md.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "nn/data/csv.h"
#include "tests/fuzz/fuzz_util.h"

using namespace xgrad;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    data::CsvOptions options;
    options.header = (mode & 1) != 0;
    static const char kDelimiters[] = {',', ';', '\t', ' '};
    options.delimiter = kDelimiters[(mode >> 1) & 3];
    options.dtype = (mode & 8) != 0 ? f64 : f32;
    const bool compressed = (mode & 16) != 0;
    const fuzz::Bytes text(data + 1, data + size);
    const std::string path = fuzz::write_scratch(compressed ? "in.csv.gz" : "in.csv",
                                                 compressed ? fuzz::gzip(text) : text);
    const auto before = fuzz::snapshot_scratch();

    bool file_ok = false, text_ok = false;
    data::CsvTable from_file, from_text;
    try {
        from_file = data::read_csv(path, options);
        file_ok = true;
    } catch (const std::runtime_error&) {
    }
    try {
        from_text = data::parse_csv(
            std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), "text",
            options);
        text_ok = true;
    } catch (const std::runtime_error&) {
    }
    if (file_ok != text_ok) fuzz::finding("read_csv and parse_csv disagree on success");
    if (!file_ok && fuzz::snapshot_scratch() != before) {
        fuzz::finding("a failed read_csv changed the files");
    }
    if (!file_ok) return 0;
    if (fuzz::array_bits(from_file.values) != fuzz::array_bits(from_text.values) ||
        from_file.columns != from_text.columns) {
        fuzz::finding("read_csv and parse_csv give different tables");
    }
    const Array& v = from_file.values;
    if (v.ndim() != 2 || v.dtype() != options.dtype) fuzz::finding("the table is not (rows, cols)");
    if (options.header && from_file.columns.size() != v.shape()[1]) {
        fuzz::finding("the header does not name every column");
    }
    return 0;
}
