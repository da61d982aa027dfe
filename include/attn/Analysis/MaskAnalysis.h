//===- MaskAnalysis.h - Tile classification of attn masks -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Bridges the mask attributes of the dialect to the MLIR-free mask model in
// the runtime (attn/runtime/MaskModel.h), which classifies (q-tile, kv-tile)
// pairs as empty, full or partial, exactly.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ANALYSIS_MASKANALYSIS_H
#define ATTN_ANALYSIS_MASKANALYSIS_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "attn/runtime/MaskModel.h"

namespace mlir::attn {

/// The model of `mask` (its tree of primitives and combinators).
attnrt::mask::Node buildMaskModel(MaskAttrInterface mask);

/// Counts of tile kinds over a grid of tiles.
struct TileCounts {
  int64_t empty = 0, full = 0, partial = 0;
  int64_t total() const { return empty + full + partial; }
};

/// Classifies every (q-tile, kv-tile) pair of a problem with static lengths
/// for one batch entry and head (masks that read operands need `data`'s
/// views filled in).
TileCounts countTiles(const attnrt::mask::Node &mask,
                      const attnrt::mask::Data &data, int64_t batch,
                      int64_t head, int64_t blockQ, int64_t blockKV);

} // namespace mlir::attn

#endif // ATTN_ANALYSIS_MASKANALYSIS_H
