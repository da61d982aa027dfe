//===- Tensor.cpp - Tensor argument checks and views ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Tensor.h"
#include "attn/runtime/CAPIError.h"
#include <cmath>
#include <cstring>

#include <cstdio>
#include <sstream>
#include <string>

namespace {
thread_local std::string lastError;

attn_status fail(const std::string &message) {
  return attnrt::setError(ATTN_ERROR_INVALID_ARGUMENT, message);
}

std::string shapeString(const int64_t *shape, int32_t rank) {
  std::ostringstream os;
  os << '[';
  for (int32_t i = 0; i < rank; ++i) {
    if (i)
      os << ", ";
    if (shape[i] < 0)
      os << '?';
    else
      os << shape[i];
  }
  os << ']';
  return os.str();
}

const char *deviceName(attn_device_kind kind) {
  switch (kind) {
  case ATTN_DEVICE_CPU:
    return "cpu";
  case ATTN_DEVICE_CUDA:
    return "cuda";
  case ATTN_DEVICE_KIND_FORCE_INT32:
    break;
  }
  return "unknown";
}
} // namespace

extern "C" const char *attn_dtype_name(attn_dtype dtype) {
  switch (dtype) {
  case ATTN_F32:
    return "f32";
  case ATTN_F16:
    return "f16";
  case ATTN_BF16:
    return "bf16";
  case ATTN_I32:
    return "i32";
  case ATTN_DTYPE_FORCE_INT32:
    break;
  }
  return "unknown";
}

attn_status attnrt::setError(attn_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

attn_status attnrt::clearError() {
  lastError.clear();
  return ATTN_OK;
}

extern "C" const char *attn_last_error(void) { return lastError.c_str(); }

attn_tensor attnrt::denseView(void *data, attn_dtype dtype,
                              const std::vector<int64_t> &shape,
                              attn_device_kind device, int32_t deviceId) {
  attn_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  for (int32_t i = t.rank - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i];
  }
  t.device = device;
  t.device_id = deviceId;
  return t;
}

extern "C" attn_status attn_check_tensor(const attn_tensor *tensor,
                                         const attn_tensor_spec *spec,
                                         attn_device_kind device) {
  if (!spec || !spec->name)
    return fail("attn_check_tensor: no tensor spec given");
  std::string name = spec->name;
  if (!tensor)
    return fail("operand '" + name + "' is missing");
  bool empty = false;
  for (int32_t i = 0; i < tensor->rank; ++i)
    empty |= tensor->shape[i] == 0;
  if (!tensor->data && !empty)
    return fail("operand '" + name + "' has a null data pointer");
  // Codes outside the enums come from C callers: name them by number.
  auto known = [](const char *what) { return std::strcmp(what, "unknown"); };
  if (tensor->device != device)
    return fail(
        "operand '" + name + "' is on " +
        (known(deviceName(tensor->device))
             ? "the " + std::string(deviceName(tensor->device)) + " device"
             : "an unknown device kind (" + std::to_string(tensor->device) +
                   ")") +
        ", expected " + deviceName(device));
  if (tensor->dtype != spec->dtype)
    return fail("operand '" + name + "' has " +
                (known(attn_dtype_name(tensor->dtype))
                     ? "dtype " + std::string(attn_dtype_name(tensor->dtype))
                     : "an unknown dtype code (" +
                           std::to_string(tensor->dtype) + ")") +
                ", expected " + attn_dtype_name(spec->dtype));
  if (tensor->rank != spec->rank)
    return fail("operand '" + name + "' has rank " +
                std::to_string(tensor->rank) + ", expected " +
                std::to_string(spec->rank) + " " +
                shapeString(spec->shape, spec->rank));
  for (int32_t i = 0; i < spec->rank; ++i) {
    if (tensor->shape[i] < 0)
      return fail("operand '" + name + "' has a negative size in dimension " +
                  std::to_string(i));
    if (spec->shape[i] >= 0 && tensor->shape[i] != spec->shape[i])
      return fail("operand '" + name + "' has shape " +
                  shapeString(tensor->shape, tensor->rank) + ", expected " +
                  shapeString(spec->shape, spec->rank) + " (dimension " +
                  std::to_string(i) + ")");
    if (tensor->strides[i] < 0)
      return fail("operand '" + name + "' has a negative stride in dimension " +
                  std::to_string(i) +
                  "; pass a view with non-negative strides");
  }
  if (spec->inner_contiguous && spec->rank > 0 &&
      tensor->shape[spec->rank - 1] > 1 && tensor->strides[spec->rank - 1] != 1)
    return fail("operand '" + name +
                "' must be contiguous in its last "
                "dimension (stride 1), got stride " +
                std::to_string(tensor->strides[spec->rank - 1]));
  return attnrt::clearError();
}

uint16_t attnrt::floatToBF16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if (std::isnan(x))
    return 0x7fc0;
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float attnrt::bf16ToFloat(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

uint16_t attnrt::floatToF16(float x) {
  _Float16 h = static_cast<_Float16>(x);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

float attnrt::f16ToFloat(uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}
