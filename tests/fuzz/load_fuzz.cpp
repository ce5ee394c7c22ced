// libFuzzer target for io::load and io::load_into (from a file; serialize_fuzz.cpp fuzzes the
// in-memory decoder). The first byte chooses whether the size field and checksum are repaired
// first, and whether load_into is strict. Every input must load or throw std::runtime_error;
// io::load must agree with io::decode of the same bytes; a failed load_into must leave its
// targets bit for bit as they were, and a successful one must hold the values io::load read.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/serialize.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/serialize_repair.h"

using namespace xgrad;

namespace {

std::vector<std::string> bits_of(const io::NamedTensors& tensors) {
    std::vector<std::string> out;
    for (const auto& [name, t] : tensors) out.push_back(name + "=" + fuzz::tensor_bits(t));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    fuzz::Bytes file(data + 1, data + size);
    if ((mode & 1) != 0) testing::repair_size_and_checksum(&file);
    const bool strict = (mode & 2) == 0;
    const std::string path = fuzz::write_scratch("in.xgt", file);

    bool loaded = false, decoded = false;
    io::NamedTensors from_file, from_bytes;
    try {
        from_file = io::load(path);
        loaded = true;
    } catch (const std::runtime_error&) {
    }
    try {
        from_bytes = io::decode(file.data(), file.size(), "bytes");
        decoded = true;
    } catch (const std::runtime_error&) {
    }
    if (loaded != decoded || (loaded && bits_of(from_file) != bits_of(from_bytes))) {
        fuzz::finding("io::load and io::decode disagree");
    }

    // The targets of the seed corpus's files: "w" (2,3) float32, "b" (3) float64, "step" ().
    Tensor w = full(Shape{2, 3}, 7, f32, /*requires_grad=*/true);
    Tensor b = full(Shape{3}, -1, f64);
    Tensor step = scalar(5, f64);
    const io::NamedTensors targets = {{"w", w}, {"b", b}, {"step", step}};
    const std::vector<std::string> before = bits_of(targets);
    try {
        io::load_into(path, targets, strict);
    } catch (const std::runtime_error&) {
        if (bits_of(targets) != before) fuzz::finding("a failed load_into changed its targets");
        return 0;
    }
    if (!loaded) fuzz::finding("load_into accepted a file that io::load refused");
    for (const auto& [name, t] : targets) {
        for (const auto& [stored_name, stored] : from_file) {
            if (stored_name == name && fuzz::tensor_bits(stored) != fuzz::tensor_bits(t)) {
                fuzz::finding("load_into did not copy \"" + name + "\"");
            }
        }
    }
    return 0;
}
