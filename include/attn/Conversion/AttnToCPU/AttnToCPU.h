//===- AttnToCPU.h - attn.attention to a CPU kernel -------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H
#define ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {

/// Tiling of a CPU kernel.
struct CPUKernelOptions {
  int64_t vectorWidth = 8;
  int64_t blockQ = 128;
  int64_t blockKV = 64;
};

/// Replaces `func`, whose body is one attn.attention on its arguments, by a
/// kernel computing one work item (see convert-attn-to-cpu). Reports an
/// error at the op and fails when the op is not supported by the CPU target.
LogicalResult lowerAttentionFuncToCPU(func::FuncOp func,
                                      const CPUKernelOptions &options);

/// Whether the kernel of `op` takes a tile table (parameter `tile_kinds`,
/// i32 [B|1, H|1, q tiles, kv tiles]: 0 empty, 1 full, 2 partial) that the
/// runtime computes from the mask: for masks without loop bounds or analytic
/// full tiles (documents, vertical-slash, prefix operands, neighborhoods,
/// or/not/on_heads combinations, unaligned block-sparse layouts).
bool usesTileTable(AttentionOp op, const CPUKernelOptions &options);

/// The block sizes the kernel of `op` uses (the schedule's when set).
std::pair<int64_t, int64_t> getCPUBlockSizes(AttentionOp op,
                                             const CPUKernelOptions &options);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOCPU_ATTNTOCPU_H
