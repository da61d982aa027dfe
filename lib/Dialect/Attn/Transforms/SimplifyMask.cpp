//===- SimplifyMask.cpp - Normal form of the mask algebra -----------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNSIMPLIFYMASKPASS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

/// Simplifies the operands of an `and`/`or` node of kind `ListAttr`: nested
/// nodes of the same kind are flattened and repeats dropped.
template <typename ListAttr>
static MaskAttrInterface simplifyList(ListAttr list) {
  llvm::SmallSetVector<MaskAttrInterface, 4> operands;
  for (MaskAttrInterface operand : list.getOperands()) {
    MaskAttrInterface simple = simplifyMask(operand);
    if (auto nested = dyn_cast<ListAttr>(simple))
      operands.insert(nested.getOperands().begin(), nested.getOperands().end());
    else
      operands.insert(simple);
  }
  if (operands.size() == 1)
    return operands.front();
  return ListAttr::get(list.getContext(), operands.getArrayRef());
}

MaskAttrInterface mlir::attn::simplifyMask(MaskAttrInterface mask) {
  if (auto andAttr = dyn_cast<AndAttr>(mask))
    return simplifyList(andAttr);
  if (auto orAttr = dyn_cast<OrAttr>(mask))
    return simplifyList(orAttr);
  if (auto notAttr = dyn_cast<NotAttr>(mask)) {
    MaskAttrInterface inner = simplifyMask(notAttr.getOperand());
    if (auto doubleNot = dyn_cast<NotAttr>(inner))
      return doubleNot.getOperand();
    return NotAttr::get(mask.getContext(), inner);
  }
  if (auto onHeads = dyn_cast<OnHeadsAttr>(mask)) {
    SmallVector<int64_t> heads(onHeads.getHeads());
    llvm::sort(heads);
    return OnHeadsAttr::get(mask.getContext(), heads,
                            simplifyMask(onHeads.getMask()));
  }
  return mask;
}

namespace {
struct AttnSimplifyMaskPass final
    : mlir::attn::impl::AttnSimplifyMaskPassBase<AttnSimplifyMaskPass> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](AttentionOp op) {
      MaskAttrInterface mask = op.getMaskAttr();
      if (!mask)
        return WalkResult::advance();
      MaskAttrInterface simple = simplifyMask(mask);
      if (simple == mask)
        return WalkResult::advance();
      // A recorded tiling was decided for the mask as written.
      if (op.getTilingAttr()) {
        op.emitOpError() << "has a tiling decided for its mask as written; "
                            "simplify the mask before attn-schedule";
        return WalkResult::interrupt();
      }
      op.setMaskAttr(simple);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
