#pragma once
// Shared by the file-reader fuzz targets: a scratch directory for the input files (the readers
// take paths), gzip compression, the "nothing changed" snapshots, and how a finding is reported
// (abort, which libFuzzer and the replay main both report as a crash).

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::fuzz {

using Bytes = std::vector<unsigned char>;

/// Reports a finding: prints it and aborts.
[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

/// A directory of this process's own, created once and reused for every input.
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const std::filesystem::path d =
            std::filesystem::temp_directory_path() / ("xgrad_fuzz_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

/// Writes `bytes` to `name` in the scratch directory and returns the path.
inline std::string write_scratch(const std::string& name, const Bytes& bytes) {
    const std::string path = (scratch_dir() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) finding("cannot write the scratch file " + path);
    return path;
}

/// `bytes` as one gzip member (zlib's deflate with a gzip wrapper).
inline Bytes gzip(const Bytes& bytes) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        finding("deflateInit2 failed");
    }
    Bytes out(deflateBound(&zs, static_cast<uLong>(bytes.size())) + 32);
    zs.next_in = const_cast<Bytef*>(bytes.data());
    zs.avail_in = static_cast<uInt>(bytes.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) finding("deflate failed");
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/// Every file of the scratch directory with its bytes: a failed read must leave it as it was.
inline std::map<std::string, Bytes> snapshot_scratch() {
    std::map<std::string, Bytes> files;
    for (const auto& entry : std::filesystem::directory_iterator(scratch_dir())) {
        std::ifstream in(entry.path(), std::ios::binary);
        files[entry.path().filename().string()] =
            Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return files;
}

/// The bytes of a tensor's values with its dtype and shape: equal iff bit-identical.
inline std::string tensor_bits(const Tensor& t) {
    const Array& a = t.value();
    std::string s = std::string(dtype_name(a.dtype())) + a.shape().str() + ":";
    s.append(static_cast<const char*>(a.raw()), a.nbytes());
    return s;
}

/// The same for an array.
inline std::string array_bits(const Array& a) {
    std::string s = std::string(dtype_name(a.dtype())) + a.shape().str() + ":";
    s.append(static_cast<const char*>(a.raw()), a.nbytes());
    return s;
}

}  // namespace xgrad::fuzz
