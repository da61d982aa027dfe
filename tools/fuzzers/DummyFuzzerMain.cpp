//===- DummyFuzzerMain.cpp - A fuzzer's main without libFuzzer ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Without ATTN_ENABLE_FUZZERS the fuzzers are plain programs that run their
// entry point once per file given (LLVM's runFuzzerOnInputs, as LLVM's own
// fuzzers do): the test suite runs the seed corpora this way.
//
//===----------------------------------------------------------------------===//

#include "llvm/FuzzMutate/FuzzerCLI.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);

int main(int argc, char **argv) {
  return llvm::runFuzzerOnInputs(argc, argv, LLVMFuzzerTestOneInput,
                                 LLVMFuzzerInitialize);
}
