//===- MaskShapes.h - What a mask and an op allow a tiling ------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The predicates a tiling rests on, in one place: attn-schedule decides
// from them, the op verifier checks a recorded #attn.tiling against them
// and attn-tile walks what they describe.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_MASKSHAPES_H
#define ATTN_DIALECT_ATTN_IR_MASKSHAPES_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {

/// The conjuncts of `mask` (itself when it is not an `and`; none when null).
SmallVector<MaskAttrInterface> conjuncts(MaskAttrInterface mask);

/// The disjuncts of `mask` (an `or`, or a single operand) as conjunctions of
/// interval masks with analytic bounds and full-tile tests (causal,
/// sliding_window, sinks, chunked, constant prefix_lm); none when some part
/// is not such an interval.
std::optional<SmallVector<SmallVector<MaskAttrInterface>>>
boundedDisjuncts(MaskAttrInterface mask);

/// The vertical-slash conjunct of `mask` when the rest of the conjunction is
/// bounded intervals: its kv tiles come from the index lists in the kernel.
VerticalSlashAttr listedVerticalSlash(MaskAttrInterface mask);

/// Whether nothing `op` computes depends on the query head: no on_heads,
/// vertical-slash or block-sparse mask, no ALiBi, per-head bias,
/// head-reading score_mod or sink normalizer. Only then may the heads of a
/// GQA group share one q tile (a tiling's head_group above 1).
bool isHeadIndependent(AttentionOp op);

/// Whether a tile of `positions` query positions and `blockKV` keys can walk
/// only the kv blocks `mask` lists: a block-sparse mask whose blocks the
/// tiles divide.
bool walksListedBlocks(MaskAttrInterface mask, int64_t positions,
                       int64_t blockKV);

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_MASKSHAPES_H
