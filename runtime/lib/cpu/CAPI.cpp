//===- CAPI.cpp - The C API over CPU kernels ------------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "../common/Error.h"
#include "attn/runtime/CPUKernel.h"
#include "attn/runtime/ThreadPool.h"

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

using namespace attnrt;

struct attn_kernel {
  std::unique_ptr<CPUKernel> kernel;
  std::unique_ptr<ThreadPool> pool;
  unsigned poolThreads = 0;
  /// Launches of one kernel share its pool; they run one at a time.
  std::mutex launchMutex;
};

namespace {
/// The arguments by name; a repeated name is an error.
bool collect(const attn_arg *args, int32_t numArgs,
             std::map<std::string, attn_tensor> &byName) {
  if (numArgs < 0 || (numArgs > 0 && !args)) {
    setError(ATTN_ERROR_INVALID_ARGUMENT, "no argument array given");
    return false;
  }
  for (int32_t i = 0; i < numArgs; ++i) {
    if (!args[i].name) {
      setError(ATTN_ERROR_INVALID_ARGUMENT,
               "argument " + std::to_string(i) + " has no name");
      return false;
    }
    if (!byName.emplace(args[i].name, args[i].tensor).second) {
      setError(ATTN_ERROR_INVALID_ARGUMENT,
               std::string("operand '") + args[i].name + "' is given twice");
      return false;
    }
  }
  return true;
}
} // namespace

extern "C" attn_status attn_kernel_load(const char *libraryPath,
                                        const char *manifestPath,
                                        attn_kernel **kernel) {
  if (!libraryPath || !manifestPath || !kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_load: a path or the result pointer is NULL");
  std::ifstream in(manifestPath);
  if (!in)
    return setError(ATTN_ERROR_NOT_FOUND, std::string("cannot read '") +
                                              manifestPath + "'");
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  std::unique_ptr<CPUKernel> loaded =
      CPUKernel::load(libraryPath, text.str(), error);
  if (!loaded)
    return setError(ATTN_ERROR_NOT_FOUND, error);
  *kernel = new attn_kernel();
  (*kernel)->kernel = std::move(loaded);
  return clearError();
}

extern "C" int32_t attn_kernel_num_params(const attn_kernel *kernel) {
  return kernel ? static_cast<int32_t>(kernel->kernel->params().size()) : 0;
}

extern "C" const char *attn_kernel_param_name(const attn_kernel *kernel,
                                              int32_t index) {
  if (!kernel || index < 0 ||
      index >= static_cast<int32_t>(kernel->kernel->params().size()))
    return nullptr;
  return kernel->kernel->params()[index].name.c_str();
}

extern "C" attn_status attn_kernel_validate(const attn_kernel *kernel,
                                            const attn_arg *args,
                                            int32_t numArgs) {
  if (!kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "no kernel given");
  std::map<std::string, attn_tensor> byName;
  if (!collect(args, numArgs, byName))
    return ATTN_ERROR_INVALID_ARGUMENT;
  std::string error;
  if (!kernel->kernel->validate(byName, error))
    return setError(ATTN_ERROR_INVALID_ARGUMENT, error);
  return clearError();
}

extern "C" attn_status attn_kernel_launch(attn_kernel *kernel,
                                          const attn_arg *args,
                                          int32_t numArgs,
                                          int32_t numThreads) {
  if (!kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "no kernel given");
  if (numThreads < 0)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "num_threads must be non-negative, got " +
                        std::to_string(numThreads));
  std::map<std::string, attn_tensor> byName;
  if (!collect(args, numArgs, byName))
    return ATTN_ERROR_INVALID_ARGUMENT;
  unsigned wanted = static_cast<unsigned>(numThreads);
  std::lock_guard<std::mutex> lock(kernel->launchMutex);
  if (!kernel->pool || kernel->poolThreads != wanted) {
    kernel->pool = std::make_unique<ThreadPool>(wanted);
    kernel->poolThreads = wanted;
  }
  std::string error;
  if (!kernel->kernel->launch(byName, *kernel->pool, error))
    return setError(ATTN_ERROR_INVALID_ARGUMENT, error);
  return clearError();
}

extern "C" void attn_kernel_free(attn_kernel *kernel) { delete kernel; }
