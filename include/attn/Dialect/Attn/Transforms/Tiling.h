//===- Tiling.h - attn.attention to the tile level --------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The decisions of `attn-tile` that others must agree with: the tile sizes
// (the manifest's block sizes) and whether a kernel takes a tile table (a
// manifest parameter the runtime fills).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {

/// Tile sizes a target asks for; an op's schedule overrides them.
struct TilingOptions {
  int64_t blockQ = 128;
  int64_t blockKV = 64;
};

/// The tile sizes of `op`'s kernel: the schedule's when set, else the
/// options', shrunk to divide a block-sparse mask's blocks so that the kernel
/// can walk the listed blocks, and block_kv to divide a paged cache's page
/// size.
std::pair<int64_t, int64_t> getTileSizes(AttentionOp op,
                                         const TilingOptions &options);

/// The query heads one q tile packs: a GQA group (Hq / Hkv) when nothing
/// depends on the head (no on_heads, vertical-slash or block-sparse mask, no
/// ALiBi, per-head bias, head-reading score_mod or sink normalizer) and the
/// group divides block_q; else 1. A packed tile holds block_q / group query
/// positions of every head of its group, so each kv tile is loaded once per
/// group rather than once per head.
int64_t getHeadGroup(AttentionOp op, const TilingOptions &options);

/// The keys per page of `op`'s paged kv storage; 0 for other storage.
int64_t getPageSize(AttentionOp op);

/// Whether the kernel of `op` takes a tile table (parameter `tile_kinds`,
/// i32 [B|1, H|1, q tiles, kv tiles]: 0 empty, 1 full, 2 partial) that the
/// runtime computes from the mask: for masks that are not unions of interval
/// conjunctions (with at most a vertical-slash conjunct) or block-sparse
/// layouts the tiles divide: documents, prefix operands, neighborhoods,
/// not/on_heads combinations, unaligned block-sparse layouts.
bool usesTileTable(AttentionOp op, const TilingOptions &options);

/// Replaces `func`, whose body is one attn.attention on its arguments, by the
/// tile-level kernel of one work item (see attn-tile). Reports an error at
/// the op and fails when the op cannot be tiled.
LogicalResult tileAttentionFunc(func::FuncOp func,
                                const TilingOptions &options);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_TILING_H
