// libFuzzer target for the tensor-file loader (io::decode, which io::load and io::load_into
// use). Every input must decode or throw std::runtime_error; any other exception, a crash, a
// sanitizer report or an oversized allocation is a finding. Each input runs twice: as it is,
// and with its size field and checksum repaired, so that mutations reach the record parser.
//
// Build and run with clang (see README.md, "Saving and loading"):
//   CXX=clang++ cmake -B build-fuzz -G Ninja -DXGRAD_FUZZ=ON -DXGRAD_BUILD_BENCH=OFF
//         -DXGRAD_BUILD_EXAMPLES=OFF        (one command)
//   cmake --build build-fuzz --target xgrad_serialize_fuzz
//   ./build-fuzz/tests/xgrad_serialize_fuzz -max_total_time=60 -rss_limit_mb=512
//         tests/fuzz/corpus/serialize       (one command)
// With g++ the same function is built into xgrad_serialize_fuzz_replay, which runs the files
// named on its command line (a corpus, or a crash file to reproduce).

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "nn/serialize.h"
#include "tests/fuzz/serialize_repair.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        xgrad::io::decode(data, size, "fuzz");
    } catch (const std::runtime_error&) {
    }
    std::vector<unsigned char> repaired(data, data + size);
    xgrad::testing::repair_size_and_checksum(&repaired);
    try {
        xgrad::io::decode(repaired.data(), repaired.size(), "fuzz");
    } catch (const std::runtime_error&) {
    }
    return 0;
}
