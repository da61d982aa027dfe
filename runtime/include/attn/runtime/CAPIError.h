//===- CAPIError.h - The C APIs' per-thread error message -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn_last_error()'s message, set by the C API implementations: the
// runtime's (lib/common/CAPI.cpp) and the compiler's (lib/CAPI), which
// share it so that a caller reads every error in one place.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CAPIERROR_H
#define ATTN_RUNTIME_CAPIERROR_H

#include "attn/runtime/attn_runtime.h"
#include <string>

namespace attnrt {
/// Records `message` as this thread's last error and returns `status`.
attn_status setError(attn_status status, std::string message);
/// Clears the last error and returns ATTN_OK.
attn_status clearError();
} // namespace attnrt

#endif // ATTN_RUNTIME_CAPIERROR_H
