//===- NpyIO.cpp - NumPy .npy files for attn-run --save/--load ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Host tensors to and from the runtime's .npy arrays (attn/runtime/Npy.h,
// which reads and checks the files).
//
//===----------------------------------------------------------------------===//

#include "NpyIO.h"
#include "attn/runtime/Npy.h"

#include <cmath>
#include <cstring>

using namespace mlir::attn;

bool mlir::attn::writeNpy(const std::string &path, const HostTensor &t,
                          std::string &error) {
  int64_t n = t.numElements();
  std::vector<char> bytes;
  const char *descr;
  if (t.dtype == ATTN_I32) {
    descr = "<i4";
    bytes.resize(static_cast<size_t>(n) * 4);
    if (n)
      std::memcpy(bytes.data(), t.ints.data(), bytes.size());
  } else if (t.dtype == ATTN_F16) {
    descr = "<f2";
    bytes.resize(static_cast<size_t>(n) * 2);
    for (int64_t i = 0; i < n; ++i) {
      _Float16 x = static_cast<_Float16>(t.values[i]);
      std::memcpy(bytes.data() + i * 2, &x, 2);
    }
  } else {
    descr = "<f4";
    bytes.resize(static_cast<size_t>(n) * 4);
    for (int64_t i = 0; i < n; ++i) {
      float x = static_cast<float>(t.values[i]);
      std::memcpy(bytes.data() + i * 4, &x, 4);
    }
  }
  return attnrt::writeNpy(path, descr, t.shape, bytes.data(), bytes.size(),
                          error);
}

bool mlir::attn::readNpy(const std::string &path, HostTensor &t,
                         std::string &error) {
  attnrt::NpyArray array;
  if (!attnrt::readNpy(path, array, error))
    return false;
  t.shape = array.shape;
  int64_t n = array.numElements();
  if (t.dtype == ATTN_I32) {
    // Index operands stored as floats or int64 must hold int32 values.
    t.ints.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      double x = array.value(i);
      if (!(x >= -2147483648.0 && x <= 2147483647.0) || x != std::trunc(x)) {
        error = "'" + path + "' is not a supported .npy file: element " +
                std::to_string(i) + " (" + std::to_string(x) +
                ") is not an int32 value";
        return false;
      }
      t.ints[i] = static_cast<int32_t>(x);
    }
  } else {
    t.values.resize(n);
    for (int64_t i = 0; i < n; ++i)
      t.values[i] = roundTo(t.dtype, array.value(i));
  }
  return true;
}
