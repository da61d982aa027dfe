//===- Reference.h - A float64 reference of attn.attention ------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A naive implementation of the semantics in DESIGN.md, independent of the
// tiled kernels: every (batch, head, query) row is computed in float64 over
// its visible keys, in increasing key order, with the score_mod region
// interpreted. The visible keys of a row are the mask model's visible runs
// (attnrt::mask::visibleRuns), and the first row of every block of rows is
// also checked against the pair-by-pair definition (mask::isVisible); or,
// on request, every pair is tested with isVisible. Rows are spread over
// threads; the result does not depend on their number. attn-run --check
// compares kernels against it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_REFERENCE_REFERENCE_H
#define ATTN_REFERENCE_REFERENCE_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/runtime/Kernel.h"
#include "attn/runtime/attn_runtime.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::attn {

/// A dense row-major host tensor.
struct HostTensor {
  attn_dtype dtype = ATTN_F32;
  std::vector<int64_t> shape;
  std::vector<double> values; ///< floats, already rounded to `dtype`
  std::vector<int32_t> ints;  ///< i32 tensors
  std::vector<uint16_t> half; ///< f16/bf16 storage for the kernel
  std::vector<float> single;  ///< f32 storage for the kernel

  int64_t numElements() const;
  /// Fills the kernel-side storage from `values` (rounding to dtype) and
  /// returns a view of it.
  attn_tensor view();
  /// Reads kernel-side storage back into `values`.
  void readBack();
};

/// The mask operands among `tensors` (int32 ones), for the mask model,
/// with lengths `Lq` and `Lkv` (attnrt::maskData over their views).
attnrt::mask::Data maskData(const std::map<std::string, HostTensor> &tensors,
                            int64_t Lq, int64_t Lkv);

/// Rounds `x` to the nearest value of `dtype` (round to nearest even).
double roundTo(attn_dtype dtype, double x);

struct ReferenceOptions {
  /// Threads that compute the rows (0: the hardware's count).
  unsigned numThreads = 0;
  /// Tests every (query, key) pair with mask::isVisible instead of
  /// visiting the mask model's visible runs of each row (quadratic in the
  /// length; the same result, which the unit tests check).
  bool pairByPair = false;
};

/// Computes out (and lse when the op has one) for the tensors named as the
/// kernel parameters ("q", "k", "v", optional operands). `out` and `lse`
/// receive the shapes of the corresponding tensors in `tensors`; with ragged
/// storage the packed rows outside every sequence hold NaN (the kernel
/// leaves them untouched, so they are not compared). Fails with an error on
/// a score_mod operation it cannot interpret, and when the mask model's
/// visible runs disagree with isVisible on a checked row.
LogicalResult computeReference(AttentionOp op,
                               std::map<std::string, HostTensor> &tensors,
                               std::vector<double> &out,
                               std::vector<double> &lse,
                               const ReferenceOptions &options = {});

} // namespace mlir::attn

#endif // ATTN_REFERENCE_REFERENCE_H
