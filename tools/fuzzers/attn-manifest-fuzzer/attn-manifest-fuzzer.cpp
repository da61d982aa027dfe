//===- attn-manifest-fuzzer.cpp - Fuzz the runtime's manifest reader ------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// One input is a manifest's JSON text. What parses is then used as a kernel
// would use it, without code: arguments are made for every parameter (3 for
// each run-time size, zeros inside), validated, and when they pass the work
// items are counted and the tile table is built. A manifest is read from
// disk or the cache, so all of it is untrusted: errors, never crashes.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Kernel.h"
#include "attn/runtime/ThreadPool.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

using namespace attnrt;

namespace {

/// A kernel with a manifest and no code.
class ManifestOnlyKernel : public Kernel {
public:
  explicit ManifestOnlyKernel(Manifest manifest)
      : Kernel(std::move(manifest)) {}
  attn_device_kind device() const override { return ATTN_DEVICE_CPU; }
  bool launch(const Args &, const LaunchOptions &, std::string &) override {
    return false;
  }
  int64_t kvSplits(const Args &, const LaunchOptions &) const override {
    return 1;
  }

  /// What a launch computes before it runs the kernel.
  void prepare(const Args &args) const {
    int64_t items = numItems(args);
    (void)longestQ(args);
    int64_t kvTiles = (longestKV(args) + m.blockKV - 1) / m.blockKV;
    // The runtime allows tables of 2^31 entries; a fuzzer's input stays
    // far below, in memory and time.
    if (!m.tableMask ||
        kvTiles > (int64_t(1) << 20) / std::max<int64_t>(items, 1))
      return;
    ThreadPool pool(1);
    std::vector<int32_t> table;
    attn_tensor view;
    std::string error;
    (void)computeTileTable(args, pool, table, view, error);
  }
};

size_t elementBytes(attn_dtype dtype) {
  return dtype == ATTN_F32 || dtype == ATTN_I32 ? 4 : 2;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Manifest manifest;
  std::string error;
  if (!parseManifest(std::string(reinterpret_cast<const char *>(data), size),
                     manifest, error))
    return 0;
  ManifestOnlyKernel kernel(std::move(manifest));
  // One zeroed buffer per parameter, run-time sizes 3, within 2^22 values.
  std::vector<std::vector<char>> buffers;
  Args args;
  for (const ParamSpec &param : kernel.params()) {
    if (param.internal)
      continue;
    attn_tensor tensor = {};
    tensor.dtype = param.dtype;
    tensor.device = ATTN_DEVICE_CPU;
    tensor.rank = static_cast<int32_t>(param.shape.size());
    if (tensor.rank > ATTN_MAX_RANK)
      return 0;
    int64_t elements = 1;
    for (int32_t d = tensor.rank - 1; d >= 0; --d) {
      int64_t dim = param.shape[d] < 0 ? 3 : param.shape[d];
      tensor.shape[d] = dim;
      tensor.strides[d] = elements;
      if (dim != 0 && elements > (int64_t(1) << 22) / dim)
        return 0;
      elements *= dim;
    }
    buffers.emplace_back(elements * elementBytes(param.dtype) + 1, 0);
    tensor.data = buffers.back().data();
    args[param.name] = tensor;
  }
  if (kernel.validate(args, error))
    kernel.prepare(args);
  return 0;
}
