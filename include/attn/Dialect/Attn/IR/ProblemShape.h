//===- ProblemShape.h - Sizes of an attention problem -----------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The sizes an attention problem has as far as its types tell them; mask and
// score-modifier attributes check themselves against it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_PROBLEMSHAPE_H
#define ATTN_DIALECT_ATTN_IR_PROBLEMSHAPE_H

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include <cstdint>

namespace mlir::attn {

/// Sizes of an attention problem; ShapedType::kDynamic where unknown.
struct ProblemShape {
  int64_t batch = ShapedType::kDynamic;
  int64_t qLen = ShapedType::kDynamic;
  int64_t kvLen = ShapedType::kDynamic;
  int64_t numQHeads = ShapedType::kDynamic;
  int64_t numKVHeads = ShapedType::kDynamic;
  int64_t headDimQK = ShapedType::kDynamic;
  int64_t headDimV = ShapedType::kDynamic;

  static bool isKnown(int64_t size) { return !ShapedType::isDynamic(size); }
};

} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_PROBLEMSHAPE_H
