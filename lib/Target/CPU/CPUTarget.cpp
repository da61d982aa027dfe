//===- CPUTarget.cpp - Emit CPU kernels as objects and libraries ----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/CPU/CPUTarget.h"
#include "attn/Target/Manifest.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::attn;

HostCPU mlir::attn::detectHostCPU() {
  HostCPU cpu;
  cpu.triple = llvm::sys::getProcessTriple();
  cpu.name = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  std::string list;
  for (auto &feature : features) {
    if (!list.empty())
      list += ',';
    list += (feature.second ? "+" : "-") + feature.first().str();
  }
  cpu.features = list;
  if (features.lookup("avx512f"))
    cpu.vectorWidth = 16;
  else if (features.lookup("avx"))
    cpu.vectorWidth = 8;
  return cpu;
}

llvm::json::Object mlir::attn::buildCPUManifest(AttentionOp op,
                                                const CPUKernelOptions &options,
                                                const HostCPU &cpu,
                                                llvm::StringRef specHash) {
  auto [blockQ, blockKV] = getTileSizes(op, options.tiling());
  int64_t group = getHeadGroup(op, options.tiling());
  ManifestInfo info{"cpu",
                    cpu.name,
                    specHash.str(),
                    blockQ / group,
                    blockKV,
                    group,
                    usesTileTable(op, options.tiling())};
  return buildManifest(op, info);
}

llvm::Expected<std::string>
mlir::attn::emitCPUModule(ModuleOp module, const HostCPU &cpu, bool asObject) {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return llvm::createStringError("cannot translate the kernel to LLVM IR");

  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(cpu.triple), error);
  if (!target)
    return llvm::createStringError("no LLVM target for '" + cpu.triple +
                                   "': " + error);
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      llvm::Triple(cpu.triple), cpu.name, cpu.features, targetOptions,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(llvm::Triple(cpu.triple));
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", cpu.name);
    f.addFnAttr("target-features", cpu.features);
  }

  auto optimize = makeOptimizingTransformer(3, 0, machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return std::move(err);

  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (!asObject) {
    llvmModule->print(os, nullptr);
    return bytes;
  }
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream objStream(buffer);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, objStream, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  codegen.run(*llvmModule);
  return std::string(buffer.begin(), buffer.end());
}

llvm::Error mlir::attn::linkSharedLibrary(llvm::StringRef object,
                                          llvm::StringRef path) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return llvm::createStringError(
        "cannot find 'cc' on PATH to link the shared library; install a C "
        "compiler or use --emit=obj");
  llvm::SmallString<128> objectPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "attn-kernel", "o", fd, objectPath))
    return llvm::createStringError(ec, "cannot create a temporary object");
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  std::string message;
  llvm::StringRef args[] = {*cc, "-shared", "-o", path, objectPath, "-lm"};
  int status =
      llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  llvm::sys::fs::remove(objectPath);
  if (status != 0)
    return llvm::createStringError("linking '" + path.str() + "' failed" +
                                   (message.empty() ? "" : ": " + message));
  return llvm::Error::success();
}
