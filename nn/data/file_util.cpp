#include "nn/data/file_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace xgrad::data::detail {

namespace {

std::string errno_text(int err) { return std::system_category().message(err); }

gzFile as_gz(void* p) { return static_cast<gzFile>(p); }

// Opens `path` for reading and checks that it is a regular file; returns the descriptor.
int open_regular(const std::string& path, const char* op, std::uint64_t* size) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        file_error(op, path,
                   err == ENOENT ? "file not found" : "cannot open (" + errno_text(err) + ")");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        file_error(op, path, "not a regular file");
    }
    *size = static_cast<std::uint64_t>(st.st_size);
    return fd;
}

// The temporary files of a save to `target` are "." + stem + ".tmp.<pid>.<n>" beside it. The
// stem is the file name, unless that would make the temporary name longer than NAME_MAX (255
// bytes on Linux file systems) when the target's own name is legal: then it is a prefix of the
// name and a hash of all of it, so that it is still the same for every save to that path.
constexpr std::size_t kNameMax = 255;
constexpr std::size_t kTmpSuffixMax = 1 + 5 + 10 + 1 + 20;  // "." ".tmp." pid "." counter

}  // namespace

std::string tmp_stem(const std::string& name) {
    if (name.size() + kTmpSuffixMax <= kNameMax) return name;
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    static const char* const kHex = "0123456789abcdef";
    std::string hash(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) hash[static_cast<std::size_t>(i)] = kHex[h & 15];
    return name.substr(0, kNameMax - kTmpSuffixMax - 1 - hash.size()) + "~" + hash;
}

namespace {

// Digits only, at least one, and no more than fit the type.
bool parse_decimal(const std::string& s, std::uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    *out = v;
    return true;
}

// Removes the temporaries that earlier saves to this path left behind when their process died
// (SIGKILL, power loss) before renaming them: only names of exactly our pattern, and only when
// their process no longer exists. A live process's temporary (another saver, or a pid we cannot
// signal) is left alone, and so is anything of our own pid (another thread may be saving).
// NOTE: best effort: errors are ignored; a save must not fail because cleaning up did.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& stem) {
    namespace fs = std::filesystem;
    const std::string prefix = "." + stem + ".tmp.";
    const auto self = static_cast<std::uint64_t>(::getpid());
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string rest = name.substr(prefix.size());  // "<pid>.<n>"
        const std::size_t dot = rest.find('.');
        std::uint64_t pid = 0, n = 0;
        if (dot == std::string::npos || !parse_decimal(rest.substr(0, dot), &pid) ||
            !parse_decimal(rest.substr(dot + 1), &n)) {
            continue;
        }
        if (pid == self || pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) continue;
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive
        ::unlink(it->path().c_str());
    }
}

}  // namespace

void file_error(const char* op, const std::string& path, const std::string& problem) {
    throw std::runtime_error(std::string(op) + ": " + path + ": " + problem);
}

InputFile::InputFile(const std::string& path, const char* op) : path_(path), op_(op) {
    const int fd = open_regular(path, op, &file_size_);
    gzFile gz = gzdopen(fd, "rb");  // from here on, gzclose closes fd
    if (gz == nullptr) {
        ::close(fd);
        fail("cannot open (out of memory in zlib)");
    }
    gz_ = gz;
    gzbuffer(gz, 1u << 17);
    // gzdirect looks at the first bytes: 1 means "not gzip, read as is".
    compressed_ = gzdirect(gz) == 0;
}

InputFile::~InputFile() {
    if (gz_ != nullptr) gzclose(as_gz(gz_));
}

void InputFile::fail(const std::string& problem) const { file_error(op_, path_, problem); }

std::size_t InputFile::read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t total = 0;
    while (total < n) {
        // gzread takes an unsigned count and returns an int: read in chunks of at most 1 GiB.
        const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - total, 1u << 30));
        const int got = gzread(as_gz(gz_), out + total, chunk);
        int err = Z_OK;
        const char* msg =
            got < 0 || static_cast<unsigned>(got) < chunk ? gzerror(as_gz(gz_), &err) : nullptr;
        if (err == Z_ERRNO) fail("read error (" + errno_text(errno) + ")");
        if (err == Z_BUF_ERROR) fail("truncated gzip data (unexpected end of file)");
        if (err != Z_OK || got < 0) {
            fail(std::string("corrupt gzip data (") + (msg ? msg : "unknown zlib error") + ")");
        }
        total += static_cast<std::size_t>(got);
        if (static_cast<unsigned>(got) < chunk) break;  // end of data
    }
    return total;
}

void InputFile::read_exact(void* dst, std::size_t n, const char* what) {
    const std::size_t got = read(dst, n);
    if (got < n) {
        fail(std::string("truncated: the data ends inside ") + what + " (got " +
             std::to_string(got) + " of " + std::to_string(n) + " bytes)");
    }
}

std::vector<unsigned char> InputFile::read_all() {
    std::vector<unsigned char> bytes;
    std::size_t chunk = 1u << 16;
    for (;;) {
        const std::size_t old = bytes.size();
        bytes.resize(old + chunk);
        const std::size_t got = read(bytes.data() + old, chunk);
        bytes.resize(old + got);
        if (got < chunk) return bytes;
        chunk = std::min<std::size_t>(chunk * 2, std::size_t{1} << 26);
    }
}

std::uint64_t max_gunzipped_size(std::uint64_t compressed) {
    constexpr std::uint64_t kMaxRatio = 1032;  // deflate: 258 bytes from about 2 bits
    if (compressed > (std::numeric_limits<std::uint64_t>::max() - 1024) / kMaxRatio) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return compressed * kMaxRatio + 1024;
}

std::vector<unsigned char> read_file(const std::string& path, const char* op) {
    std::uint64_t size = 0;
    const int fd = open_regular(path, op, &size);
    std::vector<unsigned char> bytes;
    try {
        // The allocation follows the size on disk, never a size a header declares.
        bytes.resize(static_cast<std::size_t>(size));
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) file_error(op, path, "read error (" + errno_text(errno) + ")");
            if (got == 0) break;  // the file shrank while we read it
            done += static_cast<std::size_t>(got);
        }
        bytes.resize(done);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return bytes;
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size,
                       const char* op) {
    namespace fs = std::filesystem;
    static std::atomic<unsigned> counter{0};
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    if (target.filename().empty()) file_error(op, path, "not a file name");

    const std::string stem = tmp_stem(target.filename().string());
    remove_stale_temporaries(dir, stem);

    // The temporary file sits in the same directory, so the rename cannot cross file systems.
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        tmp = (dir / ("." + stem + ".tmp." + std::to_string(::getpid()) + "." +
                      std::to_string(counter++)))
                  .string();
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt > 100)) {
            const int err = errno;
            std::error_code ec;
            if (err == ENOENT && !fs::is_directory(dir, ec)) {
                file_error(op, path,
                           "cannot write the file (the directory " + dir.string() +
                               " does not exist; create it first)");
            }
            file_error(op, path,
                       "cannot create the temporary file " + tmp + " (" + errno_text(err) + ")");
        }
    }
    const auto abandon = [&](const std::string& what) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        file_error(op, path, what + " (" + errno_text(err) + ")");
    };
    const auto* p = static_cast<const unsigned char*>(data);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t put = ::write(fd, p + done, size - done);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) abandon("write error");
        done += static_cast<std::size_t>(put);
    }
    if (::fsync(fd) != 0) abandon("fsync failed");
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) abandon("close failed");
    if (::rename(tmp.c_str(), path.c_str()) != 0) abandon("cannot rename the temporary file");
    // Make the rename itself durable. Best effort: some file systems refuse fsync on a directory.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

}  // namespace xgrad::data::detail
