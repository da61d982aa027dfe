//===- Driver.h - Spec to artifact and manifest -----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The one compile driver: imports a spec, lowers it for a target, writes the
// artifact and its manifest (from the lowered module), and owns the spec
// hash and the cache policy. attn-compile and attn-run are thin mains over
// it; the C API and Python will be too.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DRIVER_DRIVER_H
#define ATTN_DRIVER_DRIVER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include "attn/Spec/SpecImport.h"
#include "attn/Target/CPU/CPUTarget.h"
#include "attn/Target/Manifest.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include <memory>
#include <string>

namespace attnrt {
class ArtifactCache;
} // namespace attnrt

namespace mlir {
class OpPassManager;
class SourceMgrDiagnosticHandler;
} // namespace mlir

namespace mlir::attn {

/// What to produce.
enum class EmitKind {
  MLIR,          ///< the spec as attn IR
  Tile,          ///< the tile level (attn-schedule, attn-tile)
  Kernel,        ///< the target's kernel in the LLVM dialect
  LLVM,          ///< optimized LLVM IR
  Object,        ///< an object file
  SharedLibrary, ///< a shared library with a C ABI
  PTX,           ///< PTX assembly (GPU targets)
  Cubin,         ///< a cubin, through ptxas (GPU targets)
};

/// The target and the code-generation choices the artifact depends on,
/// besides the spec: everything the spec hash covers.
struct TargetOptions {
  HostCPU cpu = detectHostCPU();
  /// The NVIDIA chip (sm_80 ... sm_90a) of a GPU target; empty for the CPU.
  std::string gpuChip;
  /// The schedule's defaults for the target (attn-schedule's options).
  TilingOptions tiling;

  /// The target as the spec hash sees it.
  std::string describe() const;
};

/// Checks the overrides a caller gives (dtype f32, f16 or bf16 or none;
/// splitKV 0, the spec's, or in [1, kMaxKVSplits]); the error calls the
/// fields `dtypeName` and `splitName` (as the caller spells them).
llvm::Error checkOverrides(const SpecOverrides &overrides,
                           llvm::StringRef dtypeName = "dtype",
                           llvm::StringRef splitName = "split_kv");

/// The NVIDIA chips the GPU target compiles for.
llvm::ArrayRef<llvm::StringLiteral> supportedChips();

/// The target named `name`: "cpu" (the host), a chip of supportedChips(),
/// or "cuda" (the chip of CUDA device `cudaDevice`, asked of the driver at
/// run time), with the schedule's defaults for it. The one place a target
/// name is read (attn-compile, the C API, Python).
llvm::Expected<TargetOptions> parseTarget(llvm::StringRef name,
                                          int cudaDevice = 0);

/// A compiled kernel and its manifest.
struct Artifact {
  std::string bytes;    ///< the artifact (IR text, object or library)
  std::string manifest; ///< JSON; empty for the IR levels
  std::string specHash;
};

/// The identity of this compiler build in spec hashes: the version, the
/// commit and a hash of the compiler's sources at build time.
llvm::StringRef compilerBuildId();

/// One spec through the compiler. Owns the MLIR context and the source
/// manager; located diagnostics (file:line:col) go to `diagnostics`.
class SpecCompiler {
public:
  explicit SpecCompiler(llvm::raw_ostream &diagnostics);
  ~SpecCompiler();

  /// Imports the spec in `spec` (its buffer name is the file name errors
  /// show). Fails after printing a located error.
  LogicalResult import(std::unique_ptr<llvm::MemoryBuffer> spec,
                       const SpecOverrides &overrides = {});

  MLIRContext &context() { return ctx; }
  /// The imported module and its attn.attention (spec level).
  ModuleOp module() { return *specModule; }
  AttentionOp op();

  /// The spec hash: the spec's text, the overrides, the compiler build and
  /// the target. The manifest carries it and the cache keys on it.
  std::string specHash(const TargetOptions &target) const;

  /// Lowers a copy of the imported module and emits `emit`. Errors from
  /// the passes are printed (located); other errors are returned.
  llvm::Expected<Artifact> compile(EmitKind emit, const TargetOptions &target);

  /// The artifact the runtime loads for `target` and its manifest: a
  /// shared library for the CPU, a cubin for a GPU.
  llvm::Expected<Artifact> compileLoadable(const TargetOptions &target);

  /// compileLoadable() through `cache`: from it when it holds the artifact
  /// under the spec hash, else compiled and stored (a store that fails is
  /// reported through `warning`, not an error). `fromCache` tells which.
  llvm::Expected<Artifact> compileCached(const TargetOptions &target,
                                         const attnrt::ArtifactCache &cache,
                                         std::string *warning = nullptr,
                                         bool *fromCache = nullptr);

private:
  /// A copy of the spec module through the tile pipeline and, past the
  /// tile level, the target's `kernelPipeline`. For the IR levels (tile,
  /// kernel) it prints the module into `artifact` and returns null; else it
  /// writes the manifest (from the lowered module, with `info`) into
  /// `artifact` and returns the module for the target's emission.
  llvm::Expected<OwningOpRef<ModuleOp>>
  lowerToKernel(EmitKind emit, const TargetOptions &target,
                function_ref<void(OpPassManager &)> kernelPipeline,
                const ManifestInfo &info, Artifact &artifact);
  /// compile() for a GPU target.
  llvm::Expected<Artifact>
  compileGPU(EmitKind emit, const TargetOptions &target, Artifact artifact);

  MLIRContext ctx;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<SourceMgrDiagnosticHandler> handler;
  OwningOpRef<ModuleOp> specModule;
  std::string specText;
};

} // namespace mlir::attn

#endif // ATTN_DRIVER_DRIVER_H
