//===- Compiler.cpp - The compiler's C API --------------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A thin layer over the compile driver (lib/Driver): options in, an
// artifact or the located diagnostics (as attn_last_error()) out.
//
//===----------------------------------------------------------------------===//

#include "attn-c/Compiler.h"
#include "attn/Driver/Driver.h"
#include "attn/runtime/ArtifactCache.h"
#include "attn/runtime/CAPIError.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::attn;
using attnrt::clearError;
using attnrt::setError;

struct attn_artifact {
  Artifact artifact;
  bool fromCache = false;
};

namespace {
/// What one compile needs from the options: the target, the overrides and
/// the cache; fails with the error recorded.
struct Request {
  TargetOptions target;
  SpecOverrides overrides;
  std::string cacheDir;
  bool useCache = true;
};

attn_status readOptions(const attn_compile_options *options, Request &request) {
  attn_compile_options none{};
  if (!options)
    options = &none;
  llvm::Expected<TargetOptions> target = parseTarget(
      options->target ? options->target : "cpu", options->device_id);
  if (!target)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "target: " + llvm::toString(target.takeError()));
  request.target = std::move(*target);
  request.overrides.dtype = options->dtype ? options->dtype : "";
  request.overrides.splitKV = options->split_kv;
  if (llvm::Error error = checkOverrides(request.overrides))
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    llvm::toString(std::move(error)));
  request.cacheDir = options->cache_dir ? options->cache_dir : "";
  request.useCache = !options->no_cache;
  return ATTN_OK;
}

/// Imports the spec into `compiler`; the diagnostics it printed become the
/// error.
attn_status importSpec(const char *spec, size_t size, const char *name,
                       const Request &request, SpecCompiler &compiler,
                       std::string &diagnostics) {
  if (!spec && size)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "the spec is NULL");
  std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(
      llvm::StringRef(spec ? spec : "", size), name ? name : "<spec>",
      /*RequiresNullTerminator=*/false);
  if (failed(compiler.import(std::move(buffer), request.overrides)))
    return setError(ATTN_ERROR_COMPILE, diagnostics);
  return ATTN_OK;
}

/// A compile failure: the located diagnostics, else the error.
attn_status compileError(llvm::Error error, const std::string &diagnostics) {
  std::string message = llvm::toString(std::move(error));
  if (!diagnostics.empty())
    message = message.empty() ? diagnostics : diagnostics + message;
  return setError(ATTN_ERROR_COMPILE, message);
}

attn_status compileText(const char *spec, size_t size, const char *name,
                        const attn_compile_options *options,
                        std::optional<EmitKind> level, attn_artifact **result) {
  if (!result)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "the result pointer is NULL");
  *result = nullptr;
  Request request;
  if (attn_status status = readOptions(options, request))
    return status;
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  SpecCompiler compiler(os);
  if (attn_status status =
          importSpec(spec, size, name, request, compiler, diagnostics))
    return status;
  auto out = std::make_unique<attn_artifact>();
  llvm::Expected<Artifact> artifact = [&]() -> llvm::Expected<Artifact> {
    if (level)
      return compiler.compile(*level, request.target);
    if (!request.useCache)
      return compiler.compileLoadable(request.target);
    attnrt::ArtifactCache cache(request.cacheDir);
    // A cache that cannot store is no error: the artifact is still good.
    return compiler.compileCached(request.target, cache, nullptr,
                                  &out->fromCache);
  }();
  if (!artifact)
    return compileError(artifact.takeError(), diagnostics);
  out->artifact = std::move(*artifact);
  *result = out.release();
  return clearError();
}
} // namespace

extern "C" attn_status attn_compile(const char *spec, size_t size,
                                    const char *name,
                                    const attn_compile_options *options,
                                    attn_artifact **artifact) {
  return compileText(spec, size, name, options, std::nullopt, artifact);
}

extern "C" attn_status attn_compile_file(const char *path,
                                         const attn_compile_options *options,
                                         attn_artifact **artifact) {
  if (!path)
    return setError(ATTN_ERROR_INVALID_ARGUMENT, "the spec path is NULL");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!file)
    return setError(ATTN_ERROR_NOT_FOUND,
                    std::string("cannot read '") + path +
                        "': " + file.getError().message());
  llvm::StringRef text = (*file)->getBuffer();
  return compileText(text.data(), text.size(), path, options, std::nullopt,
                     artifact);
}

extern "C" attn_status attn_compile_ir(const char *spec, size_t size,
                                       const char *name,
                                       const attn_compile_options *options,
                                       attn_ir_level level,
                                       attn_artifact **artifact) {
  EmitKind emit;
  switch (level) {
  case ATTN_IR_MLIR:
    emit = EmitKind::MLIR;
    break;
  case ATTN_IR_TILE:
    emit = EmitKind::Tile;
    break;
  case ATTN_IR_KERNEL:
    emit = EmitKind::Kernel;
    break;
  case ATTN_IR_LLVM:
    emit = EmitKind::LLVM;
    break;
  case ATTN_IR_PTX:
    emit = EmitKind::PTX;
    break;
  default:
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "unknown IR level " + std::to_string(int(level)) +
                        " (ATTN_IR_MLIR ... ATTN_IR_PTX)");
  }
  return compileText(spec, size, name, options, emit, artifact);
}

extern "C" const void *attn_artifact_data(const attn_artifact *artifact,
                                          size_t *size) {
  if (size)
    *size = artifact ? artifact->artifact.bytes.size() : 0;
  return artifact ? artifact->artifact.bytes.c_str() : nullptr;
}

extern "C" const char *attn_artifact_manifest(const attn_artifact *artifact) {
  return artifact ? artifact->artifact.manifest.c_str() : nullptr;
}

extern "C" const char *attn_artifact_spec_hash(const attn_artifact *artifact) {
  return artifact ? artifact->artifact.specHash.c_str() : nullptr;
}

extern "C" int32_t attn_artifact_from_cache(const attn_artifact *artifact) {
  return artifact && artifact->fromCache;
}

extern "C" attn_status attn_artifact_load(const attn_artifact *artifact,
                                          attn_kernel **kernel) {
  if (!artifact || !kernel)
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "attn_artifact_load: the artifact or the result pointer "
                    "is NULL");
  if (artifact->artifact.manifest.empty())
    return setError(ATTN_ERROR_INVALID_ARGUMENT,
                    "the artifact is IR text, not a kernel; compile it with "
                    "attn_compile");
  const std::string &bytes = artifact->artifact.bytes;
  return attn_kernel_load_bytes(bytes.data(), bytes.size(),
                                artifact->artifact.manifest.c_str(), kernel);
}

extern "C" void attn_artifact_free(attn_artifact *artifact) { delete artifact; }

extern "C" const char *attn_compiler_version(void) {
  return compilerBuildId().data();
}
