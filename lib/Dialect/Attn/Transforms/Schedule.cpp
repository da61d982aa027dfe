//===- Schedule.cpp - Decide how each attn.attention is tiled -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The one owner of the tiling decisions (see attn-schedule in Passes.td):
// tile sizes, the GQA head group, the kv-tile walk and the split-KV factor
// are decided here and recorded as #attn.tiling on the op. Everything after
// (attn-tile, the target lowerings, the manifest, the runtime, the tools)
// reads that record.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include "attn/Dialect/Attn/Utils/LoopBuilders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSCHEDULEPASS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

int64_t mlir::attn::getPageSize(AttentionOp op) {
  if (op.getKvStorage() != KVStorage::paged)
    return 0;
  int64_t size =
      op.getK().getType().getDimSize(op.getLayout() == Layout::bhsd ? 2 : 1);
  return ShapedType::isDynamic(size) ? 0 : size;
}

/// Tile rows and keys: the schedule's when given, else the target's,
/// shrunk to divide a block-sparse mask's blocks (so that the kernel walks
/// the listed blocks) and block_kv to divide a paged cache's page size.
static std::pair<int64_t, int64_t> tileSizes(AttentionOp op,
                                             MaskAttrInterface mask,
                                             const TilingOptions &options) {
  int64_t rows = options.rows, blockKV = options.blockKV;
  if (auto sparse = dyn_cast_or_null<BlockSparseAttr>(mask)) {
    int64_t q = largestHalvingDivisor(sparse.getBlockQ(), rows);
    int64_t kv = largestHalvingDivisor(sparse.getBlockKv(), blockKV);
    if (q >= 4 && kv >= 8) {
      rows = q;
      blockKV = kv;
    }
  }
  if (int64_t pageSize = getPageSize(op))
    blockKV = largestHalvingDivisor(pageSize, blockKV);
  if (ScheduleAttr schedule = op.getScheduleAttr()) {
    if (schedule.getBlockQ())
      rows = schedule.getBlockQ();
    if (schedule.getBlockKv())
      blockKV = schedule.getBlockKv();
  }
  return {rows, blockKV};
}

/// The query heads one q tile packs: the GQA group (Hq / Hkv) when nothing
/// depends on the head and the group divides the rows; else 1.
static int64_t headGroup(AttentionOp op, int64_t rows) {
  ProblemShape shape = op.getProblemShape();
  int64_t group = shape.numQHeads / shape.numKVHeads;
  if (group <= 1 || rows % group != 0 || !isHeadIndependent(op))
    return 1;
  return group;
}

/// How a work item finds its kv tiles, for a q tile of `positions` query
/// positions and `blockKV` keys per kv tile.
static KVTileWalk kvTileWalk(MaskAttrInterface mask, int64_t positions,
                             int64_t blockKV) {
  if (!mask)
    return KVTileWalk::bounds;
  // Block-sparse masks whose blocks the tiles divide walk their lists.
  if (walksListedBlocks(mask, positions, blockKV))
    return KVTileWalk::listed_blocks;
  // Conjunctions of masks with loop bounds and analytic full tiles, and
  // unions of such conjunctions, need no table. Neighborhoods have loop
  // bounds but no analytic full tiles, so they take the table (the runtime
  // caches it per shape). A vertical-slash conjunct finds its tiles from
  // its index lists.
  if (boundedDisjuncts(mask))
    return isa<OrAttr>(mask) ? KVTileWalk::disjuncts : KVTileWalk::bounds;
  if (listedVerticalSlash(mask))
    return KVTileWalk::vertical_slash;
  return KVTileWalk::tile_table;
}

FailureOr<TilingAttr> mlir::attn::decideTiling(AttentionOp op,
                                               const TilingOptions &options) {
  ProblemShape shape = op.getProblemShape();
  if (!ProblemShape::isKnown(shape.headDimQK) ||
      !ProblemShape::isKnown(shape.headDimV) ||
      !ProblemShape::isKnown(shape.numQHeads) ||
      !ProblemShape::isKnown(shape.numKVHeads) || shape.numKVHeads < 1)
    return op.emitOpError()
           << "scheduling needs static head counts and head dims";
  if (options.splitKV < 0)
    return op.emitOpError() << "split-kv must be a chunk count, or 0 for "
                               "one the runtime picks per launch; got "
                            << options.splitKV;
  if (op.getKvStorage() == KVStorage::paged && !getPageSize(op))
    return op.emitOpError() << "paged storage needs a static page size";
  // Decisions read the mask in normal form (attn-simplify-mask runs first).
  MaskAttrInterface mask = op.getMaskAttr();
  if (mask && simplifyMask(mask) != mask)
    return op.emitOpError()
           << "attn-schedule needs the mask in normal form; run "
              "attn-simplify-mask first";
  auto [rows, blockKV] = tileSizes(op, mask, options);
  if (rows < 1 || blockKV < 1)
    return op.emitOpError() << "tile sizes must be positive, got rows " << rows
                            << " and block_kv " << blockKV;
  if (int64_t pageSize = getPageSize(op); pageSize && pageSize % blockKV)
    return op.emitOpError()
           << "block_kv " << blockKV << " must divide the page size "
           << pageSize << ", so that a kv tile never crosses a page";
  int64_t group = headGroup(op, rows);
  KVTileWalk walk = kvTileWalk(mask, rows / group, blockKV);
  // Split-KV: the schedule's count when given (1 disables it), else the
  // target's; 0: the kernel can split, and the runtime picks the count per
  // launch from its work items and threads (batch and lengths are known
  // only then).
  int64_t splitKV = options.splitKV;
  if (ScheduleAttr schedule = op.getScheduleAttr();
      schedule && schedule.getSplitKv())
    splitKV = schedule.getSplitKv();
  return TilingAttr::get(op.getContext(), rows, group, blockKV, walk, splitKV);
}

namespace {
struct AttnSchedulePass final
    : mlir::attn::impl::AttnSchedulePassBase<AttnSchedulePass> {
  using Base::Base;
  void runOnOperation() override {
    TilingOptions options{target, rows, blockKV, splitKV};
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      if (op.getTilingAttr())
        return WalkResult::advance();
      FailureOr<TilingAttr> tiling = decideTiling(op, options);
      if (failed(tiling))
        return WalkResult::interrupt();
      op.setTilingAttr(*tiling);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
