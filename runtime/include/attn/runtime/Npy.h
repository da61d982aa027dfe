//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// C-order, little-endian .npy arrays of <f2, <f4, <f8, <i4 and <i8 values:
// what `attn-run --save` writes and `attn-run --load` and attn-gpu-check
// read. The runtime keeps them so that tools without LLVM can share them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_NPY_H
#define ATTN_RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnrt {

/// A C-order array of a .npy file.
struct NpyArray {
  std::string descr;          ///< "<f2", "<f4", "<f8", "<i4" or "<i8"
  std::vector<int64_t> shape; ///< empty for a scalar
  std::vector<char> bytes;    ///< exactly numElements() values, C order

  int64_t numElements() const;
  /// Element `i` as a float64 (exact for every supported dtype but <i8
  /// beyond 2^53).
  double value(int64_t i) const;
  /// Every element, as value() gives it.
  std::vector<double> values() const;
};

/// The bytes per element of a supported `descr`, 0 for any other.
size_t npyElementBytes(const std::string &descr);

/// Reads the .npy file at `path`: a regular file with the NumPy magic, a
/// header of format version 1 (2-byte length) or later (4-byte length),
/// C order, a supported dtype, at most ATTN_MAX_RANK dimensions and 2^40
/// elements, and at least the values the shape holds (bytes beyond them
/// are ignored). Returns false and sets `error`, which names the path,
/// otherwise.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);

/// Parses the bytes of a .npy file (what readNpy read from `name`); errors
/// name `name`. Takes the bytes by value so that the values stay in place.
bool parseNpy(std::vector<char> bytes, const std::string &name, NpyArray &array,
              std::string &error);

/// Writes a C-order .npy file (format version 1) of `shape` with the
/// values of the supported dtype `descr` at `data`, which are `bytes`
/// long: exactly the values the shape holds. Returns false and sets
/// `error` when the file cannot be written or the arguments disagree.
bool writeNpy(const std::string &path, const std::string &descr,
              const std::vector<int64_t> &shape, const void *data, size_t bytes,
              std::string &error);

} // namespace attnrt

#endif // ATTN_RUNTIME_NPY_H
