#pragma once
// Save and load named tensors (a model's named parameters, an optimizer's state) in a small,
// versioned binary format with a CRC-32 checksum.
//
// Format version 1. All integers little-endian; "u8/u16/u32/u64" are unsigned of that width.
//
//   offset  size   field
//   0       8      magic     89 58 47 52 41 44 0D 0A  ("\x89XGRAD\r\n": the high byte and the
//                                                     CR LF catch 7-bit and text-mode damage)
//   8       4      version   u32 = 1
//   12      4      count     u32, the number of records
//   16      8      size      u64, the total file size in bytes, checksum included
//   24      ...    count records, each:
//                    name_len  u32, 1..65535
//                    name      name_len bytes (UTF-8 by convention; no NUL), unique in the file
//                    dtype     u8: 0 = float32, 1 = float64, 2 = int64, 3 = bool (one
//                              byte, 0 or 1)
//                    ndim      u8: 0 (a scalar) .. 255
//                    reserved  u16 = 0
//                    dims      ndim x u64
//                    data      prod(dims) x 4, 8, 8 or 1 bytes: IEEE-754 or two's complement
//                              little-endian, row-major
//   size-4  4      crc32     u32: CRC-32 (zlib's crc32, as gzip, PNG and Python's zlib.crc32)
//                            of bytes [0, size-4)
//
// Records keep the order they were saved in. Reading checks, in this order: the magic, the
// version, the declared size against the actual size (truncation), the checksum (corruption),
// then every record against the bytes that remain: nothing is allocated from a declared size
// that the file cannot hold. Every error is a std::runtime_error "<op>: <path>: <problem>".

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::io {

/// Named tensors, in order: what Module::named_parameters() and optimizer state provide.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// The format version this build writes and reads.
inline constexpr std::uint32_t kFormatVersion = 1;

/// Writes the tensors' values to `path` atomically (a temporary file in the same directory,
/// fsync, rename): a crash leaves the old file or the new one, never a mix. Throws
/// std::invalid_argument for an empty, over-long or repeated name or an undefined tensor
/// (nothing is written), std::runtime_error when the file cannot be written.
/// Example:
///   io::save("model.xgt", {{"fc1.weight", w1}, {"fc1.bias", b1}});
void save(const std::string& path, const NamedTensors& tensors);

/// Reads every record as a new constant leaf tensor, in file order. Throws std::runtime_error
/// naming the file and the problem for a missing, truncated, corrupted, wrong-version or
/// malformed file.
NamedTensors load(const std::string& path);

/// Copies the file's values into existing leaf tensors, matched by name. Checks everything
/// first and changes nothing when anything is wrong: the std::runtime_error lists every
/// mismatch (a name missing from the file, a name the targets lack, a shape or dtype that
/// differs, a target that is undefined or not a leaf). With strict = false, names present on
/// only one side are skipped (as PyTorch's load_state_dict(strict=False)); shapes and dtypes
/// must still match. Gradients are left as they are.
/// Example:
///   io::load_into("model.xgt", model.named_parameters());
void load_into(const std::string& path, const NamedTensors& targets, bool strict = true);

/// load_into for tensors already read (from load or decode): the same checks, the same
/// all-or-nothing copy. The error message starts with `context`, e.g. "load_into: model.xgt".
/// Example (a file of two parts, one of them filtered out first):
///   NamedTensors stored = io::load(path);
///   io::assign(only_model_entries(stored), model.named_parameters(), "restore: " + path);
void assign(const NamedTensors& stored, const NamedTensors& targets, const std::string& context,
            bool strict = true);

/// The bytes of a file holding `tensors` (what save writes). Same checks as save.
std::vector<unsigned char> encode(const NamedTensors& tensors);

/// Decodes the bytes of a file; `source` names it in error messages. Same checks as load.
NamedTensors decode(const unsigned char* data, std::size_t size, const std::string& source);

}  // namespace xgrad::io
