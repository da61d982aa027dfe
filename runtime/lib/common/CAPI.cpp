//===- CAPI.cpp - The runtime's C API -------------------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CAPIError.h"
#include "attn/runtime/Kernel.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

using namespace attnrt;

struct attn_kernel {
  std::unique_ptr<Kernel> kernel;
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

/// Wraps a loaded kernel, or records the load error.
static attn_status wrap(std::unique_ptr<Kernel> loaded,
                        const std::string &error, attn_kernel **kernel) {
  if (!loaded)
    return setError(ATTN_ERROR_NOT_FOUND, error);
  *kernel = new attn_kernel();
  (*kernel)->kernel = std::move(loaded);
  return clearError();
}

extern "C" attn_status attn_kernel_load(const char *artifactPath,
                                        const char *manifestPath,
                                        attn_kernel **kernel) {
  if (!artifactPath || !manifestPath || !kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_load: a path or the result pointer is NULL");
  if (!*artifactPath)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_load: the artifact path is empty");
  std::ifstream in(manifestPath);
  if (!in)
    return setError(ATTN_ERROR_NOT_FOUND,
                    std::string("cannot read '") + manifestPath + "'");
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  return wrap(loadKernel(artifactPath, "", text.str(), error), error, kernel);
}

extern "C" attn_status attn_kernel_load_bytes(const void *artifact, size_t size,
                                              const char *manifestJson,
                                              attn_kernel **kernel) {
  if (!artifact || !manifestJson || !kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_load_bytes: the artifact, the manifest or "
                    "the result pointer is NULL");
  if (size == 0)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_load_bytes: the artifact is empty");
  std::string error;
  return wrap(loadKernel("",
                         std::string(static_cast<const char *>(artifact), size),
                         manifestJson, error),
              error, kernel);
}

extern "C" const char *attn_kernel_manifest(const attn_kernel *kernel) {
  return kernel ? kernel->kernel->manifest().text.c_str() : nullptr;
}

/// The parameters a caller passes, in call order (the runtime fills the
/// internal ones: tile tables, split-KV partial rows).
static std::vector<const ParamSpec *> callerParams(const attn_kernel *kernel) {
  std::vector<const ParamSpec *> params;
  for (const ParamSpec &p : kernel->kernel->params())
    if (!p.internal)
      params.push_back(&p);
  return params;
}

extern "C" int32_t attn_kernel_num_params(const attn_kernel *kernel) {
  return kernel ? static_cast<int32_t>(callerParams(kernel).size()) : 0;
}

extern "C" const char *attn_kernel_param_name(const attn_kernel *kernel,
                                              int32_t index) {
  if (!kernel || index < 0)
    return nullptr;
  std::vector<const ParamSpec *> params = callerParams(kernel);
  if (index >= static_cast<int32_t>(params.size()))
    return nullptr;
  return params[index]->name.c_str();
}

/// Whether `name` is an output of `kernel`; else records the error.
static bool isOutput(const attn_kernel *kernel, const std::string &name) {
  const std::vector<ParamSpec> &params = kernel->kernel->params();
  auto has = [&](const char *param) {
    return std::any_of(params.begin(), params.end(),
                       [&](const ParamSpec &p) { return p.name == param; });
  };
  if ((name == "out" || name == "lse") && has(name.c_str()))
    return true;
  setError(ATTN_ERROR_INVALID_ARGUMENT,
           "'" + name + "' is not an output of kernel '" +
               kernel->kernel->name() + "' (outputs: out" +
               (has("lse") ? ", lse" : "") + ")");
  return false;
}

extern "C" attn_status attn_kernel_output_dims(const attn_kernel *kernel,
                                               const char *name, int32_t *rank,
                                               int64_t *dims) {
  if (!kernel || !name || !rank || !dims)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_output_dims: the kernel, the name or a "
                    "result pointer is NULL");
  if (!isOutput(kernel, name))
    return ATTN_ERROR_INVALID_ARGUMENT;
  std::vector<int64_t> result = kernel->kernel->outputDims(name);
  *rank = static_cast<int32_t>(result.size());
  std::copy(result.begin(), result.end(), dims);
  return clearError();
}

extern "C" attn_status attn_kernel_output_shape(const attn_kernel *kernel,
                                                const attn_tensor *q,
                                                const char *name, int32_t *rank,
                                                int64_t *shape) {
  if (!kernel || !q || !name || !rank || !shape)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_output_shape: the kernel, q, the name or a "
                    "result pointer is NULL");
  if (!isOutput(kernel, name))
    return ATTN_ERROR_INVALID_ARGUMENT;
  const std::vector<ParamSpec> &params = kernel->kernel->params();
  auto qSpec = std::find_if(params.begin(), params.end(),
                            [](const ParamSpec &p) { return p.name == "q"; });
  size_t want = qSpec == params.end() ? 0 : qSpec->shape.size();
  if (q->rank < 0 || static_cast<size_t>(q->rank) != want)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "operand 'q' has rank " + std::to_string(q->rank) +
                        ", expected " + std::to_string(want));
  std::vector<int64_t> result = kernel->kernel->outputShape(name, *q);
  *rank = static_cast<int32_t>(result.size());
  std::copy(result.begin(), result.end(), shape);
  return clearError();
}

extern "C" attn_status attn_kernel_tile_kinds(const attn_kernel *kernel,
                                              const attn_arg *args,
                                              int32_t numArgs, int64_t batch,
                                              int64_t head, int32_t *kinds,
                                              int64_t capacity, int64_t *qTiles,
                                              int64_t *kvTiles) {
  if (!kernel || !qTiles || !kvTiles || capacity < 0 || (capacity && !kinds))
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_tile_kinds: the kernel or a result pointer "
                    "is NULL, or the capacity does not fit the buffer");
  std::map<std::string, attn_tensor> byName;
  if (!collect(args, numArgs, byName))
    return ATTN_ERROR_INVALID_ARGUMENT;
  std::vector<int32_t> result;
  std::string error;
  if (!kernel->kernel->tileKinds(byName, batch, head, result, *qTiles, *kvTiles,
                                 error))
    return setError(ATTN_ERROR_INVALID_ARGUMENT, error);
  if (static_cast<int64_t>(result.size()) <= capacity)
    std::copy(result.begin(), result.end(), kinds);
  return clearError();
}

extern "C" attn_status attn_kernel_mask_svg(const attn_kernel *kernel,
                                            const attn_arg *args,
                                            int32_t numArgs, int64_t batch,
                                            int64_t head, char *svg,
                                            size_t capacity, size_t *size) {
  if (!kernel || !size || (capacity && !svg))
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_kernel_mask_svg: the kernel or the size pointer is "
                    "NULL, or the capacity does not fit the buffer");
  std::map<std::string, attn_tensor> byName;
  if (!collect(args, numArgs, byName))
    return ATTN_ERROR_INVALID_ARGUMENT;
  std::string text, error;
  if (!kernel->kernel->maskSvg(byName, batch, head, text, error))
    return setError(ATTN_ERROR_INVALID_ARGUMENT, error);
  *size = text.size();
  if (text.size() < capacity)
    std::memcpy(svg, text.c_str(), text.size() + 1);
  return clearError();
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
                                          const attn_arg *args, int32_t numArgs,
                                          const attn_launch_options *options) {
  if (!kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "no kernel given");
  // Zero or NULL options: the kernel's own device.
  LaunchOptions launch;
  launch.device = kernel->kernel->device();
  if (options) {
    if (options->num_threads < 0)
      return setError(ATTN_ERROR_INVALID_ARGUMENT,
                      "num_threads must be non-negative, got " +
                          std::to_string(options->num_threads));
    if (options->device != 0)
      launch.device = options->device;
    launch.deviceId = options->device_id;
    launch.stream = options->stream;
    launch.numThreads = static_cast<unsigned>(options->num_threads);
  }
  std::map<std::string, attn_tensor> byName;
  if (!collect(args, numArgs, byName))
    return ATTN_ERROR_INVALID_ARGUMENT;
  std::string error;
  if (!kernel->kernel->launch(byName, launch, error))
    return setError(ATTN_ERROR_INVALID_ARGUMENT, error);
  return clearError();
}

extern "C" void attn_kernel_free(attn_kernel *kernel) { delete kernel; }
