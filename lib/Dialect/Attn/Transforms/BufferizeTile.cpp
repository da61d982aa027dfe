//===- BufferizeTile.cpp - The tile level's tensor form to memrefs --------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-bufferize-tile (see Transforms/Passes.td): One-Shot Bufferize of a
// tile-level kernel, with tiles on the stack and no copies allowed.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/Transforms/BufferizableOpInterfaceImpl.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNBUFFERIZETILEPASS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
struct AttnBufferizeTilePass final
    : mlir::attn::impl::AttnBufferizeTilePassBase<AttnBufferizeTilePass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registerBufferizableOpInterfaceExternalModels(registry);
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool hasTensors = false;
    func.walk([&](Operation *op) {
      hasTensors |=
          llvm::any_of(op->getResultTypes(), llvm::IsaPred<TensorType>);
    });
    if (!hasTensors)
      return;

    bufferization::OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = false;
    options.unknownTypeConverterFn =
        [](TensorType type, Attribute memorySpace,
           const bufferization::BufferizationOptions &) {
          return bufferization::getMemRefTypeWithStaticIdentityLayout(
              type, memorySpace);
        };
    // A work item's tiles live on its stack, allocated once at the entry
    // (an alloca in a loop would grow the stack every iteration).
    Block *entry = &func.getBody().front();
    options.allocationFn = [entry](OpBuilder &b, Location loc, MemRefType type,
                                   ValueRange dynamicSizes,
                                   unsigned alignment) -> FailureOr<Value> {
      if (!dynamicSizes.empty())
        return emitError(loc) << "attn-bufferize-tile: tiles have static "
                                 "shapes, got "
                              << type;
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(entry);
      return memref::AllocaOp::create(b, loc, type,
                                      b.getI64IntegerAttr(alignment))
          .getResult();
    };
    // A copy means the tile level read a tile after replacing it.
    options.memCpyFn = [](OpBuilder &b, Location loc, Value, Value) {
      return emitError(loc)
             << "attn-bufferize-tile: this tile would need a copy: a value of "
                "the tile level is read after the op that replaces it; use "
                "each tile value once, in a straight chain";
    };
    bufferization::BufferizationState state;
    if (failed(bufferization::runOneShotBufferize(func, options, state)))
      return signalPassFailure();
  }
};
} // namespace
