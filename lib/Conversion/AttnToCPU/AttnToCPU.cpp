//===- AttnToCPU.cpp - The tile level to CPU vector code ------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Lowers the attn.tile ops that attn-tile produces to scf, memref, vector,
// arith and math ops for the host CPU; see convert-attn-to-cpu in
// Conversion/Passes.td.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/Utils/LoopBuilders.h"
#include "attn/Dialect/Attn/Utils/Normalizer.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOCPUPASS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Lowers the tile ops of one kernel function.
class TileLowering : KernelCodeBuilder {
public:
  TileLowering(func::FuncOp func, int64_t vectorWidth)
      : KernelCodeBuilder(func.getLoc(), func.getContext()), func(func),
        vectorWidth(vectorWidth) {}

  LogicalResult run();

private:
  func::FuncOp func;
  int64_t vectorWidth;
  /// The roles of the Q, K, V and P tiles.
  enum Role { Q, K, V, P };
  /// The f32 shadow of each Q, K, V and P tile buffer in each role it plays
  /// (bufferization may give K and V one buffer): what the micro-kernels
  /// read, K transposed. The ops that write such a tile (load_*, normalize)
  /// write its shadow instead, the ops that read it read the shadow; an f32
  /// Q, V or P tile is its own shadow.
  DenseMap<std::pair<Value, int>, Value> shadows;

  //===------------------------------------------------------------------===//
  // Helpers
  //===------------------------------------------------------------------===//

  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value splat(VectorType type, Value scalar) {
    return vector::BroadcastOp::create(b, type, scalar);
  }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, memref, d);
  }
  static int64_t staticDim(Value memref, int64_t d) {
    return cast<MemRefType>(memref.getType()).getDimSize(d);
  }

  void storeF32(Value value, Value memref, ValueRange indices) {
    Type type = cast<MemRefType>(memref.getType()).getElementType();
    if (type != value.getType())
      value = arith::TruncFOp::create(b, type, value);
    memref::StoreOp::create(b, value, memref, indices);
  }

  /// f32 lanes for loops over `n` elements: the widest power of two up to
  /// the vector width that divides `n`.
  VectorType lanesFor(int64_t n) {
    return VectorType::get({largestHalvingDivisor(n, vectorWidth)},
                           b.getF32Type());
  }
  /// Rows of Q per micro-kernel for tiles of `blockQ` rows.
  static int64_t rowBlocking(int64_t blockQ) {
    return largestHalvingDivisor(blockQ, 4);
  }
  /// `rows` rounded up to the row blocking: the micro-kernels compute on the
  /// padding rows, which load_q fills with zeros.
  Value paddedRows(Value rows, int64_t blockQ) {
    int64_t ri = rowBlocking(blockQ);
    return arith::MulIOp::create(
        b, arith::CeilDivSIOp::create(b, rows, idx(ri)), idx(ri));
  }
  /// The shadow of tile buffer `tile` in `role` (see `shadows`), made at the
  /// kernel's entry on first use.
  Value shadowOf(Value tile, Role role) {
    auto type = cast<MemRefType>(tile.getType());
    bool transposed = role == K;
    if (!transposed && type.getElementType().isF32())
      return tile;
    Value &shadow = shadows[{tile, role}];
    if (!shadow) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&func.getBody().front());
      int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
      shadow = memref::AllocaOp::create(
          b, MemRefType::get(transposed ? ArrayRef<int64_t>{cols, rows}
                                        : ArrayRef<int64_t>{rows, cols},
                             b.getF32Type()));
    }
    return shadow;
  }
  /// Fails unless every shadowed tile buffer is a buffer of its own (an
  /// alloca or alloc) that only tile ops use, each reading it in a role some
  /// op writes it in. The lowering's contract beyond that: a buffer read in
  /// a role was last written in that role (as bufferization leaves it: a
  /// buffer that K and V share holds K from load_k to qk, V from load_v to
  /// pv).
  LogicalResult checkShadowedTiles();

  /// Copies the first `rows` rows of `view` into `buffer` in f32, transposed
  /// when asked; returns `buffer`. A view whose rows are contiguous moves
  /// in 8-wide vectors, and a transposed copy turns 8 x 8 blocks in
  /// registers (the rows past the last whole block go one by one).
  Value stage(Value view, Value rows, Value buffer, bool transpose) {
    int64_t width = staticDim(view, 1);
    auto viewType = cast<MemRefType>(view.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    bool contiguous =
        succeeded(viewType.getStridesAndOffset(strides, offset)) &&
        strides.back() == 1;
    constexpr int64_t w = 8;
    auto scalarRows = [&](Value from) {
      forLoop(from, rows, 1, [&](Value j) {
        forLoop(idx(0), idx(width), 1, [&](Value c) {
          memref::StoreOp::create(b, loadF32(view, {j, c}), buffer,
                                  transpose ? ValueRange{c, j}
                                            : ValueRange{j, c});
        });
      });
    };
    if (!contiguous || width % w != 0) {
      scalarRows(idx(0));
      return buffer;
    }
    VectorType f32s = VectorType::get({w}, b.getF32Type());
    VectorType sources = VectorType::get({w}, viewType.getElementType());
    auto loadRow = [&](Value j, Value c) -> Value {
      Value row = vector::LoadOp::create(b, sources, view, ValueRange{j, c});
      if (sources != f32s)
        row = arith::ExtFOp::create(b, f32s, row);
      return row;
    };
    if (!transpose) {
      forLoop(idx(0), rows, 1, [&](Value j) {
        forLoop(idx(0), idx(width), w, [&](Value c) {
          vector::StoreOp::create(b, loadRow(j, c), buffer, ValueRange{j, c});
        });
      });
      return buffer;
    }
    Value blocksEnd = arith::MulIOp::create(
        b, arith::DivUIOp::create(b, rows, idx(w)), idx(w));
    forLoop(idx(0), blocksEnd, w, [&](Value j) {
      forLoop(idx(0), idx(width), w, [&](Value c) {
        SmallVector<Value> block;
        for (int64_t r = 0; r < w; ++r)
          block.push_back(loadRow(arith::AddIOp::create(b, j, idx(r)), c));
        block = transpose8x8(block);
        for (int64_t r = 0; r < w; ++r)
          vector::StoreOp::create(
              b, block[r], buffer,
              ValueRange{arith::AddIOp::create(b, c, idx(r)), j});
      });
    });
    scalarRows(blocksEnd);
    return buffer;
  }

  /// The columns of the 8 x 8 block whose rows are `rows` (vector<8xf32>),
  /// by the unpack, shuffle and lane-permute steps x86 has instructions for.
  SmallVector<Value> transpose8x8(ArrayRef<Value> rows) {
    auto shuffle = [&](Value x, Value y, ArrayRef<int64_t> mask) -> Value {
      return vector::ShuffleOp::create(b, x, y, mask);
    };
    SmallVector<Value> t, u, columns(8);
    for (int64_t i = 0; i < 8; i += 2) {
      t.push_back(shuffle(rows[i], rows[i + 1], {0, 8, 1, 9, 4, 12, 5, 13}));
      t.push_back(shuffle(rows[i], rows[i + 1], {2, 10, 3, 11, 6, 14, 7, 15}));
    }
    // t: (r0 r1) lo, hi, (r2 r3) lo, hi, (r4 r5) lo, hi, (r6 r7) lo, hi.
    for (int64_t half : {0, 4})
      for (int64_t hi : {0, 1}) {
        u.push_back(shuffle(t[half + hi], t[half + 2 + hi],
                            {0, 1, 8, 9, 4, 5, 12, 13}));
        u.push_back(shuffle(t[half + hi], t[half + 2 + hi],
                            {2, 3, 10, 11, 6, 7, 14, 15}));
      }
    // u[k] (rows 0-3) and u[4 + k] (rows 4-7) hold columns k and k + 4.
    for (int64_t k = 0; k < 4; ++k) {
      columns[k] = shuffle(u[k], u[4 + k], {0, 1, 2, 3, 8, 9, 10, 11});
      columns[k + 4] = shuffle(u[k], u[4 + k], {4, 5, 6, 7, 12, 13, 14, 15});
    }
    return columns;
  }

  /// The register-blocked micro-kernel of Q K^T and P V: for r < RI and
  /// c < numVectors, inits[r][c] + sum over t < depth of
  /// broadcast(lhs[row + r, t]) * rhs[t, col + c W : col + (c + 1) W]. Each
  /// rhs vector load serves RI rows and each broadcast numVectors FMAs.
  SmallVector<Value> emitOuterProducts(Value lhs, Value rhs, Value row,
                                       Value col, Value depth, int64_t ri,
                                       VectorType vecType, int64_t numVectors,
                                       ValueRange inits);
  /// ri x numVectors vectors of `memref` at (row, col), row-major.
  SmallVector<Value> loadBlock(Value memref, Value row, Value col, int64_t ri,
                               VectorType vecType, int64_t numVectors);
  void storeBlock(ValueRange values, Value memref, Value row, Value col,
                  int64_t ri, int64_t numVectors);
  /// Vectors per micro-kernel row for `n` columns of `vecType`.
  int64_t vectorsPerRow(int64_t n, VectorType vecType) {
    int64_t w = vecType.getNumElements();
    return largestHalvingDivisor(n / w, w >= 16 ? 4 : 2);
  }

  //===------------------------------------------------------------------===//
  // The ops
  //===------------------------------------------------------------------===//

  void lower(TileLoadQOp op);
  void lower(TileLoadKOp op);
  void lower(TileLoadVOp op);
  void lower(TileInitOp op);
  void lower(TileQKOp op);
  /// Calls body(row, indices) for each row of a q/out view: rank 2
  /// ([rows, D], indices {i}) or rank 3 ([positions, heads, D], row
  /// p * heads + h, indices {p, h}).
  void
  forEachViewRow(Value view,
                 function_ref<void(Value row, SmallVector<Value> at)> body);
  /// The rows of a q/out view.
  Value viewRowCount(Value view);
  /// Clones the element region `body` on `args`; returns what it yields.
  Value cloneElementRegion(Block &body, ValueRange args);
  /// For the first rows x cols elements of a score_mod or mask op's tile:
  /// scores[i, j] = update(scores[i, j], q_start + i, k_start + j).
  template <typename ElementOp>
  void forEachElement(ElementOp op,
                      function_ref<Value(Value s, Value qi, Value ki)> update);
  void lower(TileScoreModOp op);
  void lower(TileMaskOp op);
  void lower(TileNormalizeOp op);
  void lower(TilePVOp op);
  void lower(TileFinalizeOp op);
  /// Moves the kernel's tiles to the heap when they outgrow 512 KiB (worker
  /// threads have fixed-size stacks).
  void moveLargeScratchToHeap();
};

} // namespace

SmallVector<Value>
TileLowering::emitOuterProducts(Value lhs, Value rhs, Value row, Value col,
                                Value depth, int64_t ri, VectorType vecType,
                                int64_t numVectors, ValueRange inits) {
  int64_t w = vecType.getNumElements();
  return forLoopCarry(
      idx(0), depth, 1, inits,
      [&](Value t, ValueRange accs) -> SmallVector<Value> {
        SmallVector<Value> columns;
        for (int64_t c = 0; c < numVectors; ++c)
          columns.push_back(vector::LoadOp::create(
              b, vecType, rhs,
              ValueRange{t, arith::AddIOp::create(b, col, idx(c * w))}));
        SmallVector<Value> next;
        for (int64_t r = 0; r < ri; ++r) {
          Value scalar = memref::LoadOp::create(
              b, lhs, ValueRange{arith::AddIOp::create(b, row, idx(r)), t});
          Value broadcast = splat(vecType, scalar);
          for (int64_t c = 0; c < numVectors; ++c)
            next.push_back(vector::FMAOp::create(b, broadcast, columns[c],
                                                 accs[r * numVectors + c]));
        }
        return next;
      });
}

SmallVector<Value> TileLowering::loadBlock(Value memref, Value row, Value col,
                                           int64_t ri, VectorType vecType,
                                           int64_t numVectors) {
  int64_t w = vecType.getNumElements();
  SmallVector<Value> values;
  for (int64_t r = 0; r < ri; ++r)
    for (int64_t c = 0; c < numVectors; ++c)
      values.push_back(vector::LoadOp::create(
          b, vecType, memref,
          ValueRange{arith::AddIOp::create(b, row, idx(r)),
                     arith::AddIOp::create(b, col, idx(c * w))}));
  return values;
}

void TileLowering::storeBlock(ValueRange values, Value memref, Value row,
                              Value col, int64_t ri, int64_t numVectors) {
  int64_t w = cast<VectorType>(values.front().getType()).getNumElements();
  for (int64_t r = 0; r < ri; ++r)
    for (int64_t c = 0; c < numVectors; ++c)
      vector::StoreOp::create(
          b, values[r * numVectors + c], memref,
          ValueRange{arith::AddIOp::create(b, row, idx(r)),
                     arith::AddIOp::create(b, col, idx(c * w))});
}

void TileLowering::forEachViewRow(
    Value view, function_ref<void(Value row, SmallVector<Value> at)> body) {
  if (cast<MemRefType>(view.getType()).getRank() == 2) {
    forLoop(idx(0), dim(view, 0), 1, [&](Value i) { body(i, {i}); });
    return;
  }
  // [positions, heads, D]: row p * heads + h.
  int64_t heads = staticDim(view, 1);
  forLoop(idx(0), dim(view, 0), 1, [&](Value p) {
    forLoop(idx(0), idx(heads), 1, [&](Value h) {
      Value row =
          arith::AddIOp::create(b, arith::MulIOp::create(b, p, idx(heads)), h);
      body(row, {p, h});
    });
  });
}

Value TileLowering::viewRowCount(Value view) {
  Value rows = dim(view, 0);
  if (cast<MemRefType>(view.getType()).getRank() == 3)
    rows = arith::MulIOp::create(b, rows, idx(staticDim(view, 1)));
  return rows;
}

void TileLowering::lower(TileLoadQOp op) {
  Value source = op.getSource();
  Value tile = shadowOf(op.getTile(), Q);
  int64_t blockQ = staticDim(tile, 0), d = staticDim(tile, 1);
  forEachViewRow(source, [&](Value row, SmallVector<Value> at) {
    forLoop(idx(0), idx(d), 1, [&](Value c) {
      SmallVector<Value> indices(at);
      indices.push_back(c);
      memref::StoreOp::create(b, loadF32(source, indices), tile,
                              ValueRange{row, c});
    });
  });
  // Rows past the end, up to the row blocking, compute on zeros.
  Value rows = viewRowCount(source);
  forLoop(rows, paddedRows(rows, blockQ), 1, [&](Value i) {
    forLoop(idx(0), idx(d), 1, [&](Value c) {
      memref::StoreOp::create(b, f32(0.0), tile, ValueRange{i, c});
    });
  });
}

void TileLowering::lower(TileLoadKOp op) {
  Value view = op.getSource();
  stage(view, dim(view, 0), shadowOf(op.getTile(), K),
        /*transpose=*/true);
}

void TileLowering::lower(TileLoadVOp op) {
  Value view = op.getSource();
  stage(view, dim(view, 0), shadowOf(op.getTile(), V),
        /*transpose=*/false);
}

void TileLowering::lower(TileInitOp op) {
  int64_t blockQ = staticDim(op.getAcc(), 0), dv = staticDim(op.getAcc(), 1);
  VectorType vecType = lanesFor(dv);
  Value zeros = splat(vecType, f32(0.0));
  Value initMax = op.getNormalizer().hasLse() ? negInf() : f32(0.0);
  forLoop(idx(0), paddedRows(op.getRows(), blockQ), 1, [&](Value i) {
    memref::StoreOp::create(b, initMax, op.getMax(), ValueRange{i});
    memref::StoreOp::create(b, f32(0.0), op.getSum(), ValueRange{i});
    forLoop(idx(0), idx(dv), vecType.getNumElements(), [&](Value d) {
      vector::StoreOp::create(b, zeros, op.getAcc(), ValueRange{i, d});
    });
  });
}

void TileLowering::lower(TileQKOp op) {
  Value q = shadowOf(op.getQ(), Q);
  Value kt = shadowOf(op.getK(), K);
  Value scores = op.getScores();
  int64_t blockQ = staticDim(scores, 0), blockKV = staticDim(scores, 1);
  int64_t d = staticDim(q, 1);
  Value cols = op.getCols();
  Value rows = paddedRows(op.getRows(), blockQ);

  // S = Q K^T over the head dim, NJ key vectors per row.
  int64_t ri = rowBlocking(blockQ);
  VectorType vecType = lanesFor(blockKV);
  int64_t nj = vectorsPerRow(blockKV, vecType);
  forLoop(idx(0), rows, ri, [&](Value i) {
    forLoop(idx(0), idx(blockKV), vecType.getNumElements() * nj, [&](Value j) {
      SmallVector<Value> zeros(ri * nj, splat(vecType, f32(0.0)));
      SmallVector<Value> sums =
          emitOuterProducts(q, kt, i, j, idx(d), ri, vecType, nj, zeros);
      storeBlock(sums, scores, i, j, ri, nj);
    });
  });

  // Columns past the keys (an edge tile) are masked.
  forLoop(cols, idx(blockKV), 1, [&](Value j) {
    forLoop(idx(0), rows, 1, [&](Value i) {
      memref::StoreOp::create(b, negInf(), scores, ValueRange{i, j});
    });
  });
}

Value TileLowering::cloneElementRegion(Block &body, ValueRange args) {
  IRMapping mapping;
  mapping.map(body.getArguments(), args);
  for (Operation &inner : body.without_terminator())
    b.clone(inner, mapping);
  // A region may yield a value defined above it (a constant the
  // canonicalizer hoisted, or an argument it passes through).
  return mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
}

template <typename ElementOp>
void TileLowering::forEachElement(
    ElementOp op, function_ref<Value(Value s, Value qi, Value ki)> update) {
  Value scores = op.getScores();
  int64_t group = op.getGroup();
  forLoop(idx(0), op.getRows(), 1, [&](Value i) {
    // Rows of a packed GQA group share their query position.
    Value position =
        group == 1 ? i : arith::DivUIOp::create(b, i, idx(group)).getResult();
    Value qi = arith::AddIOp::create(b, op.getQStart(), position);
    forLoop(idx(0), op.getCols(), 1, [&](Value j) {
      Value ki = arith::AddIOp::create(b, op.getKStart(), j);
      Value s = memref::LoadOp::create(b, scores, ValueRange{i, j});
      memref::StoreOp::create(b, update(s, qi, ki), scores, ValueRange{i, j});
    });
  });
}

void TileLowering::lower(TileScoreModOp op) {
  forEachElement(op, [&](Value s, Value qi, Value ki) {
    return cloneElementRegion(op.getBody().front(), {s, qi, ki});
  });
}

void TileLowering::lower(TileMaskOp op) {
  forEachElement(op, [&](Value s, Value qi, Value ki) {
    Value visible = cloneElementRegion(op.getBody().front(), {qi, ki});
    return arith::SelectOp::create(b, visible, s, negInf()).getResult();
  });
}

void TileLowering::lower(TileNormalizeOp op) {
  Value scores = op.getScores(), rowMax = op.getMax(), rowSum = op.getSum(),
        alphas = op.getAlpha();
  Value weights = shadowOf(op.getP(), P);
  Type dtype = cast<MemRefType>(op.getP().getType()).getElementType();
  int64_t blockQ = staticDim(scores, 0), blockKV = staticDim(scores, 1);
  VectorType vecType = lanesFor(blockKV);
  int64_t w = vecType.getNumElements();
  Value negInfs = splat(vecType, negInf());
  NormalizerAttr normalizer = op.getNormalizer();
  double scale = op.getScale().convertToDouble();
  // The weight as the tile's dtype holds it (P V's operand), kept in f32.
  auto storeWeight = [&](Value p, Value i, Value j) {
    if (!dtype.isF32())
      p = arith::ExtFOp::create(
          b, vecType,
          arith::TruncFOp::create(b, VectorType::get(vecType.getShape(), dtype),
                                  p)
              .getResult());
    vector::StoreOp::create(b, p, weights, ValueRange{i, j});
  };
  forLoop(idx(0), paddedRows(op.getRows(), blockQ), 1, [&](Value i) {
    if (!normalizer.hasLse()) {
      // Weights are elementwise: sigmoid(scale s + bias) or scale s; masked
      // keys weigh 0; the state stays.
      forLoop(idx(0), idx(blockKV), w, [&](Value j) {
        Value s = vector::LoadOp::create(b, vecType, scores, ValueRange{i, j});
        storeWeight(norm::weight(b, normalizer, s, scale, Value()), i, j);
      });
      memref::StoreOp::create(b, f32(1.0), alphas, ValueRange{i});
      return;
    }
    // Online softmax: the new row max, the weights against it and their sum
    // (unrounded), the rescale factor of the old state.
    Value tileMax =
        forLoopCarry(idx(0), idx(blockKV), w, negInfs,
                     [&](Value j, ValueRange m) -> SmallVector<Value> {
                       Value s = vector::LoadOp::create(b, vecType, scores,
                                                        ValueRange{i, j});
                       return {arith::MaximumFOp::create(b, m[0], s)};
                     })[0];
    Value mt = vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF,
                                           tileMax);
    Value mOld = memref::LoadOp::create(b, rowMax, ValueRange{i});
    norm::MaxStep step = norm::maxStep(b, mOld, mt, scale);
    Value offsets = splat(vecType, step.offset);
    Value sum =
        forLoopCarry(idx(0), idx(blockKV), w, splat(vecType, f32(0.0)),
                     [&](Value j, ValueRange sum) -> SmallVector<Value> {
                       Value s = vector::LoadOp::create(b, vecType, scores,
                                                        ValueRange{i, j});
                       Value p = norm::weight(b, normalizer, s, scale, offsets);
                       storeWeight(p, i, j);
                       return {arith::AddFOp::create(b, sum[0], p)};
                     })[0];
    Value tileSum =
        vector::ReductionOp::create(b, vector::CombiningKind::ADD, sum);
    Value lOld = memref::LoadOp::create(b, rowSum, ValueRange{i});
    Value lNew = arith::AddFOp::create(
        b, arith::MulFOp::create(b, lOld, step.alpha), tileSum);
    memref::StoreOp::create(b, lNew, rowSum, ValueRange{i});
    memref::StoreOp::create(b, step.max, rowMax, ValueRange{i});
    memref::StoreOp::create(b, step.alpha, alphas, ValueRange{i});
  });
}

void TileLowering::lower(TilePVOp op) {
  Value p = shadowOf(op.getP(), P);
  Value vs = shadowOf(op.getV(), V);
  Value acc = op.getAcc(), alphas = op.getAlpha();
  int64_t blockQ = staticDim(p, 0);
  int64_t dv = staticDim(acc, 1);
  Value cols = op.getCols();

  // O = alpha O + P V over the tile's keys, ND head-dim vectors per row.
  int64_t ri = rowBlocking(blockQ);
  VectorType vecType = lanesFor(dv);
  int64_t nd = vectorsPerRow(dv, vecType);
  forLoop(idx(0), paddedRows(op.getRows(), blockQ), ri, [&](Value i) {
    SmallVector<Value> rowAlphas;
    if (alphas)
      for (int64_t r = 0; r < ri; ++r)
        rowAlphas.push_back(splat(
            vecType,
            memref::LoadOp::create(
                b, alphas, ValueRange{arith::AddIOp::create(b, i, idx(r))})));
    forLoop(idx(0), idx(dv), vecType.getNumElements() * nd, [&](Value d) {
      SmallVector<Value> inits = loadBlock(acc, i, d, ri, vecType, nd);
      if (alphas)
        for (int64_t r = 0; r < ri; ++r)
          for (int64_t c = 0; c < nd; ++c)
            inits[r * nd + c] =
                arith::MulFOp::create(b, inits[r * nd + c], rowAlphas[r]);
      SmallVector<Value> sums =
          emitOuterProducts(p, vs, i, d, cols, ri, vecType, nd, inits);
      storeBlock(sums, acc, i, d, ri, nd);
    });
  });
}

void TileLowering::lower(TileFinalizeOp op) {
  Value acc = op.getAcc(), out = op.getOut(), lse = op.getLse();
  int64_t dv = staticDim(acc, 1);
  forEachViewRow(out, [&](Value i, SmallVector<Value> at) {
    Value m = memref::LoadOp::create(b, op.getMax(), ValueRange{i});
    Value l = memref::LoadOp::create(b, op.getSum(), ValueRange{i});
    norm::Final final =
        norm::finalize(b, op.getNormalizer(), m, l, op.getSink(),
                       op.getScale().convertToDouble());
    Value factor = final.factor, rowLse = final.lse;
    forLoop(idx(0), idx(dv), 1, [&](Value d) {
      Value o = memref::LoadOp::create(b, acc, ValueRange{i, d});
      SmallVector<Value> indices(at);
      indices.push_back(d);
      storeF32(arith::MulFOp::create(b, o, factor), out, indices);
    });
    if (lse)
      memref::StoreOp::create(b, rowLse, lse, at);
  });
}

void TileLowering::moveLargeScratchToHeap() {
  SmallVector<memref::AllocaOp> allocas;
  int64_t bytes = 0;
  func.walk([&](memref::AllocaOp alloca) {
    // Tiles that only have shadows are dead now.
    if (alloca->use_empty()) {
      alloca.erase();
      return;
    }
    MemRefType type = alloca.getType();
    if (!type.hasStaticShape())
      return;
    allocas.push_back(alloca);
    bytes += type.getNumElements() *
             llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  });
  if (bytes <= 512 * 1024)
    return;
  SmallVector<Value> buffers;
  for (memref::AllocaOp alloca : allocas) {
    b.setInsertionPoint(alloca);
    auto alloc = memref::AllocOp::create(b, alloca.getType());
    alloca.replaceAllUsesWith(alloc.getResult());
    alloca.erase();
    buffers.push_back(alloc);
  }
  func.walk([&](func::ReturnOp ret) {
    b.setInsertionPoint(ret);
    for (Value buffer : buffers)
      memref::DeallocOp::create(b, buffer);
  });
}

LogicalResult TileLowering::checkShadowedTiles() {
  // The role of each operand that names a shadowed tile, and whether it
  // writes the tile.
  auto writes = [](OpOperand &use) {
    return isa<TileLoadQOp, TileLoadKOp, TileLoadVOp, TileNormalizeOp>(
        use.getOwner());
  };
  auto roleOf = [](OpOperand &use) -> std::optional<Role> {
    Operation *user = use.getOwner();
    unsigned n = use.getOperandNumber();
    if (isa<TileLoadQOp>(user))
      return n == 1 ? std::optional(Q) : std::nullopt;
    if (isa<TileLoadKOp>(user))
      return n == 1 ? std::optional(K) : std::nullopt;
    if (isa<TileLoadVOp>(user))
      return n == 1 ? std::optional(V) : std::nullopt;
    if (auto qk = dyn_cast<TileQKOp>(user)) {
      if (use.get() == qk.getQ())
        return Q;
      if (use.get() == qk.getK())
        return K;
    }
    if (auto normalize = dyn_cast<TileNormalizeOp>(user))
      if (&use == &normalize.getPMutable())
        return P;
    if (auto pv = dyn_cast<TilePVOp>(user)) {
      if (use.get() == pv.getP())
        return P;
      if (use.get() == pv.getV())
        return V;
    }
    return std::nullopt;
  };
  SmallVector<Value> tiles;
  func.walk([&](Operation *op) {
    if (isa<TileLoadQOp, TileLoadKOp, TileLoadVOp>(op))
      tiles.push_back(op->getOperand(1));
    else if (auto normalize = dyn_cast<TileNormalizeOp>(op))
      tiles.push_back(normalize.getP());
  });
  for (Value tile : tiles) {
    // f32 Q, V and P tiles are their own shadows: any buffer will do.
    if (cast<MemRefType>(tile.getType()).getElementType().isF32() &&
        llvm::none_of(tile.getUses(),
                      [&](OpOperand &use) { return roleOf(use) == K; }))
      continue;
    Operation *def = tile.getDefiningOp();
    if (!isa_and_nonnull<memref::AllocaOp, memref::AllocOp>(def))
      return emitError(tile.getLoc())
             << "convert-attn-to-cpu: a Q, K, V or P tile must be a buffer of "
                "its own (memref.alloca or memref.alloc), as attn-bufferize-"
                "tile and canonicalize leave it; got "
             << tile;
    llvm::SmallSet<int, 4> written;
    for (OpOperand &use : tile.getUses()) {
      std::optional<Role> role = roleOf(use);
      if (!role)
        return use.getOwner()->emitOpError()
               << "uses a Q, K, V or P tile buffer of the tile level; the CPU "
                  "lowering keeps such tiles in f32 shadows that only the "
                  "tile ops read";
      if (writes(use))
        written.insert(*role);
    }
    for (OpOperand &use : tile.getUses())
      if (!written.contains(*roleOf(use)))
        return use.getOwner()->emitOpError()
               << "reads a tile buffer in a role (Q, K, V or P) that no tile "
                  "op writes it in";
  }
  return success();
}

LogicalResult TileLowering::run() {
  SmallVector<Operation *> tileOps;
  WalkResult walk = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<AttentionOp>(op)) {
      op->emitOpError() << "convert-attn-to-cpu lowers the tile level; run "
                           "attn-tile first";
      return WalkResult::interrupt();
    }
    if (isa<TileLoadQOp, TileLoadKOp, TileLoadVOp, TileInitOp, TileQKOp,
            TileScoreModOp, TileMaskOp, TileNormalizeOp, TilePVOp,
            TileFinalizeOp>(op)) {
      if (llvm::any_of(op->getOperandTypes(), llvm::IsaPred<TensorType>)) {
        op->emitOpError() << "convert-attn-to-cpu lowers the memref form of "
                             "the tile level; run attn-bufferize-tile first";
        return WalkResult::interrupt();
      }
      tileOps.push_back(op);
      return WalkResult::skip(); // element regions are cloned, not lowered
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // Every public kernel (a tile-level kernel, or the combine of a split
  // one) is called through its C interface.
  if (func.isPublic() && !func.isExternal())
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  if (tileOps.empty())
    return success();
  if (failed(checkShadowedTiles()))
    return failure();
  for (Operation *op : tileOps) {
    b.setLoc(op->getLoc());
    b.setInsertionPoint(op);
    llvm::TypeSwitch<Operation *>(op)
        .Case<TileLoadQOp, TileLoadKOp, TileLoadVOp, TileInitOp, TileQKOp,
              TileScoreModOp, TileMaskOp, TileNormalizeOp, TilePVOp,
              TileFinalizeOp>([&](auto tileOp) { lower(tileOp); });
    op->erase();
  }
  moveLargeScratchToHeap();
  return success();
}

namespace {
struct ConvertAttnToCPUPass final
    : mlir::attn::impl::ConvertAttnToCPUPassBase<ConvertAttnToCPUPass> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorWidth < 1) {
      getOperation().emitError()
          << "convert-attn-to-cpu: vector-width must be positive, got "
          << vectorWidth.getValue();
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    for (func::FuncOp func : funcs)
      if (failed(TileLowering(func, vectorWidth).run()))
        return signalPassFailure();
  }
};
} // namespace
