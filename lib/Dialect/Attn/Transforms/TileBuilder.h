//===- TileBuilder.h - Builds the tile level of one kernel ------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Private to attn-tile: the builder of one work item's flash loop.
// TileAttention.cpp builds the loop structure; MaskCodegen.cpp emits the
// mask and score-modifier element code and the kv-tile bounds.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEBUILDER_H
#define ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEBUILDER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include "attn/Dialect/Attn/Utils/LoopBuilders.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::attn::detail {

/// Builds the tile-level kernel of one attn.attention.
class TileBuilder : KernelCodeBuilder {
public:
  TileBuilder(AttentionOp op, func::FuncOp kernel, TilingAttr tiling)
      : KernelCodeBuilder(op.getLoc(), kernel.getContext()), op(op),
        tiling(tiling) {
    b.setInsertionPointToStart(&kernel.getBody().front());
  }

  LogicalResult build(func::FuncOp kernel, ArrayRef<Value> args);
  /// The combine of a split kernel (same arguments): merges the chunks'
  /// partial (out, lse) rows of one work item exactly into out and lse.
  void buildCombine(ArrayRef<Value> args);

private:
  AttentionOp op;
  TilingAttr tiling; ///< the schedule's decisions

  // Problem constants.
  int64_t BQ = 0, BK = 0, D = 0, Dv = 0, Hq = 0, Hkv = 0;
  Layout layout = Layout::bshd;
  KVStorage storage = KVStorage::contiguous;
  int64_t pageSize = 0; ///< keys per page, for paged storage
  /// Query heads packed into one q tile (the tiling's head group), and the
  /// query positions a q tile holds: BQ / group.
  int64_t group = 1, BQPositions = 0;
  MaskAttrInterface mask; ///< in normal form; null when there is none

  // Kernel arguments and per-item values.
  Value q, k, v, out, lse;
  llvm::DenseMap<OperandKind, Value> operands;
  /// `head` is the first query head of the item; `q0` its first query
  /// position, `positions` how many it holds, `rows` its tile rows
  /// (positions x group).
  Value batch, head, kvHead, qTile, q0, positions, rows, qLen, kvLen, offset;
  /// Ragged storage: the first packed token of the item's q and kv sequence.
  Value qBase, kvBase;
  Value tileKinds; ///< the runtime's tile table, for masks without bounds
  /// Split-KV: the chunks' partial rows (f32 [items x splits, rows, Dv] and
  /// [items x splits, rows]; lse only for the softmax family), the number of
  /// chunks of this launch, this item's chunk and its partial-row index.
  Value partialOut, partialLse, splits, chunk, partialItem;
  Value alibiTable;

  // Tiles (the tensor form).
  /// The empty tiles at the kernel's entry, one per role: the destinations
  /// of the ops that produce each kv tile's values.
  Value kEmpty, vEmpty, sEmpty, pEmpty, alphaEmpty;
  /// The item's q tile.
  Value qTileValue;
  /// The online-softmax state (row max, row sum, accumulator) as it stands
  /// at the builder's insertion point: the loops and ifs that can visit kv
  /// tiles carry it (forLoopState, ifState).
  Value rowMax, rowSum, acc;
  /// The factor from the score tile's units to logits, which normalize and
  /// finalize take: the op's scale when qk's scores stay unscaled (no score
  /// modifiers), 1 when the score_mod region applies the scale itself.
  double scoreScale = 1.0;
  /// Vertical-slash masks: per partial tile, which of its keys are listed
  /// verticals (i8 [block_kv], from key vsK0) and which diagonals p - k are
  /// listed slashes (i8 [positions + block_kv], from diagonal vsDiagMin), so
  /// that the element code reads two bytes instead of searching the lists.
  Value vsColumns, vsDiagonals, vsK0, vsDiagMin;

  //===------------------------------------------------------------------===//
  // Small helpers
  //===------------------------------------------------------------------===//

  SmallVector<Value> state() { return {rowMax, rowSum, acc}; }
  void setState(ValueRange values) {
    rowMax = values[0];
    rowSum = values[1];
    acc = values[2];
  }
  /// for (iv = lb; iv < ub; ++iv) body(iv), carrying the state.
  void forLoopState(Value lb, Value ub, function_ref<void(Value)> body) {
    setState(
        forLoopCarry(lb, ub, 1, state(), [&](Value iv, ValueRange carried) {
          setState(carried);
          body(iv);
          return state();
        }));
  }
  /// forLoopState over the kv tiles in [lo, hi) this work item owns: all
  /// of them, or, in a kernel that can split, chunk c's: kt % S == c, from
  /// the first such tile in steps of S (no per-tile test, and the loads
  /// stay at the loop's top level, where a target can pipeline them).
  void forOwnedTiles(Value lo, Value hi, function_ref<void(Value)> body);
  /// if (cond) then(), carrying the state.
  void ifState(Value cond, function_ref<void()> then) {
    setState(ifCarry(cond, state(), [&] {
      then();
      return state();
    }));
  }

  /// Whether the kernel can split its kv range (the tiling's split_kv is
  /// not 1): it then takes the partial buffers and the combine merges them.
  bool splitCapable() const { return tiling.getSplitKv() != 1; }
  /// Sets the problem constants and binds the kernel's arguments; returns
  /// the work item.
  Value bindArguments(ArrayRef<Value> args);
  /// The partial out and lse rows of partial item `partial`.
  std::pair<Value, Value> partialViews(Value partial);

  Value loadInt(Value memref, ValueRange indices);
  /// The index into `memref`'s dimension `dim` for `value`, or 0 when that
  /// dimension broadcasts (size 1).
  Value broadcastIndex(Value memref, int64_t dim, Value value);
  /// The indices of the item's (batch, head) row of an operand laid out
  /// [B|1, H|1, ...] (block-sparse lists, vertical-slash lists, the tile
  /// table), size-1 axes broadcast.
  SmallVector<Value, 4> batchHeadIndices(Value memref) {
    return {broadcastIndex(memref, 0, batch), broadcastIndex(memref, 1, head)};
  }

  /// The view of `len` sequence positions from `s0` of `tensor` (q, k, v or
  /// out) at batch `bIdx` and heads [h, h + heads): [len, D] for one head,
  /// [len, heads, D] (position-major, transposed for bhsd) for more. For a
  /// packed [tokens, H, D] tensor (ragged storage) `s0` is a token.
  Value view(Value tensor, Value bIdx, Value s0, Value len, Value h,
             int64_t heads = 1);
  /// The view of the current q tile's rows of q or out: [positions, D], or
  /// [positions, group, D] for a packed GQA group.
  Value queryView(Value tensor);
  /// The view of the current q tile's lse: [positions] or
  /// [positions, group].
  Value lseView();
  /// The view of the keys [k0, k0 + cols) of k or v, wherever the storage
  /// keeps them (a tile never crosses a page: block_kv divides page_size).
  Value keyView(Value tensor, Value k0, Value cols);
  /// Sets batch, head group, q tile, lengths and bases from the work item.
  void emitWorkItem(Value item);

  //===------------------------------------------------------------------===//
  // Element code (MaskCodegen.cpp)
  //===------------------------------------------------------------------===//

  /// The aligned query position p for query index `qi`.
  Value aligned(Value qi, bool topLeft) {
    return topLeft ? qi : arith::AddIOp::create(b, qi, offset).getResult();
  }
  /// Whether key `ki` is visible to query `qi` under `m`.
  FailureOr<Value> emitMask(MaskAttrInterface m, Value qi, Value ki);
  template <typename CombineOp, typename ListAttr>
  FailureOr<Value> emitMaskList(ListAttr list, Value qi, Value ki);
  /// The score `s` of (qi, ki) after the op's score modifiers.
  FailureOr<Value> emitScoreMods(Value s, Value qi, Value ki);
  Value emitNeighborhood(NeighborhoodAttr hood, Value qi, Value ki);
  /// Whether some element e < count of memref[prefix..., e] matches.
  Value anyMatch(Value memref, ArrayRef<Value> prefix, Value count,
                 function_ref<Value(Value)> matches);
  /// The dilation group, first and last group position a neighborhood's
  /// dimension `d` shows to coordinate `qc`.
  std::tuple<Value, Value, Value> neighborhoodWindow(NeighborhoodAttr hood,
                                                     size_t d, Value qc);
  /// Narrows [kLo, kHi] to the keys a neighborhood shows the q tile's rows.
  void neighborhoodBounds(NeighborhoodAttr hood, Value &kLo, Value &kHi);

  /// The kv-tile range [lo, hi) that the conjunction of `parts` can leave
  /// visible for the current q tile (from its interval and neighborhood
  /// conjuncts; other conjuncts do not narrow it).
  void kvTileBounds(ArrayRef<MaskAttrInterface> parts, Value &lo, Value &hi);
  /// Whether every pair of the q tile and keys [k0, k1) is visible, for
  /// masks made of intervals around the query (causal, sliding_window,
  /// sinks, chunked, constant prefix_lm and their conjunctions); false for
  /// any other conjunct.
  Value tileIsFull(ArrayRef<MaskAttrInterface> parts, Value k0, Value k1);

  /// Fills vsColumns and vsDiagonals for the tile of keys [k0, k0 + cols).
  void prepareVerticalSlash(Value k0, Value cols);
  /// Whether a vertical-slash mask can show any key of [k0, k1) to the q
  /// tile: a listed vertical key inside it, or a listed diagonal crossing it
  /// (from the index operands, O(verticals + slashes)).
  Value verticalSlashHits(Value k0, Value k1);

  /// The kv-block list of a block-sparse mask for query `qi`: the
  /// kv_indices memref, the indices of its row (batch, head, q block; size-1
  /// axes broadcast) and the number of listed blocks.
  struct BlockList {
    Value indices;
    SmallVector<Value, 4> prefix;
    Value count;
  };
  BlockList blockListOf(BlockSparseAttr sparse, Value qi);

  //===------------------------------------------------------------------===//
  // The loop (TileAttention.cpp)
  //===------------------------------------------------------------------===//

  /// Whether the tile of keys [k0, k1) is known to be fully visible.
  using FullTest = function_ref<Value(Value k0, Value k1)>;
  /// One kv tile (of those forOwnedTiles walks); mask code runs where
  /// `isFull` is false. A null `isFull` says every key of the tile is
  /// visible (a listed block-sparse block).
  LogicalResult emitKVTile(Value kt, FullTest isFull);
  /// The kv tiles of a union of interval conjunctions (`or` of bounded
  /// masks): each disjunct's range, skipping the tiles an earlier disjunct's
  /// range holds; a tile is full when some disjunct proves it full.
  LogicalResult
  emitDisjunctTiles(ArrayRef<SmallVector<MaskAttrInterface>> disjuncts);
  /// kv tiles of the blocks a block-sparse mask lists for this q tile.
  LogicalResult emitListedBlocks(BlockSparseAttr sparse);
  /// The score tile after the score_mod op (the scale, then the op's score
  /// modifiers) and after the mask op.
  FailureOr<Value> emitScoreModOp(Value scores, Value k0, Value cols);
  FailureOr<Value> emitMaskOp(Value scores, Value k0, Value cols);
  void emitFinalize();

  bool hasScoreMods() {
    return op.getScoreModsAttr() && !op.getScoreModsAttr().empty();
  }
};

} // namespace mlir::attn::detail

#endif // ATTN_LIB_DIALECT_ATTN_TRANSFORMS_TILEBUILDER_H
