//===- CUDADriver.h - The CUDA driver API, opened at run time ---*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The runtime talks to NVIDIA GPUs through the driver API of libcuda.so.1,
// which it opens with dlopen on first use: nothing links against libcuda,
// and the runtime builds and loads on machines without CUDA (CI), where
// opening the driver fails with a message instead. The few driver types
// and constants the runtime needs are declared here (with the values of
// CUDA 12's cuda.h), so cuda.h is not needed to build either. Entry points
// are resolved with cuGetProcAddress (CUDA 12 drivers and later), which
// picks the ABI version (the _v2 symbols) for the driver at hand.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_LIB_CUDA_CUDADRIVER_H
#define ATTN_RUNTIME_LIB_CUDA_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace attnrt::cuda {

// Driver types, as cuda.h declares them (handles are opaque pointers).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

// The constants the runtime uses, with cuda.h's values.
enum : int {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_DEINITIALIZED = 4,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_NOT_FOUND = 500,
};
enum : int { // CUdevice_attribute
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};
enum : int { // CUpointer_attribute
  CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
  CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9,
};
enum : unsigned { // CUmemorytype
  CU_MEMORYTYPE_HOST = 1,
  CU_MEMORYTYPE_DEVICE = 2,
  CU_MEMORYTYPE_ARRAY = 3,
  CU_MEMORYTYPE_UNIFIED = 4,
};
enum : int { // CUfunction_attribute
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};
enum : int { // CUjit_option
  CU_JIT_INFO_LOG_BUFFER = 3,
  CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};
enum : unsigned { CU_EVENT_DEFAULT = 0 };
enum : unsigned { CU_STREAM_DEFAULT = 0, CU_STREAM_NON_BLOCKING = 1 };

/// The driver's entry points. A member is null only when it is optional
/// and the driver lacks it (cuFuncGetParamInfo before CUDA 12.4).
struct Driver {
  CUresult (*cuInit)(unsigned flags) = nullptr;
  CUresult (*cuDriverGetVersion)(int *version) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  CUresult (*cuDeviceGetCount)(int *count) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetName)(char *name, int length,
                              CUdevice device) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context,
                                       CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device) = nullptr;
  CUresult (*cuCtxGetCurrent)(CUcontext *context) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext context) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute,
                                 int value) = nullptr;
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(
      int *blocks, CUfunction function, int blockSize,
      size_t dynamicSharedBytes) = nullptr;
  CUresult (*cuFuncGetParamInfo)(CUfunction function, size_t index,
                                 size_t *offset, size_t *size) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra) = nullptr;
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream stream) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream stream) = nullptr;
  CUresult (*cuPointerGetAttribute)(void *data, int attribute,
                                    CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr pointer, unsigned char value,
                         size_t count) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr to, const void *from,
                           size_t bytes) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *to, CUdeviceptr from, size_t bytes) = nullptr;
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr to, const void *from, size_t bytes,
                                CUstream stream) = nullptr;
  CUresult (*cuMemcpyDtoHAsync)(void *to, CUdeviceptr from, size_t bytes,
                                CUstream stream) = nullptr;
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags) = nullptr;
  CUresult (*cuEventDestroy)(CUevent event) = nullptr;
  CUresult (*cuEventRecord)(CUevent event, CUstream stream) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent event) = nullptr;
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end) = nullptr;

  /// Opens the driver library `libraryName` (libcuda.so.1), resolves
  /// every entry point and initializes the driver. Fails with a message
  /// (no NVIDIA driver, a driver older than CUDA 12, no device) instead of
  /// crashing.
  bool open(const char *libraryName, std::string &error);

  /// The name and text of `result`: "CUDA_ERROR_X (description)".
  std::string describe(CUresult result) const;
  /// Returns true for CUDA_SUCCESS; else sets `error` to "`where`: `call`
  /// failed: CUDA_ERROR_X (description)".
  bool check(CUresult result, const char *call, const std::string &where,
             std::string &error) const;

  /// The number of devices (after a successful open).
  int numDevices = 0;
  /// The driver's CUDA version (12040 for 12.4).
  int version = 0;

private:
  void *library = nullptr;
};

/// The process's driver, opened once (libcuda.so.1); null, with the reason
/// in `error`, when it cannot be opened or initialized. The driver stays
/// open for the life of the process.
const Driver *driver(std::string &error);

/// Makes `context` current on this thread for the life of the object, then
/// restores the context that was current before.
class ScopedContext {
public:
  ScopedContext(const Driver &driver, CUcontext context);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;
  /// The result of making `context` current.
  CUresult result() const { return status; }

private:
  const Driver &d;
  CUcontext saved = nullptr;
  bool changed = false;
  CUresult status = CUDA_SUCCESS;
};

} // namespace attnrt::cuda

#endif // ATTN_RUNTIME_LIB_CUDA_CUDADRIVER_H
