//===- Tiling.h - attn.attention to the tile level --------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The schedule (attn-schedule) decides how an attn.attention is tiled and
// records it as #attn.tiling on the op; attn-tile builds the flash loop of
// one work item from that record. Both read the mask through the predicates
// of MaskShapes.h, which the op verifier checks a recorded tiling against.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/MaskShapes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {

/// What a target asks the schedule for; an op's `schedule` overrides it.
struct TilingOptions {
  std::string target = "cpu";
  int64_t rows = 128;   ///< rows per q tile (query positions x head group)
  int64_t blockKV = 64; ///< keys per kv tile
  /// kv chunks per work item (0: picked per launch, 1: never split).
  int64_t splitKV = 0;
};

/// The schedule's defaults for `target`: "cpu", or an NVIDIA chip
/// ("sm_80" ... "sm_90a": 64 rows, one warp per 16). Both can split their
/// kv range, the count picked per launch.
inline TilingOptions defaultTilingFor(llvm::StringRef target) {
  TilingOptions options;
  options.target = target.str();
  if (target.starts_with("sm_")) {
    options.rows = 64;
    options.blockKV = 64;
  }
  return options;
}

/// Decides the tiling of `op` (whose mask is in normal form): tile sizes,
/// head group, kv-tile walk and split-KV factor. Reports an error at the op
/// and fails when it cannot be tiled.
FailureOr<TilingAttr> decideTiling(AttentionOp op,
                                   const TilingOptions &options);

/// The keys per page of `op`'s paged kv storage; 0 for other storage.
int64_t getPageSize(AttentionOp op);

/// Replaces `func`, whose body is one scheduled attn.attention on its
/// arguments, by the tile-level kernel of one work item (see attn-tile).
/// Reports an error at the op and fails when the op cannot be tiled.
LogicalResult tileAttentionFunc(func::FuncOp func);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H
