// libFuzzer target for load_checkpoint. A fixed model (Linear(2,3), ReLU, Linear(3,2)) and an
// Adam that has stepped once read the input as a checkpoint file. The first byte chooses
// whether the optimizer is loaded too, and whether the file's size field and checksum are
// repaired first (so that mutations reach the record checks). Every input must load or throw
// std::runtime_error; a failed load must leave the model and the optimizer state bit for bit
// as they were.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/nn.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/serialize_repair.h"

using namespace xgrad;

namespace {

std::vector<std::string> bits_of(const nn::Module& model, const nn::optim::Optimizer& opt) {
    std::vector<std::string> out;
    for (const auto& [name, t] : model.named_parameters())
        out.push_back(name + fuzz::tensor_bits(t));
    for (const auto& [name, t] : opt.state()) out.push_back(name + fuzz::tensor_bits(t));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    fuzz::Bytes file(data + 1, data + size);
    if ((mode & 1) != 0) testing::repair_size_and_checksum(&file);
    const std::string path = fuzz::write_scratch("in.xgt", file);

    nn::Sequential model(nn::Linear(2, 3), nn::ReLU(), nn::Linear(3, 2));
    nn::init::uniform_(model.parameters(), -1, 1, /*seed=*/1);
    nn::optim::Adam adam(model.named_parameters(), nn::optim::AdamOptions(0.01));
    sum(model.forward(ones(Shape{4, 2}))).backward();
    adam.step();
    nn::optim::Adam* opt = (mode & 2) != 0 ? &adam : nullptr;
    const std::vector<std::string> before = bits_of(model, adam);
    try {
        nn::load_checkpoint(path, model, opt);
    } catch (const std::runtime_error&) {
        if (bits_of(model, adam) != before) fuzz::finding("a failed load_checkpoint changed state");
    }
    return 0;
}
