//===- Manifest.h - A compiled kernel's manifest, parsed --------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The JSON manifest that travels with every artifact (lib/Target/Manifest.cpp
// writes it, docs/runtime.md documents it), read once into numbers and
// structured fields that validation, the work count and the launch use.
// Nothing the kernel decodes is decoded here again.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_MANIFEST_H
#define ATTN_RUNTIME_MANIFEST_H

#include "attn/runtime/MaskModel.h"
#include "attn/runtime/attn_runtime.h"

#include <memory>
#include <string>
#include <vector>

namespace attnrt {

/// One parameter of a kernel, in call order.
struct ParamSpec {
  std::string name;
  attn_dtype dtype = ATTN_F32;
  std::vector<int64_t> shape; ///< -1: given at run time
  bool innerContiguous = false;
  /// Computed by the runtime, not given by the caller (`tile_kinds`).
  bool internal = false;
};

struct Manifest {
  std::string text; ///< the JSON as read
  std::string name, entry, target, targetDetail, specHash;
  /// The combine of a kernel that can split its kv range (empty if none).
  std::string combineEntry;
  std::string layout;                   ///< bshd or bhsd
  std::string normalizer;               ///< softmax, sigmoid, ...
  std::string kvStorage = "contiguous"; ///< contiguous, paged or ragged
  std::vector<ParamSpec> params;
  int64_t numQHeads = 0, numKVHeads = 0, headDimQK = 0, headDimV = 0;
  /// The tile: query positions and keys, the query heads a work item packs.
  int64_t blockQ = 0, blockKV = 0, headGroup = 1;
  /// The work grid: batch x numHeadGroups x q tiles x kv chunks, the q
  /// tiles of the longest sequence (ragged storage) or of q_len. The kv
  /// chunks are numKVSplits, or picked per launch when it is 0.
  int64_t numHeadGroups = 0, numKVSplits = 1;
  bool qTilesOfLongest = false;
  /// The mask model (`mask_model`; null for a kernel without a mask), and
  /// the same for kernels that take a tile table (null for the others).
  std::shared_ptr<const mask::Node> mask, tableMask;
  /// Checks: the bias's axes (b, h, q, k) and a block-sparse mask's blocks.
  std::vector<std::string> biasAxes;
  int64_t sparseBlockQ = 0, sparseBlockKV = 0;
  /// GPU targets (`launch`): the threads of a block (one block per work
  /// item), its dynamic shared memory in bytes and the chip the artifact
  /// was compiled for (`sm_90a`). A CPU manifest has none: a block of 1,
  /// no shared memory and no chip.
  int64_t blockDim[3] = {1, 1, 1};
  int64_t sharedBytes = 0;
  std::string chip;

  bool bhsd() const { return layout == "bhsd"; }
  /// The sequence axis of q, k, v and out in the contiguous layouts.
  int seqAxis() const { return bhsd() ? 2 : 1; }
};

/// Parses and checks a manifest. Returns false and sets `error` (naming the
/// field) when it is not valid JSON, has another format, misses a field or
/// is inconsistent.
bool parseManifest(const std::string &text, Manifest &manifest,
                   std::string &error);

} // namespace attnrt

#endif // ATTN_RUNTIME_MANIFEST_H
