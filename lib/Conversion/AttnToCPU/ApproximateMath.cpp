//===- ApproximateMath.cpp - Polynomial exp/log/tanh ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATHPASS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

void mlir::attn::populateApproximateMathPatterns(RewritePatternSet &patterns,
                                                 bool expandExp2) {
  // exp2 has no polynomial of its own: exp2(x) = exp(x ln 2).
  if (expandExp2)
    math::populateExpansionPatterns(patterns, {"exp2"});
  auto selected = [](StringRef name) {
    return name == math::ExpOp::getOperationName() ||
           name == math::LogOp::getOperationName() ||
           name == math::Log1pOp::getOperationName() ||
           name == math::TanhOp::getOperationName();
  };
  populateMathF32ExpansionPatterns(patterns, selected);
  populateMathPolynomialApproximationPatterns(patterns, selected);
}

namespace {
struct AttnApproximateMathPass final
    : mlir::attn::impl::AttnApproximateMathPassBase<AttnApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    mlir::attn::populateApproximateMathPatterns(patterns, /*expandExp2=*/true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
