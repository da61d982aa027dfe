//===- AttnToNVVM.cpp - The tile level to tensor-core GPU kernels ---------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// convert-attn-to-nvvm (see Conversion/Passes.td): which kernels it can
// lower, the gpu.module of their gpu.funcs (GPUKernelBuilder), and the math
// that must not reach libdevice.
//
//===----------------------------------------------------------------------===//

#include "GPUKernelBuilder.h"
#include "attn/Conversion/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTONVVMPASS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Why a kernel of `tiling`, `dtype` and head dims `d`, `dv` is out of
/// this lowering's reach, or "" when it is not.
static std::string unsupportedReason(TilingAttr tiling, Type dtype, int64_t d,
                                     int64_t dv) {
  if (!dtype.isBF16() && !dtype.isF16())
    return "the GPU target computes on bf16/f16 tensor cores; f32 specs "
           "need a TF32 path that does not exist yet (use dtype bf16 or f16)";
  int64_t rows = tiling.getRows(), blockKV = tiling.getBlockKv();
  if (rows % 16 != 0 || rows < 16 || rows > 128)
    return "the GPU tile rows (" + std::to_string(rows) +
           ") must be a multiple of 16 from 16 to 128 (one warp per 16); "
           "set the spec's schedule.block_q (rows, the GQA group's heads "
           "included) to one, or leave it out";
  if (blockKV % 16 != 0 || blockKV < 16 || blockKV > 128)
    return "the GPU block_kv (" + std::to_string(blockKV) +
           ") must be a multiple of 16 from 16 to 128; set the spec's "
           "schedule.block_kv to one (a paged cache's page size must be a "
           "multiple of it)";
  if (d % 16 != 0 || dv % 16 != 0 || d > 256 || dv > 256)
    return "the GPU target needs head dims that are multiples of 16 up to "
           "256, got " +
           std::to_string(d) + " and " + std::to_string(dv);
  return "";
}

/// Unrolls the loops of `func` with a constant trip count of at most 256
/// that index a private array (memref.alloca) with their induction
/// variable: the combine's row of the head dim. Unrolled, every index is a
/// constant and LLVM keeps the array in registers instead of a stack frame.
static void unrollPrivateArrayLoops(gpu::GPUFuncOp func) {
  if (!func)
    return;
  SmallVector<scf::ForOp> loops;
  func.walk([&](scf::ForOp loop) {
    std::optional<APInt> trips = loop.getStaticTripCount();
    bool indexesArray =
        llvm::any_of(loop.getInductionVar().getUsers(), [](Operation *user) {
          Value memref;
          if (auto load = dyn_cast<memref::LoadOp>(user))
            memref = load.getMemRef();
          else if (auto store = dyn_cast<memref::StoreOp>(user))
            memref = store.getMemRef();
          return memref && memref.getDefiningOp<memref::AllocaOp>();
        });
    if (trips && trips->ule(256) && indexesArray)
      loops.push_back(loop);
  });
  for (scf::ForOp loop : loops)
    (void)loopUnrollFull(loop);
}

namespace {
struct ConvertAttnToNVVMPass final
    : mlir::attn::impl::ConvertAttnToNVVMPassBase<ConvertAttnToNVVMPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp moduleOp = getOperation();
    SmallVector<func::FuncOp> kernels;
    moduleOp.walk([&](func::FuncOp func) {
      if (func->hasAttr("attn.tiling"))
        kernels.push_back(func);
    });
    if (kernels.empty())
      return;
    OpBuilder b(moduleOp.getBodyRegion());
    b.setInsertionPointToEnd(moduleOp.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(b, moduleOp.getLoc(), "attn_kernels");
    moduleOp->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      b.getUnitAttr());
    for (func::FuncOp kernel : kernels) {
      auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
      auto iface = kernel->getAttrOfType<DictionaryAttr>("attn.interface");
      auto params = iface ? dyn_cast<ArrayAttr>(iface.get("params")) : nullptr;
      auto headDims =
          iface ? dyn_cast<DenseI64ArrayAttr>(iface.get("head_dims")) : nullptr;
      if (!params || params.empty() || !headDims || headDims.size() != 2) {
        kernel.emitError() << "convert-attn-to-nvvm: the kernel has no "
                              "attn.interface; run attn-tile first";
        return signalPassFailure();
      }
      Type dtype =
          cast<ShapedType>(
              cast<TypeAttr>(cast<DictionaryAttr>(params[0]).get("type"))
                  .getValue())
              .getElementType();
      std::string reason =
          unsupportedReason(tiling, dtype, headDims[0], headDims[1]);
      if (!reason.empty()) {
        kernel.emitError() << "convert-attn-to-nvvm: " << reason;
        return signalPassFailure();
      }
      if (failed(GPUKernelBuilder(kernel, tiling, dtype).build(gpuModule)))
        return signalPassFailure();
      // A kernel that can split its kv range has a combine (one CTA per
      // work item, a thread per row).
      if (auto ref =
              dyn_cast_or_null<FlatSymbolRefAttr>(iface.get("combine"))) {
        auto combine = moduleOp.lookupSymbol<func::FuncOp>(ref.getValue());
        if (!combine) {
          kernel.emitError()
              << "convert-attn-to-nvvm: the combine " << ref << " is missing";
          return signalPassFailure();
        }
        if (failed(GPUKernelBuilder(combine, tiling, dtype)
                       .build(gpuModule, /*combine=*/true)))
          return signalPassFailure();
        unrollPrivateArrayLoops(
            gpuModule.lookupSymbol<gpu::GPUFuncOp>(combine.getName()));
      }
    }
    // The host functions (kernels, combines) are replaced by the module.
    for (func::FuncOp func :
         llvm::to_vector(moduleOp.getBody()->getOps<func::FuncOp>()))
      func.erase();
    for (memref::GlobalOp global :
         llvm::to_vector(moduleOp.getBody()->getOps<memref::GlobalOp>()))
      global.erase();
    // No libdevice (it is not linked, and its calls are slow): exp2 is one
    // MUFU instruction (ex2.approx.ftz), exp, log, log1p and tanh become
    // polynomials, fma, absf and floor the native fma.rn, abs and
    // cvt.rmi instructions.
    gpuModule.walk([&](math::Exp2Op exp2) {
      if (!exp2.getType().isF32())
        return;
      OpBuilder rewriter(exp2);
      auto call = LLVM::CallIntrinsicOp::create(
          rewriter, exp2.getLoc(), exp2.getType(),
          rewriter.getStringAttr("llvm.nvvm.ex2.approx.ftz.f32"),
          ValueRange{exp2.getOperand()});
      exp2.replaceAllUsesWith(call.getResult(0));
      exp2.erase();
    });
    // tanh (softcap) is one MUFU instruction too (tanh.approx, sm_75 on).
    gpuModule.walk([&](math::TanhOp tanh) {
      if (!tanh.getType().isF32())
        return;
      OpBuilder rewriter(tanh);
      // llvm.tanh with afn selects tanh.approx.f32 in the NVPTX backend.
      auto call = LLVM::CallIntrinsicOp::create(
          rewriter, tanh.getLoc(), TypeRange{tanh.getType()},
          rewriter.getStringAttr("llvm.tanh.f32"),
          ValueRange{tanh.getOperand()},
          LLVM::FastmathFlagsAttr::get(rewriter.getContext(),
                                       LLVM::FastmathFlags::afn));
      tanh.replaceAllUsesWith(call.getResult(0));
      tanh.erase();
    });
    RewritePatternSet patterns(&getContext());
    populateApproximateMathPatterns(patterns, /*expandExp2=*/false);
    if (failed(applyPatternsGreedily(gpuModule, std::move(patterns))))
      return signalPassFailure();
    gpuModule.walk([&](Operation *op) {
      OpBuilder rewriter(op);
      Value native;
      if (auto fma = dyn_cast<math::FmaOp>(op))
        native = LLVM::FMAOp::create(rewriter, fma.getLoc(), fma.getA(),
                                     fma.getB(), fma.getC());
      else if (isa<math::AbsFOp, math::FloorOp>(op) &&
               op->getResult(0).getType().isF32())
        // As intrinsic calls: convert-gpu-to-nvvm sends llvm.intr.fabs and
        // llvm.intr.floor to libdevice.
        native =
            LLVM::CallIntrinsicOp::create(
                rewriter, op->getLoc(), op->getResult(0).getType(),
                rewriter.getStringAttr(
                    isa<math::AbsFOp>(op) ? "llvm.fabs.f32" : "llvm.floor.f32"),
                op->getOperands())
                .getResult(0);
      if (!native)
        return;
      op->replaceAllUsesWith(ValueRange{native});
      op->erase();
    });
  }
};
} // namespace
