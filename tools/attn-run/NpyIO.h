//===- NpyIO.h - NumPy .npy files for attn-run --save/--load ----*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTN_RUN_NPYIO_H
#define ATTN_TOOLS_ATTN_RUN_NPYIO_H

#include "attn/Reference/Reference.h"
#include <string>

namespace mlir::attn {

/// Writes `t` as a C-order .npy file: f32 as <f4, f16 as <f2, i32 as <i4 and
/// bf16 as <f4 (NumPy has no bfloat16; every bf16 value is an exact f32).
bool writeNpy(const std::string &path, const HostTensor &t, std::string &error);

/// Reads a C-order .npy file (<f2, <f4, <f8, <i4, <i8) into `t`, whose dtype
/// says how to store the values (floats are rounded to it).
bool readNpy(const std::string &path, HostTensor &t, std::string &error);

} // namespace mlir::attn

#endif // ATTN_TOOLS_ATTN_RUN_NPYIO_H
