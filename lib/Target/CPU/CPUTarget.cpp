//===- CPUTarget.cpp - Emit CPU kernels as objects and libraries ----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/CPU/CPUTarget.h"
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
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
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

llvm::Expected<std::string>
mlir::attn::linkSharedLibrary(llvm::StringRef object) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return llvm::createStringError(
        "cannot find 'cc' on PATH to link the shared library; install a C "
        "compiler or use --emit=obj");
  llvm::SmallString<128> objectPath, libraryPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "attn-kernel", "o", fd, objectPath))
    return llvm::createStringError(ec, "cannot create a temporary object");
  llvm::FileRemover removeObject(objectPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("attn-kernel", "so", libraryPath))
    return llvm::createStringError(ec, "cannot create a temporary library");
  llvm::FileRemover removeLibrary(libraryPath);
  std::string message;
  llvm::StringRef args[] = {*cc,         "-shared",  "-o",
                            libraryPath, objectPath, "-lm"};
  int status =
      llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  if (status != 0)
    return llvm::createStringError("linking the shared library failed" +
                                   (message.empty() ? "" : ": " + message));
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> library =
      llvm::MemoryBuffer::getFile(libraryPath);
  if (!library)
    return llvm::createStringError(library.getError(),
                                   "cannot read the linked library");
  return (*library)->getBuffer().str();
}
