//===- Compare.cpp - A kernel's output against a reference ----------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Compare.h"

#include <cmath>

double attnrt::relativeError(const std::vector<double> &got,
                             const std::vector<double> &want, bool &mismatch) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]))
      continue; // a packed row outside every sequence
    if (std::isnan(got[i])) {
      mismatch = true;
      continue;
    }
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      mismatch |= got[i] != want[i];
      continue;
    }
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
