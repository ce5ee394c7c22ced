#pragma once
// Internal (not installed): reading files that may be gzip-compressed, and atomic writes.
// Every error is a std::runtime_error "<op>: <path>: <problem>".

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::data::detail {

/// Throws std::runtime_error("<op>: <path>: <problem>").
[[noreturn]] void file_error(const char* op, const std::string& path, const std::string& problem);

/// A file opened for reading through zlib: gzip content (detected from its first bytes) is
/// decompressed, anything else is read as it is.
/// Example:
///   InputFile in(path, "read_idx");
///   unsigned char magic[4];
///   in.read_exact(magic, 4, "the header");
class InputFile {
public:
    /// Throws when the file is missing, is not a regular file, or cannot be opened.
    InputFile(const std::string& path, const char* op);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    const std::string& path() const { return path_; }
    /// Whether the content is gzip-compressed.
    bool compressed() const { return compressed_; }
    /// Size of the file on disk (compressed size for a gzip file).
    std::uint64_t file_size() const { return file_size_; }
    /// Reads up to n bytes; fewer only at the end of the data. Throws on corrupt gzip data.
    std::size_t read(void* dst, std::size_t n);
    /// Reads exactly n bytes; throws "truncated (... while reading <what>)" otherwise.
    void read_exact(void* dst, std::size_t n, const char* what);
    /// Everything that remains. The buffer grows as data arrives, never ahead of it.
    std::vector<unsigned char> read_all();
    /// Throws std::runtime_error("<op>: <path>: <problem>").
    [[noreturn]] void fail(const std::string& problem) const;

private:
    std::string path_;
    const char* op_;
    void* gz_ = nullptr;  // gzFile, kept out of this header
    std::uint64_t file_size_ = 0;
    bool compressed_ = false;
};

/// Upper bound on the bytes a gzip file of `compressed` bytes can decompress to (deflate's
/// maximal ratio is 1032:1), for rejecting impossible declared sizes before allocating.
std::uint64_t max_gunzipped_size(std::uint64_t compressed);

/// The whole file, read without decompression; throws when missing or unreadable.
std::vector<unsigned char> read_file(const std::string& path, const char* op);

/// Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// fsync of the directory. Either the old file or the complete new one is there afterwards.
/// The temporary is named "." + tmp_stem(file name) + ".tmp.<pid>.<n>"; before writing, the
/// temporaries of that pattern whose process is dead (a save killed before its rename) are
/// removed. Throws naming the directory when it does not exist.
/// The file-name part of write_file_atomic's temporaries: the name itself, or, when the
/// temporary's name would pass 255 bytes, a prefix of it and "~" and a 16-digit hash of all of
/// it (the same for every save to that name).
std::string tmp_stem(const std::string& file_name);

void write_file_atomic(const std::string& path, const void* data, std::size_t size, const char* op);

}  // namespace xgrad::data::detail
