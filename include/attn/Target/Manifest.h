//===- Manifest.h - What a compiled kernel expects --------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A compiled artifact travels with a JSON manifest that tells the runtime
// how to call it without MLIR: the entry symbol, the parameters in call
// order (name, dtype, shape with -1 for sizes given at run time), the layout
// and the work decomposition. docs/runtime.md documents the fields.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_MANIFEST_H
#define ATTN_TARGET_MANIFEST_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::attn {

struct ManifestInfo {
  std::string target;       ///< "cpu"
  std::string targetDetail; ///< the CPU name
  std::string specHash;     ///< the cache key of the spec
  /// Query positions and keys per tile.
  int64_t blockQ = 0, blockKV = 0;
  /// Query heads per work item (a packed GQA group; see getHeadGroup).
  int64_t headGroup = 1;
  /// The kernel takes a `tile_kinds` table the runtime computes from the
  /// mask (see usesTileTable); the manifest then carries the mask's model.
  bool tileTable = false;
};

/// The manifest of the kernel compiled from `op` (before lowering).
llvm::json::Object buildManifest(AttentionOp op, const ManifestInfo &info);

} // namespace mlir::attn

#endif // ATTN_TARGET_MANIFEST_H
