//===- LoopBuilders.h - scf loops built from callbacks ----------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The small builders that attn-tile and the CPU lowering share: scf.for and
// scf.if whose bodies a callback fills at the builder's insertion point, and
// loads that widen to f32.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H
#define ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// for (iv = lb; iv < ub; iv += step) body(iv)
inline void buildFor(ImplicitLocOpBuilder &b, Value lb, Value ub, int64_t step,
                     function_ref<void(Value)> body) {
  auto loop =
      scf::ForOp::create(b, lb, ub, arith::ConstantIndexOp::create(b, step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  body(loop.getInductionVar());
}

/// A loop carrying `inits` through `body`, which returns the next values;
/// returns the final values.
inline SmallVector<Value>
buildForCarry(ImplicitLocOpBuilder &b, Value lb, Value ub, int64_t step,
              ValueRange inits,
              function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, arith::ConstantIndexOp::create(b, step), inits,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(),
                            nested.getInsertionPoint());
        SmallVector<Value> next = body(iv, iter);
        scf::YieldOp::create(b, next);
      });
  return SmallVector<Value>(loop.getResults());
}

/// if (cond) then()
inline void buildIf(ImplicitLocOpBuilder &b, Value cond,
                    function_ref<void()> then) {
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  then();
}

/// memref[indices], extended to f32 when narrower.
inline Value buildLoadF32(ImplicitLocOpBuilder &b, Value memref,
                          ValueRange indices) {
  Value value = memref::LoadOp::create(b, memref, indices);
  if (!value.getType().isF32())
    value = arith::ExtFOp::create(b, b.getF32Type(), value);
  return value;
}

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H
