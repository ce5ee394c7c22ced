#pragma once
// NumPy's .npy and .npz files for Arrays and named tensors: what np.save / np.savez /
// np.savez_compressed write and np.load reads, so values move to and from NumPy and PyTorch
// (torch.from_numpy(np.load(...))).
//
// .npy (format 1.0; 2.0 when the header needs more than 65535 bytes): the magic "\x93NUMPY",
// the version, the header length, then an ASCII Python dict
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n' so that the data starts at a multiple of 64 bytes, then
// the elements. Written: '<f4', '<f8', '<i8' and '|b1' (float32, float64, int64, bool), C order.
// Read: the same, big-endian ('>f4', '>f8', '>i8') and fortran_order True too (reordered into
// row-major); any other dtype is an error naming it.
// .npz: a zip archive of "<name>.npy" entries. Written STORED (as np.savez); read STORED or
// DEFLATED (np.savez_compressed), every entry's CRC-32 checked. Zip64 archives (over 4 GiB or
// 65535 entries) are not supported: reading says so, writing refuses.
//
// NOTE: not xtensor's xnpy: it reads into xtensor containers only, accepts a header without
// checking its keys, and its errors name neither the file nor what was wrong.
// Every read error is a std::runtime_error "<op>: <path>: <problem>"; nothing is allocated
// from a declared size the file cannot hold.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "autograd/array.h"
#include "nn/serialize.h"

namespace xgrad::io {

/// The bytes of a .npy file holding `a` (any of the four dtypes; an undefined array throws
/// std::invalid_argument).
std::vector<unsigned char> encode_npy(const Array& a);
/// The array in the bytes of a .npy file; `source` names it in errors.
Array decode_npy(const unsigned char* data, std::size_t size, const std::string& source);
/// Writes `a` to `path` atomically (as io::save). Example: io::save_npy("w.npy", w.value());
void save_npy(const std::string& path, const Array& a);
/// Reads a .npy file. Example: Tensor w(io::load_npy("w.npy"));
Array load_npy(const std::string& path);

/// Writes each tensor's value as "<name>.npy" into a .npz archive at `path` (atomically), in
/// order, STORED: np.load(path)[name] reads them back. Names must be unique, non-empty and
/// without NUL; tensors defined.
/// Example (a model's parameters, for NumPy or torch):
///   io::save_npz("model.npz", model->named_parameters());
void save_npz(const std::string& path, const NamedTensors& tensors);
/// Every entry of a .npz archive as a constant leaf tensor, in archive order, named without
/// the ".npy" suffix (as np.load gives them).
NamedTensors load_npz(const std::string& path);
/// load_npz, then the values copied into existing tensors matched by name with io::assign's
/// checks (all or nothing; strict as there).
/// Example: io::load_npz_into("model.npz", model->named_parameters());
void load_npz_into(const std::string& path, const NamedTensors& targets, bool strict = true);

/// The bytes of a .npz archive (what save_npz writes) and their decoding (what load_npz
/// reads); `source` names the archive in errors.
std::vector<unsigned char> encode_npz(const NamedTensors& tensors);
NamedTensors decode_npz(const unsigned char* data, std::size_t size, const std::string& source);

}  // namespace xgrad::io
