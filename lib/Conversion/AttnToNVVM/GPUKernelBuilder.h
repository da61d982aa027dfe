//===- GPUKernelBuilder.h - One tile-level kernel as a gpu.func -*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Private to convert-attn-to-nvvm: the builder of one kernel's gpu.func
// (GPUKernelBuilder.cpp); AttnToNVVM.cpp holds the pass.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTONVVM_GPUKERNELBUILDER_H
#define ATTN_LIB_CONVERSION_ATTNTONVVM_GPUKERNELBUILDER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Utils/LoopBuilders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::attn::detail {

/// Builds the gpu.func of one tile-level kernel.
class GPUKernelBuilder : KernelCodeBuilder {
public:
  GPUKernelBuilder(func::FuncOp source, TilingAttr tiling, Type dtype)
      : KernelCodeBuilder(source.getLoc(), source.getContext()), source(source),
        tiling(tiling), dtype(dtype) {}

  /// Builds the kernel into `module`; fails (after reporting at the
  /// source) when the kernel is out of the lowering's reach. A split
  /// kernel's combine (`combine`) takes the same block; its row loop
  /// (attn.parallel_rows) is spread over the threads.
  LogicalResult build(gpu::GPUModuleOp module, bool combine = false);

  int64_t threads() const { return warps * 32; }

private:
  func::FuncOp source;
  TilingAttr tiling;
  Type dtype; ///< bf16 or f16: the Q, K, V and P tiles
  int64_t warps = 0;
  int64_t smemBytes = 0;
  gpu::GPUModuleOp module;
  IRMapping map;
  /// Per-thread indices.
  Value tid, lane, warp, quadRow, quadCol;
  Value smem; ///< the dynamic shared memory, bytes

  //===------------------------------------------------------------------===//
  // Fragments
  //===------------------------------------------------------------------===//

  static int64_t dim(Type type, unsigned d) {
    return cast<ShapedType>(type).getDimSize(d);
  }
  /// Elements a thread holds of a [rows, cols] register tile.
  int64_t fragmentSize(int64_t cols) const { return cols / 8 * 4; }
  VectorType rowStateType() { return VectorType::get({2}, b.getF32Type()); }
  /// The per-thread value type of a register tile of tensor type `type`.
  VectorType registerType(Type type) {
    auto shaped = cast<ShapedType>(type);
    if (shaped.getRank() == 1)
      return rowStateType();
    return VectorType::get({fragmentSize(shaped.getDimSize(1))},
                           shaped.getElementType());
  }
  /// The converted type of tile-level value `v` (registers for scores,
  /// weights, state; a shared-memory view for Q, K and V tiles).
  Type convertedType(Value v);

  SmallVector<Value> unpack(Value vector) {
    SmallVector<Value> elements;
    int64_t n = cast<VectorType>(vector.getType()).getNumElements();
    for (int64_t i = 0; i < n; ++i)
      elements.push_back(vector::ExtractOp::create(b, vector, i));
    return elements;
  }
  Value pack(ArrayRef<Value> elements) {
    auto type = VectorType::get({static_cast<int64_t>(elements.size())},
                                elements.front().getType());
    return vector::FromElementsOp::create(b, type, elements);
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  /// The tile row of element `e` of this thread's fragments.
  Value fragmentRow(int64_t e) {
    return arith::AddIOp::create(
        b,
        arith::AddIOp::create(b, arith::MulIOp::create(b, warp, idx(16)),
                              quadRow),
        idx(8 * (e / 2)));
  }
  /// The tile column of element `e` of n-tile `nt`.
  Value fragmentCol(int64_t nt, int64_t e) {
    return arith::AddIOp::create(b, arith::MulIOp::create(b, quadCol, idx(2)),
                                 idx(8 * nt + e % 2));
  }

  //===------------------------------------------------------------------===//
  // Shared memory
  //===------------------------------------------------------------------===//

  /// A [rows, cols] tile of the input dtype in shared memory.
  Value allocateShared(int64_t rows, int64_t cols);
  /// The column a thread addresses for 16-byte chunk `chunk` of row `row`
  /// of a [rows, cols] shared tile: chunks are XOR-swizzled with the row
  /// (row % 8) when a row holds at least 8 of them, so that the 8 rows an
  /// ldmatrix reads hit distinct banks.
  Value sharedColumn(Value row, Value chunk, int64_t cols) {
    if (cols / 8 >= 8)
      chunk = arith::XOrIOp::create(b, chunk,
                                    arith::RemUIOp::create(b, row, idx(8)));
    return arith::MulIOp::create(b, chunk, idx(8));
  }
  /// Issues the asynchronous copy (cp.async, one commit group) of the rows
  /// of `view` (rank 2, or rank 3 for a packed head group) into shared tile
  /// `tile`, zero-filling the rows past the view's.
  void copyToShared(Value view, Value tile);
  /// The copy alone: (a barrier unless `barrier` is false, so that every
  /// thread is done with the tile's contents, then) cp.async of each chunk.
  void issueCopy(Value view, Value tile, bool barrier = true);
  /// Closes the copies issued since the last group as one group, for
  /// `tile`.
  void commitCopy(Value tile);
  /// Waits until the copy into `tile` has landed for the whole block (a
  /// no-op when it was waited for already). Returns whether it waited (and
  /// so ended in a barrier).
  bool waitFor(Value tile);
  /// The copies issued and not yet waited for, in issue order, and the
  /// last group's token (the wait op takes one).
  SmallVector<Value> pendingCopies;
  Value lastGroup;
  /// The A fragments of a q tile loaded once at its load (per k-step).
  DenseMap<Value, SmallVector<SmallVector<Value>>> qFragments;

  /// The K tile of a kv loop is loaded one iteration ahead: the copy of
  /// tile j + 1 is issued once P V of tile j has waited for V (every warp
  /// is then done with K j), so that it lands while P V runs; V j's copy
  /// lands while Q K^T and the softmax of j run. The loop prologue issues
  /// tile 0's.
  struct KPrefetch {
    TileLoadKOp load;
    /// The loop body's ops that compute the load's view from the
    /// induction variable, in order.
    SmallVector<Operation *> slice;
    Value sourceIv;        ///< the tile level's induction variable
    Value tile;            ///< the K tile in shared memory
    Value iv, step, upper; ///< of the converted loop
  };
  /// The prefetch of the kv loop being converted, if it has one.
  std::optional<KPrefetch> prefetch;
  /// The K prefetch `loop` admits: its body loads K directly, from a view
  /// that only the induction variable (through ops without regions that
  /// read at most memory) determines, and it has a P V after the load.
  std::optional<KPrefetch> planPrefetch(scf::ForOp loop);
  /// Issues and commits the copy of the K tile of iteration `iv` when it is
  /// below the loop's upper bound (an empty group otherwise).
  void prefetchK(KPrefetch &plan, Value iv, Value upper, bool barrier);

  //===------------------------------------------------------------------===//
  // Tensor cores
  //===------------------------------------------------------------------===//

  /// ldmatrix x4 at (row, chunk) of shared tile `tile`: four 8x8 b16
  /// matrices, as mma operand registers.
  SmallVector<Value> loadMatrices(Value tile, Value row, Value chunk,
                                  bool transpose);
  /// Two elements of the input dtype as one mma operand register.
  Value packPair(Value x, Value y);
  /// D = A B + C for one m16n8k16 step; returns D's four elements.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bRegs,
                         ArrayRef<Value> c);
  /// The full-row reduction of `value` over the four lanes that share a row.
  Value quadReduce(Value value, bool max);

  //===------------------------------------------------------------------===//
  // The ops
  //===------------------------------------------------------------------===//

  LogicalResult convertBlock(Block &block);
  LogicalResult convertOp(Operation &op);
  LogicalResult convertFor(scf::ForOp op);
  LogicalResult convertIf(scf::IfOp op);
  Value lookup(Value v) { return map.lookupOrDefault(v); }

  void lowerLoad(Operation *op, Value view, Value init);
  void lower(TileInitOp op);
  void lower(TileQKOp op);
  template <typename ElementOp> void lowerElementOp(ElementOp op, bool isMask);
  void lower(TileNormalizeOp op);
  void lower(TilePVOp op);
  void lower(TileFinalizeOp op);
  /// Clones the element region `body` on `args`; returns what it yields.
  Value cloneElementRegion(Block &body, ValueRange args);
  /// The rows a q/out view holds, and the indices of tile row `row` in a
  /// q/out view (`headDim`: its last dimension is the head dim) or an lse
  /// view: [rows] or, for a packed head group, [positions, heads].
  Value viewRows(Value view);
  SmallVector<Value> viewIndices(Value view, Value row, bool headDim = true);
};

} // namespace mlir::attn::detail

#endif // ATTN_LIB_CONVERSION_ATTNTONVVM_GPUKERNELBUILDER_H
