//===- attn-npy-fuzzer.cpp - Fuzz the runtime's .npy reader ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// One input is the bytes of a .npy file (attn-run --load and attn-gpu-check
// read them). What parses must hold exactly the values its shape says, and
// every value must read.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Npy.h"

#include <string>
#include <vector>

using namespace attnrt;

extern "C" int LLVMFuzzerInitialize(int *, char ***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  NpyArray array;
  std::string error;
  if (!parseNpy(std::vector<char>(data, data + size), "fuzz.npy", array, error))
    return 0;
  if (array.bytes.size() !=
      static_cast<size_t>(array.numElements()) * npyElementBytes(array.descr))
    __builtin_trap();
  double sum = 0;
  for (double value : array.values())
    sum += value;
  (void)sum;
  return 0;
}
