//===- CUDADriver.cpp - The CUDA driver API, opened at run time -----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "CUDADriver.h"

#include <dlfcn.h>

using namespace attnrt::cuda;

namespace {
/// cuGetProcAddress_v2 (CUDA 12): the entry point of `symbol` for the
/// driver API of CUDA version `cudaVersion`.
using GetProcAddress = CUresult (*)(const char *symbol, void **function,
                                    int cudaVersion, unsigned long long flags,
                                    int *symbolStatus);
constexpr unsigned long long kGetProcAddressDefault = 0;
} // namespace

bool Driver::open(const char *libraryName, std::string &error) {
  library = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    error = std::string("cannot open ") + libraryName + ": " +
            (why ? why : "unknown error") +
            " (no NVIDIA driver on this machine)";
    return false;
  }
  auto getProc =
      reinterpret_cast<GetProcAddress>(dlsym(library, "cuGetProcAddress_v2"));
  if (!getProc) {
    error = std::string(libraryName) +
            " has no cuGetProcAddress_v2: the NVIDIA driver is older than "
            "CUDA 12; update the driver";
    return false;
  }
  // Each entry point with the CUDA version whose ABI the declarations in
  // CUDADriver.h follow (12.0; 12.4 for cuFuncGetParamInfo, which is
  // optional).
  struct Entry {
    const char *symbol;
    void **slot;
    int version;
    bool required;
  };
#define ATTN_CUDA_ENTRY(name, version, required)                               \
  Entry { #name, reinterpret_cast<void **>(&name), version, required }
  const Entry entries[] = {
      ATTN_CUDA_ENTRY(cuInit, 12000, true),
      ATTN_CUDA_ENTRY(cuDriverGetVersion, 12000, true),
      ATTN_CUDA_ENTRY(cuGetErrorName, 12000, true),
      ATTN_CUDA_ENTRY(cuGetErrorString, 12000, true),
      ATTN_CUDA_ENTRY(cuDeviceGetCount, 12000, true),
      ATTN_CUDA_ENTRY(cuDeviceGet, 12000, true),
      ATTN_CUDA_ENTRY(cuDeviceGetName, 12000, true),
      ATTN_CUDA_ENTRY(cuDeviceGetAttribute, 12000, true),
      ATTN_CUDA_ENTRY(cuDevicePrimaryCtxRetain, 12000, true),
      ATTN_CUDA_ENTRY(cuDevicePrimaryCtxRelease, 12000, true),
      ATTN_CUDA_ENTRY(cuCtxGetCurrent, 12000, true),
      ATTN_CUDA_ENTRY(cuCtxSetCurrent, 12000, true),
      ATTN_CUDA_ENTRY(cuCtxSynchronize, 12000, true),
      ATTN_CUDA_ENTRY(cuModuleLoadDataEx, 12000, true),
      ATTN_CUDA_ENTRY(cuModuleUnload, 12000, true),
      ATTN_CUDA_ENTRY(cuModuleGetFunction, 12000, true),
      ATTN_CUDA_ENTRY(cuFuncSetAttribute, 12000, true),
      ATTN_CUDA_ENTRY(cuOccupancyMaxActiveBlocksPerMultiprocessor, 12000, true),
      ATTN_CUDA_ENTRY(cuFuncGetParamInfo, 12040, false),
      ATTN_CUDA_ENTRY(cuLaunchKernel, 12000, true),
      ATTN_CUDA_ENTRY(cuStreamCreate, 12000, true),
      ATTN_CUDA_ENTRY(cuStreamDestroy, 12000, true),
      ATTN_CUDA_ENTRY(cuStreamSynchronize, 12000, true),
      ATTN_CUDA_ENTRY(cuPointerGetAttribute, 12000, true),
      ATTN_CUDA_ENTRY(cuMemAlloc, 12000, true),
      ATTN_CUDA_ENTRY(cuMemFree, 12000, true),
      ATTN_CUDA_ENTRY(cuMemsetD8, 12000, true),
      ATTN_CUDA_ENTRY(cuMemcpyHtoD, 12000, true),
      ATTN_CUDA_ENTRY(cuMemcpyDtoH, 12000, true),
      ATTN_CUDA_ENTRY(cuMemcpyHtoDAsync, 12000, true),
      ATTN_CUDA_ENTRY(cuMemcpyDtoHAsync, 12000, true),
      ATTN_CUDA_ENTRY(cuEventCreate, 12000, true),
      ATTN_CUDA_ENTRY(cuEventDestroy, 12000, true),
      ATTN_CUDA_ENTRY(cuEventRecord, 12000, true),
      ATTN_CUDA_ENTRY(cuEventSynchronize, 12000, true),
      ATTN_CUDA_ENTRY(cuEventElapsedTime, 12000, true),
  };
#undef ATTN_CUDA_ENTRY
  std::string missing;
  for (const Entry &entry : entries) {
    int status = 0;
    *entry.slot = nullptr;
    if (getProc(entry.symbol, entry.slot, entry.version, kGetProcAddressDefault,
                &status) != CUDA_SUCCESS)
      *entry.slot = nullptr;
    if (!*entry.slot && entry.required)
      missing += (missing.empty() ? "" : ", ") + std::string(entry.symbol);
  }
  if (!missing.empty()) {
    error = std::string(libraryName) + " lacks driver entry points (" +
            missing + "); update the NVIDIA driver";
    return false;
  }
  CUresult result = cuInit(0);
  if (result == CUDA_ERROR_NO_DEVICE) {
    error = "the NVIDIA driver found no CUDA device on this machine (cuInit: " +
            describe(result) + ")";
    return false;
  }
  std::string driverName =
      std::string("the NVIDIA driver (") + libraryName + ")";
  if (!check(result, "cuInit", "cannot initialize " + driverName, error))
    return false;
  if (!check(cuDriverGetVersion(&version), "cuDriverGetVersion",
             "cannot query " + driverName, error) ||
      !check(cuDeviceGetCount(&numDevices), "cuDeviceGetCount",
             "cannot count the CUDA devices of " + driverName, error))
    return false;
  if (numDevices < 1) {
    error = "the NVIDIA driver found no CUDA device on this machine";
    return false;
  }
  return true;
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  std::string out =
      name ? name : "CUDA error " + std::to_string(static_cast<int>(result));
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

bool Driver::check(CUresult result, const char *call, const std::string &where,
                   std::string &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  error = where + ": " + call + " failed: " + describe(result);
  return false;
}

const Driver *attnrt::cuda::driver(std::string &error) {
  // Opened once; a failure is final for the process too (a driver does not
  // appear while it runs).
  static Driver instance;
  static std::string failure;
  static const bool opened = instance.open("libcuda.so.1", failure);
  if (!opened) {
    error = failure;
    return nullptr;
  }
  return &instance;
}

ScopedContext::ScopedContext(const Driver &driver, CUcontext context)
    : d(driver) {
  if (d.cuCtxGetCurrent(&saved) != CUDA_SUCCESS)
    saved = nullptr;
  if (saved == context)
    return;
  status = d.cuCtxSetCurrent(context);
  changed = status == CUDA_SUCCESS;
}

ScopedContext::~ScopedContext() {
  if (changed)
    d.cuCtxSetCurrent(saved);
}
