//===- Pipelines.h - Attn compilation pipelines -----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PIPELINES_PIPELINES_H
#define ATTN_PIPELINES_PIPELINES_H

#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::attn {

/// Options of attn-cpu-pipeline.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes per vector (8: AVX2, 16: AVX-512)"),
      llvm::cl::init(8)};
  PassOptions::Option<int64_t> rows{
      *this, "rows",
      llvm::cl::desc(
          "rows per q tile (query positions x the GQA group packed into it)"),
      llvm::cl::init(TilingOptions().rows)};
  PassOptions::Option<int64_t> blockKV{*this, "block-kv",
                                       llvm::cl::desc("keys per tile"),
                                       llvm::cl::init(TilingOptions().blockKV)};
};

/// attn (spec level) -> the tile level: simplify the mask, write defaults
/// out, decide the tiling (attn-schedule), attn-tile.
void buildTilePipeline(OpPassManager &pm, const TilingOptions &options);

/// The tile-level kernels of `module` -> the LLVM dialect for the CPU.
void buildCPUKernelPipeline(OpPassManager &pm, int64_t vectorWidth);

/// attn (spec level) -> the tile level -> CPU kernel -> LLVM dialect, ready for
/// translation.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// The tile level to tensor-core kernels in a gpu.module (convert-attn-to-
/// nvvm and cleanups); the functions carry what the manifest needs.
void buildGPUKernelPipeline(OpPassManager &pm);

/// The gpu.module to a gpu.binary for `chip` (sm_80 ... sm_90a) in
/// `format` (isa: PTX text; bin: a cubin, through ptxas).
void buildGPUSerializePipeline(OpPassManager &pm, llvm::StringRef chip,
                               llvm::StringRef format);

/// Registers attn-cpu-pipeline with the command line.
void registerPipelines();

} // namespace mlir::attn

#endif // ATTN_PIPELINES_PIPELINES_H
