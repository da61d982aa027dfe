//===- Targets.cpp - Load a kernel for its manifest's target --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CPUKernel.h"
#include "attn/runtime/CUDAKernel.h"

using namespace attnrt;

std::unique_ptr<Kernel> attnrt::loadKernel(const std::string &path,
                                           const std::string &bytes,
                                           const std::string &manifestJson,
                                           std::string &error) {
  Manifest manifest;
  if (!parseManifest(manifestJson, manifest, error))
    return nullptr;
  if (manifest.target == "cpu")
    return CPUKernel::load(path, bytes, std::move(manifest), error);
  if (manifest.target == "cuda")
    return CUDAKernel::load(path, bytes, std::move(manifest), error);
  error = "the manifest is for target '" + manifest.target +
          "', which this runtime cannot launch (it knows: cpu, cuda)";
  return nullptr;
}
