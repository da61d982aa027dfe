//===- LoopBuilders.h - The base of the kernel builders ---------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The builder base that attn-tile and the CPU lowering share: scf.for and
// scf.if whose bodies a callback fills at the builder's insertion point,
// constants, index arithmetic and loads that widen to f32.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H
#define ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// The largest of {max, max/2, max/4, ..., 1} that divides `n`: a tile or
/// vector size no larger than `max` that `n` is a multiple of.
inline int64_t largestHalvingDivisor(int64_t n, int64_t max) {
  int64_t size = max;
  while (size > 1 && n % size != 0)
    size /= 2;
  return size;
}

/// An ImplicitLocOpBuilder with the helpers kernel builders use: index and
/// f32 constants, index min/max/compare, scf loops and ifs whose bodies a
/// callback fills at the insertion point, and loads widened to f32.
class KernelCodeBuilder {
protected:
  KernelCodeBuilder(Location loc, MLIRContext *context) : b(loc, context) {}

  ImplicitLocOpBuilder b;

  Value idx(int64_t value) { return arith::ConstantIndexOp::create(b, value); }
  Value f32(double value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }
  Value boolean(bool value) {
    return arith::ConstantOp::create(b, b.getBoolAttr(value));
  }
  Value minIndex(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxIndex(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value cmp(arith::CmpIPredicate pred, Value x, Value y) {
    return arith::CmpIOp::create(b, pred, x, y);
  }

  /// memref[indices], extended to f32 when narrower.
  Value loadF32(Value memref, ValueRange indices) {
    Value value = memref::LoadOp::create(b, memref, indices);
    if (!value.getType().isF32())
      value = arith::ExtFOp::create(b, b.getF32Type(), value);
    return value;
  }

  /// for (iv = lb; iv < ub; iv += step) body(iv)
  void forLoop(Value lb, Value ub, int64_t step,
               function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, lb, ub, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// A loop carrying `inits` through `body`, which returns the next values;
  /// returns the final values.
  SmallVector<Value>
  forLoopCarry(Value lb, Value ub, int64_t step, ValueRange inits,
               function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return forLoopCarry(lb, ub, idx(step), inits, body);
  }
  SmallVector<Value>
  forLoopCarry(Value lb, Value ub, Value step, ValueRange inits,
               function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(
        b, lb, ub, step, inits,
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          SmallVector<Value> next = body(iv, iter);
          scf::YieldOp::create(b, next);
        });
    return SmallVector<Value>(loop.getResults());
  }

  /// if (cond) then() else inits: an scf.if yielding what `then` returns
  /// (values of the types of `inits`) or `inits`; returns its results.
  SmallVector<Value> ifCarry(Value cond, ValueRange inits,
                             function_ref<SmallVector<Value>()> then) {
    auto ifOp = scf::IfOp::create(b, inits.getTypes(), cond,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, then());
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, inits);
    return SmallVector<Value>(ifOp.getResults());
  }

  /// if (cond) then()
  void ifThen(Value cond, function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    then();
  }
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_UTILS_LOOPBUILDERS_H
