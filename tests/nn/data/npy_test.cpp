// .npy / .npz: files written by NumPy 1.24 (tests/nn/data/npy/, by ref_npy_fixtures.py there)
// read back with their values; files we write checked against the format's rules (and, for
// .npy, byte for byte against NumPy's own); round trips of every dtype; corrupt input.

#include "nn/npy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::io {
namespace {

using xgrad::testing::Bytes;
using xgrad::testing::read_bytes;
using xgrad::testing::TempDir;

std::string fixture(const std::string& name) {
    return std::string(XGRAD_SOURCE_DIR) + "/tests/nn/data/npy/" + name;
}

std::uint64_t le(const Bytes& b, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | b[at + i];
    return v;
}

TEST(Npy, ReadsEveryDtypeNumPyWrote) {
    const Array f = load_npy(fixture("f32_2x3.npy"));
    EXPECT_EQ(f.dtype(), f32);
    EXPECT_EQ(f.shape(), (Shape{2, 3}));
    EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f}));
    const Array s = load_npy(fixture("f64_scalar.npy"));
    EXPECT_EQ(s.shape(), Shape{});
    EXPECT_EQ(s.item(), 2.718281828459045);
    const Array i = load_npy(fixture("i64_4.npy"));
    EXPECT_EQ(i.dtype(), i64);
    EXPECT_EQ(i.to_vector<std::int64_t>(),
              (std::vector<std::int64_t>{0, -1, (std::int64_t{1} << 62) + 1, INT64_MIN}));
    const Array b = load_npy(fixture("bool_2x2.npy"));
    EXPECT_EQ(b.dtype(), bool_);
    EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
    EXPECT_EQ(load_npy(fixture("empty_0x3.npy")).shape(), (Shape{0, 3}));
}

TEST(Npy, ReadsFortranOrderAndBigEndianIntoRowMajorNativeArrays) {
    const Array f = load_npy(fixture("f64_fortran_2x3.npy"));
    EXPECT_EQ(f.shape(), (Shape{2, 3}));
    EXPECT_EQ(f.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
    const Array be = load_npy(fixture("f8_big_endian_3.npy"));
    EXPECT_EQ(be.dtype(), f64);
    EXPECT_EQ(be.to_vector(), (std::vector<double>{1.0, -2.5, 1e300}));
}

TEST(Npy, WritesTheBytesNumPyWrites) {
    // NumPy pads the header to 64 bytes with spaces and a '\n'; the same array gives the same file.
    for (const char* name :
         {"f32_2x3.npy", "f64_scalar.npy", "i64_4.npy", "bool_2x2.npy", "empty_0x3.npy"}) {
        const Bytes numpy = read_bytes(fixture(name));
        EXPECT_EQ(encode_npy(load_npy(fixture(name))), numpy) << name;
    }
}

TEST(Npy, WrittenHeadersFollowTheFormatRules) {
    for (const Array& a :
         {Array::from_vector(std::vector<float>{1, 2, 3}), Array(f64, Shape{2, 1, 4, 3, 5}),
          Array::scalar(f32, 1), Array::from_vector(std::vector<bool>{true})}) {
        const Bytes b = encode_npy(a);
        ASSERT_GE(b.size(), 10u);
        EXPECT_EQ(std::memcmp(b.data(), "\x93NUMPY", 6), 0);
        EXPECT_EQ(b[6], 1);  // version 1.0
        EXPECT_EQ(b[7], 0);
        const std::size_t len = le(b, 8, 2);
        EXPECT_EQ((10 + len) % 64, 0u) << "the data must start 64-byte aligned";
        const std::string header(b.begin() + 10, b.begin() + 10 + long(len));
        EXPECT_EQ(header.back(), '\n');
        EXPECT_EQ(header.rfind("{'descr': '", 0), 0u) << header;
        EXPECT_NE(header.find("'fortran_order': False, 'shape': ("), std::string::npos) << header;
        EXPECT_EQ(b.size(), 10 + len + a.nbytes());
    }
    EXPECT_NE(std::string(reinterpret_cast<const char*>(
                              encode_npy(Array::from_vector(std::vector<float>{1, 2})).data()),
                          128)
                  .find("'shape': (2,), }"),
              std::string::npos);  // a 1-tuple keeps its comma, as Python writes it
}

TEST(Npy, EveryDtypeRoundTripsThroughAFile) {
    TempDir dir;
    const std::vector<Array> arrays = {
        uniform({3, 4, 2}, -1, 1, 1, f32).value(), uniform({5}, -1, 1, 2, f64).value(),
        Array::from_vector(std::vector<std::int64_t>{INT64_MAX, INT64_MIN, 0}, {3, 1}),
        Array::from_vector(std::vector<bool>{false, true, true}), Array(f32, Shape{0})};
    for (std::size_t k = 0; k < arrays.size(); ++k) {
        const std::string path = dir.file("a" + std::to_string(k) + ".npy");
        save_npy(path, arrays[k]);
        const Array back = load_npy(path);
        EXPECT_EQ(back.dtype(), arrays[k].dtype());
        EXPECT_EQ(back.shape(), arrays[k].shape());
        EXPECT_EQ(std::memcmp(back.raw(), arrays[k].raw(), back.nbytes()), 0) << k;
    }
}

TEST(Npy, BadFilesGiveClearErrors) {
    EXPECT_THROW_MSG(load_npy(fixture("i32_unsupported.npy")), std::runtime_error, "load_npy",
                     "i32_unsupported.npy", "unsupported dtype '<i4'");
    const Bytes good = read_bytes(fixture("f32_2x3.npy"));
    Bytes cut(good.begin(), good.end() - 4);
    EXPECT_THROW_MSG(decode_npy(cut.data(), cut.size(), "mem"), std::runtime_error,
                     "load_npy: mem: truncated", "(2,3)", "24 bytes", "20");
    Bytes extra = good;
    extra.push_back(0);
    EXPECT_THROW_MSG(decode_npy(extra.data(), extra.size(), "mem"), std::runtime_error,
                     "1 bytes after the data");
    EXPECT_THROW_MSG(decode_npy(good.data(), 5, "mem"), std::runtime_error, "not a .npy file");
    // A hostile shape: the element count overflows; nothing is allocated.
    std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
    h.append(118 - h.size(), ' ');
    h += '\n';
    Bytes hostile = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
    hostile.insert(hostile.end(), h.begin(), h.end());
    EXPECT_THROW_MSG(decode_npy(hostile.data(), hostile.size(), "mem"), std::runtime_error,
                     "declared size overflows");
    std::string k = "{'descr': '<f4', 'fortran': False, 'shape': (2,), }";
    k.append(118 - k.size(), ' ');
    k += '\n';
    Bytes badkey = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
    badkey.insert(badkey.end(), k.begin(), k.end());
    EXPECT_THROW_MSG(decode_npy(badkey.data(), badkey.size(), "mem"), std::runtime_error,
                     "malformed .npy header", "unexpected key 'fortran'");
    Bytes badbool = encode_npy(Array::from_vector(std::vector<bool>{true}));
    badbool.back() = 7;
    EXPECT_THROW_MSG(decode_npy(badbool.data(), badbool.size(), "mem"), std::runtime_error,
                     "bool byte");
}

TEST(Npz, ReadsStoredAndDeflatedArchivesNumPyWrote) {
    for (const char* name : {"model_stored.npz", "model_deflated.npz"}) {
        const NamedTensors z = load_npz(fixture(name));
        ASSERT_EQ(z.size(), 3u) << name;
        EXPECT_EQ(z[0].first, "weight");
        EXPECT_EQ(z[1].first, "bias");
        EXPECT_EQ(z[2].first, "steps");
        EXPECT_EQ(z[0].second.shape(), (Shape{2, 3}));
        EXPECT_EQ(z[0].second.value().at<float>(2), 3.25f);
        EXPECT_EQ(z[1].second.to_vector(), (std::vector<double>{0.5, -0.5}));
        EXPECT_EQ(z[2].second.value().at<std::int64_t>(2), (std::int64_t{1} << 62) + 1);
    }
}

TEST(Npz, WrittenArchivesFollowTheZipRules) {
    const NamedTensors saved = {{"fc1.weight", uniform({4, 3}, -1, 1, 3, f32)},
                                {"fc1.bias", zeros({4}, f64)}};
    const Bytes b = encode_npz(saved);
    // Local header of the first entry: signature, version 2.0, no flags, STORED, the CRC-32 of
    // the .npy bytes that follow the name, equal sizes.
    ASSERT_GE(b.size(), 30u);
    EXPECT_EQ(le(b, 0, 4), 0x04034b50u);
    EXPECT_EQ(le(b, 4, 2), 20u);
    EXPECT_EQ(le(b, 6, 2), 0u);
    EXPECT_EQ(le(b, 8, 2), 0u);
    const std::size_t csize = le(b, 18, 4), usize = le(b, 22, 4), name_len = le(b, 26, 2);
    EXPECT_EQ(csize, usize);
    EXPECT_EQ(std::string(b.begin() + 30, b.begin() + 30 + long(name_len)), "fc1.weight.npy");
    const Bytes npy(b.begin() + 30 + long(name_len), b.begin() + 30 + long(name_len + usize));
    EXPECT_EQ(npy, encode_npy(saved[0].second.value()));
    EXPECT_EQ(le(b, 14, 4), crc32(0, npy.data(), static_cast<uInt>(npy.size())));
    // End of central directory: two entries, the directory right before it.
    const std::size_t end = b.size() - 22;
    EXPECT_EQ(le(b, end, 4), 0x06054b50u);
    EXPECT_EQ(le(b, end + 10, 2), 2u);
    EXPECT_EQ(le(b, end + 16, 4) + le(b, end + 12, 4), end);
    EXPECT_EQ(le(b, le(b, end + 16, 4), 4), 0x02014b50u);
    // And it reads back.
    const NamedTensors back = decode_npz(b.data(), b.size(), "mem");
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].first, "fc1.weight");
    EXPECT_EQ(back[0].second.to_vector(), saved[0].second.to_vector());
    EXPECT_EQ(back[1].second.dtype(), f64);
}

TEST(Npz, NamedParametersGoToAndFromAnArchive) {
    TempDir dir;
    Tensor w = uniform({3, 2}, -1, 1, 4, f32, true), bias = zeros({3}, f32, true);
    save_npz(dir.file("m.npz"), {{"w", w}, {"b", bias}});
    Tensor w2 = zeros({3, 2}, f32, true), b2 = ones({3}, f32, true);
    load_npz_into(dir.file("m.npz"), {{"w", w2}, {"b", b2}});
    EXPECT_EQ(w2.to_vector(), w.to_vector());
    EXPECT_EQ(b2.to_vector(), bias.to_vector());
    Tensor wrong = zeros({2, 2}, f32, true);
    EXPECT_THROW_MSG(load_npz_into(dir.file("m.npz"), {{"w", wrong}, {"b", b2}}),
                     std::runtime_error, "load_npz_into", "w");
    EXPECT_THROW_MSG(save_npz(dir.file("x.npz"), {{"w", w}, {"w", w}}), std::invalid_argument,
                     "duplicate tensor name");
}

TEST(Npz, CorruptArchivesGiveClearErrors) {
    Bytes z = read_bytes(fixture("model_deflated.npz"));
    EXPECT_THROW_MSG(decode_npz(z.data(), 10, "mem"), std::runtime_error, "load_npz: mem",
                     "not a .npz file");
    Bytes flipped = z;
    flipped[60] ^= 0xff;  // inside the first entry's deflate stream
    EXPECT_THROW_MSG(decode_npz(flipped.data(), flipped.size(), "mem"), std::runtime_error,
                     "weight");
    Bytes stored = read_bytes(fixture("model_stored.npz"));
    stored[stored.size() / 4] ^= 0x01;  // a data byte of a stored entry: the CRC catches it
    try {
        decode_npz(stored.data(), stored.size(), "mem");
        ADD_FAILURE() << "a flipped byte was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("load_npz: mem"), std::string::npos) << e.what();
    }
    const Bytes npy = read_bytes(fixture("f32_2x3.npy"));
    EXPECT_THROW_MSG(decode_npz(npy.data(), npy.size(), "mem"), std::runtime_error,
                     "not a .npz file");
}

}  // namespace
}  // namespace xgrad::io
