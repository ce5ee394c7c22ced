// A corpus of broken tensor files fed to the loader: every truncation, every flipped byte (with
// and without a repaired checksum), wrong magic and version, hostile counts and sizes. Each must
// give a std::runtime_error with a message, never a crash, another exception type or a huge
// allocation (the sanitizer build makes an oversized allocation fatal).

#include <gtest/gtest.h>

#include <random>

#include "autograd/tensor.h"
#include "nn/serialize.h"
#include "tests/fuzz/serialize_repair.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::io {
namespace {

using xgrad::testing::Bytes;
using xgrad::testing::repair_size_and_checksum;

Bytes valid_file() {
    return encode({{"w", tensor({1, 2, 3, 4, 5, 6}, {2, 3})},
                   {"b", tensor({0.5, -0.5}, f64)},
                   {"s", scalar(3)}});
}

// Decodes `bytes`: success, or a std::runtime_error naming the source. Anything else fails.
::testing::AssertionResult decodes_or_fails_cleanly(const Bytes& bytes) {
    try {
        decode(bytes.data(), bytes.size(), "corpus");
        return ::testing::AssertionSuccess() << "decoded";
    } catch (const std::runtime_error& e) {
        if (std::string(e.what()).rfind("load: corpus: ", 0) != 0) {
            return ::testing::AssertionFailure() << "message lacks the source: " << e.what();
        }
        return ::testing::AssertionSuccess() << e.what();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "wrong exception type: " << e.what();
    }
}

void put_u64(Bytes* b, std::size_t at, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) (*b)[at + i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u32(Bytes* b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

// Offsets in valid_file(): the header is 24 bytes; record 0 ("w") starts at 24.
constexpr std::size_t kCount = 12, kSize = 16, kNameLen = 24, kDtype = 29, kNdim = 30, kDim0 = 33;

std::string decode_error(Bytes bytes, bool repair = true) {
    if (repair) repair_size_and_checksum(&bytes);
    try {
        decode(bytes.data(), bytes.size(), "corpus");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(SerializeCorpus, EveryTruncationIsACleanError) {
    const Bytes full = valid_file();
    for (std::size_t n = 0; n < full.size(); ++n) {
        const Bytes cut(full.begin(), full.begin() + static_cast<long>(n));
        EXPECT_THROW(decode(cut.data(), cut.size(), "corpus"), std::runtime_error) << n;
    }
    EXPECT_NE(decode_error(Bytes(full.begin(), full.end() - 1), false).find("truncated (got"),
              std::string::npos);
}

TEST(SerializeCorpus, EveryTruncatedFileOnDiskIsACleanError) {
    xgrad::testing::TempDir dir;
    const Bytes full = valid_file();
    for (std::size_t n = 0; n < full.size(); n += 7) {
        const std::string path =
            dir.write("cut.xgt", Bytes(full.begin(), full.begin() + static_cast<long>(n)));
        EXPECT_THROW_MSG(load(path), std::runtime_error, "load: " + path + ": ");
    }
}

TEST(SerializeCorpus, EveryFlippedByteIsDetected) {
    const Bytes full = valid_file();
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (const unsigned mask : {0x01, 0x80, 0xFF}) {
            Bytes bad = full;
            bad[i] = static_cast<unsigned char>(bad[i] ^ mask);
            EXPECT_THROW(decode(bad.data(), bad.size(), "corpus"), std::runtime_error)
                << "byte " << i << " mask " << mask;
        }
    }
}

TEST(SerializeCorpus, FlippedBytesBehindARepairedChecksumNeverCrash) {
    const Bytes full = valid_file();
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (const unsigned mask : {0x01, 0x02, 0x10, 0x40, 0x80, 0xFF}) {
            Bytes bad = full;
            bad[i] = static_cast<unsigned char>(bad[i] ^ mask);
            repair_size_and_checksum(&bad);
            EXPECT_TRUE(decodes_or_fails_cleanly(bad)) << "byte " << i << " mask " << mask;
        }
    }
}

TEST(SerializeCorpus, RandomBytesAfterAValidHeaderNeverCrash) {
    std::mt19937_64 rng(20240601);
    const Bytes valid = valid_file();
    const Bytes header(valid.begin(), valid.begin() + 24);
    for (int trial = 0; trial < 2000; ++trial) {
        Bytes b = header;
        const std::size_t extra = rng() % 200;
        for (std::size_t k = 0; k < extra; ++k) b.push_back(static_cast<unsigned char>(rng()));
        // Small counts and lengths make it past the first checks more often.
        put_u32(&b, kCount, static_cast<std::uint32_t>(rng() % 4));
        if (b.size() > kNameLen + 4) put_u32(&b, kNameLen, static_cast<std::uint32_t>(rng() % 8));
        repair_size_and_checksum(&b);
        EXPECT_TRUE(decodes_or_fails_cleanly(b)) << "trial " << trial;
    }
}

TEST(SerializeCorpus, WrongMagicIsRejected) {
    Bytes b = valid_file();
    b[1] = 'Y';
    EXPECT_NE(decode_error(b).find("not an xgrad tensor file (bad magic"), std::string::npos);
    EXPECT_NE(decode_error(Bytes{}).find("empty file"), std::string::npos);
    EXPECT_NE(decode_error(Bytes{0x89, 'X'}).find("truncated (got 2 bytes"), std::string::npos);
}

TEST(SerializeCorpus, WrongVersionIsRejected) {
    Bytes b = valid_file();
    put_u32(&b, 8, 2);
    EXPECT_NE(decode_error(b).find("unsupported format version (got 2, expected 1)"),
              std::string::npos);
}

TEST(SerializeCorpus, ChecksumMismatchSaysCorrupted) {
    Bytes b = valid_file();
    b[40] ^= 4;
    EXPECT_NE(decode_error(b, /*repair=*/false).find("checksum mismatch (stored 0x"),
              std::string::npos);
}

TEST(SerializeCorpus, TrailingDataIsRejected) {
    Bytes b = valid_file();
    b.push_back(0);
    EXPECT_NE(decode_error(b, false).find("trailing data (got"), std::string::npos);
    // With the size and checksum made consistent, the parser finds the unparsed byte.
    Bytes c = valid_file();
    c.insert(c.end() - 4, 0);
    EXPECT_NE(decode_error(c).find("malformed: 1 bytes after the last record"), std::string::npos);
}

TEST(SerializeCorpus, HugeDeclaredSizeIsTruncationNotAnAllocation) {
    Bytes b = valid_file();
    put_u64(&b, kSize, ~std::uint64_t{0});
    EXPECT_NE(decode_error(b, false).find("truncated (got"), std::string::npos);
}

TEST(SerializeCorpus, HugeCountIsRejectedBeforeReserving) {
    Bytes b = valid_file();
    put_u32(&b, kCount, 0xFFFFFFFFu);
    EXPECT_NE(decode_error(b).find("malformed: 4294967295 records cannot fit in"),
              std::string::npos);
}

TEST(SerializeCorpus, HugeNameLengthIsRejected) {
    Bytes b = valid_file();
    put_u32(&b, kNameLen, 0xFFFFFFF0u);
    EXPECT_NE(decode_error(b).find("record 0: bad name length (got 4294967280"), std::string::npos);
    put_u32(&b, kNameLen, 60000);
    EXPECT_NE(decode_error(b).find("record 0: the name needs 60000 bytes but only"),
              std::string::npos);
}

TEST(SerializeCorpus, HugeDimensionsAreRejectedBeforeAllocating) {
    Bytes b = valid_file();
    put_u64(&b, kDim0, std::uint64_t{1} << 40);  // 2^40 x 3 floats: far more than the file
    EXPECT_NE(decode_error(b).find("record 0 \"w\": the data needs 13194139533312 bytes but only"),
              std::string::npos);
    put_u64(&b, kDim0, std::uint64_t{1} << 63);  // 2^63 x 3: the element count overflows
    EXPECT_NE(decode_error(b).find("record 0 \"w\": declared size overflows"), std::string::npos);
    put_u64(&b, kDim0, std::uint64_t{1} << 62);  // 2^62 x 3 fits, x 4 bytes does not
    EXPECT_NE(decode_error(b).find("declared size overflows"), std::string::npos);
}

TEST(SerializeCorpus, ZeroDimensionDoesNotHideAnAbsurdShape) {
    // A record "z" of shape (0, 2^40, 2^40): no data, but an absurd shape.
    Bytes b = encode({{"z", zeros({0, 1, 1})}});
    put_u64(&b, 24 + 4 + 1 + 4 + 8, std::uint64_t{1} << 40);
    put_u64(&b, 24 + 4 + 1 + 4 + 16, std::uint64_t{1} << 40);
    EXPECT_NE(decode_error(b).find("declared size overflows"), std::string::npos);
}

TEST(SerializeCorpus, UnknownDtypeAndReservedBitsAreRejected) {
    Bytes b = valid_file();
    b[kDtype] = 7;
    EXPECT_NE(decode_error(b).find("unknown dtype code (got 7, expected 0 for float32, 1 for "
                                   "float64, 2 for int64 or 3 for bool)"),
              std::string::npos);
    b = valid_file();
    b[kNdim + 1] = 1;
    EXPECT_NE(decode_error(b).find("reserved field is not zero"), std::string::npos);
}

TEST(SerializeCorpus, DuplicateNamesInAFileAreRejected) {
    Bytes b = encode({{"a", scalar(1)}, {"b", scalar(2)}});
    b[24 + 4 + 1 + 4 + 4 + 4] = 'a';  // the second record's name
    EXPECT_NE(decode_error(b).find("record 1 \"a\": duplicate name"), std::string::npos);
}

}  // namespace
}  // namespace xgrad::io
