//===- GPUPipeline.cpp - The tile level to PTX for NVIDIA GPUs ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

void mlir::attn::buildGPUKernelPipeline(OpPassManager &pm) {
  pm.addPass(createConvertAttnToNVVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::attn::buildGPUSerializePipeline(OpPassManager &pm,
                                           llvm::StringRef chip,
                                           llvm::StringRef format) {
  gpu::GPUToNVVMPipelineOptions options;
  options.cubinChip = chip.str();
  // The canned default (+ptx60) aborts for sm_90a; PTX 8.0 covers sm_80
  // to sm_90a and CUDA 12 and 13.
  options.cubinFeatures = "+ptx80";
  options.cubinFormat = format.str();
  options.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, options);
}
