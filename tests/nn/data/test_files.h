#pragma once
// Test helpers: a temporary directory removed at the end of the test, and file writers
// (plain and gzip, through zlib's gzopen/gzwrite).

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace xgrad::testing {

using Bytes = std::vector<unsigned char>;

/// A fresh directory under the system temp dir, named after the running test; removed with
/// everything in it when the object is destroyed.
class TempDir {
public:
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        const std::string name = std::string("xgrad_") + (info ? info->test_suite_name() : "t") +
                                 "_" + (info ? info->name() : "t") + "_" +
                                 std::to_string(::getpid());
        path_ = std::filesystem::temp_directory_path() / name;
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The path of `name` inside the directory.
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

    /// Writes `bytes` to `name` and returns its path.
    std::string write(const std::string& name, const Bytes& bytes) const {
        const std::string p = file(name);
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("TempDir::write: cannot write " + p);
        return p;
    }
    std::string write(const std::string& name, const std::string& text) const {
        return write(name, Bytes(text.begin(), text.end()));
    }
    /// Writes `bytes` gzip-compressed to `name` and returns its path.
    std::string write_gz(const std::string& name, const Bytes& bytes) const {
        const std::string p = file(name);
        gzFile gz = gzopen(p.c_str(), "wb");
        if (gz == nullptr) throw std::runtime_error("TempDir::write_gz: cannot open " + p);
        const int put =
            bytes.empty() ? 0 : gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
        if (gzclose(gz) != Z_OK || put != static_cast<int>(bytes.size())) {
            throw std::runtime_error("TempDir::write_gz: cannot write " + p);
        }
        return p;
    }
    std::string write_gz(const std::string& name, const std::string& text) const {
        return write_gz(name, Bytes(text.begin(), text.end()));
    }

private:
    std::filesystem::path path_;
};

/// The bytes of a file.
inline Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace xgrad::testing
