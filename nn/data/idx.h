#pragma once
// The IDX format of MNIST and Fashion-MNIST, gzip-compressed or not.
//
// An IDX file is: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
// 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions n (1..255), n big-endian
// uint32 dimensions, then the elements, big-endian, row-major.
//
// A file is checked before anything is allocated for its data: the declared size must be the
// size of the rest of the file (uncompressed), or be possible for a gzip file of its size (at
// most 1032:1); a gzip file's data is then read in chunks that follow the data actually
// decompressed, so a lying header cannot make the reader allocate more than the file holds.

#include <string>

#include "autograd/array.h"
#include "nn/data/dataset.h"

namespace xgrad::data {

/// Reads an IDX file into an array of the file's dimensions, converted to `dtype`. Throws
/// std::runtime_error "read_idx: <path>: <problem>" when the file is missing, truncated, has a
/// bad magic number or type code, declares a size that overflows or does not match the data,
/// or holds corrupt gzip data.
Array read_idx(const std::string& path, DType dtype = f32);

struct MnistOptions {
    /// Images as (N, H*W) rows, else (N, H, W).
    bool flatten = true;
    /// Pixels divided by 255, into [0, 1].
    bool scale = true;
    DType dtype = f32;
};

/// An MNIST-style dataset from an image file (N, H, W) and a label file (N): features (N, H*W)
/// in [0, 1], labels (N) class indices. Throws std::runtime_error naming the file when either
/// is unreadable, the label file is not 1-D, or the counts differ.
/// Example:
///   Dataset train = load_mnist("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
///                              "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
///   train.features().shape().str() == "(60000,784)"
Dataset load_mnist(const std::string& images_path, const std::string& labels_path,
                   const MnistOptions& options = {});

}  // namespace xgrad::data
