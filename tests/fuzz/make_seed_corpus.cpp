// Writes the seed corpora of the file-reader fuzz targets (tests/fuzz/corpus/<target>/), so
// that they can be regenerated and reviewed: valid files of every kind each target reads, and
// a few near misses. Each seed starts with the target's mode byte (see the target's comment).
//   cmake --build build --target xgrad_fuzz_make_seeds
//   ./build/tests/xgrad_fuzz_make_seeds tests/fuzz/corpus

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/nn.h"
#include "nn/serialize.h"
#include "tests/fuzz/fuzz_util.h"

using namespace xgrad;
using fuzz::Bytes;

namespace {

std::filesystem::path root;

void put(const std::string& target, const std::string& name, std::uint8_t mode, Bytes body) {
    const auto dir = root / target;
    std::filesystem::create_directories(dir);
    body.insert(body.begin(), mode);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(body.data()),
              static_cast<std::streamsize>(body.size()));
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An IDX file: type code, dimensions, then `payload` as the element bytes.
Bytes idx(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
    Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    }
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes counting(std::size_t n, std::uint8_t step = 1) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * step);
    return b;
}

Bytes file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: xgrad_fuzz_make_seeds <corpus dir>\n";
        return 2;
    }
    root = argv[1];

    // csv: mode bit 0 header, bits 1-2 delimiter (, ; tab space), bit 3 float64, bit 4 gzip.
    put("csv", "plain", 0, text("1,2,3\n4,5.5,-6e-3\n"));
    put("csv", "header", 1, text("a,b,label\n0.5,1,0\n1.5,2,1\r\n\n2.5,3,2\n"));
    put("csv", "semicolon_f64_gzip", 2 | 8 | 16, text("\"1\";2;nan\n+4; inf ;-0\n"));
    put("csv", "tab_quoted", 4 | 1, text("\"x\"\"y\"\tz\n1\t2\n"));
    put("csv", "ragged", 0, text("1,2\n3\n"));
    put("csv", "not_a_number", 0, text("1,abc\n"));

    // idx: bit 0 float64; bits 1-2: 0 raw, 1 the bytes as a .gz file, 2 raw and gzip compared.
    const Bytes images = idx(0x08, {3, 2, 2}, counting(12, 20));
    put("idx", "u8_raw", 0, images);
    put("idx", "u8_raw_and_gzip", 4, images);
    put("idx", "u8_gzip_stream", 2, fuzz::gzip(images));
    put("idx", "i8_f64", 1 | 4, idx(0x09, {4}, {0x80, 0xff, 0, 0x7f}));
    put("idx", "i16", 4, idx(0x0B, {2}, {0x12, 0x34, 0xff, 0xfe}));
    put("idx", "i32", 4, idx(0x0C, {1}, {0, 1, 0, 2}));
    put("idx", "f32", 4, idx(0x0D, {2}, {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0}));
    put("idx", "f64", 1 | 4, idx(0x0E, {1}, {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}));
    put("idx", "truncated", 4, idx(0x08, {3, 2, 2}, counting(11)));
    put("idx", "huge_dims", 4, idx(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}, counting(4)));

    // mnist: bit 0 flatten, 1 scale, 2 float64, 3 gzip images, 4 gzip labels; then a 16-bit
    // split of the rest into images and labels.
    const Bytes labels = idx(0x08, {3}, {0, 9, 4});
    const auto split = static_cast<std::uint16_t>(images.size());
    Bytes both = {static_cast<std::uint8_t>(split >> 8), static_cast<std::uint8_t>(split)};
    both.insert(both.end(), images.begin(), images.end());
    both.insert(both.end(), labels.begin(), labels.end());
    put("mnist", "flat_scaled", 1 | 2, both);
    put("mnist", "gzip_both_f64", 4 | 8 | 16, both);
    put("mnist", "unflattened", 0, both);
    Bytes short_labels = {both[0], both[1]};
    short_labels.insert(short_labels.end(), images.begin(), images.end());
    const Bytes two = idx(0x08, {2}, {1, 2});
    short_labels.insert(short_labels.end(), two.begin(), two.end());
    put("mnist", "counts_differ", 1 | 2, short_labels);

    // checkpoint: bit 0 repair size and checksum, bit 1 load the optimizer too. The model and
    // optimizer are checkpoint_fuzz.cpp's.
    const std::string tmp = (std::filesystem::temp_directory_path() / "xgrad_seed.xgt").string();
    {
        nn::Sequential model(nn::Linear(2, 3), nn::ReLU(), nn::Linear(3, 2));
        nn::init::uniform_(model.parameters(), -1, 1, /*seed=*/3);
        nn::optim::Adam adam(model.named_parameters(), nn::optim::AdamOptions(0.01));
        sum(model.forward(ones(Shape{4, 2}))).backward();
        adam.step();
        nn::save_checkpoint(tmp, model, &adam);
        put("checkpoint", "model_and_adam", 2, file_bytes(tmp));
        put("checkpoint", "model_and_adam_repaired", 1 | 2, file_bytes(tmp));
        nn::save_checkpoint(tmp, model, nullptr);
        put("checkpoint", "model_only", 0, file_bytes(tmp));
        put("checkpoint", "model_only_with_optimizer", 2, file_bytes(tmp));
        nn::Sequential other(nn::Linear(2, 4), nn::ReLU(), nn::Linear(4, 2));
        nn::save_checkpoint(tmp, other, nullptr);
        put("checkpoint", "other_shapes", 1, file_bytes(tmp));
    }

    // load: bit 0 repair size and checksum, bit 1 non-strict. Targets "w" (2,3) float32,
    // "b" (3) float64, "step" () float64.
    io::save(tmp, {{"w", tensor({1, 2, 3, 4, 5, 6}, Shape{2, 3}, f32)},
                   {"b", tensor({0.5, -0.5, 2}, Shape{3}, f64)},
                   {"step", scalar(3, f64)}});
    put("load", "all_targets", 0, file_bytes(tmp));
    put("load", "all_targets_repaired", 1, file_bytes(tmp));
    io::save(tmp, {{"w", tensor({1, 2, 3, 4, 5, 6}, Shape{3, 2}, f32)}, {"extra", scalar(1)}});
    put("load", "mismatches", 0, file_bytes(tmp));
    put("load", "mismatches_non_strict", 2, file_bytes(tmp));
    io::save(tmp, {});
    put("load", "empty", 2, file_bytes(tmp));
    std::filesystem::remove(tmp);
    std::cout << "wrote the seed corpora under " << root << "\n";
    return 0;
}
