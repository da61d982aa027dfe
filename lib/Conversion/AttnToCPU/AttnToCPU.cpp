//===- AttnToCPU.cpp - attn.attention to a CPU kernel ---------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Emits the FlashAttention loop of one work item with scf, memref, vector,
// arith and math ops; see convert-attn-to-cpu in Conversion/Passes.td.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOCPUPASS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

std::pair<int64_t, int64_t>
mlir::attn::getCPUBlockSizes(AttentionOp op, const CPUKernelOptions &options) {
  int64_t blockQ = options.blockQ, blockKV = options.blockKV;
  // Tiles that divide a block-sparse mask's blocks let the kernel walk the
  // listed blocks only. Decisions read the mask in normal form, as the CPU
  // pipeline simplifies it before lowering, so that a manifest built before
  // the pipeline agrees with the kernel.
  MaskAttrInterface mask =
      op.getMaskAttr() ? simplifyMask(op.getMaskAttr()) : MaskAttrInterface();
  if (auto sparse = dyn_cast_or_null<BlockSparseAttr>(mask)) {
    auto divisor = [](int64_t block, int64_t limit) {
      int64_t size = limit;
      while (size > 1 && block % size != 0)
        size /= 2;
      return size;
    };
    int64_t q = divisor(sparse.getBlockQ(), blockQ);
    int64_t kv = divisor(sparse.getBlockKv(), blockKV);
    if (q >= 4 && kv >= 8) {
      blockQ = q;
      blockKV = kv;
    }
  }
  if (ScheduleAttr schedule = op.getScheduleAttr()) {
    if (schedule.getBlockQ())
      blockQ = schedule.getBlockQ();
    if (schedule.getBlockKv())
      blockKV = schedule.getBlockKv();
  }
  return {blockQ, blockKV};
}

/// The conjuncts of `mask` (itself when it is not an `and`).
static SmallVector<MaskAttrInterface> conjuncts(MaskAttrInterface mask) {
  if (auto andAttr = dyn_cast_or_null<AndAttr>(mask))
    return SmallVector<MaskAttrInterface>(andAttr.getOperands());
  if (mask)
    return {mask};
  return {};
}

bool mlir::attn::usesTileTable(AttentionOp op,
                               const CPUKernelOptions &options) {
  if (!op.getMaskAttr())
    return false;
  MaskAttrInterface mask = simplifyMask(op.getMaskAttr());
  // Block-sparse masks whose blocks the tiles divide walk their lists.
  auto [blockQ, blockKV] = getCPUBlockSizes(op, options);
  if (auto sparse = dyn_cast<BlockSparseAttr>(mask))
    if (sparse.getBlockQ() % blockQ == 0 && sparse.getBlockKv() % blockKV == 0)
      return false;
  // Conjunctions of masks with loop bounds and analytic full tiles need no
  // table. Neighborhoods have loop bounds but no analytic full tiles, so
  // they take the table (the runtime caches it per shape).
  return llvm::any_of(conjuncts(mask), [](MaskAttrInterface m) {
    auto prefix = dyn_cast<PrefixLMAttr>(m);
    return !isa<CausalAttr, SlidingWindowAttr, SinksAttr, ChunkedAttr>(m) &&
           !(prefix && prefix.getLength());
  });
}

/// The standard ALiBi slopes for `numHeads` heads (the ALiBi paper's
/// get_slopes: geometric for a power of two, interleaved otherwise).
static SmallVector<float> standardAlibiSlopes(int64_t numHeads) {
  auto powerOfTwo = [](int64_t n) {
    SmallVector<float> slopes;
    double start = std::exp2(-8.0 / static_cast<double>(n));
    double slope = start;
    for (int64_t i = 0; i < n; ++i, slope *= start)
      slopes.push_back(static_cast<float>(slope));
    return slopes;
  };
  int64_t closest = int64_t(1) << static_cast<int>(std::floor(
                        std::log2(static_cast<double>(numHeads))));
  SmallVector<float> slopes = powerOfTwo(closest);
  if (closest != numHeads) {
    SmallVector<float> extra = powerOfTwo(2 * closest);
    for (int64_t i = 0; static_cast<int64_t>(slopes.size()) < numHeads;
         i += 2)
      slopes.push_back(extra[i]);
  }
  return slopes;
}

namespace {

/// Builds the kernel of one attn.attention.
class KernelBuilder {
public:
  KernelBuilder(AttentionOp op, func::FuncOp kernel,
                const CPUKernelOptions &options)
      : op(op), b(op.getLoc(), kernel.getContext()), options(options) {
    b.setInsertionPointToStart(&kernel.getBody().front());
  }

  LogicalResult build(func::FuncOp kernel, ArrayRef<Value> args);

private:
  AttentionOp op;
  ImplicitLocOpBuilder b;
  CPUKernelOptions options;

  // Problem constants.
  int64_t BQ = 0, BK = 0, W = 0, D = 0, Dv = 0, Hq = 0, Hkv = 0;
  /// Register blocking: rows of Q per micro-kernel, key vectors per row in
  /// S = Q K^T, head-dim vectors per row in P V.
  int64_t RI = 1, NJ = 1, ND = 1;
  Layout layout = Layout::bshd;
  Type elementType;
  VectorType vecType;

  // Kernel arguments and per-item values.
  Value q, k, v, out, lse;
  DenseMap<OperandKind, Value> operands;
  Value batch, head, kvHead, q0, rows, qLen, kvLen, offset;
  Value rowsPadded; ///< rows rounded up to a multiple of RI
  Value qTile;
  Value tileKinds; ///< the runtime's tile table, for masks without bounds
  Value alibiTable;

  // Scratch buffers.
  Value qs, ktBuf, vs, scores, acc, rowMax, rowSum;

  //===------------------------------------------------------------------===//
  // Small helpers
  //===------------------------------------------------------------------===//

  Value idx(int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }
  Value f32(double value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }
  Value splat(Value scalar) {
    return vector::BroadcastOp::create(b, vecType, scalar);
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }

  /// The indices of (batch, seq, head, dim) in the op's layout.
  SmallVector<Value> at(Value bIdx, Value s, Value h, Value d) {
    if (layout == Layout::bhsd)
      return {bIdx, h, s, d};
    return {bIdx, s, h, d};
  }

  Value loadF32(Value memref, ValueRange indices) {
    Value value = memref::LoadOp::create(b, memref, indices);
    if (!value.getType().isF32())
      value = arith::ExtFOp::create(b, b.getF32Type(), value);
    return value;
  }

  Value loadInt(Value memref, ValueRange indices) {
    Value value = memref::LoadOp::create(b, memref, indices);
    return arith::IndexCastOp::create(b, b.getIndexType(), value);
  }

  void storeF32(Value value, Value memref, ValueRange indices) {
    Type type = cast<MemRefType>(memref.getType()).getElementType();
    if (type != value.getType())
      value = arith::TruncFOp::create(b, type, value);
    memref::StoreOp::create(b, value, memref, indices);
  }

  /// for (iv = lb; iv < ub; iv += step) body(iv)
  void forLoop(Value lb, Value ub, int64_t step,
               function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, lb, ub, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// A loop carrying one value: returns the final value.
  Value forLoopCarry(Value lb, Value ub, int64_t step, Value init,
                     function_ref<Value(Value, Value)> body) {
    auto loop = scf::ForOp::create(
        b, lb, ub, idx(step), ValueRange{init},
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          Value next = body(iv, iter[0]);
          scf::YieldOp::create(b, next);
        });
    return loop.getResult(0);
  }

  /// A loop carrying several values: returns their final values.
  SmallVector<Value> forLoopCarryN(
      Value lb, Value ub, int64_t step, ValueRange inits,
      function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(
        b, lb, ub, idx(step), inits,
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iter) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          SmallVector<Value> next = body(iv, iter);
          scf::YieldOp::create(b, next);
        });
    return SmallVector<Value>(loop.getResults());
  }

  /// The largest of {max, max/2, ..., 1} that divides `n`.
  static int64_t blockingFor(int64_t n, int64_t max) {
    int64_t f = max;
    while (f > 1 && n % f != 0)
      f /= 2;
    return f;
  }

  /// if (cond) then()
  void ifThen(Value cond, function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    then();
  }

  Value minIndex(Value a, Value c) { return arith::MinSIOp::create(b, a, c); }
  Value maxIndex(Value a, Value c) { return arith::MaxSIOp::create(b, a, c); }
  Value cmp(arith::CmpIPredicate pred, Value a, Value c) {
    return arith::CmpIOp::create(b, pred, a, c);
  }

  //===------------------------------------------------------------------===//
  // Mask and score modifiers (element by element)
  //===------------------------------------------------------------------===//

  /// The aligned query position p for query index `qi`.
  Value aligned(Value qi, bool topLeft) {
    return topLeft ? qi : arith::AddIOp::create(b, qi, offset).getResult();
  }

  FailureOr<Value> emitMask(MaskAttrInterface mask, Value qi, Value ki);
  /// The operands of an and/or mask combined with `CombineOp`.
  template <typename CombineOp, typename ListAttr>
  FailureOr<Value> emitMaskList(ListAttr list, Value qi, Value ki) {
    Value result;
    for (MaskAttrInterface m : list.getOperands()) {
      FailureOr<Value> v = emitMask(m, qi, ki);
      if (failed(v))
        return failure();
      result = result ? CombineOp::create(b, result, *v).getResult() : *v;
    }
    return result;
  }
  FailureOr<Value> emitScoreMods(Value s, Value qi, Value ki);
  Value emitNeighborhood(NeighborhoodAttr hood, Value qi, Value ki);
  Value anyMatch(Value memref, ArrayRef<Value> prefix, Value count,
                 function_ref<Value(Value)> matches);

  /// The kv-tile range [lo, hi) the mask can leave visible for the current
  /// q tile, and whether tile [k0, k1) is known to be fully visible (only
  /// for masks made of intervals around the query: causal, sliding_window,
  /// chunked and their conjunctions).
  void kvTileBounds(Value &lo, Value &hi);
  Value tileIsFull(Value k0, Value k1);

  //===------------------------------------------------------------------===//
  // Kernel parts
  //===------------------------------------------------------------------===//

  void emitLoadQ();
  void emitInit();
  /// One kv tile; `listed` says the tile comes from a block-sparse list, so
  /// every key of it is visible.
  /// `tableKind`, when given, is the tile's kind from the runtime's tile
  /// table (1: full, 2: partial).
  void emitKVTile(Value kt, bool listed = false, Value tableKind = {});
  LogicalResult emitScorePass(Value k0, Value cols, Value needed,
                              bool applyMask);
  /// The kv-block list of a block-sparse mask for query `qi`: the
  /// kv_indices memref, the indices of its row (batch, head, q block; size-1
  /// axes broadcast) and the number of listed blocks.
  struct BlockList {
    Value indices;
    SmallVector<Value, 3> prefix;
    Value count;
  };
  BlockList blockListOf(BlockSparseAttr sparse, Value qi);
  /// kv tiles of the blocks a block-sparse mask lists for this q tile.
  void emitListedBlocks(BlockSparseAttr sparse);
  /// Narrows [kLo, kHi] to the keys a neighborhood shows the q tile's rows.
  void neighborhoodBounds(NeighborhoodAttr hood, Value &kLo, Value &kHi);
  /// The dilation group, first and last group position a neighborhood's
  /// dimension `d` shows to coordinate `qc`.
  std::tuple<Value, Value, Value> neighborhoodWindow(NeighborhoodAttr hood,
                                                     size_t d, Value qc);
  void emitNormalize(Value cols);
  void emitPV(Value cols);

  /// The register-blocked micro-kernel of Q K^T and P V: for r < RI and
  /// c < numVectors, inits[r][c] + sum over t < depth of
  /// broadcast(lhs[row + r, t]) * rhs[t, col + c W : col + (c + 1) W]. Each
  /// rhs vector load serves RI rows and each broadcast numVectors FMAs.
  SmallVector<Value> emitOuterProducts(Value lhs, Value rhs, Value row,
                                       Value col, Value depth,
                                       int64_t numVectors, ValueRange inits);
  /// RI x numVectors vectors of `memref` at (row, col), row-major.
  SmallVector<Value> loadBlock(Value memref, Value row, Value col,
                               int64_t numVectors);
  void storeBlock(ValueRange values, Value memref, Value row, Value col,
                  int64_t numVectors);
  void emitFinalize();

  bool failedTile = false;

  bool hasScoreMods() {
    return op.getScoreModsAttr() && !op.getScoreModsAttr().empty();
  }
  NormalizerKind normalizer() { return op.getNormalizerOrDefault().getKind(); }
  bool isSoftmaxFamily() { return op.getNormalizerOrDefault().hasLse(); }
};

} // namespace

//===----------------------------------------------------------------------===//
// Mask
//===----------------------------------------------------------------------===//

Value KernelBuilder::anyMatch(Value memref, ArrayRef<Value> prefix,
                              Value count,
                              function_ref<Value(Value)> matches) {
  Value init = arith::ConstantOp::create(b, b.getBoolAttr(false));
  return forLoopCarry(idx(0), count, 1, init, [&](Value j, Value found) {
    SmallVector<Value> indices(prefix);
    indices.push_back(j);
    Value element = loadInt(memref, indices);
    return arith::OrIOp::create(b, found, matches(element)).getResult();
  });
}

/// The index into `memref`'s dimension `dim` for `value`, or 0 when that
/// dimension broadcasts (size 1).
static Value broadcastIndex(ImplicitLocOpBuilder &b, Value memref, int64_t dim,
                            Value value) {
  Value size = memref::DimOp::create(b, memref, dim);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value isOne =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, size, one);
  return arith::SelectOp::create(b, isOne, zero, value);
}

/// Row-major strides of a neighborhood grid.
static SmallVector<int64_t> gridStrides(ArrayRef<int64_t> grid) {
  SmallVector<int64_t> strides(grid.size());
  int64_t stride = 1;
  for (size_t d = grid.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= grid[d];
  }
  return strides;
}

std::tuple<Value, Value, Value>
KernelBuilder::neighborhoodWindow(NeighborhoodAttr hood, size_t d, Value qc) {
  Value n = idx(hood.getGrid()[d]), dil = idx(hood.getDilationAt(d));
  Value kernel = idx(hood.getKernel()[d]);
  Value group = arith::RemUIOp::create(b, qc, dil);
  Value i = arith::DivUIOp::create(b, qc, dil);
  if (hood.isCausalAt(d)) {
    // Group positions [i - kernel + 1, i].
    Value first = maxIndex(
        arith::SubIOp::create(b, arith::AddIOp::create(b, i, idx(1)), kernel),
        idx(0));
    return {group, first, i};
  }
  // groupLen = ceil((n - group) / dil); size = min(kernel, groupLen);
  // start = clamp(i - kernel / 2, 0, groupLen - size)
  Value groupLen = arith::DivUIOp::create(
      b,
      arith::AddIOp::create(b, arith::SubIOp::create(b, n, group),
                            arith::SubIOp::create(b, dil, idx(1))),
      dil);
  Value size = minIndex(kernel, groupLen);
  Value start = arith::SubIOp::create(b, i, idx(hood.getKernel()[d] / 2));
  start = maxIndex(start, idx(0));
  start = minIndex(start, arith::SubIOp::create(b, groupLen, size));
  Value last = arith::SubIOp::create(b, arith::AddIOp::create(b, start, size),
                                     idx(1));
  return {group, start, last};
}

Value KernelBuilder::emitNeighborhood(NeighborhoodAttr hood, Value qi,
                                      Value ki) {
  ArrayRef<int64_t> grid = hood.getGrid();
  SmallVector<int64_t> strides = gridStrides(grid);
  Value visible = arith::ConstantOp::create(b, b.getBoolAttr(true));
  for (size_t d = 0; d < grid.size(); ++d) {
    Value dil = idx(hood.getDilationAt(d));
    auto coord = [&](Value t) {
      Value div = arith::DivUIOp::create(b, t, idx(strides[d]));
      return arith::RemUIOp::create(b, div, idx(grid[d])).getResult();
    };
    Value kc = coord(ki);
    auto [group, first, last] = neighborhoodWindow(hood, d, coord(qi));
    Value sameGroup = cmp(arith::CmpIPredicate::eq, group,
                          arith::RemUIOp::create(b, kc, dil));
    Value j = arith::DivUIOp::create(b, kc, dil);
    Value inWindow =
        arith::AndIOp::create(b, cmp(arith::CmpIPredicate::sge, j, first),
                              cmp(arith::CmpIPredicate::sle, j, last));
    visible = arith::AndIOp::create(
        b, visible, arith::AndIOp::create(b, sameGroup, inWindow));
  }
  return visible;
}

void KernelBuilder::neighborhoodBounds(NeighborhoodAttr hood, Value &kLo,
                                       Value &kHi) {
  // Row-major order: a row's visible keys lie between the token of the
  // windows' first positions and the token of their last positions.
  ArrayRef<int64_t> grid = hood.getGrid();
  SmallVector<int64_t> strides = gridStrides(grid);
  SmallVector<Value> inits = {idx(std::numeric_limits<int64_t>::max()),
                              idx(std::numeric_limits<int64_t>::min())};
  SmallVector<Value> range = forLoopCarryN(
      idx(0), rows, 1, inits,
      [&](Value i, ValueRange minMax) -> SmallVector<Value> {
        Value qi = arith::AddIOp::create(b, q0, i);
        Value first = idx(0), last = idx(0);
        for (size_t d = 0; d < grid.size(); ++d) {
          Value dil = idx(hood.getDilationAt(d));
          Value qc = arith::RemUIOp::create(
              b, arith::DivUIOp::create(b, qi, idx(strides[d])),
              idx(grid[d]));
          auto [group, lo, hi] = neighborhoodWindow(hood, d, qc);
          auto token = [&](Value pos) {
            Value coordinate = arith::AddIOp::create(
                b, group, arith::MulIOp::create(b, pos, dil));
            return arith::MulIOp::create(b, coordinate, idx(strides[d]))
                .getResult();
          };
          first = arith::AddIOp::create(b, first, token(lo));
          last = arith::AddIOp::create(b, last, token(hi));
        }
        return {minIndex(minMax[0], first), maxIndex(minMax[1], last)};
      });
  kLo = maxIndex(kLo, range[0]);
  kHi = minIndex(kHi, range[1]);
}

KernelBuilder::BlockList KernelBuilder::blockListOf(BlockSparseAttr sparse,
                                                   Value qi) {
  Value numBlocks = operands.lookup(OperandKind::kv_num_blocks);
  Value indices = operands.lookup(OperandKind::kv_indices);
  Value qb = arith::DivUIOp::create(b, qi, idx(sparse.getBlockQ()));
  Value count = loadInt(numBlocks, {broadcastIndex(b, numBlocks, 0, batch),
                                    broadcastIndex(b, numBlocks, 1, head), qb});
  return {indices,
          {broadcastIndex(b, indices, 0, batch),
           broadcastIndex(b, indices, 1, head), qb},
          count};
}

void KernelBuilder::emitListedBlocks(BlockSparseAttr sparse) {
  auto [indices, prefix, count] = blockListOf(sparse, q0);
  int64_t tilesPerBlock = sparse.getBlockKv() / BK;
  Value numTiles = arith::CeilDivSIOp::create(b, kvLen, idx(BK));
  forLoop(idx(0), count, 1, [&](Value j) {
    Value block = loadInt(indices, {prefix[0], prefix[1], prefix[2], j});
    Value firstTile = arith::MulIOp::create(b, block, idx(tilesPerBlock));
    Value endTile = minIndex(
        arith::AddIOp::create(b, firstTile, idx(tilesPerBlock)), numTiles);
    forLoop(firstTile, endTile, 1,
            [&](Value kt) { emitKVTile(kt, /*listed=*/true); });
  });
}

FailureOr<Value> KernelBuilder::emitMask(MaskAttrInterface mask, Value qi,
                                         Value ki) {
  auto floorDiv = [&](Value a, int64_t c) {
    return arith::FloorDivSIOp::create(b, a, idx(c)).getResult();
  };
  return llvm::TypeSwitch<Attribute, FailureOr<Value>>(mask)
      .Case([&](CausalAttr a) -> FailureOr<Value> {
        Value p = aligned(qi, a.getAlign() == Align::top_left);
        return cmp(arith::CmpIPredicate::sle, ki, p);
      })
      .Case([&](SlidingWindowAttr a) -> FailureOr<Value> {
        Value p = aligned(qi, a.getAlign() == Align::top_left);
        Value lo = arith::SubIOp::create(b, p, idx(a.getLeft()));
        Value hi = arith::AddIOp::create(b, p, idx(a.getRight()));
        return arith::AndIOp::create(b, cmp(arith::CmpIPredicate::sge, ki, lo),
                                     cmp(arith::CmpIPredicate::sle, ki, hi))
            .getResult();
      })
      .Case([&](SinksAttr a) -> FailureOr<Value> {
        return cmp(arith::CmpIPredicate::slt, ki, idx(a.getCount()));
      })
      .Case([&](ChunkedAttr a) -> FailureOr<Value> {
        Value p = aligned(qi, false);
        return cmp(arith::CmpIPredicate::eq, floorDiv(p, a.getSize()),
                   floorDiv(ki, a.getSize()));
      })
      .Case([&](PrefixLMAttr a) -> FailureOr<Value> {
        Value n = a.getLength()
                      ? idx(*a.getLength())
                      : loadInt(operands.lookup(OperandKind::prefix_len),
                                {batch});
        return cmp(arith::CmpIPredicate::slt, ki, n);
      })
      .Case([&](DocumentAttr a) -> FailureOr<Value> {
        if (a.getSource() == DocumentSource::ids) {
          Value dq = loadInt(operands.lookup(OperandKind::doc_q), {batch, qi});
          Value dk = loadInt(operands.lookup(OperandKind::doc_kv), {batch, ki});
          return cmp(arith::CmpIPredicate::eq, dq, dk);
        }
        // The document of a token: the d with cu[b, d] <= t < cu[b, d + 1].
        auto documentOf = [&](Value cu, Value t, int64_t outside) {
          Value bounds = memref::DimOp::create(b, cu, 1);
          Value last = arith::SubIOp::create(b, bounds, idx(1));
          return forLoopCarry(idx(0), last, 1, idx(outside),
                              [&](Value d, Value found) {
                                Value lo = loadInt(cu, {batch, d});
                                Value hi = loadInt(
                                    cu, {batch, arith::AddIOp::create(
                                                    b, d, idx(1))});
                                Value in = arith::AndIOp::create(
                                    b, cmp(arith::CmpIPredicate::sle, lo, t),
                                    cmp(arith::CmpIPredicate::slt, t, hi));
                                Value unset = cmp(arith::CmpIPredicate::eq,
                                                  found, idx(outside));
                                return arith::SelectOp::create(
                                           b,
                                           arith::AndIOp::create(b, in, unset),
                                           d, found)
                                    .getResult();
                              });
        };
        Value dq = documentOf(operands.lookup(OperandKind::cu_seqlens_q), qi, -1);
        Value dk =
            documentOf(operands.lookup(OperandKind::cu_seqlens_kv), ki, -2);
        return cmp(arith::CmpIPredicate::eq, dq, dk);
      })
      .Case([&](NeighborhoodAttr a) -> FailureOr<Value> {
        return emitNeighborhood(a, qi, ki);
      })
      .Case([&](BlockSparseAttr a) -> FailureOr<Value> {
        auto [indices, prefix, count] = blockListOf(a, qi);
        Value kb = arith::DivUIOp::create(b, ki, idx(a.getBlockKv()));
        return anyMatch(indices, prefix, count, [&](Value e) {
          return cmp(arith::CmpIPredicate::eq, e, kb);
        });
      })
      .Case([&](VerticalSlashAttr) -> FailureOr<Value> {
        Value vert = operands.lookup(OperandKind::vertical);
        Value slash = operands.lookup(OperandKind::slash);
        Value p = aligned(qi, false);
        auto prefix = [&](Value memref) {
          return SmallVector<Value>{broadcastIndex(b, memref, 0, batch),
                                    broadcastIndex(b, memref, 1, head)};
        };
        Value inVertical =
            anyMatch(vert, prefix(vert), memref::DimOp::create(b, vert, 2),
                     [&](Value e) {
                       return cmp(arith::CmpIPredicate::eq, e, ki);
                     });
        Value diag = arith::SubIOp::create(b, p, ki);
        Value inSlash =
            anyMatch(slash, prefix(slash), memref::DimOp::create(b, slash, 2),
                     [&](Value e) {
                       return cmp(arith::CmpIPredicate::eq, e, diag);
                     });
        return arith::OrIOp::create(b, inVertical, inSlash).getResult();
      })
      .Case([&](AndAttr a) { return emitMaskList<arith::AndIOp>(a, qi, ki); })
      .Case([&](OrAttr a) { return emitMaskList<arith::OrIOp>(a, qi, ki); })
      .Case([&](NotAttr a) -> FailureOr<Value> {
        FailureOr<Value> v = emitMask(a.getOperand(), qi, ki);
        if (failed(v))
          return failure();
        Value one = arith::ConstantOp::create(b, b.getBoolAttr(true));
        return arith::XOrIOp::create(b, *v, one).getResult();
      })
      .Case([&](OnHeadsAttr a) -> FailureOr<Value> {
        FailureOr<Value> inner = emitMask(a.getMask(), qi, ki);
        if (failed(inner))
          return failure();
        Value listed = arith::ConstantOp::create(b, b.getBoolAttr(false));
        for (int64_t h : a.getHeads())
          listed = arith::OrIOp::create(
              b, listed, cmp(arith::CmpIPredicate::eq, head, idx(h)));
        Value yes = arith::ConstantOp::create(b, b.getBoolAttr(true));
        return arith::SelectOp::create(b, listed, *inner, yes).getResult();
      })
      .Default([&](Attribute) -> FailureOr<Value> {
        return op.emitOpError() << "mask " << mask
                                << " is not supported by the CPU target";
      });
}

FailureOr<Value> KernelBuilder::emitScoreMods(Value s, Value qi, Value ki) {
  if (!hasScoreMods())
    return s;
  for (Attribute mod : op.getScoreModsAttr()) {
    if (auto softcap = dyn_cast<SoftcapAttr>(mod)) {
      Value cap = f32(softcap.getCap().convertToDouble());
      Value t = math::TanhOp::create(b, arith::DivFOp::create(b, s, cap));
      s = arith::MulFOp::create(b, cap, t);
    } else if (auto alibi = dyn_cast<AlibiAttr>(mod)) {
      Value slope = alibi.getSlopes() == SlopeSource::operand
                        ? loadF32(operands.lookup(OperandKind::alibi_slopes),
                                  {head})
                        : loadF32(alibiTable, {head});
      Value p = aligned(qi, false);
      Value dist = arith::SubIOp::create(b, p, ki);
      Value absDist = math::AbsIOp::create(b, dist);
      Value distF = arith::SIToFPOp::create(
          b, b.getF32Type(),
          arith::IndexCastOp::create(b, b.getI64Type(), absDist));
      s = arith::SubFOp::create(b, s, arith::MulFOp::create(b, slope, distF));
    } else if (auto bias = dyn_cast<BiasAttr>(mod)) {
      Value memref = operands.lookup(OperandKind::bias);
      SmallVector<Value> indices;
      for (auto [dim, axis] : llvm::enumerate(bias.getDims())) {
        Value value = axis == BiasDim::b   ? batch
                      : axis == BiasDim::h ? head
                      : axis == BiasDim::q ? qi
                                           : ki;
        indices.push_back(broadcastIndex(b, memref, dim, value));
      }
      s = arith::AddFOp::create(b, s, loadF32(memref, indices));
    } else if (isa<ScoreModMarkerAttr>(mod)) {
      Block &body = op.getScoreMod().front();
      IRMapping mapping;
      mapping.map(body.getArgument(0), s);
      mapping.map(body.getArgument(1), batch);
      mapping.map(body.getArgument(2), head);
      mapping.map(body.getArgument(3), qi);
      mapping.map(body.getArgument(4), ki);
      for (unsigned i = 5; i < body.getNumArguments(); ++i)
        mapping.map(body.getArgument(i),
                    loadF32(operands.lookup(OperandKind::head_params),
                            {head, idx(i - 5)}));
      for (Operation &inner : body.without_terminator())
        b.clone(inner, mapping);
      s = mapping.lookup(body.getTerminator()->getOperand(0));
    } else {
      return op.emitOpError() << "score modifier " << mod
                              << " is not supported by the CPU target";
    }
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Loop bounds
//===----------------------------------------------------------------------===//


void KernelBuilder::kvTileBounds(Value &lo, Value &hi) {
  // Keys in [kLo, kHi] can be visible to the tile's queries [q0, q0+rows).
  Value qFirst = q0;
  Value qLast = arith::SubIOp::create(
      b, arith::AddIOp::create(b, q0, rows), idx(1));
  Value kLo = idx(0);
  Value kHi = arith::SubIOp::create(b, kvLen, idx(1));
  for (MaskAttrInterface m : conjuncts(op.getMaskAttr())) {
    if (auto causal = dyn_cast<CausalAttr>(m)) {
      kHi = minIndex(kHi, aligned(qLast, causal.getAlign() == Align::top_left));
    } else if (auto window = dyn_cast<SlidingWindowAttr>(m)) {
      bool topLeft = window.getAlign() == Align::top_left;
      kLo = maxIndex(kLo, arith::SubIOp::create(b, aligned(qFirst, topLeft),
                                                idx(window.getLeft())));
      kHi = minIndex(kHi, arith::AddIOp::create(b, aligned(qLast, topLeft),
                                                idx(window.getRight())));
    } else if (auto chunked = dyn_cast<ChunkedAttr>(m)) {
      Value size = idx(chunked.getSize());
      Value first = arith::MulIOp::create(
          b, arith::FloorDivSIOp::create(b, aligned(qFirst, false), size),
          size);
      Value last = arith::MulIOp::create(
          b, arith::FloorDivSIOp::create(b, aligned(qLast, false), size),
          size);
      kLo = maxIndex(kLo, first);
      kHi = minIndex(kHi, arith::SubIOp::create(
                              b, arith::AddIOp::create(b, last, size), idx(1)));
    } else if (auto sinks = dyn_cast<SinksAttr>(m)) {
      kHi = minIndex(kHi, idx(sinks.getCount() - 1));
    } else if (auto prefix = dyn_cast<PrefixLMAttr>(m);
               prefix && prefix.getLength()) {
      kHi = minIndex(kHi, idx(*prefix.getLength() - 1));
    } else if (auto hood = dyn_cast<NeighborhoodAttr>(m)) {
      neighborhoodBounds(hood, kLo, kHi);
    }
  }
  // Tiles [lo, hi): empty when kHi < kLo.
  Value bk = idx(BK);
  lo = arith::DivSIOp::create(b, maxIndex(kLo, idx(0)), bk);
  Value hiTile = arith::AddIOp::create(
      b, arith::FloorDivSIOp::create(b, kHi, bk), idx(1));
  hi = maxIndex(lo, hiTile);
  hi = arith::SelectOp::create(b, cmp(arith::CmpIPredicate::slt, kHi, kLo),
                               lo, hi);
}

Value KernelBuilder::tileIsFull(Value k0, Value k1) {
  // Every pair of [q0, q0+rows) x [k0, k1) is visible when every conjunct
  // holds for the extreme pairs; causal, sliding-window, sinks and chunked
  // conjuncts are understood.
  Value full = arith::ConstantOp::create(b, b.getBoolAttr(true));
  SmallVector<MaskAttrInterface> parts = conjuncts(op.getMaskAttr());
  Value qFirst = q0;
  Value qLast = arith::SubIOp::create(
      b, arith::AddIOp::create(b, q0, rows), idx(1));
  Value kLast = arith::SubIOp::create(b, k1, idx(1));
  for (MaskAttrInterface m : parts) {
    Value holds;
    if (auto causal = dyn_cast<CausalAttr>(m)) {
      holds = cmp(arith::CmpIPredicate::sle, kLast,
                  aligned(qFirst, causal.getAlign() == Align::top_left));
    } else if (auto window = dyn_cast<SlidingWindowAttr>(m)) {
      bool topLeft = window.getAlign() == Align::top_left;
      Value lo = arith::SubIOp::create(b, aligned(qLast, topLeft),
                                       idx(window.getLeft()));
      Value hi = arith::AddIOp::create(b, aligned(qFirst, topLeft),
                                       idx(window.getRight()));
      holds = arith::AndIOp::create(b, cmp(arith::CmpIPredicate::sge, k0, lo),
                                    cmp(arith::CmpIPredicate::sle, kLast, hi));
    } else if (auto sinks = dyn_cast<SinksAttr>(m)) {
      holds = cmp(arith::CmpIPredicate::slt, kLast, idx(sinks.getCount()));
    } else if (auto chunked = dyn_cast<ChunkedAttr>(m)) {
      // One chunk holds the tile's first and last positions and keys.
      Value size = idx(chunked.getSize());
      auto chunkOf = [&](Value x) {
        return arith::FloorDivSIOp::create(b, x, size).getResult();
      };
      Value c = chunkOf(aligned(qFirst, false));
      holds = arith::AndIOp::create(
          b,
          arith::AndIOp::create(
              b, cmp(arith::CmpIPredicate::eq, c, chunkOf(aligned(qLast, false))),
              cmp(arith::CmpIPredicate::eq, c, chunkOf(k0))),
          cmp(arith::CmpIPredicate::eq, c, chunkOf(kLast)));
    } else {
      // Anything else is evaluated element by element.
      holds = arith::ConstantOp::create(b, b.getBoolAttr(false));
    }
    full = arith::AndIOp::create(b, full, holds);
  }
  return full;
}

//===----------------------------------------------------------------------===//
// Kernel parts
//===----------------------------------------------------------------------===//

void KernelBuilder::emitLoadQ() {
  Value scale = f32(op.getScaleOrDefault());
  forLoop(idx(0), rows, 1, [&](Value i) {
    Value qi = arith::AddIOp::create(b, q0, i);
    forLoop(idx(0), idx(D), 1, [&](Value d) {
      Value x = loadF32(q, at(batch, qi, head, d));
      memref::StoreOp::create(b, arith::MulFOp::create(b, x, scale), qs,
                              ValueRange{i, d});
    });
  });
  // Rows past the end, up to the register blocking, compute on zeros.
  forLoop(rows, rowsPadded, 1, [&](Value i) {
    forLoop(idx(0), idx(D), 1, [&](Value d) {
      memref::StoreOp::create(b, f32(0.0), qs, ValueRange{i, d});
    });
  });
}

void KernelBuilder::emitInit() {
  Value zeros = splat(f32(0.0));
  Value initMax = isSoftmaxFamily() ? negInf() : f32(0.0);
  forLoop(idx(0), rowsPadded, 1, [&](Value i) {
    memref::StoreOp::create(b, initMax, rowMax, ValueRange{i});
    memref::StoreOp::create(b, f32(0.0), rowSum, ValueRange{i});
    forLoop(idx(0), idx(Dv), W, [&](Value d) {
      vector::StoreOp::create(b, zeros, acc, ValueRange{i, d});
    });
  });
}

LogicalResult KernelBuilder::emitScorePass(Value k0, Value cols,
                                           Value needed, bool applyMask) {
  LogicalResult result = success();
  ifThen(needed, [&] {
    forLoop(idx(0), rows, 1, [&](Value i) {
      Value qi = arith::AddIOp::create(b, q0, i);
      forLoop(idx(0), idx(BK), 1, [&](Value j) {
        Value ki = arith::AddIOp::create(b, k0, j);
        Value inRange = cmp(arith::CmpIPredicate::slt, j, cols);
        // Keys past the end are not evaluated: clamp them into range.
        Value safeK = minIndex(ki, arith::SubIOp::create(b, kvLen, idx(1)));
        Value s = memref::LoadOp::create(b, scores, ValueRange{i, j});
        FailureOr<Value> modded = emitScoreMods(s, qi, safeK);
        Value visible = inRange;
        if (MaskAttrInterface mask = op.getMaskAttr(); mask && applyMask) {
          FailureOr<Value> m = emitMask(mask, qi, safeK);
          if (failed(m)) {
            result = failure();
            return;
          }
          visible = arith::AndIOp::create(b, visible, *m);
        }
        if (failed(modded)) {
          result = failure();
          return;
        }
        Value masked = arith::SelectOp::create(b, visible, *modded, negInf());
        memref::StoreOp::create(b, masked, scores, ValueRange{i, j});
      });
    });
  });
  return result;
}

void KernelBuilder::emitKVTile(Value kt, bool listed, Value tableKind) {
  Value k0 = arith::MulIOp::create(b, kt, idx(BK));
  Value cols = minIndex(idx(BK), arith::SubIOp::create(b, kvLen, k0));

  // K^T and V tiles in f32.
  forLoop(idx(0), cols, 1, [&](Value j) {
    Value ki = arith::AddIOp::create(b, k0, j);
    forLoop(idx(0), idx(D), 1, [&](Value d) {
      memref::StoreOp::create(b, loadF32(k, at(batch, ki, kvHead, d)), ktBuf,
                              ValueRange{d, j});
    });
    forLoop(idx(0), idx(Dv), 1, [&](Value d) {
      memref::StoreOp::create(b, loadF32(v, at(batch, ki, kvHead, d)), vs,
                              ValueRange{j, d});
    });
  });

  // S = Q K^T over the head dim, NJ key vectors per row.
  forLoop(idx(0), rowsPadded, RI, [&](Value i) {
    forLoop(idx(0), idx(BK), W * NJ, [&](Value j) {
      SmallVector<Value> zeros(RI * NJ, splat(f32(0.0)));
      SmallVector<Value> sums =
          emitOuterProducts(qs, ktBuf, i, j, idx(D), NJ, zeros);
      storeBlock(sums, scores, i, j, NJ);
    });
  });

  // Score modifiers and the mask, where a tile needs them.
  Value needed = arith::ConstantOp::create(b, b.getBoolAttr(true));
  if (!hasScoreMods()) {
    Value k1 = arith::AddIOp::create(b, k0, cols);
    Value edge = cmp(arith::CmpIPredicate::slt, cols, idx(BK));
    Value full = listed ? arith::ConstantOp::create(b, b.getBoolAttr(true))
                              .getResult()
                 : tableKind ? cmp(arith::CmpIPredicate::eq, tableKind, idx(1))
                             : tileIsFull(k0, k1);
    Value notFull = arith::XOrIOp::create(
        b, full, arith::ConstantOp::create(b, b.getBoolAttr(true)));
    needed = arith::OrIOp::create(b, edge, notFull);
  }
  if (failed(emitScorePass(k0, cols, needed, /*applyMask=*/!listed)))
    failedTile = true;
  emitNormalize(cols);
  emitPV(cols);
}

void KernelBuilder::emitNormalize(Value cols) {
  Value zeros = splat(f32(0.0));
  Value negInfs = splat(negInf());
  auto isMasked = [&](Value s) {
    return arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, s, negInfs)
        .getResult();
  };
  NormalizerKind kind = normalizer();
  forLoop(idx(0), rowsPadded, 1, [&](Value i) {
    if (kind == NormalizerKind::sigmoid || kind == NormalizerKind::none) {
      // Weights are elementwise: sigmoid(s + bias) or s; masked keys weigh 0.
      double bias = op.getNormalizerOrDefault().getBias().convertToDouble();
      forLoop(idx(0), idx(BK), W, [&](Value j) {
        Value s = vector::LoadOp::create(b, vecType, scores, ValueRange{i, j});
        Value w = s;
        if (kind == NormalizerKind::sigmoid) {
          Value x = arith::AddFOp::create(b, s, splat(f32(bias)));
          Value e = math::ExpOp::create(b, arith::NegFOp::create(b, x));
          w = arith::DivFOp::create(b, splat(f32(1.0)),
                                    arith::AddFOp::create(b, splat(f32(1.0)), e));
        }
        w = arith::SelectOp::create(b, isMasked(s), zeros, w);
        vector::StoreOp::create(b, w, scores, ValueRange{i, j});
      });
      return;
    }
    // Online softmax: new row max, rescale of the old sum and accumulator.
    Value tileMax = forLoopCarry(
        idx(0), idx(BK), W, negInfs, [&](Value j, Value m) {
          Value s =
              vector::LoadOp::create(b, vecType, scores, ValueRange{i, j});
          return arith::MaximumFOp::create(b, m, s).getResult();
        });
    Value mt = vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF,
                                           tileMax);
    Value mOld = memref::LoadOp::create(b, rowMax, ValueRange{i});
    Value mNew = arith::MaximumFOp::create(b, mOld, mt);
    Value allMasked =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf());
    // While every key so far is masked the reference point is 0, not -inf.
    Value ref = arith::SelectOp::create(b, allMasked, f32(0.0), mNew);
    Value oldMasked =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mOld, negInf());
    Value alpha = arith::SelectOp::create(
        b, oldMasked, f32(0.0),
        math::ExpOp::create(b, arith::SubFOp::create(b, mOld, ref)));
    Value refs = splat(ref);
    Value sum = forLoopCarry(idx(0), idx(BK), W, zeros, [&](Value j, Value sum) {
      Value s = vector::LoadOp::create(b, vecType, scores, ValueRange{i, j});
      Value e = math::ExpOp::create(b, arith::SubFOp::create(b, s, refs));
      Value p = arith::SelectOp::create(b, isMasked(s), zeros, e);
      vector::StoreOp::create(b, p, scores, ValueRange{i, j});
      return arith::AddFOp::create(b, sum, p).getResult();
    });
    Value tileSum =
        vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum);
    Value lOld = memref::LoadOp::create(b, rowSum, ValueRange{i});
    Value lNew = arith::AddFOp::create(
        b, arith::MulFOp::create(b, lOld, alpha), tileSum);
    memref::StoreOp::create(b, lNew, rowSum, ValueRange{i});
    memref::StoreOp::create(b, mNew, rowMax, ValueRange{i});
    Value alphas = splat(alpha);
    forLoop(idx(0), idx(Dv), W, [&](Value d) {
      Value o = vector::LoadOp::create(b, vecType, acc, ValueRange{i, d});
      vector::StoreOp::create(b, arith::MulFOp::create(b, o, alphas), acc,
                              ValueRange{i, d});
    });
  });
}

SmallVector<Value> KernelBuilder::emitOuterProducts(Value lhs, Value rhs,
                                                    Value row, Value col,
                                                    Value depth,
                                                    int64_t numVectors,
                                                    ValueRange inits) {
  return forLoopCarryN(
      idx(0), depth, 1, inits,
      [&](Value t, ValueRange accs) -> SmallVector<Value> {
        SmallVector<Value> columns;
        for (int64_t c = 0; c < numVectors; ++c)
          columns.push_back(vector::LoadOp::create(
              b, vecType, rhs,
              ValueRange{t, arith::AddIOp::create(b, col, idx(c * W))}));
        SmallVector<Value> next;
        for (int64_t r = 0; r < RI; ++r) {
          Value scalar = memref::LoadOp::create(
              b, lhs, ValueRange{arith::AddIOp::create(b, row, idx(r)), t});
          Value broadcast = splat(scalar);
          for (int64_t c = 0; c < numVectors; ++c)
            next.push_back(vector::FMAOp::create(b, broadcast, columns[c],
                                                 accs[r * numVectors + c]));
        }
        return next;
      });
}

SmallVector<Value> KernelBuilder::loadBlock(Value memref, Value row, Value col,
                                            int64_t numVectors) {
  SmallVector<Value> values;
  for (int64_t r = 0; r < RI; ++r)
    for (int64_t c = 0; c < numVectors; ++c)
      values.push_back(vector::LoadOp::create(
          b, vecType, memref,
          ValueRange{arith::AddIOp::create(b, row, idx(r)),
                     arith::AddIOp::create(b, col, idx(c * W))}));
  return values;
}

void KernelBuilder::storeBlock(ValueRange values, Value memref, Value row,
                               Value col, int64_t numVectors) {
  for (int64_t r = 0; r < RI; ++r)
    for (int64_t c = 0; c < numVectors; ++c)
      vector::StoreOp::create(
          b, values[r * numVectors + c], memref,
          ValueRange{arith::AddIOp::create(b, row, idx(r)),
                     arith::AddIOp::create(b, col, idx(c * W))});
}

void KernelBuilder::emitPV(Value cols) {
  // O += P V over the tile's keys, ND head-dim vectors per row.
  forLoop(idx(0), rowsPadded, RI, [&](Value i) {
    forLoop(idx(0), idx(Dv), W * ND, [&](Value d) {
      SmallVector<Value> sums = emitOuterProducts(
          scores, vs, i, d, cols, ND, loadBlock(acc, i, d, ND));
      storeBlock(sums, acc, i, d, ND);
    });
  });
}

void KernelBuilder::emitFinalize() {
  NormalizerKind kind = normalizer();
  forLoop(idx(0), rows, 1, [&](Value i) {
    Value qi = arith::AddIOp::create(b, q0, i);
    Value factor = f32(1.0);
    Value rowLse;
    if (isSoftmaxFamily()) {
      Value m = memref::LoadOp::create(b, rowMax, ValueRange{i});
      Value l = memref::LoadOp::create(b, rowSum, ValueRange{i});
      Value masked =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf());
      if (kind == NormalizerKind::softmax) {
        // out = acc / l; lse = m + log l; a row with no visible key: 0, -inf.
        factor = arith::SelectOp::create(
            b, masked, f32(0.0), arith::DivFOp::create(b, f32(1.0), l));
        rowLse = arith::SelectOp::create(
            b, masked, negInf(),
            arith::AddFOp::create(b, m, math::LogOp::create(b, l)));
      } else {
        // A sink logit z joins the denominator (z = 0 for off-by-one).
        Value z = kind == NormalizerKind::softmax_with_sink
                      ? loadF32(operands.lookup(OperandKind::sink), {head})
                      : f32(0.0);
        Value m2 = arith::MaximumFOp::create(b, m, z);
        Value scaleOld = arith::SelectOp::create(
            b, masked, f32(0.0),
            math::ExpOp::create(b, arith::SubFOp::create(b, m, m2)));
        Value l2 = arith::AddFOp::create(
            b, arith::MulFOp::create(b, l, scaleOld),
            math::ExpOp::create(b, arith::SubFOp::create(b, z, m2)));
        factor = arith::DivFOp::create(b, scaleOld, l2);
        rowLse = arith::AddFOp::create(b, m2, math::LogOp::create(b, l2));
      }
    }
    forLoop(idx(0), idx(Dv), 1, [&](Value d) {
      Value o = memref::LoadOp::create(b, acc, ValueRange{i, d});
      storeF32(arith::MulFOp::create(b, o, factor), out,
               at(batch, qi, head, d));
    });
    if (lse)
      memref::StoreOp::create(b, rowLse, lse, ValueRange{batch, head, qi});
  });
}

LogicalResult KernelBuilder::build(func::FuncOp kernel, ArrayRef<Value> args) {
  auto qType = op.getQ().getType();
  elementType = qType.getElementType();
  layout = op.getLayout();
  ProblemShape shape = op.getProblemShape();
  D = shape.headDimQK;
  Dv = shape.headDimV;
  Hq = shape.numQHeads;
  Hkv = shape.numKVHeads;
  std::tie(BQ, BK) = getCPUBlockSizes(op, options);
  // Lanes: the widest power of two up to the option dividing Dv and BK.
  W = 1;
  while (W * 2 <= options.vectorWidth && Dv % (W * 2) == 0 && BK % (W * 2) == 0)
    W *= 2;
  vecType = VectorType::get({W}, b.getF32Type());
  RI = blockingFor(BQ, 4);
  int64_t maxVectors = W >= 16 ? 4 : 2;
  NJ = blockingFor(BK / W, maxVectors);
  ND = blockingFor(Dv / W, maxVectors);

  // Arguments: q, k, v, optional operands (OperandKind order), out, [lse],
  // item.
  unsigned next = 0;
  q = args[next++];
  k = args[next++];
  v = args[next++];
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (op.getOptionalOperand(kind))
      operands[kind] = args[next++];
  }
  if (usesTileTable(op, options))
    tileKinds = args[next++];
  out = args[next++];
  if (op.getLse())
    lse = args[next++];
  Value item = args[next++];

  // Sizes and the work item.
  unsigned seqAxis = layout == Layout::bhsd ? 2 : 1;
  qLen = memref::DimOp::create(b, q, seqAxis);
  kvLen = memref::DimOp::create(b, k, seqAxis);
  offset = arith::SubIOp::create(b, kvLen, qLen);
  Value numQTiles = arith::CeilDivSIOp::create(b, qLen, idx(BQ));
  qTile = arith::RemSIOp::create(b, item, numQTiles);
  Value bh = arith::DivSIOp::create(b, item, numQTiles);
  head = arith::RemSIOp::create(b, bh, idx(Hq));
  batch = arith::DivSIOp::create(b, bh, idx(Hq));
  kvHead = arith::DivSIOp::create(b, head, idx(Hq / Hkv));
  q0 = arith::MulIOp::create(b, qTile, idx(BQ));
  rows = minIndex(idx(BQ), arith::SubIOp::create(b, qLen, q0));
  rowsPadded = arith::MulIOp::create(
      b, arith::CeilDivSIOp::create(b, rows, idx(RI)), idx(RI));

  // Standard ALiBi slopes, when used, as a constant table.
  if (ArrayAttr mods = op.getScoreModsAttr())
    for (Attribute mod : mods)
      if (auto alibi = dyn_cast<AlibiAttr>(mod);
          alibi && alibi.getSlopes() == SlopeSource::standard && !alibiTable) {
        auto tableType = MemRefType::get({Hq}, b.getF32Type());
        std::string name = (kernel.getName() + "_alibi_slopes").str();
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(kernel);
          SmallVector<float> slopes = standardAlibiSlopes(Hq);
          auto init = DenseElementsAttr::get(
              RankedTensorType::get({Hq}, b.getF32Type()),
              ArrayRef<float>(slopes));
          memref::GlobalOp::create(b, name, b.getStringAttr("private"),
                                   tableType, init, /*constant=*/true,
                                   /*alignment=*/IntegerAttr());
        }
        alibiTable = memref::GetGlobalOp::create(b, tableType, name);
      }

  // Scratch tiles (f32): on the stack while they are small, on the heap
  // beyond 512 KiB (worker threads have fixed-size stacks).
  auto f32Type = b.getF32Type();
  int64_t scratchBytes =
      4 * (BQ * D + D * BK + BK * Dv + BQ * BK + BQ * Dv + 2 * BQ);
  bool onHeap = scratchBytes > 512 * 1024;
  SmallVector<Value> heapBuffers;
  auto scratch = [&](ArrayRef<int64_t> shape) -> Value {
    auto type = MemRefType::get(shape, f32Type);
    if (!onHeap)
      return memref::AllocaOp::create(b, type);
    Value buffer = memref::AllocOp::create(b, type);
    heapBuffers.push_back(buffer);
    return buffer;
  };
  qs = scratch({BQ, D});
  ktBuf = scratch({D, BK});
  vs = scratch({BK, Dv});
  scores = scratch({BQ, BK});
  acc = scratch({BQ, Dv});
  rowMax = scratch({BQ});
  rowSum = scratch({BQ});

  emitLoadQ();
  emitInit();
  auto sparse = dyn_cast_or_null<BlockSparseAttr>(
      op.getMaskAttr() ? simplifyMask(op.getMaskAttr()) : MaskAttrInterface());
  if (sparse && !tileKinds && sparse.getBlockQ() % BQ == 0 &&
      sparse.getBlockKv() % BK == 0) {
    emitListedBlocks(sparse);
  } else {
    Value lo, hi;
    kvTileBounds(lo, hi);
    forLoop(lo, hi, 1, [&](Value kt) {
      if (!tileKinds)
        return emitKVTile(kt);
      // The runtime classified every tile: skip the empty ones, and run the
      // mask code on partial ones only.
      Value kind =
          loadInt(tileKinds, {broadcastIndex(b, tileKinds, 0, batch),
                              broadcastIndex(b, tileKinds, 1, head), qTile, kt});
      ifThen(cmp(arith::CmpIPredicate::ne, kind, idx(0)),
             [&] { emitKVTile(kt, false, kind); });
    });
  }
  if (failedTile)
    return failure();
  emitFinalize();
  for (Value buffer : heapBuffers)
    memref::DeallocOp::create(b, buffer);
  func::ReturnOp::create(b);
  return success();
}

/// The memref type a kernel takes for a tensor operand: the same shape,
/// strides given at run time, the innermost dimension contiguous for q/k/v/out.
static MemRefType kernelMemRefType(RankedTensorType type, bool innerUnit) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  if (innerUnit && !strides.empty())
    strides.back() = 1;
  auto layout = StridedLayoutAttr::get(type.getContext(),
                                       ShapedType::kDynamic, strides);
  return MemRefType::get(type.getShape(), type.getElementType(), layout);
}

LogicalResult
mlir::attn::lowerAttentionFuncToCPU(func::FuncOp func,
                                    const CPUKernelOptions &options) {
  Block &body = func.getBody().front();
  auto op = dyn_cast<AttentionOp>(body.front());
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!op || !ret || body.getOperations().size() != 2 ||
      llvm::any_of(op->getOperands(),
                    [](Value v) { return !isa<BlockArgument>(v); }) ||
      ret->getOperands() != op->getResults())
    return func.emitError()
           << "convert-attn-to-cpu expects a function whose body is one "
              "attn.attention on the function's arguments, returning its "
              "results (as attn-compile imports a spec)";
  if (op.getKvStorage() != KVStorage::contiguous)
    return op.emitOpError()
           << stringifyKVStorage(op.getKvStorage())
           << " kv storage is not supported by the CPU target yet; use "
              "contiguous storage";
  ProblemShape shape = op.getProblemShape();
  if (!ProblemShape::isKnown(shape.headDimQK) ||
      !ProblemShape::isKnown(shape.headDimV) ||
      !ProblemShape::isKnown(shape.numQHeads) ||
      !ProblemShape::isKnown(shape.numKVHeads))
    return op.emitOpError() << "the CPU target needs static head counts and "
                               "head dims";
  auto [blockQ, blockKV] = getCPUBlockSizes(op, options);
  if (blockKV % 8 != 0 && blockKV != 1 && blockKV % 4 != 0)
    return op.emitOpError() << "block_kv " << blockKV
                            << " must be a multiple of 4 on the CPU target";

  // The kernel's signature.
  SmallVector<Type> argTypes;
  auto addTensor = [&](Value v, bool innerUnit) {
    argTypes.push_back(
        kernelMemRefType(cast<RankedTensorType>(v.getType()), innerUnit));
  };
  addTensor(op.getQ(), true);
  addTensor(op.getK(), true);
  addTensor(op.getV(), true);
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i)
    if (Value operand = op.getOptionalOperand(static_cast<OperandKind>(i)))
      addTensor(operand, false);
  if (usesTileTable(op, options))
    argTypes.push_back(kernelMemRefType(
        RankedTensorType::get(SmallVector<int64_t>(4, ShapedType::kDynamic),
                              IntegerType::get(func.getContext(), 32)),
        false));
  addTensor(op.getOut(), true);
  if (op.getLse())
    addTensor(op.getLse(), false);
  OpBuilder builder(func);
  argTypes.push_back(builder.getIndexType());

  auto kernel = func::FuncOp::create(builder, func.getLoc(), func.getName(),
                                     builder.getFunctionType(argTypes, {}));
  kernel->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  SmallVector<Value> args(entry->getArguments());
  KernelBuilder kb(op, kernel, options);
  if (failed(kb.build(kernel, args))) {
    kernel.erase();
    return failure();
  }
  func.erase();
  return success();
}

namespace {
struct ConvertAttnToCPUPass final
    : mlir::attn::impl::ConvertAttnToCPUPassBase<ConvertAttnToCPUPass> {
  using Base::Base;
  void runOnOperation() override {
    CPUKernelOptions options{vectorWidth, blockQ, blockKV};
    SmallVector<func::FuncOp> funcs;
    getOperation().walk([&](func::FuncOp func) {
      if (!func.isExternal() &&
          llvm::any_of(func.getBody().front(),
                       [](Operation &o) { return isa<AttentionOp>(o); }))
        funcs.push_back(func);
    });
    for (func::FuncOp func : funcs)
      if (failed(lowerAttentionFuncToCPU(func, options)))
        return signalPassFailure();
  }
};
} // namespace
