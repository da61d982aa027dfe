//===- MaskModel.h - The mask algebra, evaluated without MLIR ---*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// A plain C++ model of the attn mask algebra that the runtime (the tile
// tables of masks without loop bounds), the compiler (the model it writes
// into a manifest) and the tools (the reference, --explain, --mask-svg)
// share. The kernels' own loop bounds and element code come from the
// dialect (MaskCodegen.cpp), not from here. Semantics: DESIGN.md,
// "Semantics".
//
// Two evaluations are kept apart on purpose:
// - isVisible() is the definition, written pair by pair from the formulas;
// - visibleRuns() gives a query row's visible keys in a range as sorted runs,
//   and classifyTile() builds on it. Their agreement is what the unit tests
//   check by brute force.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_MASKMODEL_H
#define ATTN_RUNTIME_MASKMODEL_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnrt::mask {

enum class Kind {
  Causal,
  SlidingWindow,
  Sinks,
  Chunked,
  PrefixLM,
  Document,
  Neighborhood,
  BlockSparse,
  VerticalSlash,
  And,
  Or,
  Not,
  OnHeads,
};

/// The IR mnemonic of `kind` ("causal", "sliding_window", ..., "on_heads"),
/// also its name in manifests.
const char *kindName(Kind kind);
/// The kind named `name`, false when there is none.
bool kindFromName(const std::string &name, Kind &kind);

/// One node of the mask algebra.
struct Node {
  Kind kind = Kind::Causal;
  bool topLeft = false;            ///< causal, sliding_window: p = q instead of
                                   ///< p = q + Lkv - Lq
  int64_t left = 0, right = 0;     ///< sliding_window
  int64_t count = 0;               ///< sinks, chunked size, prefix length
                                   ///< (-1: from the prefix_len operand)
  bool fromCuSeqlens = false;      ///< document: cu_seqlens instead of ids
  int64_t blockQ = 0, blockKV = 0; ///< block_sparse
  std::vector<int64_t> grid, kernel, dilation; ///< neighborhood
  std::vector<bool> causalDims;                ///< neighborhood
  std::vector<int64_t> heads;                  ///< on_heads
  std::vector<Node> children; ///< and, or: operands; not, on_heads: one

  /// The textual form of the IR (`and<causal, sinks<4>>`), for messages.
  std::string str() const;
};

/// A read-only view of an int32 tensor; a dimension of size 1 broadcasts.
struct IntView {
  const int32_t *data = nullptr;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides; ///< in elements

  bool empty() const { return data == nullptr; }
  /// The element at `index`, broadcasting dimensions of size 1.
  int32_t at(std::initializer_list<int64_t> index) const {
    return data[offset(index)];
  }
  /// The offset of `index` from `data`, in elements.
  int64_t offset(std::initializer_list<int64_t> index) const;
  /// The step between neighbours along the last dimension, in elements.
  int64_t lastStride() const {
    return shape.empty() || shape.back() == 1 ? 0 : strides.back();
  }
};

/// The sizes and operands a mask reads for one batch entry `b`.
struct Data {
  int64_t qLen = 0, kvLen = 0;
  IntView docQ, docKV;             ///< [B, L]
  IntView cuSeqlensQ, cuSeqlensKV; ///< [B, D + 1]
  IntView prefixLen;               ///< [B]
  IntView kvNumBlocks, kvIndices;  ///< [B|1, H|1, nQB], [B|1, H|1, nQB, nKB]
  IntView vertical, slash;         ///< [B|1, H|1, n]
};

/// A half-open range of key indices [begin, end).
struct Run {
  int64_t begin, end;
  bool operator==(const Run &other) const {
    return begin == other.begin && end == other.end;
  }
};

enum class TileKind : uint8_t { Empty = 0, Full = 1, Partial = 2 };

/// Whether key `k` is visible to query `q` of batch `b`, head `h`.
bool isVisible(const Node &node, const Data &data, int64_t b, int64_t h,
               int64_t q, int64_t k);

/// The keys in [k0, k1) visible to query `q`, as sorted, disjoint, non-empty
/// runs (appended to `runs` after clearing it).
void visibleRuns(const Node &node, const Data &data, int64_t b, int64_t h,
                 int64_t q, int64_t k0, int64_t k1, std::vector<Run> &runs);

/// Classifies the tile [q0, q1) x [k0, k1): empty (no visible pair), full
/// (every pair visible) or partial. Exact for every mask.
TileKind classifyTile(const Node &node, const Data &data, int64_t b, int64_t h,
                      int64_t q0, int64_t q1, int64_t k0, int64_t k1);

/// Classifies the row of tiles [q0, q1) x [kt blockKV, (kt + 1) blockKV),
/// each cut at `data.kvLen`, for kt < numTiles into `kinds[kt]`
/// (TileKind values), as classifyTile does; a null `node` (no mask) sees
/// every key. A tile with no query or no key is empty. The tile tables,
/// the tile classification and the mask picture all walk tiles with it.
void classifyTileRow(const Node *node, const Data &data, int64_t b, int64_t h,
                     int64_t q0, int64_t q1, int64_t blockKV, int32_t *kinds,
                     int64_t numTiles);

/// The data of one sequence of a paged or ragged batch: its lengths, and
/// with ragged storage its document ids (packed per token, [tokens]) from
/// its first tokens `qStart` and `kvStart` on.
Data sequenceData(const Data &batch, int64_t qLen, int64_t kvLen,
                  int64_t qStart, int64_t kvStart);

/// Whether the mask reads operands or depends on b/h (then tiles must be
/// classified per batch entry and head).
bool dependsOnBatch(const Node &node);
bool dependsOnHead(const Node &node);

} // namespace attnrt::mask

#endif // ATTN_RUNTIME_MASKMODEL_H
