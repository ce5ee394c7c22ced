// read_idx and load_mnist: every element type, gzip, and clean errors for broken files.

#include "nn/data/idx.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::data {
namespace {

using xgrad::testing::Bytes;
using xgrad::testing::TempDir;

void put_be(Bytes* b, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b->push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// An IDX header (magic, then big-endian dims) followed by `payload`.
Bytes idx(unsigned char type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes b = {0, 0, type, static_cast<unsigned char>(dims.size())};
    for (std::uint32_t d : dims) put_be(&b, d, 4);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes iota_bytes(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(i);
    return b;
}

TEST(ReadIdx, ReadsUnsignedByteImages) {
    TempDir dir;
    const Array a = read_idx(dir.write("img.idx", idx(0x08, {2, 2, 3}, iota_bytes(12))));
    EXPECT_EQ(a.shape(), Shape({2, 2, 3}));
    EXPECT_EQ(a.dtype(), f32);
    EXPECT_EQ(a.at({1, 0, 2}), 8);
    EXPECT_EQ(a.at({1, 1, 2}), 11);
}

TEST(ReadIdx, GzipAndPlainFilesReadTheSame) {
    TempDir dir;
    const Bytes file = idx(0x08, {3, 5}, iota_bytes(15));
    const Array plain = read_idx(dir.write("a.idx", file), f64);
    const Array gz = read_idx(dir.write_gz("a.idx.gz", file), f64);
    EXPECT_EQ(gz.shape(), Shape({3, 5}));
    EXPECT_EQ(gz.to_vector(), plain.to_vector());
}

TEST(ReadIdx, ReadsEveryElementTypeBigEndian) {
    TempDir dir;
    Bytes p;
    p = {0xFF, 0x01};  // signed bytes -1, 1
    EXPECT_EQ(read_idx(dir.write("i8", idx(0x09, {2}, p))).to_vector(),
              (std::vector<double>{-1, 1}));
    p.clear();
    put_be(&p, 0xFFFE, 2);  // int16 -2
    put_be(&p, 0x0102, 2);  // 258
    EXPECT_EQ(read_idx(dir.write("i16", idx(0x0B, {2}, p))).to_vector(),
              (std::vector<double>{-2, 258}));
    p.clear();
    put_be(&p, 0xFFFFFFFDu, 4);  // int32 -3
    put_be(&p, 0x00010000u, 4);  // 65536
    EXPECT_EQ(read_idx(dir.write("i32", idx(0x0C, {2}, p))).to_vector(),
              (std::vector<double>{-3, 65536}));
    p.clear();
    const float f = -1.5f;
    std::uint32_t fbits;
    std::memcpy(&fbits, &f, 4);
    put_be(&p, fbits, 4);
    EXPECT_EQ(read_idx(dir.write("f32", idx(0x0D, {1}, p))).to_vector(),
              (std::vector<double>{-1.5}));
    p.clear();
    const double d = 0.1;
    std::uint64_t dbits;
    std::memcpy(&dbits, &d, 8);
    put_be(&p, dbits, 8);
    EXPECT_EQ(read_idx(dir.write("f64", idx(0x0E, {1}, p)), f64).to_vector(),
              (std::vector<double>{0.1}));
}

TEST(ReadIdx, ZeroSizedDimensionGivesAnEmptyArray) {
    TempDir dir;
    EXPECT_EQ(read_idx(dir.write("a.idx", idx(0x08, {0, 28, 28}, {}))).shape(), Shape({0, 28, 28}));
}

TEST(ReadIdx, MissingFileNamesThePath) {
    TempDir dir;
    const std::string path = dir.file("nope.idx");
    EXPECT_THROW_MSG(read_idx(path), std::runtime_error, "read_idx: " + path + ": file not found");
}

TEST(ReadIdx, EmptyFileIsAnError) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", Bytes{})), std::runtime_error,
                     "empty file (expected an IDX header)");
}

TEST(ReadIdx, BadMagicIsAnError) {
    TempDir dir;
    const std::string path = dir.write("a.idx", std::string("hello world"));
    EXPECT_THROW_MSG(read_idx(path), std::runtime_error,
                     "read_idx: " + path + ": bad magic number (got 0x68656C6C");
}

TEST(ReadIdx, UnknownTypeCodeIsAnError) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", idx(0x0A, {1}, {0}))), std::runtime_error,
                     "unknown element type code (got 0x0A");
}

TEST(ReadIdx, NoDimensionsIsAnError) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", idx(0x08, {}, {}))), std::runtime_error,
                     "no dimensions (got 0, expected at least 1)");
}

TEST(ReadIdx, TruncatedHeaderIsAnError) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", Bytes{0, 0})), std::runtime_error,
                     "truncated: the data ends inside the 4-byte magic number");
    Bytes cut = idx(0x08, {60000, 28, 28}, {});
    cut.resize(10);
    EXPECT_THROW_MSG(read_idx(dir.write("b.idx", cut)), std::runtime_error,
                     "truncated: the data ends inside the dimensions (got 6 of 12 bytes)");
}

TEST(ReadIdx, TruncatedDataNamesTheDeclaredSize) {
    TempDir dir;
    const std::string path = dir.write("a.idx", idx(0x08, {3, 4}, iota_bytes(10)));
    EXPECT_THROW_MSG(read_idx(path), std::runtime_error,
                     "read_idx: " + path +
                         ": truncated: the header declares dimensions (3,4), 12 bytes of data "
                         "but the file has 10");
}

TEST(ReadIdx, ExtraDataIsASizeMismatch) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", idx(0x08, {3, 4}, iota_bytes(13)))),
                     std::runtime_error,
                     "size mismatch: the header declares dimensions (3,4), 12 bytes of data but "
                     "the file has 13");
    EXPECT_THROW_MSG(read_idx(dir.write_gz("a.idx.gz", idx(0x08, {3, 4}, iota_bytes(13)))),
                     std::runtime_error, "size mismatch");
}

TEST(ReadIdx, HugeDeclaredSizeIsRejectedBeforeAllocating) {
    // 4e9 x 1e9 bytes: the reader must compare with the file size, not try to allocate.
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", idx(0x08, {4000000000u, 1000000000u}, {1}))),
                     std::runtime_error, "truncated: the header declares dimensions");
    EXPECT_THROW_MSG(read_idx(dir.write_gz("a.idx.gz", idx(0x08, {4000000000u, 1000000000u}, {1}))),
                     std::runtime_error, "impossible size", "more than a gzip file of");
}

TEST(ReadIdx, OverflowingDimensionsAreRejected) {
    TempDir dir;
    const std::uint32_t big = 0xFFFFFFFFu;
    EXPECT_THROW_MSG(read_idx(dir.write("a.idx", idx(0x0E, {big, big, big}, {}))),
                     std::runtime_error, "declared size overflows (dimensions (4294967295,");
    // A zero dimension does not hide an absurd shape.
    EXPECT_THROW_MSG(read_idx(dir.write("b.idx", idx(0x08, {0, big, big, big}, {}))),
                     std::runtime_error, "declared size overflows");
}

TEST(ReadIdx, GzipDataShorterThanDeclaredIsTruncated) {
    TempDir dir;
    EXPECT_THROW_MSG(read_idx(dir.write_gz("a.idx.gz", idx(0x08, {100, 100}, iota_bytes(10)))),
                     std::runtime_error,
                     "truncated: the header declares dimensions (100,100), 10000 bytes of "
                     "data but the file has 10");
}

TEST(ReadIdx, EveryTruncationOfAGzipFileIsACleanError) {
    TempDir dir;
    const std::string path = dir.write_gz("a.idx.gz", idx(0x08, {10, 10}, iota_bytes(100)));
    const Bytes full = xgrad::testing::read_bytes(path);
    for (std::size_t n = 0; n < full.size(); ++n) {
        const std::string cut =
            dir.write("cut.gz", Bytes(full.begin(), full.begin() + static_cast<long>(n)));
        EXPECT_THROW(read_idx(cut), std::runtime_error) << "cut at " << n;
    }
}

TEST(ReadIdx, CorruptGzipDataIsACleanError) {
    TempDir dir;
    const std::string path = dir.write_gz("a.idx.gz", idx(0x08, {10, 10}, iota_bytes(100)));
    const Bytes full = xgrad::testing::read_bytes(path);
    // The 10-byte gzip header, then the deflate data, then CRC-32 and size: flip each byte
    // past the header; zlib's checks or ours must catch every one.
    for (std::size_t i = 10; i < full.size(); ++i) {
        Bytes bad = full;
        bad[i] ^= 0x55;
        const std::string p = dir.write("bad.gz", bad);
        try {
            read_idx(p);
            ADD_FAILURE() << "flipped byte " << i << " was not detected";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
        }
    }
}

TEST(LoadMnist, PairsScaledFlattenedImagesWithLabels) {
    TempDir dir;
    Bytes pixels(2 * 2 * 2, 0);
    pixels[3] = 255;
    pixels[4] = 51;
    const std::string images = dir.write_gz("img.gz", idx(0x08, {2, 2, 2}, pixels));
    const std::string labels = dir.write("lab", idx(0x08, {2}, {7, 3}));
    const Dataset ds = load_mnist(images, labels);
    EXPECT_EQ(ds.features().shape(), Shape({2, 4}));
    EXPECT_EQ(ds.features().to_vector(), (std::vector<double>{0, 0, 0, 1, 0.2f, 0, 0, 0}));
    EXPECT_EQ(ds.labels().to_vector(), (std::vector<double>{7, 3}));

    MnistOptions raw;
    raw.flatten = false;
    raw.scale = false;
    raw.dtype = f64;
    const Dataset unflat = load_mnist(images, labels, raw);
    EXPECT_EQ(unflat.features().shape(), Shape({2, 2, 2}));
    EXPECT_EQ(unflat.features().at({0, 1, 1}), 255);
}

TEST(LoadMnist, CountMismatchNamesBothFiles) {
    TempDir dir;
    const std::string images = dir.write("img", idx(0x08, {2, 1, 1}, {1, 2}));
    const std::string labels = dir.write("lab", idx(0x08, {3}, {0, 1, 2}));
    EXPECT_THROW_MSG(load_mnist(images, labels), std::runtime_error,
                     "load_mnist: " + images +
                         ": image and label counts differ (got 2 images "
                         "and 3 labels in " +
                         labels + ")");
}

TEST(LoadMnist, RejectsSwappedFiles) {
    TempDir dir;
    const std::string images = dir.write("img", idx(0x08, {2, 1, 1}, {1, 2}));
    const std::string labels = dir.write("lab", idx(0x08, {2}, {0, 1}));
    EXPECT_THROW_MSG(load_mnist(labels, images), std::runtime_error,
                     "load_mnist: " + images + ": not a label file (got dimensions (2,1,1)");
}

}  // namespace
}  // namespace xgrad::data
