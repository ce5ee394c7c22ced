// libFuzzer target for load_mnist. Input: one byte of options (flatten, scale, dtype, gzip for
// each file), two bytes splitting the rest into the image file and the label file. Every input
// must load or throw std::runtime_error; a loaded dataset has N rows of features (flattened to
// H*W, else the file's dimensions) and N labels; a failed load must change nothing on disk.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "nn/data/idx.h"
#include "tests/fuzz/fuzz_util.h"

using namespace xgrad;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const std::uint8_t mode = data[0];
    data::MnistOptions options;
    options.flatten = (mode & 1) != 0;
    options.scale = (mode & 2) != 0;
    options.dtype = (mode & 4) != 0 ? f64 : f32;
    const std::size_t rest = size - 3;
    const std::size_t split = rest == 0 ? 0 : (std::size_t{data[1]} << 8 | data[2]) % (rest + 1);
    const fuzz::Bytes images(data + 3, data + 3 + split), labels(data + 3 + split, data + size);
    const bool gz_images = (mode & 8) != 0, gz_labels = (mode & 16) != 0;
    const std::string images_path = fuzz::write_scratch(gz_images ? "images.gz" : "images",
                                                        gz_images ? fuzz::gzip(images) : images);
    const std::string labels_path = fuzz::write_scratch(gz_labels ? "labels.gz" : "labels",
                                                        gz_labels ? fuzz::gzip(labels) : labels);
    const auto before = fuzz::snapshot_scratch();
    try {
        const data::Dataset ds = data::load_mnist(images_path, labels_path, options);
        const Array& f = ds.features();
        if (f.ndim() < 2 || (options.flatten && f.ndim() != 2) || ds.labels().ndim() != 1 ||
            f.shape()[0] != ds.size() || ds.labels().shape()[0] != ds.size()) {
            fuzz::finding("load_mnist: inconsistent dataset shapes");
        }
    } catch (const std::runtime_error&) {
        if (fuzz::snapshot_scratch() != before) fuzz::finding("a failed load_mnist changed files");
    }
    return 0;
}
