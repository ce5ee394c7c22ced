#pragma once
// Shared by the fuzz target and the corpus test: makes a mutated tensor file pass the size and
// checksum checks, so that the mutation reaches the record parser behind them.

#include <zlib.h>

#include <cstdint>
#include <vector>

namespace xgrad::testing {

/// Rewrites the header's size field (bytes 16..23) to the buffer's size and the trailing CRC-32
/// to the checksum of everything before it. Buffers shorter than an empty file (28 bytes) are
/// left alone.
inline void repair_size_and_checksum(std::vector<unsigned char>* bytes) {
    std::vector<unsigned char>& b = *bytes;
    if (b.size() < 28) return;
    const std::uint64_t size = b.size();
    for (int i = 0; i < 8; ++i) b[16 + i] = static_cast<unsigned char>(size >> (8 * i));
    const auto crc = static_cast<std::uint32_t>(
        crc32(crc32(0L, Z_NULL, 0), b.data(), static_cast<uInt>(size - 4)));
    for (int i = 0; i < 4; ++i) b[size - 4 + i] = static_cast<unsigned char>(crc >> (8 * i));
}

}  // namespace xgrad::testing
