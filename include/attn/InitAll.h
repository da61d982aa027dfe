//===- InitAll.h - Register every Attn dialect and pass ---------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// One place that the tools, the C API and Python use to register the attn
// dialect, its passes and the upstream dialects its pipelines produce.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_INITALL_H
#define ATTN_INITALL_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::attn {

/// Adds the attn dialect and the upstream dialects Attn's IR mixes with.
void registerAllDialects(DialectRegistry &registry);

/// Registers the attn passes (with the command-line registry).
void registerAllPasses();

} // namespace mlir::attn

#endif // ATTN_INITALL_H
