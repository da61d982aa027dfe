//===- MaterializeDefaults.cpp - Write implied attributes out -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNMATERIALIZEDEFAULTSPASS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct AttnMaterializeDefaultsPass final
    : mlir::attn::impl::AttnMaterializeDefaultsPassBase<
          AttnMaterializeDefaultsPass> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](AttentionOp op) {
      Builder builder(op.getContext());
      if (!op.getNormalizerAttr())
        op.setNormalizerAttr(op.getNormalizerOrDefault());
      if (!op.getScaleAttr()) {
        if (!ProblemShape::isKnown(op.getProblemShape().headDimQK)) {
          op.emitOpError() << "has a dynamic head dim, so the default scale "
                              "1/sqrt(d_qk) is unknown; set 'scale'";
          return WalkResult::interrupt();
        }
        op.setScaleAttr(builder.getF64FloatAttr(op.getScaleOrDefault()));
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
