//===- SpecImport.h - YAML attention spec to attn.attention -----*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Reads an attention spec (docs/spec.md) with LLVM's YAML parser and builds a
// module holding one function around one `attn.attention`. Every error is an
// MLIR diagnostic located at the spec's file:line:column, naming the field.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SPEC_SPECIMPORT_H
#define ATTN_SPEC_SPECIMPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include <string>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::attn {

/// Values that replace the spec's own (command-line overrides).
struct SpecOverrides {
  std::string dtype; ///< f32, f16 or bf16; empty keeps the spec's
  /// schedule.split_kv: kv chunks per work item (1: none); 0 keeps the
  /// spec's.
  int64_t splitKV = 0;
};

/// `specText` (a spec that imports) with the overrides written into its
/// fields, so that it describes the kernel they give: `dtype` and
/// `schedule.split_kv` are replaced where the spec has them and added where
/// it does not; comments, order and style are kept. Fails with `error` on
/// text that is no YAML mapping or a schedule that is no mapping.
FailureOr<std::string> writeOverridesIntoSpec(llvm::StringRef specText,
                                              const SpecOverrides &overrides,
                                              std::string &error);

/// Imports the spec in the main buffer of `sourceMgr`. Returns null after
/// reporting errors through the context's diagnostic engine. The result has
/// been verified.
OwningOpRef<ModuleOp> importSpec(llvm::SourceMgr &sourceMgr,
                                 MLIRContext *context,
                                 const SpecOverrides &overrides = {});

} // namespace mlir::attn

#endif // ATTN_SPEC_SPECIMPORT_H
