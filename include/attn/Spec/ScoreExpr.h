//===- ScoreExpr.h - Score expressions of the spec format -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The `expr` score modifier: a small expression language over the score, the
// indices and per-head parameters, compiled to arith/math ops in the
// `score_mod` region of attn.attention.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SPEC_SCOREEXPR_H
#define ATTN_SPEC_SCOREEXPR_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::attn {

/// What an expression may refer to.
struct ScoreExprEnv {
  Value score;                                ///< f32: the score so far
  Value batch, head;                          ///< index: b, h
  Value qIndex, kvIndex;                      ///< index: q_idx, kv_idx
  llvm::ArrayRef<llvm::StringRef> paramNames; ///< per-head parameter names
  llvm::ArrayRef<Value> params;               ///< f32, one per name
};

/// Emits the ops computing `text` at `builder`'s insertion point and returns
/// the f32 result. `locAt(offset)` gives the location of a byte of `text`;
/// errors are reported there, each message starting with `diagPrefix`.
FailureOr<Value> buildScoreExpr(OpBuilder &builder, llvm::StringRef text,
                                const ScoreExprEnv &env,
                                llvm::function_ref<Location(size_t)> locAt,
                                llvm::StringRef diagPrefix = "expr: ");

} // namespace mlir::attn

#endif // ATTN_SPEC_SCOREEXPR_H
