//===- CUDAKernel.h - Load and launch compiled CUDA kernels -----*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A CUDA artifact is PTX text or a cubin plus its JSON manifest (target
// "cuda", with a "launch" object: the block, the dynamic shared memory and
// the chip). CUDAKernel opens the NVIDIA driver (libcuda.so.1, at run time:
// nothing links against it), loads the module into the primary context of
// each device it first launches on, and launches one block per work item;
// Kernel does the rest.
//
// The kernel's parameters, in manifest order (internal ones included):
// every tensor as the fields of an MLIR memref descriptor, each a kernel
// parameter of its own (void *allocated, void *aligned, int64 offset,
// int64 sizes[rank], int64 strides[rank], in elements), then int64 kv
// chunks S. The grid is (work items x S, 1, 1), block i * S + c being
// chunk c of item i. A kernel that can split (manifest `work.kv_splits`
// not 1) has a combine entry in the same module, with the same
// parameters, which a launch with S > 1 runs next on the same stream over
// (work items, 1, 1) with the same block and no dynamic shared memory; the
// runtime passes the partial rows (`partial_out`, `partial_lse`) from
// buffers it keeps per device.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CUDAKERNEL_H
#define ATTN_RUNTIME_CUDAKERNEL_H

#include "attn/runtime/Kernel.h"
#include "attn/runtime/ThreadPool.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace attnrt {

namespace cuda {
struct Driver;
} // namespace cuda

/// The chip Attn compiles for to run on CUDA device `ordinal`: "sm_XY" of
/// its compute capability, "sm_90a" for 9.0 (Hopper's arch-specific
/// features run only there). Empty, with the reason in `error`, when the
/// machine has no NVIDIA driver or no such device.
std::string cudaDeviceChip(int ordinal, std::string &error);

class CUDAKernel final : public Kernel {
public:
  /// Reads the PTX or cubin at `artifactPath` or, with an empty path, held
  /// in `bytes`, for the parsed `manifest`, and opens the NVIDIA driver.
  /// The module itself is loaded on each device at its first launch.
  /// Returns null and sets `error` when the manifest is not a CUDA one the
  /// runtime can launch, the artifact is neither PTX with the manifest's
  /// entry (and combine entry, if any) nor a binary, or the machine has no
  /// NVIDIA driver or no CUDA device.
  static std::unique_ptr<CUDAKernel> load(const std::string &artifactPath,
                                          const std::string &bytes,
                                          Manifest manifest,
                                          std::string &error);
  ~CUDAKernel() override;

  attn_device_kind device() const override { return ATTN_DEVICE_CUDA; }

  /// Checks that every tensor is CUDA device memory of one device (that of
  /// the first operand), then runs Kernel's checks with the index operands
  /// copied to the host (the checks read their values).
  bool validate(const Args &args, std::string &error) const override;

  /// Validates (on `options.deviceId`, every tensor a device pointer of
  /// that device), computes the tile table on the host when the kernel
  /// takes one (`options.numThreads` threads) and launches on
  /// `options.stream`. With no stream (null), the launch runs on the
  /// default stream and is waited for, so that a failure of the kernel is
  /// reported by this call; with a stream it returns once the kernel is
  /// queued. Index operands are read back to the host first (on the
  /// stream). Launches of one kernel are queued one after the other. A
  /// split launch (kvSplits > 1) queues the kernel over items x splits
  /// blocks, then the combine over the items.
  bool launch(const Args &args, const LaunchOptions &options,
              std::string &error) override;

  /// 1 for a kernel that cannot split; else `options.kvSplits` when it
  /// forces a count (at most 256); else the manifest's count (at most the
  /// kv tiles of the longest sequence); else, per launch, 1 when the work
  /// items fill the device (as many as the blocks of this kernel that
  /// `options.deviceId` holds at once) and otherwise the most chunks that
  /// still run in one wave, at most 256 and at most the kv tiles of the
  /// longest sequence.
  int64_t kvSplits(const Args &args,
                   const LaunchOptions &options) const override;

  /// The number of kernel parameters the manifest's parameters expand to
  /// (the memref descriptors' fields and the kv chunks).
  size_t numKernelParams() const;

private:
  explicit CUDAKernel(Manifest manifest);
  struct Device;
  struct HostArgs;

  /// The state of device `ordinal`, its primary context retained at the
  /// first call.
  Device *deviceState(int32_t ordinal, std::string &error) const;
  /// Loads the module and looks up the entry on `device` (once).
  bool loadModule(Device &device, std::string &error) const;
  /// The blocks of the kernel that `device` holds at once: its SMs times
  /// the driver's occupancy (loads the module; under launchMutex).
  int64_t residentBlocks(Device &device) const;
  /// Checks where the tensors are, copies the index operands to the host
  /// (on `stream`) and runs Kernel's checks on the copies. The device's
  /// context must be current.
  bool checkArgs(const Args &args, const Device &device, void *stream,
                 HostArgs &host, std::string &error) const;
  /// Makes the device's tile-table buffer hold `table`.
  bool uploadTable(Device &device, const std::vector<int32_t> &table,
                   void *stream, std::string &error);
  /// Whether the kernel can split its kv range (it has partial rows and a
  /// combine).
  bool canSplit() const;
  /// kvSplits on a device that holds `residentBlocks` blocks of the
  /// kernel at once (its SMs times the blocks per SM).
  int64_t splitsFor(const Args &args, const LaunchOptions &options,
                    int64_t residentBlocks) const;
  /// Makes the device's partial-row buffer hold at least `bytes` (at
  /// least one float) for a launch on `stream`; `used`: whether the
  /// launch writes it (a split one) rather than only passing it.
  bool reservePartials(Device &device, size_t bytes, bool used, void *stream,
                       std::string &error);
  /// "kernel 'NAME' on CUDA device N", for messages.
  std::string where(int32_t ordinal) const;

  const cuda::Driver *api = nullptr; ///< the process's driver
  std::string image; ///< PTX text (NUL-terminated), a cubin or a fatbin
  bool binary = false;
  mutable std::mutex devicesMutex;
  mutable std::map<int32_t, std::unique_ptr<Device>> devices;
  mutable std::mutex launchMutex;
  /// Tile-table workers (under launchMutex).
  std::unique_ptr<ThreadPool> pool;
  unsigned poolThreads = 0;
};

} // namespace attnrt

#endif // ATTN_RUNTIME_CUDAKERNEL_H
