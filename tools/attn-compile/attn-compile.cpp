//===- attn-compile.cpp - Compile an attention spec -----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-compile SPEC.yaml --emit=mlir [-o FILE]
//
// Imports a YAML attention spec (docs/spec.md) into the attn dialect and
// writes the result. Errors point at the spec's file:line:column.
//
//===----------------------------------------------------------------------===//

#include "attn/InitAll.h"
#include "attn/Spec/SpecImport.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class EmitKind { MLIR };

cl::OptionCategory category("attn-compile options");

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<spec.yaml>"),
                                   cl::Required, cl::cat(category));
cl::opt<std::string> outputFilename("o", cl::desc("Output file (default: stdout)"),
                                    cl::value_desc("filename"), cl::init("-"),
                                    cl::cat(category));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::MLIR),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "the spec as attn dialect IR (attn.attention)")),
    cl::cat(category));
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "attn-compile (Attn " << ATTN_VERSION << ", LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Attn spec compiler\n\n"
      "  Compiles a YAML attention spec (see docs/spec.md).\n");

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &errorMessage);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "attn-compile") << errorMessage
                                                         << "\n";
    return 1;
  }

  DialectRegistry registry;
  attn::registerAllDialects(registry);
  MLIRContext context(registry);
  // Diagnostics point at the spec; a dump of the IR would not help there.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), SMLoc());
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);

  OwningOpRef<ModuleOp> module = attn::importSpec(sourceMgr, &context);
  if (!module)
    return 1;

  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::WithColor::error(llvm::errs(), "attn-compile") << errorMessage
                                                         << "\n";
    return 1;
  }
  switch (emitKind) {
  case EmitKind::MLIR:
    module->print(output->os());
    break;
  }
  output->keep();
  return 0;
}
