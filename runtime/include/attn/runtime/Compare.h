//===- Compare.h - A kernel's output against a reference --------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The measure by which attn-run --check and attn-gpu-check judge a kernel:
// kept in the runtime so that both tools (one without LLVM) share it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_COMPARE_H
#define ATTN_RUNTIME_COMPARE_H

#include <vector>

namespace attnrt {

/// Relative Frobenius error of `got` against `want` over finite reference
/// entries; the infinities (lse of rows without keys) must match exactly
/// (else `mismatch` is set), and NaN reference entries (ragged rows outside
/// every sequence) are not compared. `got` holds at least `want.size()`
/// values.
double relativeError(const std::vector<double> &got,
                     const std::vector<double> &want, bool &mismatch);

} // namespace attnrt

#endif // ATTN_RUNTIME_COMPARE_H
