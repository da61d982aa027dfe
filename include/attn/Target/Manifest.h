//===- Manifest.h - What a compiled kernel expects --------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A compiled artifact travels with a JSON manifest that tells the runtime
// how to call it without MLIR: the entry symbol, the parameters in call
// order (name, dtype, shape with -1 for sizes given at run time), the layout
// and the work decomposition in numbers. It is written from the lowered
// module: the kernel function's `attn.tiling` and `attn.interface`, which
// attn-tile records and every later pass keeps. docs/runtime.md documents
// the fields.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_MANIFEST_H
#define ATTN_TARGET_MANIFEST_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace mlir::attn {

/// What the manifest says about where the kernel was compiled for.
struct ManifestInfo {
  std::string target;       ///< "cpu"
  std::string targetDetail; ///< the CPU name
  std::string specHash;     ///< the cache key of the spec (see Driver.h)
};

/// The manifest of the one attention kernel in `module`, at any level from
/// the tile level down to the LLVM dialect. Fails when the module holds no
/// kernel function with `attn.tiling` and `attn.interface`, or several.
llvm::Expected<llvm::json::Object> buildManifest(ModuleOp module,
                                                 const ManifestInfo &info);

} // namespace mlir::attn

#endif // ATTN_TARGET_MANIFEST_H
