// io::save / load / load_into / assign: round trips, the documented byte layout, atomic writes, and
// all-or-nothing loading into existing tensors.

#include "nn/serialize.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/data/file_util.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::io {
namespace {

using xgrad::testing::Bytes;
using xgrad::testing::TempDir;

NamedTensors sample() {
    return {{"fc1.weight", tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f32)},
            {"fc1.bias", tensor({0.1, -0.2}, f64)},
            {"step", scalar(42, f64)},
            {"empty", zeros({0, 3})},
            {"deep", ones({1, 2, 1, 2, 1, 2})}};
}

void expect_same(const NamedTensors& a, const NamedTensors& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_EQ(a[i].second.shape(), b[i].second.shape()) << a[i].first;
        EXPECT_EQ(a[i].second.dtype(), b[i].second.dtype()) << a[i].first;
        EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
    }
}

TEST(Serialize, SaveThenLoadRoundTripsNamesShapesDtypesValuesAndOrder) {
    TempDir dir;
    const NamedTensors saved = sample();
    save(dir.file("m.xgt"), saved);
    const NamedTensors loaded = load(dir.file("m.xgt"));
    expect_same(loaded, saved);
    for (const auto& [name, t] : loaded) {
        EXPECT_TRUE(t.is_leaf()) << name;
        EXPECT_FALSE(t.requires_grad()) << name;
    }
}

TEST(Serialize, RoundTripIsBitExactForSpecialValues) {
    const Tensor t = tensor({0.1, -0.0, INFINITY, -INFINITY, NAN, 1e-310}, f64);
    const Bytes bytes = encode({{"x", t}});
    const NamedTensors back = decode(bytes.data(), bytes.size(), "mem");
    EXPECT_EQ(std::memcmp(back[0].second.value().raw(), t.value().raw(), t.value().nbytes()), 0);
}

TEST(Serialize, Int64AndBoolRoundTripExactly) {
    const std::int64_t big = (std::int64_t{1} << 62) + 1;  // not representable as a double
    const NamedTensors saved = {
        {"idx", Tensor(Array::from_vector(std::vector<std::int64_t>{big, -1}))},
        {"mask", Tensor(Array::from_vector(std::vector<bool>{true, false, true}))}};
    Bytes bytes = encode(saved);
    const NamedTensors back = decode(bytes.data(), bytes.size(), "mem");
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].second.dtype(), i64);
    EXPECT_EQ(back[0].second.value().to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{big, -1}));
    EXPECT_EQ(back[1].second.dtype(), bool_);
    EXPECT_EQ(back[1].second.value().to_vector<bool>(), (std::vector<bool>{true, false, true}));
    // A bool byte other than 0 or 1 would be an invalid bool: rejected (checksum repaired).
    const std::size_t last = bytes.size() - 4 - 1;  // the mask's last data byte
    ASSERT_EQ(bytes[last], 1);
    bytes[last] = 2;
    const auto crc = crc32(0, bytes.data(), static_cast<unsigned>(bytes.size() - 4));
    for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = (crc >> (8 * i)) & 0xff;
    EXPECT_THROW_MSG(decode(bytes.data(), bytes.size(), "mem"), std::runtime_error,
                     "bool byte not 0 or 1");
}

TEST(Serialize, FileLayoutIsTheDocumentedFormat) {
    const Bytes bytes = encode({{"w", tensor({1.0, -2.0}, f32)}});
    const Bytes expected = {
        0x89, 'X',  'G',  'R',  'A', 'D', '\r', '\n',  // magic
        1,    0,    0,    0,                           // version 1
        1,    0,    0,    0,                           // one record
        53,   0,    0,    0,    0,   0,   0,    0,     // total size
        1,    0,    0,    0,    'w',                   // name
        0,    1,    0,    0,                           // float32, 1 dimension, reserved
        2,    0,    0,    0,    0,   0,   0,    0,     // dims (2)
        0x00, 0x00, 0x80, 0x3F,                        // 1.0f
        0x00, 0x00, 0x00, 0xC0,                        // -2.0f
        0x07, 0x29, 0x78, 0x57,  // Python: zlib.crc32(bytes[:49]) = 0x57782907
    };
    EXPECT_EQ(bytes, expected);
}

TEST(Serialize, ReadsAFileWrittenFromTheFormatDescriptionAlone) {
    // tests/fuzz/corpus/serialize/mlp.xgt was written by a few lines of Python (struct, zlib)
    // following the format comment in nn/serialize.h, not by this code.
    const NamedTensors t = load(XGRAD_SOURCE_DIR "/tests/fuzz/corpus/serialize/mlp.xgt");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[0].first, "fc1.weight");
    EXPECT_EQ(t[0].second.shape(), Shape({2, 3}));
    EXPECT_EQ(t[0].second.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(t[1].second.dtype(), f64);
    EXPECT_EQ(t[1].second.to_vector(), (std::vector<double>{0.5, -0.5}));
    EXPECT_EQ(t[2].second.shape(), Shape{});
    EXPECT_EQ(t[2].second.item(), 3);
    EXPECT_EQ(t[3].second.shape(), Shape({0, 4}));
}

TEST(Serialize, EmptyListRoundTrips) {
    TempDir dir;
    save(dir.file("e.xgt"), {});
    EXPECT_TRUE(load(dir.file("e.xgt")).empty());
    EXPECT_EQ(xgrad::testing::read_bytes(dir.file("e.xgt")).size(), 28u);
}

TEST(Serialize, SaveReplacesTheFileAndLeavesNoTemporaryFiles) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, sample());
    save(path, {{"only", scalar(1)}});
    EXPECT_EQ(load(path).size(), 1u);
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        EXPECT_EQ(entry.path().filename(), "m.xgt");
        ++files;
    }
    EXPECT_EQ(files, 1u);
}

TEST(Serialize, SaveRejectsBadNamesAndWritesNothing) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, {{"keep", scalar(7)}});
    EXPECT_THROW_MSG(save(path, {{"a", scalar(1)}, {"a", scalar(2)}}), std::invalid_argument,
                     "save: duplicate tensor name \"a\"");
    EXPECT_THROW_MSG(save(path, {{"", scalar(1)}}), std::invalid_argument,
                     "save: bad tensor name \"\"");
    EXPECT_THROW_MSG(save(path, {{"u", Tensor()}}), std::invalid_argument,
                     "save: tensor \"u\" is undefined");
    EXPECT_EQ(load(path)[0].first, "keep");  // the old file is untouched
}

TEST(Serialize, SaveIntoAMissingDirectoryNamesThePath) {
    TempDir dir;
    const std::string path = dir.file("no/such/dir/m.xgt");
    EXPECT_THROW_MSG(save(path, sample()), std::runtime_error,
                     "save: " + path + ": cannot write the file (the directory " +
                         dir.file("no/such/dir") + " does not exist");
}

std::vector<std::string> file_names(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Issue 12: "." + name + ".tmp.PID.N" passed NAME_MAX, so a legal 250-byte name failed with
// "File name too long".
TEST(Serialize, SaveTakesFileNamesUpToTheSystemLimit) {
    TempDir dir;
    for (std::size_t length : {200u, 230u, 250u, 255u}) {
        const std::string name = std::string(length - 4, 'n') + ".xgt";
        const std::string path = dir.file(name);
        save(path, sample());
        save(path, {{"again", scalar(2)}});
        EXPECT_EQ(load(path)[0].first, "again") << length;
        EXPECT_EQ(file_names(dir.path()), (std::vector<std::string>{name})) << length;
        std::filesystem::remove(path);
    }
}

// The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}

// Issue 12: saves killed before their rename left ".m.xgt.tmp.PID.N" files that nothing removed.
TEST(Serialize, SaveRemovesStaleTemporariesOfDeadSavesOnly) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    const std::string dead = std::to_string(dead_pid());
    const std::string live = "1";  // init: alive (or not ours to signal), never removed
    const std::string self = std::to_string(::getpid());
    const Bytes junk(1000, 7);
    for (const std::string& stale : {".m.xgt.tmp." + dead + ".0", ".m.xgt.tmp." + dead + ".17"}) {
        dir.write(stale, junk);
    }
    const std::vector<std::string> kept = {
        ".m.xgt.tmp." + live + ".3",      // a live process's save in progress
        ".m.xgt.tmp." + self + ".9",      // ours: another thread may be saving
        ".m.xgt.tmp.12x.0",               // not our pattern
        ".m.xgt.tmp." + dead,             // not our pattern (no counter)
        ".m.xgt.tmp." + dead + ".0~",     // not our pattern
        ".other.xgt.tmp." + dead + ".0",  // another file's temporary
        "m.xgt.tmp." + dead + ".0",       // no leading dot: not ours
    };
    for (const std::string& name : kept) dir.write(name, junk);
    save(path, sample());
    std::vector<std::string> expected = kept;
    expected.push_back("m.xgt");
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(file_names(dir.path()), expected);
    EXPECT_EQ(load(path).size(), sample().size());

    // The shortened temporary names of a long file name are recognised too.
    const std::string long_name = std::string(246, 'x') + ".xgt";
    const std::string stem = xgrad::data::detail::tmp_stem(long_name);
    EXPECT_LT(stem.size(), long_name.size());
    const std::string long_stale = "." + stem + ".tmp." + dead + ".4";
    EXPECT_LE(long_stale.size(), 255u);
    dir.write(long_stale, junk);
    save(dir.file(long_name), sample());
    EXPECT_FALSE(std::filesystem::exists(dir.file(long_stale)));
    EXPECT_TRUE(std::filesystem::exists(dir.file(long_name)));
}

TEST(Serialize, LoadMissingFileNamesThePath) {
    TempDir dir;
    const std::string path = dir.file("nope.xgt");
    EXPECT_THROW_MSG(load(path), std::runtime_error, "load: " + path + ": file not found");
}

TEST(Serialize, LoadOfAnotherKindOfFileSaysItIsNotATensorFile) {
    TempDir dir;
    const std::string path = dir.write("notes.txt", std::string("hello, this is text\n"));
    EXPECT_THROW_MSG(load(path), std::runtime_error,
                     "load: " + path + ": not an xgrad tensor file (bad magic");
}

TEST(LoadInto, CopiesValuesIntoTheExistingTensors) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, {{"w", tensor({1, 2, 3, 4}, {2, 2})}, {"b", tensor({5, 6})}});
    Tensor w = zeros({2, 2}, f32, /*requires_grad=*/true);
    Tensor b = zeros({2}, f32, /*requires_grad=*/true);
    sum(w * w).backward();  // a gradient that loading must leave alone
    const Array* storage = &w.value();
    load_into(path, {{"b", b}, {"w", w}});  // matched by name, not order
    EXPECT_EQ(w.to_vector(), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(b.to_vector(), (std::vector<double>{5, 6}));
    EXPECT_EQ(&w.value(), storage);
    EXPECT_TRUE(w.requires_grad());
    EXPECT_TRUE(w.has_grad());
}

TEST(LoadInto, ListsEveryMismatchAndChangesNothing) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path,
         {{"w", zeros({3, 4})}, {"b", zeros({4}, f64)}, {"ok", ones({2})}, {"extra", zeros({1})}});
    Tensor w = full({4, 3}, 9);
    Tensor b = full({4}, 9);
    Tensor ok = full({2}, 9);
    Tensor missing = full({1}, 9);
    try {
        load_into(path, {{"w", w}, {"b", b}, {"ok", ok}, {"missing", missing}});
        FAIL() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        for (const std::string& part :
             {"load_into: " + path + ": 4 mismatches, nothing was changed:",
              std::string("\"w\": shape differs (got (3,4) in the file, expected (4,3))"),
              std::string("\"b\": dtype differs (got float64 in the file, expected float32)"),
              std::string("\"missing\": missing from the file"),
              std::string("\"extra\": in the file but not among the targets")}) {
            EXPECT_NE(msg.find(part), std::string::npos) << msg << "\nlacks: " << part;
        }
    }
    for (const Tensor& t : {w, b, ok, missing}) {
        for (double v : t.to_vector()) EXPECT_EQ(v, 9);
    }
}

TEST(LoadInto, NonStrictSkipsUnmatchedNamesButNotShapeMismatches) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, {{"w", ones({2})}, {"optimizer.step", scalar(3)}});
    Tensor w = zeros({2});
    Tensor other = zeros({1});
    load_into(path, {{"w", w}, {"other", other}}, /*strict=*/false);
    EXPECT_EQ(w.to_vector(), (std::vector<double>{1, 1}));
    EXPECT_EQ(other.to_vector(), (std::vector<double>{0}));
    Tensor wrong = zeros({3});
    EXPECT_THROW_MSG(load_into(path, {{"w", wrong}}, /*strict=*/false), std::runtime_error,
                     "1 mismatch, nothing was changed:\n  \"w\": shape differs");
}

TEST(LoadInto, RejectsNonLeafUndefinedAndRepeatedTargets) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, {{"a", ones({2})}, {"b", ones({2})}, {"c", ones({2})}});
    const Tensor x = zeros({2}, f32, /*requires_grad=*/true);
    const Tensor y = x * 2.0;
    EXPECT_THROW_MSG(load_into(path, {{"a", y}, {"b", Tensor()}, {"c", x}, {"c", x}}),
                     std::runtime_error,
                     "\"a\": the target is not a leaf (got the output of 'mul')",
                     "\"b\": the target tensor is undefined", "\"c\": appears twice");
    EXPECT_EQ(x.to_vector(), (std::vector<double>{0, 0}));
}

TEST(LoadInto, ACorruptFileChangesNothing) {
    TempDir dir;
    const std::string path = dir.file("m.xgt");
    save(path, {{"w", ones({2})}});
    Bytes bytes = xgrad::testing::read_bytes(path);
    bytes[bytes.size() - 10] ^= 1;
    dir.write("m.xgt", bytes);
    Tensor w = zeros({2});
    EXPECT_THROW_MSG(load_into(path, {{"w", w}}), std::runtime_error, "checksum mismatch");
    EXPECT_EQ(w.to_vector(), (std::vector<double>{0, 0}));
}

TEST(Assign, CopiesDecodedTensorsWithLoadIntosChecksAndTheGivenContext) {
    const NamedTensors stored = {{"w", tensor({1, 2})}, {"b", tensor({3.0}, f64)}};
    Tensor w = zeros({2});
    Tensor b = zeros({1}, f64);
    assign(stored, {{"b", b}, {"w", w}}, "restore: mem");
    EXPECT_EQ(w.to_vector(), (std::vector<double>{1, 2}));
    EXPECT_EQ(b.to_vector(), (std::vector<double>{3}));
    Tensor wrong = full({3}, 9);
    EXPECT_THROW_MSG(assign(stored, {{"w", wrong}}, "restore: mem"), std::runtime_error,
                     "restore: mem: 2 mismatches, nothing was changed:",
                     "\"w\": shape differs (got (2) in the file, expected (3))",
                     "\"b\": in the file but not among the targets");
    EXPECT_EQ(wrong.to_vector(), (std::vector<double>{9, 9, 9}));
}

}  // namespace
}  // namespace xgrad::io
