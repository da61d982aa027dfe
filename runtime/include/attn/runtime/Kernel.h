//===- Kernel.h - A compiled kernel, any target -----------------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The target-neutral core of the runtime: a kernel is its manifest plus a
// launch. Kernel checks every argument of a launch against the manifest and
// the problem's sizes (shapes, dtypes, strides, devices, presence, index
// ranges of sparse and paged/ragged operands, overlap), counts the work
// items and computes tile tables; each target (CPUKernel, CUDAKernel)
// implements only loading and the launch. Errors are returned as messages
// that name the argument.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_KERNEL_H
#define ATTN_RUNTIME_KERNEL_H

#include "attn/runtime/Manifest.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace attnrt {

class ThreadPool;

/// Launch arguments by parameter name.
using Args = std::map<std::string, attn_tensor>;

/// Where and how a launch runs.
struct LaunchOptions {
  attn_device_kind device = ATTN_DEVICE_CPU;
  int32_t deviceId = 0;
  void *stream = nullptr;  ///< a CUDA stream; none on the CPU
  unsigned numThreads = 0; ///< CPU worker threads, 0: all
  /// The kv chunks to split each work item into, 1 to 256 (more is taken
  /// as 256), used as given; 0 (or less): the kernel's choice. A kernel
  /// whose manifest does not split (`work.kv_splits` 1) ignores it.
  int64_t kvSplits = 0;
};

/// The mask operands among `args` (a missing one stays empty), for the mask
/// model, with the sequence lengths `qLen` and `kvLen`.
mask::Data maskData(const Args &args, int64_t qLen, int64_t kvLen);

class Kernel {
public:
  virtual ~Kernel();

  const Manifest &manifest() const { return m; }
  const std::string &name() const { return m.name; }
  const std::vector<ParamSpec> &params() const { return m.params; }
  /// Query positions and keys per tile.
  int64_t blockQ() const { return m.blockQ; }
  int64_t blockKV() const { return m.blockKV; }
  /// The device kind the kernel's tensors live on.
  virtual attn_device_kind device() const = 0;

  /// Checks the arguments (by parameter name) without running anything.
  /// The checks read the values of index operands on the host; a target
  /// whose tensors live elsewhere (CUDA) checks where they are and then
  /// runs these checks on host copies of those operands.
  virtual bool validate(const Args &args, std::string &error) const;

  /// How output `name` ("out" or "lse") is shaped, per dimension: a size
  /// (>= 0), or -1 - a for the size of q's axis a. out is q's shape with
  /// the v head dim; lse is [B, Hq, Lq], or [Hq, tokens_q] with ragged
  /// storage. validate() checks the outputs against it; callers that
  /// allocate the outputs (also symbolically, as a framework's shape
  /// function) read it.
  std::vector<int64_t> outputDims(const std::string &name) const;
  /// outputDims() applied to `q`, which has the manifest's rank.
  std::vector<int64_t> outputShape(const std::string &name,
                                   const attn_tensor &q) const;

  /// The tiles of batch entry `b`, query head `h` of a launch on `args`
  /// (validated as a launch is, the tensors on the host): qTiles x kvTiles
  /// kinds, row-major, of mask::TileKind (0 empty, 1 full, 2 partial) for
  /// tiles of blockQ() query positions and blockKV() keys of that
  /// sequence. A kernel without a mask has only full tiles.
  bool tileKinds(const Args &args, int64_t b, int64_t h,
                 std::vector<int32_t> &kinds, int64_t &qTiles, int64_t &kvTiles,
                 std::string &error) const;
  /// The same as a picture (mask::drawMaskSvg).
  bool maskSvg(const Args &args, int64_t b, int64_t h, std::string &svg,
               std::string &error) const;

  /// Validates, then runs every work item.
  virtual bool launch(const Args &args, const LaunchOptions &options,
                      std::string &error) = 0;

  /// The kv chunks a launch on validated `args` splits each work item
  /// into: `options.kvSplits` when it forces a count, else the manifest's
  /// count, or the target's pick for this launch when the manifest leaves
  /// it open; always 1 for a kernel that cannot split.
  virtual int64_t kvSplits(const Args &args,
                           const LaunchOptions &options) const = 0;

protected:
  explicit Kernel(Manifest manifest) : m(std::move(manifest)) {}

  /// validate() for tensors on `device`.
  bool validateOn(const Args &args, attn_device_kind device,
                  std::string &error) const;

  /// The number of work items of a launch on validated `args`, before any
  /// kv split (the combine's items).
  int64_t numItems(const Args &args) const;
  /// The longest query and key sequences of a launch on validated `args`.
  int64_t longestQ(const Args &args) const;
  int64_t longestKV(const Args &args) const;
  /// Fills the tile table for these arguments: [B|1, H|1, q tiles, kv
  /// tiles] of 0 (empty), 1 (full), 2 (partial), and a host view of it.
  /// Fails (and sets `error`) when the table would not fit in memory.
  bool computeTileTable(const Args &args, ThreadPool &pool,
                        std::vector<int32_t> &table, attn_tensor &view,
                        std::string &error) const;
  /// That out and lse share no memory with any other argument (part of
  /// validate).
  bool checkNoOverlap(const Args &args, std::string &error) const;

  Manifest m;

private:
  struct Sizes {
    int64_t batch, qLen, kvLen;
  };
  /// Validates `args` (on the host) and gives the mask data of batch entry
  /// `b` (its own lengths and operands with paged or ragged storage).
  bool sequenceMask(const Args &args, int64_t b, int64_t h, mask::Data &data,
                    std::string &error) const;
  bool checkValues(const Args &args, const Sizes &sizes,
                   std::string &error) const;
  /// Operands whose batch, head, query or key axes are 1 or the full size
  /// (bias, vertical-slash and block-sparse operands).
  bool checkBroadcastOperands(const Args &args, const Sizes &sizes,
                              std::string &error) const;
  /// The shapes and index operands of paged and ragged kv storage.
  bool validateStorage(const Args &args, std::string &error) const;
  /// validate()'s agreement checks for contiguous kv storage.
  bool validateContiguous(const Args &args, std::string &error) const;
  /// The prefix lengths of a paged or ragged launch of `batch` sequences.
  bool checkSequenceOperands(const Args &args, int64_t batch,
                             std::string &error) const;
  /// The sequences of a paged or ragged launch: per batch entry the query
  /// and key lengths and (ragged) first packed tokens, and the longest.
  struct Sequences {
    std::vector<int64_t> qLens, kvLens, qStarts, kvStarts;
    int64_t longestQ = 0, longestKV = 0;
  };
  Sequences sequencesOf(const Args &args) const;

  /// Tables of masks that read no operand depend on the lengths only.
  mutable std::mutex tableCacheMutex;
  mutable std::map<std::pair<int64_t, int64_t>, std::vector<int32_t>>
      tableCache;
  /// The last table of a mask that reads operands (or of a paged or ragged
  /// launch), with everything it was computed from: the lengths, each
  /// sequence's lengths and first tokens, and the mask operands' shapes
  /// and values. The same document ids or block lists in every layer of a
  /// model give the same table (under tableCacheMutex).
  mutable std::vector<int64_t> lastTableInputs;
  mutable std::vector<int32_t> lastTable;
};

/// Loads the kernel of `manifestJson` from the artifact at `path` or, with
/// an empty path, from `bytes`, for the manifest's target. Returns null and
/// sets `error` on failure.
std::unique_ptr<Kernel> loadKernel(const std::string &path,
                                   const std::string &bytes,
                                   const std::string &manifestJson,
                                   std::string &error);

} // namespace attnrt

#endif // ATTN_RUNTIME_KERNEL_H
