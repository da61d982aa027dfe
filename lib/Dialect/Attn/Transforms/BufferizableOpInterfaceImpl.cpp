//===- BufferizableOpInterfaceImpl.cpp - Tile ops' bufferization ----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// BufferizableOpInterface models of the attn.tile ops: the destination-style
// ops bufferize in place onto their inits (DstBufferizableOpInterface-
// ExternalModel, as linalg's ops do); finalize only reads its state. Each op
// bufferizes to the same op on the buffers, without results.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::bufferization;

/// Replaces `op` by the same op on the buffers of its tensor operands,
/// without results; the results become the buffers of the ops' inits.
static LogicalResult bufferizeTileOp(Operation *op, RewriterBase &rewriter,
                                     const BufferizationOptions &options,
                                     BufferizationState &state) {
  SmallVector<Value> operands;
  for (Value operand : op->getOperands()) {
    if (!isa<TensorType>(operand.getType())) {
      operands.push_back(operand);
      continue;
    }
    FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
    if (failed(buffer))
      return failure();
    operands.push_back(*buffer);
  }
  rewriter.setInsertionPoint(op);
  OperationState bufferized(op->getLoc(), op->getName());
  bufferized.addOperands(operands);
  for (NamedAttribute attr : op->getDiscardableAttrs())
    bufferized.addAttribute(attr.getName(), attr.getValue());
  bufferized.propertiesAttr = op->getPropertiesAsAttribute();
  for (unsigned i = 0, e = op->getNumRegions(); i < e; ++i)
    bufferized.addRegion();
  Operation *newOp = rewriter.create(bufferized);
  for (auto [from, to] : llvm::zip(op->getRegions(), newOp->getRegions()))
    rewriter.inlineRegionBefore(from, to, to.end());
  SmallVector<Value> replacements;
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    for (OpOperand &init : dps.getDpsInitsMutable())
      replacements.push_back(newOp->getOperand(init.getOperandNumber()));
  replaceOpWithBufferizedValues(rewriter, op, replacements);
  return success();
}

namespace {
/// A destination-style tile op: in place onto its inits.
template <typename OpTy>
struct DpsTileOpModel
    : DstBufferizableOpInterfaceExternalModel<DpsTileOpModel<OpTy>, OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeTileOp(op, rewriter, options, state);
  }
};

/// normalize: element-wise from the scores to the weights (a score is read
/// before the weight at its position is written, and not after), so an f32
/// kernel's weights can overwrite its scores.
struct NormalizeOpModel
    : DstBufferizableOpInterfaceExternalModel<NormalizeOpModel,
                                              TileNormalizeOp> {
  bool bufferizesToElementwiseAccess(Operation *op, const AnalysisState &,
                                     ArrayRef<OpOperand *> operands) const {
    auto normalize = cast<TileNormalizeOp>(op);
    return llvm::all_of(operands, [&](OpOperand *operand) {
      return operand == &normalize.getScoresMutable() ||
             operand == &normalize.getPMutable();
    });
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeTileOp(op, rewriter, options, state);
  }
};

/// finalize: reads its state tensors, writes only the views (memrefs).
struct FinalizeOpModel
    : BufferizableOpInterface::ExternalModel<FinalizeOpModel, TileFinalizeOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    return bufferizeTileOp(op, rewriter, options, state);
  }
};

template <typename... Ops> void attachDpsModels(MLIRContext *ctx) {
  (Ops::template attachInterface<DpsTileOpModel<Ops>>(*ctx), ...);
}
} // namespace

void mlir::attn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, AttnDialect *) {
    attachDpsModels<TileLoadQOp, TileLoadKOp, TileLoadVOp, TileInitOp, TileQKOp,
                    TileScoreModOp, TileMaskOp, TilePVOp>(ctx);
    TileNormalizeOp::attachInterface<NormalizeOpModel>(*ctx);
    TileFinalizeOp::attachInterface<FinalizeOpModel>(*ctx);
  });
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
}
