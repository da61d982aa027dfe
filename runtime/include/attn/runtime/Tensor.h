//===- Tensor.h - Tensor views for C++ callers ------------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_TENSOR_H
#define ATTN_RUNTIME_TENSOR_H

#include "attn/runtime/attn_runtime.h"

#include <cstdint>
#include <vector>

namespace attnrt {

/// A dense row-major view of `shape` (at most ATTN_MAX_RANK dimensions) at
/// `data` on device `deviceId` of kind `device`.
attn_tensor denseView(void *data, attn_dtype dtype,
                      const std::vector<int64_t> &shape,
                      attn_device_kind device = ATTN_DEVICE_CPU,
                      int32_t deviceId = 0);

/// bf16 and f16 bits from f32 (round to nearest even; NaN stays NaN) and
/// back, for host copies of kernel tensors.
uint16_t floatToBF16(float x);
float bf16ToFloat(uint16_t bits);
uint16_t floatToF16(float x);
float f16ToFloat(uint16_t bits);

} // namespace attnrt

#endif // ATTN_RUNTIME_TENSOR_H
