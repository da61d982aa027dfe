//===- CPUKernel.h - Load and launch compiled CPU kernels -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A CPU artifact is a shared library plus its JSON manifest (written by
// attn-compile). CPUKernel loads the library (from a path, or from bytes
// through an anonymous file) and runs the work items over a thread pool;
// Kernel does the rest.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CPUKERNEL_H
#define ATTN_RUNTIME_CPUKERNEL_H

#include "attn/runtime/Kernel.h"
#include "attn/runtime/ThreadPool.h"

#include <memory>
#include <mutex>
#include <string>

namespace attnrt {

class CPUKernel final : public Kernel {
public:
  /// Loads the shared library at `libraryPath` or, with an empty path, the
  /// library held in `bytes`, for the parsed `manifest`. Returns null and
  /// sets `error` on failure.
  static std::unique_ptr<CPUKernel> load(const std::string &libraryPath,
                                         const std::string &bytes,
                                         Manifest manifest, std::string &error);
  ~CPUKernel() override;

  attn_device_kind device() const override { return ATTN_DEVICE_CPU; }

  /// Validates, then runs every work item on `options.numThreads` threads.
  /// The CPU takes the host device and no stream. Launches of one kernel
  /// run one after the other.
  bool launch(const Args &args, const LaunchOptions &options,
              std::string &error) override;
  /// `options.kvSplits` when it forces a count (on a kernel that can
  /// split), else the manifest's count, or, when it leaves the count to
  /// the launch, more than 1 only when the work items would leave threads
  /// idle (decode, small batches, long caches).
  int64_t kvSplits(const Args &args,
                   const LaunchOptions &options) const override;

private:
  explicit CPUKernel(Manifest manifest) : Kernel(std::move(manifest)) {}
  /// The launch on `pool` (`forcedSplits`: LaunchOptions::kvSplits), under
  /// launchMutex.
  bool launch(const Args &args, ThreadPool &pool, int64_t forcedSplits,
              std::string &error);

  void *library = nullptr;
  void *entry = nullptr;
  void *combine = nullptr; ///< the combine of a split kernel
  int memfd = -1; ///< the anonymous file a library loaded from bytes is in
  std::mutex launchMutex;
  std::unique_ptr<ThreadPool> pool;
  unsigned poolThreads = 0;
  /// Split-KV partial rows, grown to the largest launch (under launchMutex).
  std::unique_ptr<float[]> scratch;
  size_t scratchSize = 0;
};

} // namespace attnrt

#endif // ATTN_RUNTIME_CPUKERNEL_H
