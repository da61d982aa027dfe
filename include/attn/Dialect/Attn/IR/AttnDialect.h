//===- AttnDialect.h - Attn dialect, enums and attributes -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H
#define ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "attn/Dialect/Attn/IR/ProblemShape.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

// Generated declarations, in dependency order (not sorted).
// clang-format off
#include "attn/Dialect/Attn/IR/AttnDialect.h.inc"
#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"
#include "attn/Dialect/Attn/IR/AttnAttrInterfaces.h.inc"
// clang-format on

namespace mlir::attn {
/// The most kv chunks a work item may be split into (split-KV); the runtime
/// checks manifests against the same bound.
inline constexpr int64_t kMaxKVSplits = 256;
/// The most query (or kv) heads and the largest head dim an op may have:
/// far beyond any model, and small enough that every size derived from
/// them (per-head tables, tiles, kernel scratch) stays bounded.
inline constexpr int64_t kMaxHeads = 1024;
inline constexpr int64_t kMaxHeadDim = 1024;
/// The largest tile (rows, keys) a schedule may ask for.
inline constexpr int64_t kMaxTileSize = 1024;

/// Parses a 64-bit float (for `Attn_F64Param`).
FailureOr<llvm::APFloat> parseF64(AsmParser &parser);
/// Parses and prints `true, false, ...` (for `Attn_BoolListParam`).
FailureOr<SmallVector<bool>> parseBoolList(AsmParser &parser);
void printBoolList(AsmPrinter &printer, ArrayRef<bool> values);

/// Parses a mask expression without the `#attn.` prefix, e.g.
/// `and<causal, sliding_window<left = 128>>`.
ParseResult parseMaskExpr(AsmParser &parser, MaskAttrInterface &mask);
/// Parses a score modifier without the `#attn.` prefix, e.g. `softcap<30.0>`.
ParseResult parseScoreModExpr(AsmParser &parser, ScoreModAttrInterface &mod);
/// Parses a normalizer without the `#attn.` prefix, e.g. `normalizer<softmax>`.
ParseResult parseNormalizerExpr(AsmParser &parser, Attribute &normalizer);
/// Prints an attn attribute without the `#attn.` prefix.
void printAttnAttrStripped(AsmPrinter &printer, Attribute attr);
} // namespace mlir::attn

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.h.inc"

#endif // ATTN_DIALECT_ATTN_IR_ATTNDIALECT_H
