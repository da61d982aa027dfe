//===- Error.h - The runtime's per-thread error message ---------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_LIB_COMMON_ERROR_H
#define ATTN_RUNTIME_LIB_COMMON_ERROR_H

#include "attn/runtime/attn_runtime.h"
#include <string>

namespace attnrt {
/// Records `message` as this thread's last error and returns `status`.
attn_status setError(attn_status status, std::string message);
/// Clears the last error and returns ATTN_OK.
attn_status clearError();
} // namespace attnrt

#endif // ATTN_RUNTIME_LIB_COMMON_ERROR_H
