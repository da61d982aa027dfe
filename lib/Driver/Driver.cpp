//===- Driver.cpp - Spec to artifact and manifest -------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Driver/Driver.h"
#include "attn/BuildId.h"
#include "attn/InitAll.h"
#include "attn/Pipelines/Pipelines.h"
#include "attn/Target/Manifest.h"
#include "attn/runtime/ArtifactCache.h"
#include "attn/runtime/CUDAKernel.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::attn;

llvm::StringRef mlir::attn::compilerBuildId() {
  // The LLVM/MLIR libraries are shared: a point release changes the code
  // without changing Attn's sources.
  return ATTN_VERSION "+" ATTN_GIT_DESCRIBE "+src." ATTN_SOURCE_HASH
                      "+llvm." LLVM_VERSION_STRING;
}

std::string TargetOptions::describe() const {
  if (!gpuChip.empty())
    return llvm::formatv("{0}:{1}:rows{2}:bk{3}:split{4}", tiling.target,
                         gpuChip, tiling.rows, tiling.blockKV, tiling.splitKV)
        .str();
  return llvm::formatv("{0}:{1}:{2}:vw{3}:rows{4}:bk{5}:split{6}",
                       tiling.target, cpu.name, cpu.features, cpu.vectorWidth,
                       tiling.rows, tiling.blockKV, tiling.splitKV)
      .str();
}

llvm::Error mlir::attn::checkOverrides(const SpecOverrides &overrides,
                                       llvm::StringRef dtypeName,
                                       llvm::StringRef splitName) {
  const std::string &dtype = overrides.dtype;
  if (!dtype.empty() && dtype != "f32" && dtype != "f16" && dtype != "bf16")
    return llvm::createStringError(
        llvm::formatv("{0} must be f32, f16 or bf16, got '{1}'", dtypeName,
                      dtype)
            .str());
  if (overrides.splitKV < 0 || overrides.splitKV > kMaxKVSplits)
    return llvm::createStringError(
        llvm::formatv("{0} must be in [1, {1}], got {2}", splitName,
                      kMaxKVSplits, overrides.splitKV)
            .str());
  return llvm::Error::success();
}

llvm::ArrayRef<llvm::StringLiteral> mlir::attn::supportedChips() {
  static constexpr llvm::StringLiteral kChips[] = {"sm_80", "sm_86", "sm_89",
                                                   "sm_90", "sm_90a"};
  return kChips;
}

llvm::Expected<TargetOptions> mlir::attn::parseTarget(llvm::StringRef name,
                                                      int cudaDevice) {
  std::string chips = llvm::join(supportedChips(), ", ");
  std::string chip = name.str();
  if (name == "cuda") {
    std::string error;
    chip = attnrt::cudaDeviceChip(cudaDevice, error);
    if (chip.empty())
      return llvm::createStringError(
          llvm::formatv("target 'cuda' is the chip of CUDA device {0}, but "
                        "{1}; name the chip instead ({2})",
                        cudaDevice, error, chips)
              .str());
    if (!llvm::is_contained(supportedChips(), chip))
      return llvm::createStringError(
          llvm::formatv("CUDA device {0} is {1}; Attn compiles for {2}",
                        cudaDevice, chip, chips)
              .str());
  } else if (name != "cpu" && !llvm::is_contained(supportedChips(), name)) {
    return llvm::createStringError(
        "unknown target '" + chip +
        "'; use cpu, cuda (the chip of the CUDA device) or a chip: " + chips);
  }
  TargetOptions target;
  if (chip != "cpu")
    target.gpuChip = chip;
  target.tiling = defaultTilingFor(chip);
  return target;
}

static DialectRegistry makeRegistry() {
  DialectRegistry registry;
  registerAllDialects(registry);
  return registry;
}

SpecCompiler::SpecCompiler(llvm::raw_ostream &diagnostics)
    : ctx(makeRegistry()) {
  // Diagnostics point at the spec; a dump of the IR would not help there.
  ctx.printOpOnDiagnostic(false);
  handler = std::make_unique<SourceMgrDiagnosticHandler>(sourceMgr, &ctx,
                                                         diagnostics);
}

SpecCompiler::~SpecCompiler() = default;

LogicalResult SpecCompiler::import(std::unique_ptr<llvm::MemoryBuffer> spec,
                                   const SpecOverrides &overrides) {
  // One spec per compiler: the hash and the module must describe the same.
  assert(!specModule && sourceMgr.getNumBuffers() == 0 &&
         "SpecCompiler::import is called once");
  specText = spec->getBuffer().str();
  // The hash covers the overrides too.
  specText += "\n# overrides: dtype " + overrides.dtype + ", split_kv " +
              std::to_string(overrides.splitKV);
  sourceMgr.AddNewSourceBuffer(std::move(spec), llvm::SMLoc());
  specModule = importSpec(sourceMgr, &ctx, overrides);
  return success(static_cast<bool>(specModule));
}

AttentionOp SpecCompiler::op() {
  AttentionOp found;
  specModule->walk([&](AttentionOp op) { found = op; });
  return found;
}

std::string SpecCompiler::specHash(const TargetOptions &target) const {
  return attnrt::cacheKey(specText, compilerBuildId(), target.describe());
}

/// Pass failures have been reported (located) through the diagnostics.
static llvm::Error reported() {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "");
}

/// The manifest of the lowered `module` as JSON text.
static llvm::Expected<std::string> manifestText(ModuleOp module,
                                                const ManifestInfo &info) {
  llvm::Expected<llvm::json::Object> manifest = buildManifest(module, info);
  if (!manifest)
    return manifest.takeError();
  std::string text;
  llvm::raw_string_ostream(text)
      << llvm::formatv("{0:2}", llvm::json::Value(std::move(*manifest)))
      << "\n";
  return text;
}

llvm::Expected<Artifact> SpecCompiler::compile(EmitKind emit,
                                               const TargetOptions &target) {
  Artifact artifact;
  artifact.specHash = specHash(target);
  if (emit == EmitKind::MLIR) {
    llvm::raw_string_ostream os(artifact.bytes);
    specModule->print(os);
    return artifact;
  }
  if (!target.gpuChip.empty())
    return compileGPU(emit, target, std::move(artifact));
  if (emit == EmitKind::PTX || emit == EmitKind::Cubin)
    return llvm::createStringError(
        "PTX and cubins are GPU artifacts; give a GPU target (sm_80 ... "
        "sm_90a)");
  llvm::Expected<OwningOpRef<ModuleOp>> lowered = lowerToKernel(
      emit, target,
      [&](auto &pm) { buildCPUKernelPipeline(pm, target.cpu.vectorWidth); },
      ManifestInfo{"cpu", target.cpu.name, artifact.specHash}, artifact);
  if (!lowered)
    return lowered.takeError();
  if (!*lowered) // an IR level, printed
    return artifact;
  OwningOpRef<ModuleOp> module = std::move(*lowered);
  llvm::Expected<std::string> emitted =
      emitCPUModule(*module, target.cpu, emit != EmitKind::LLVM);
  if (!emitted)
    return emitted.takeError();
  if (emit != EmitKind::SharedLibrary) {
    artifact.bytes = std::move(*emitted);
    return artifact;
  }
  llvm::Expected<std::string> library = linkSharedLibrary(*emitted);
  if (!library)
    return library.takeError();
  artifact.bytes = std::move(*library);
  return artifact;
}

llvm::Expected<OwningOpRef<ModuleOp>>
SpecCompiler::lowerToKernel(EmitKind emit, const TargetOptions &target,
                            function_ref<void(OpPassManager &)> kernelPipeline,
                            const ManifestInfo &info, Artifact &artifact) {
  OwningOpRef<ModuleOp> module = specModule->clone();
  PassManager pm(&ctx);
  buildTilePipeline(pm, target.tiling);
  if (emit != EmitKind::Tile)
    kernelPipeline(pm);
  if (failed(pm.run(*module)))
    return reported();
  if (emit == EmitKind::Tile || emit == EmitKind::Kernel) {
    llvm::raw_string_ostream os(artifact.bytes);
    module->print(os);
    return OwningOpRef<ModuleOp>();
  }
  llvm::Expected<std::string> manifest = manifestText(*module, info);
  if (!manifest)
    return manifest.takeError();
  artifact.manifest = std::move(*manifest);
  return module;
}

llvm::Expected<Artifact> SpecCompiler::compileGPU(EmitKind emit,
                                                  const TargetOptions &target,
                                                  Artifact artifact) {
  if (emit != EmitKind::Tile && emit != EmitKind::Kernel &&
      emit != EmitKind::PTX && emit != EmitKind::Cubin)
    return llvm::createStringError(
        "a GPU target emits mlir, tile, kernel, ptx or cubin");
  // The manifest comes from the kernel's gpu.func, before serialization.
  llvm::Expected<OwningOpRef<ModuleOp>> lowered = lowerToKernel(
      emit, target, [&](auto &pm) { buildGPUKernelPipeline(pm); },
      ManifestInfo{"cuda", target.gpuChip, artifact.specHash}, artifact);
  if (!lowered)
    return lowered.takeError();
  if (!*lowered) // an IR level, printed
    return artifact;
  OwningOpRef<ModuleOp> module = std::move(*lowered);
  PassManager serialize(&ctx);
  buildGPUSerializePipeline(serialize, target.gpuChip,
                            emit == EmitKind::Cubin ? "bin" : "isa");
  if (failed(serialize.run(*module)))
    return reported();
  std::optional<std::string> object;
  module->walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(attr))
        object = obj.getObject().getValue().str();
  });
  if (!object)
    return llvm::createStringError("the GPU pipeline produced no binary");
  artifact.bytes = std::move(*object);
  return artifact;
}

llvm::Expected<Artifact>
SpecCompiler::compileLoadable(const TargetOptions &target) {
  return compile(target.gpuChip.empty() ? EmitKind::SharedLibrary
                                        : EmitKind::Cubin,
                 target);
}

llvm::Expected<Artifact>
SpecCompiler::compileCached(const TargetOptions &target,
                            const attnrt::ArtifactCache &cache,
                            std::string *warning, bool *fromCache) {
  bool gpu = !target.gpuChip.empty();
  std::string key = specHash(target);
  std::string suffix = gpu ? ".cubin" : ".so";
  std::optional<std::string> library = cache.load(key + suffix);
  std::optional<std::string> manifest = cache.load(key + ".json");
  if (fromCache)
    *fromCache = library && manifest;
  if (library && manifest)
    return Artifact{std::move(*library), std::move(*manifest), key};
  llvm::Expected<Artifact> artifact = compileLoadable(target);
  if (!artifact)
    return artifact.takeError();
  std::string storeError;
  if ((!cache.store(key + suffix, artifact->bytes, &storeError) ||
       !cache.store(key + ".json", artifact->manifest, &storeError)) &&
      warning)
    *warning = "not cached: " + storeError;
  return artifact;
}
