//===- CPUKernel.h - Load and launch compiled CPU kernels -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A CPU artifact is a shared library plus its JSON manifest (written by
// attn-compile). CPUKernel loads both, checks every argument of a launch
// against the manifest and the problem's sizes (shapes, dtypes, strides,
// presence, index ranges of sparse operands), and runs the work items over a
// thread pool. Errors are returned as messages that name the argument.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CPUKERNEL_H
#define ATTN_RUNTIME_CPUKERNEL_H

#include "attn/runtime/MaskModel.h"
#include "attn/runtime/attn_runtime.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace attnrt {

class ThreadPool;

/// One parameter of a kernel, in call order.
struct ParamSpec {
  std::string name;
  attn_dtype dtype = ATTN_F32;
  std::vector<int64_t> shape; ///< -1: given at run time
  bool innerContiguous = false;
  /// Computed by the runtime, not given by the caller (`tile_kinds`).
  bool internal = false;
};

class CPUKernel {
public:
  /// Loads the shared library at `libraryPath` and the manifest text.
  /// Returns null and sets `error` on failure.
  static std::unique_ptr<CPUKernel> load(const std::string &libraryPath,
                                         const std::string &manifestJson,
                                         std::string &error);
  ~CPUKernel();

  const std::string &name() const { return kernelName; }
  const std::vector<ParamSpec> &params() const { return paramSpecs; }
  const std::string &manifestText() const { return manifest; }
  int64_t blockQ() const { return blockQSize; }
  int64_t blockKV() const { return blockKVSize; }

  /// Checks the arguments (by parameter name) without running anything.
  bool validate(const std::map<std::string, attn_tensor> &args,
                std::string &error) const;

  /// Validates, then runs every work item on `pool`.
  bool launch(const std::map<std::string, attn_tensor> &args, ThreadPool &pool,
              std::string &error) const;

private:
  CPUKernel() = default;
  struct Sizes {
    int64_t batch, qLen, kvLen;
  };
  bool checkValues(const std::map<std::string, attn_tensor> &args,
                   const Sizes &sizes, std::string &error) const;
  /// Operands whose batch, head, query or key axes are 1 or the full size
  /// (bias, vertical-slash and block-sparse operands).
  bool checkBroadcastOperands(const std::map<std::string, attn_tensor> &args,
                              const Sizes &sizes, std::string &error) const;
  /// That out and lse share no memory with any other argument.
  bool checkNoOverlap(const std::map<std::string, attn_tensor> &args,
                      std::string &error) const;
  /// The shapes and index operands of paged and ragged kv storage.
  bool validateStorage(const std::map<std::string, attn_tensor> &args,
                       std::string &error) const;
  /// The prefix lengths of a paged or ragged launch of `batch` sequences.
  bool checkSequenceOperands(const std::map<std::string, attn_tensor> &args,
                             int64_t batch, std::string &error) const;
  /// The sequences of a paged or ragged launch: per batch entry the query
  /// and key lengths and (ragged) first packed tokens, and the longest.
  struct Sequences {
    std::vector<int64_t> qLens, kvLens, qStarts, kvStarts;
    int64_t longestQ = 0, longestKV = 0;
  };
  Sequences sequencesOf(const std::map<std::string, attn_tensor> &args) const;
  /// The number of work items of a launch on validated `args`.
  int64_t numItems(const std::map<std::string, attn_tensor> &args) const;

  void *library = nullptr;
  void *entry = nullptr;
  std::string kernelName, manifest, layout;
  std::string kvStorage = "contiguous"; ///< contiguous, paged or ragged
  std::vector<ParamSpec> paramSpecs;
  int64_t numQHeads = 0, numKVHeads = 0, headDimQK = 0, headDimV = 0;
  int64_t blockQSize = 0; ///< query positions per tile
  int64_t headGroup = 1;  ///< query heads per work item
  /// The work grid: batch x numHeadGroups x q tiles x numKVSplits, the q
  /// tiles of the longest sequence (ragged storage) or of q_len.
  int64_t numHeadGroups = 0, numKVSplits = 1;
  bool qTilesOfLongest = false;
  std::vector<std::string> biasAxes;
  int64_t sparseBlockQ = 0, sparseBlockKV = 0;
  int64_t blockKVSize = 0;
  /// The mask, for kernels that take a tile table.
  std::unique_ptr<mask::Node> tableMask;
  /// Tables of masks that read no operand depend on the lengths only.
  mutable std::mutex tableCacheMutex;
  mutable std::map<std::pair<int64_t, int64_t>, std::vector<int32_t>>
      tableCache;
  /// Fills the tile table for these arguments: [B|1, H|1, q tiles, kv
  /// tiles] of 0 (empty), 1 (full), 2 (partial).
  void computeTileTable(const std::map<std::string, attn_tensor> &args,
                        ThreadPool &pool, std::vector<int32_t> &table,
                        attn_tensor &view) const;
};

} // namespace attnrt

#endif // ATTN_RUNTIME_CPUKERNEL_H
