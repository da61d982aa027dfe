//===- CPUPipeline.cpp - attn to the LLVM dialect for CPUs ----------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "attn/Pipelines/Pipelines.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::attn;

void mlir::attn::buildTilePipeline(OpPassManager &pm,
                                   const TilingOptions &options) {
  pm.addPass(createAttnSimplifyMaskPass());
  pm.addPass(createAttnMaterializeDefaultsPass());
  AttnSchedulePassOptions schedule;
  schedule.target = options.target;
  schedule.rows = options.rows;
  schedule.blockKV = options.blockKV;
  schedule.splitKV = options.splitKV;
  pm.addPass(createAttnSchedulePass(schedule));
  pm.addPass(createAttnTilePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::attn::buildCPUPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options) {
  TilingOptions tiling;
  tiling.rows = options.rows;
  tiling.blockKV = options.blockKV;
  buildTilePipeline(pm, tiling);
  buildCPUKernelPipeline(pm, options.vectorWidth);
}

void mlir::attn::buildCPUKernelPipeline(OpPassManager &pm,
                                        int64_t vectorWidth) {
  // The tile level on buffers (tiles on the stack), with the loops' buffer
  // iter_args folded away so that each tile is one alloca.
  pm.addNestedPass<func::FuncOp>(createAttnBufferizeTilePass());
  pm.addPass(createCanonicalizerPass());
  ConvertAttnToCPUPassOptions kernel;
  kernel.vectorWidth = vectorWidth;
  pm.addPass(createConvertAttnToCPUPass(kernel));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createAttnApproximateMathPass());
  // bf16 conversions as integer code: without AVX-512 BF16, LLVM would call
  // __truncsfbf2, which GCC 12's libgcc (Debian 12) does not have.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::attn::registerPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "attn-cpu-pipeline",
      "Lowers attn.attention to a CPU kernel in the LLVM dialect",
      buildCPUPipeline);
}
