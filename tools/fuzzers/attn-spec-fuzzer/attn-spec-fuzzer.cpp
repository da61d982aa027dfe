//===- attn-spec-fuzzer.cpp - Fuzz the spec through the compiler ----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// One input is a spec file. It is imported and, when it imports, lowered to
// the kernel level for the CPU and for sm_90a (the schedule, the tile level,
// bufferization and each target's lowering): every input must end in a
// located error or a kernel, never a crash, a hang or an unbounded
// allocation. The seed corpus is examples/ and test/Spec/.
//
//===----------------------------------------------------------------------===//

#include "attn/Driver/Driver.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::attn;

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  SpecCompiler compiler(llvm::nulls());
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  if (failed(compiler.import(
          llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.yaml"))))
    return 0;
  for (llvm::StringRef chip : {"", "sm_90a"}) {
    TargetOptions target;
    target.gpuChip = chip.str();
    target.tiling = defaultTilingFor(chip.empty() ? "cpu" : chip);
    llvm::Expected<Artifact> artifact =
        compiler.compile(EmitKind::Kernel, target);
    if (!artifact)
      llvm::consumeError(artifact.takeError());
  }
  return 0;
}
