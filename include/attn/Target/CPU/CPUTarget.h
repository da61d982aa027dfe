//===- CPUTarget.h - Emit CPU kernels as objects and libraries --*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_CPU_CPUTARGET_H
#define ATTN_TARGET_CPU_CPUTARGET_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"
#include <string>

namespace mlir::attn {

/// The host CPU the kernels are compiled for.
struct HostCPU {
  std::string triple, name, features;
  /// f32 lanes of the widest vector unit (16 with AVX-512F, 8 with AVX).
  int64_t vectorWidth = 4;
};
HostCPU detectHostCPU();

/// Translates a module in the LLVM dialect to LLVM IR optimized (O3) for
/// `cpu`, and returns it as text (`asObject` false) or as an ELF object.
llvm::Expected<std::string> emitCPUModule(ModuleOp module, const HostCPU &cpu,
                                          bool asObject);

/// Links an object into a shared library with the system C compiler driver
/// (`cc -shared`) and returns the library's bytes.
llvm::Expected<std::string> linkSharedLibrary(llvm::StringRef object);

} // namespace mlir::attn

#endif // ATTN_TARGET_CPU_CPUTARGET_H
