//===- AttnToCPU.h - The tile level to CPU code -----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H
#define ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {

/// Vector width and tile sizes of a CPU kernel.
struct CPUKernelOptions {
  int64_t vectorWidth = 8;
  int64_t blockQ = 128;
  int64_t blockKV = 64;

  TilingOptions tiling() const { return {blockQ, blockKV}; }
};

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H
