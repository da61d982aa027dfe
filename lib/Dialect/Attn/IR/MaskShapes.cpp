//===- MaskShapes.cpp - What a mask and an op allow a tiling --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/MaskShapes.h"

using namespace mlir;
using namespace mlir::attn;

SmallVector<MaskAttrInterface> mlir::attn::conjuncts(MaskAttrInterface mask) {
  if (auto andAttr = dyn_cast_or_null<AndAttr>(mask))
    return SmallVector<MaskAttrInterface>(andAttr.getOperands());
  if (mask)
    return {mask};
  return {};
}

/// Whether `m` is an interval around the query with analytic loop bounds
/// and full-tile test.
static bool isBounded(MaskAttrInterface m) {
  auto prefix = dyn_cast<PrefixLMAttr>(m);
  return isa<CausalAttr, SlidingWindowAttr, SinksAttr, ChunkedAttr>(m) ||
         (prefix && prefix.getLength());
}

std::optional<SmallVector<SmallVector<MaskAttrInterface>>>
mlir::attn::boundedDisjuncts(MaskAttrInterface mask) {
  SmallVector<SmallVector<MaskAttrInterface>> result;
  SmallVector<MaskAttrInterface> operands;
  if (auto orAttr = dyn_cast_or_null<OrAttr>(mask))
    operands.assign(orAttr.getOperands().begin(), orAttr.getOperands().end());
  else if (mask)
    operands.push_back(mask);
  for (MaskAttrInterface operand : operands) {
    SmallVector<MaskAttrInterface> parts = conjuncts(operand);
    if (!llvm::all_of(parts, isBounded))
      return std::nullopt;
    result.push_back(parts);
  }
  return result;
}

VerticalSlashAttr mlir::attn::listedVerticalSlash(MaskAttrInterface mask) {
  VerticalSlashAttr found;
  for (MaskAttrInterface part : conjuncts(mask)) {
    if (auto vs = dyn_cast<VerticalSlashAttr>(part); vs && !found)
      found = vs;
    else if (!isBounded(part))
      return {};
  }
  return found;
}

bool mlir::attn::isHeadIndependent(AttentionOp op) {
  if (MaskAttrInterface mask = op.getMaskAttr()) {
    bool perHead = false;
    mask.walk([&](MaskAttrInterface m) {
      perHead |= isa<OnHeadsAttr, VerticalSlashAttr, BlockSparseAttr>(m);
    });
    if (perHead)
      return false;
  }
  if (ArrayAttr mods = op.getScoreModsAttr())
    for (Attribute mod : mods) {
      if (isa<AlibiAttr>(mod))
        return false;
      if (auto bias = dyn_cast<BiasAttr>(mod);
          bias && llvm::is_contained(bias.getDims(), BiasDim::h))
        return false;
      if (isa<ScoreModMarkerAttr>(mod)) {
        // (score, b, h, q, kv, head params...): h or a head parameter.
        Block &body = op.getScoreMod().front();
        if (body.getNumArguments() > 5 || !body.getArgument(2).use_empty())
          return false;
      }
    }
  return op.getNormalizerOrDefault().getKind() !=
         NormalizerKind::softmax_with_sink;
}

bool mlir::attn::walksListedBlocks(MaskAttrInterface mask, int64_t positions,
                                   int64_t blockKV) {
  auto sparse = dyn_cast_or_null<BlockSparseAttr>(mask);
  return sparse && positions > 0 && blockKV > 0 &&
         sparse.getBlockQ() % positions == 0 &&
         sparse.getBlockKv() % blockKV == 0;
}
