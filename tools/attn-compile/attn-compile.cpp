//===- attn-compile.cpp - Compile an attention spec -----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-compile SPEC.yaml [--target=cpu|sm_80|sm_86|sm_89|sm_90|sm_90a]
//     [--emit=mlir|tile|kernel|llvm|obj|so|ptx|cubin] [-o FILE]
//     [--manifest=FILE]
//
// Imports a YAML attention spec (docs/spec.md) into the attn dialect and, for
// the code-emitting kinds, compiles it for the target. Errors point at the
// spec's file:line:column.
//
//===----------------------------------------------------------------------===//

#include "attn/Driver/Driver.h"
#include "mlir/IR/AsmState.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

using attn::EmitKind;

namespace {

cl::OptionCategory category("attn-compile options");

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<spec.yaml>"),
                                   cl::Required, cl::cat(category));
cl::opt<std::string> outputFilename("o",
                                    cl::desc("Output file (default: stdout)"),
                                    cl::value_desc("filename"), cl::init("-"),
                                    cl::cat(category));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::MLIR),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "the spec as attn dialect IR (attn.attention)"),
               clEnumValN(EmitKind::Tile, "tile",
                          "the tile level: the flash loop of one work item"),
               clEnumValN(EmitKind::Kernel, "kernel",
                          "the target's kernel in the LLVM dialect"),
               clEnumValN(EmitKind::LLVM, "llvm", "optimized LLVM IR"),
               clEnumValN(EmitKind::Object, "obj", "an object file (needs -o)"),
               clEnumValN(EmitKind::SharedLibrary, "so",
                          "a shared library with a C ABI (needs -o)"),
               clEnumValN(EmitKind::PTX, "ptx",
                          "PTX assembly (GPU targets; needs -o)"),
               clEnumValN(EmitKind::Cubin, "cubin",
                          "a cubin, assembled by ptxas (GPU targets; needs "
                          "-o)")),
    cl::cat(category));
cl::opt<std::string> targetName(
    "target",
    cl::desc("The target to compile for: cpu (the host CPU, AVX2/AVX-512 "
             "when present), an NVIDIA GPU (sm_80, sm_86, sm_89, sm_90, "
             "sm_90a) or cuda (the chip of CUDA device 0)"),
    cl::init("cpu"), cl::cat(category));
cl::opt<std::string> dtypeOverride(
    "dtype", cl::desc("Compile with this dtype instead of the spec's"),
    cl::value_desc("f32|f16|bf16"), cl::init(""), cl::cat(category));
cl::opt<std::string> manifestFilename(
    "manifest",
    cl::desc("Where to write the kernel's JSON manifest (default: the output "
             "file with .json appended, for obj and so)"),
    cl::value_desc("filename"), cl::cat(category));
} // namespace

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attn-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "attn-compile (Attn " << attn::compilerBuildId() << ")\n";
  });
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Attn spec compiler\n\n"
      "  Compiles a YAML attention spec (see docs/spec.md).\n");

  bool binary = emitKind == EmitKind::Object ||
                emitKind == EmitKind::SharedLibrary ||
                emitKind == EmitKind::PTX || emitKind == EmitKind::Cubin;
  if (binary && outputFilename == "-")
    return fail("--emit=obj, so, ptx and cubin write an artifact and its "
                "manifest; give -o FILE");
  llvm::Expected<attn::TargetOptions> target = attn::parseTarget(targetName);
  if (!target)
    return fail("--target: " + llvm::toString(target.takeError()));

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &errorMessage);
  if (!input)
    return fail(errorMessage);

  attn::SpecCompiler compiler(llvm::errs());
  attn::SpecOverrides overrides;
  overrides.dtype = dtypeOverride;
  if (llvm::Error error = attn::checkOverrides(overrides, "--dtype"))
    return fail(llvm::toString(std::move(error)));
  if (failed(compiler.import(std::move(input), overrides)))
    return 1;
  llvm::Expected<attn::Artifact> artifact = compiler.compile(emitKind, *target);
  if (!artifact) {
    std::string message = llvm::toString(artifact.takeError());
    return message.empty() ? 1 : fail(message);
  }

  auto write = [&](const std::string &path, llvm::StringRef text) {
    std::unique_ptr<llvm::ToolOutputFile> file =
        openOutputFile(path, &errorMessage);
    if (!file)
      return false;
    file->os() << text;
    file->keep();
    return true;
  };
  if (binary && !write(manifestFilename.empty() ? outputFilename + ".json"
                                                : manifestFilename.getValue(),
                       artifact->manifest))
    return fail(errorMessage);
  if (!write(outputFilename, artifact->bytes))
    return fail(errorMessage);
  return 0;
}
