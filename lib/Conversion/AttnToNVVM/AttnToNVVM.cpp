//===- AttnToNVVM.cpp - The tile level to a tensor-core GPU kernel --------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Lowers a kernel of the tile level (the tensor form attn-tile builds) to a
// gpu.func of a gpu.module: one CTA per work item, one warp per 16 tile
// rows, mma.sync m16n8k16 on bf16/f16 fragments; see convert-attn-to-nvvm
// in Conversion/Passes.td.
//
// The tile values become per-thread values: Q, K and V tiles live in
// (swizzled) shared memory, scores, weights, the accumulator and the row
// state in registers in the mma C-fragment layout: element e of n-tile nt
// of lane l in warp w sits at row 16 w + l / 4 + 8 (e / 2) and column
// 8 nt + 2 (l % 4) + e % 2. A row-state tile holds its thread's two rows.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/Passes.h"
#include "attn/Dialect/Attn/Utils/LoopBuilders.h"
#include "attn/Dialect/Attn/Utils/Normalizer.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTONVVMPASS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

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
  int64_t sharedBytes() const { return smemBytes; }

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
  /// Waits until the copy into `tile` has landed for the whole block (a
  /// no-op when it was waited for already).
  void waitFor(Value tile);
  /// The copies issued and not yet waited for, in issue order, and the
  /// last group's token (the wait op takes one).
  SmallVector<Value> pendingCopies;
  Value lastGroup;
  /// The A fragments of a q tile loaded once at its load (per k-step).
  DenseMap<Value, SmallVector<SmallVector<Value>>> qFragments;

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

} // namespace

Type GPUKernelBuilder::convertedType(Value v) {
  if (Value mapped = map.lookupOrNull(v))
    return mapped.getType();
  if (!isa<TensorType>(v.getType()))
    return v.getType();
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    auto loop = cast<scf::ForOp>(arg.getOwner()->getParentOp());
    return convertedType(loop.getTiedLoopInit(arg)->get());
  }
  auto result = cast<OpResult>(v);
  Operation *def = result.getOwner();
  if (auto loop = dyn_cast<scf::ForOp>(def))
    return convertedType(loop.getInitArgs()[result.getResultNumber()]);
  if (auto ifOp = dyn_cast<scf::IfOp>(def))
    return convertedType(ifOp.thenYield().getOperand(result.getResultNumber()));
  return registerType(v.getType());
}

//===----------------------------------------------------------------------===//
// Shared memory and tensor cores
//===----------------------------------------------------------------------===//

Value GPUKernelBuilder::allocateShared(int64_t rows, int64_t cols) {
  int64_t bytes = rows * cols * dtype.getIntOrFloatBitWidth() / 8;
  int64_t offset = llvm::alignTo(smemBytes, 128);
  smemBytes = offset + bytes;
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto type = MemRefType::get({rows, cols}, dtype, MemRefLayoutAttrInterface(),
                              workgroup);
  return memref::ViewOp::create(b, type, smem, idx(offset), ValueRange{});
}

Value GPUKernelBuilder::viewRows(Value view) {
  Value rows = memref::DimOp::create(b, view, 0);
  auto type = cast<MemRefType>(view.getType());
  if (type.getRank() == 3)
    rows = arith::MulIOp::create(b, rows, idx(type.getDimSize(1)));
  return rows;
}

SmallVector<Value> GPUKernelBuilder::viewIndices(Value view, Value row,
                                                 bool headDim) {
  auto type = cast<MemRefType>(view.getType());
  if (type.getRank() == (headDim ? 2 : 1))
    return {row};
  // [positions, heads, D]: row p * heads + h.
  Value heads = idx(type.getDimSize(1));
  return {arith::DivUIOp::create(b, row, heads),
          arith::RemUIOp::create(b, row, heads)};
}

void GPUKernelBuilder::copyToShared(Value view, Value tile) {
  int64_t rows = dim(tile.getType(), 0), cols = dim(tile.getType(), 1);
  int64_t chunksPerRow = cols / 8;
  Value valid = viewRows(view);
  // Every thread is done with the tile's previous contents.
  gpu::BarrierOp::create(b);
  auto token = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  SmallVector<Value> copies;
  forLoop(tid, idx(rows * chunksPerRow), threads(), [&](Value i) {
    Value row = arith::DivUIOp::create(b, i, idx(chunksPerRow));
    Value chunk = arith::RemUIOp::create(b, i, idx(chunksPerRow));
    Value inside = cmp(arith::CmpIPredicate::ult, row, valid);
    // Rows past the view read 0 bytes (zero fill) from row 0's address.
    SmallVector<Value> at = viewIndices(
        view, arith::SelectOp::create(b, inside, row, idx(0)).getResult());
    at.push_back(arith::MulIOp::create(b, chunk, idx(8)));
    Value elements =
        arith::SelectOp::create(b, inside, idx(8), idx(0)).getResult();
    // 16-byte copies: the runtime checks that q, k and v are 16-byte
    // aligned with 16-byte multiples as strides.
    nvgpu::DeviceAsyncCopyOp::create(
        b, token, tile, ValueRange{row, sharedColumn(row, chunk, cols)}, view,
        at, b.getIndexAttr(8), elements, b.getUnitAttr());
  });
  lastGroup = nvgpu::DeviceAsyncCreateGroupOp::create(b, token, ValueRange{});
  pendingCopies.push_back(tile);
}

void GPUKernelBuilder::waitFor(Value tile) {
  auto it = llvm::find(pendingCopies, tile);
  if (it == pendingCopies.end())
    return;
  // Groups complete in order: the ones issued after this tile's may stay
  // in flight.
  int64_t after = std::distance(it, pendingCopies.end()) - 1;
  nvgpu::DeviceAsyncWaitOp::create(b, lastGroup, b.getI32IntegerAttr(after));
  gpu::BarrierOp::create(b);
  pendingCopies.erase(pendingCopies.begin(), it + 1);
}

SmallVector<Value> GPUKernelBuilder::loadMatrices(Value tile, Value row,
                                                  Value chunk, bool transpose) {
  int64_t cols = dim(tile.getType(), 1);
  auto type = VectorType::get({4, 2}, dtype);
  Value matrices = nvgpu::LdMatrixOp::create(
      b, type, tile, ValueRange{row, sharedColumn(row, chunk, cols)}, transpose,
      /*numTiles=*/4);
  SmallVector<Value> regs;
  for (int64_t i = 0; i < 4; ++i) {
    Value pair = vector::ExtractOp::create(b, matrices, i);
    regs.push_back(dtype.isBF16()
                       ? vector::ExtractOp::create(
                             b,
                             vector::BitCastOp::create(
                                 b, VectorType::get({1}, b.getI32Type()), pair),
                             0)
                             .getResult()
                       : pair);
  }
  return regs;
}

Value GPUKernelBuilder::packPair(Value x, Value y) {
  Value pair = vector::FromElementsOp::create(b, VectorType::get({2}, dtype),
                                              ValueRange{x, y});
  if (!dtype.isBF16())
    return pair;
  return vector::ExtractOp::create(
      b,
      vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair),
      0);
}

SmallVector<Value> GPUKernelBuilder::mma(ArrayRef<Value> a,
                                         ArrayRef<Value> bRegs,
                                         ArrayRef<Value> c) {
  Type f32 = b.getF32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  NVVM::MMATypes type =
      dtype.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  std::array<NVVM::MMATypes, 2> types = {type, type};
  std::array<NVVM::MMALayout, 2> layouts = {NVVM::MMALayout::row,
                                            NVVM::MMALayout::col};
  Value d =
      NVVM::MmaOp::create(b, result, a, bRegs, c, ArrayRef<int64_t>{16, 8, 16},
                          std::nullopt, std::nullopt, types, layouts);
  SmallVector<Value> out;
  for (int64_t i = 0; i < 4; ++i)
    out.push_back(LLVM::ExtractValueOp::create(b, d, i));
  return out;
}

Value GPUKernelBuilder::quadReduce(Value value, bool max) {
  for (int32_t offset : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, value, offset, /*width=*/32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    value = max ? arith::MaximumFOp::create(b, value, other).getResult()
                : arith::AddFOp::create(b, value, other).getResult();
  }
  return value;
}

//===----------------------------------------------------------------------===//
// The tile ops
//===----------------------------------------------------------------------===//

void GPUKernelBuilder::lowerLoad(Operation *op, Value view, Value init) {
  Value tile = allocateShared(dim(init.getType(), 0), dim(init.getType(), 1));
  copyToShared(lookup(view), tile);
  map.map(op->getResult(0), tile);
  // A q tile is read by every kv tile's Q K^T: up to a head dim of 128 its
  // A fragments (D / 16 x 4 registers) are loaded once, here.
  int64_t d = dim(init.getType(), 1);
  if (!isa<TileLoadQOp>(op) || d > 128)
    return;
  waitFor(tile);
  Value laneHi = arith::DivUIOp::create(b, lane, idx(16));
  Value qRow = arith::AddIOp::create(b, arith::MulIOp::create(b, warp, idx(16)),
                                     arith::RemUIOp::create(b, lane, idx(16)));
  SmallVector<SmallVector<Value>> &fragments = qFragments[tile];
  for (int64_t ks = 0; ks < d / 16; ++ks)
    fragments.push_back(loadMatrices(
        tile, qRow, arith::AddIOp::create(b, laneHi, idx(2 * ks)), false));
}

void GPUKernelBuilder::lower(TileInitOp op) {
  Value initMax = op.getNormalizer().hasLse() ? negInf() : f32(0.0);
  VectorType rowType = rowStateType();
  VectorType accType = registerType(op.getAcc().getType());
  map.map(op->getResult(0), vector::BroadcastOp::create(b, rowType, initMax));
  map.map(op->getResult(1), vector::BroadcastOp::create(b, rowType, f32(0.0)));
  map.map(op->getResult(2), vector::BroadcastOp::create(b, accType, f32(0.0)));
}

void GPUKernelBuilder::lower(TileQKOp op) {
  Value q = lookup(op.getQ()), k = lookup(op.getK());
  waitFor(q);
  waitFor(k);
  int64_t d = dim(q.getType(), 1), blockKV = dim(k.getType(), 0);
  int64_t nTiles = blockKV / 8;
  SmallVector<SmallVector<Value>> s(nTiles, SmallVector<Value>(4, f32(0.0)));
  Value lane16 = arith::RemUIOp::create(b, lane, idx(16));
  Value laneHi = arith::DivUIOp::create(b, lane, idx(16));
  Value qRow =
      arith::AddIOp::create(b, arith::MulIOp::create(b, warp, idx(16)), lane16);
  // K rows for ldmatrix: lane % 8 + 8 (lane / 16); chunk (lane / 8) % 2.
  Value kRowInTile =
      arith::AddIOp::create(b, arith::RemUIOp::create(b, lane, idx(8)),
                            arith::MulIOp::create(b, laneHi, idx(8)));
  Value kChunkInStep = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, lane, idx(8)), idx(2));
  auto hoisted = qFragments.find(q);
  for (int64_t ks = 0; ks < d / 16; ++ks) {
    SmallVector<Value> a =
        hoisted != qFragments.end()
            ? hoisted->second[ks]
            : loadMatrices(q, qRow,
                           arith::AddIOp::create(b, laneHi, idx(2 * ks)),
                           false);
    for (int64_t np = 0; np < nTiles / 2; ++np) {
      Value kRow = arith::AddIOp::create(b, kRowInTile, idx(16 * np));
      SmallVector<Value> kb = loadMatrices(
          k, kRow, arith::AddIOp::create(b, kChunkInStep, idx(2 * ks)), false);
      s[2 * np] = mma(a, {kb[0], kb[1]}, s[2 * np]);
      s[2 * np + 1] = mma(a, {kb[2], kb[3]}, s[2 * np + 1]);
    }
  }
  // Columns from `cols` on are no keys.
  SmallVector<Value> flat;
  Value cols = lookup(op.getCols());
  for (int64_t nt = 0; nt < nTiles; ++nt)
    for (int64_t e = 0; e < 4; ++e) {
      Value key = cmp(arith::CmpIPredicate::ult, fragmentCol(nt, e), cols);
      flat.push_back(arith::SelectOp::create(b, key, s[nt][e], negInf()));
    }
  map.map(op->getResult(0), pack(flat));
}

Value GPUKernelBuilder::cloneElementRegion(Block &body, ValueRange args) {
  map.map(body.getArguments(), args);
  for (Operation &inner : body.without_terminator())
    b.clone(inner, map);
  Value result = lookup(body.getTerminator()->getOperand(0));
  // Forget the region's own values and blocks: the next element clones it
  // afresh (a block whose arguments are mapped would be cloned without
  // them).
  body.walk([&](Block *block) {
    map.erase(block);
    for (BlockArgument arg : block->getArguments())
      map.erase(arg);
    for (Operation &op : *block)
      for (Value v : op.getResults())
        map.erase(v);
  });
  return result;
}

template <typename ElementOp>
void GPUKernelBuilder::lowerElementOp(ElementOp op, bool isMask) {
  SmallVector<Value> s = unpack(lookup(op.getScores()));
  Value rows = lookup(op.getRows()), cols = lookup(op.getCols());
  int64_t group = op.getGroup();
  // A region that reads no memory runs on every element and a select keeps
  // the elements outside the tile's rows and keys; one that reads operands
  // at (query, key) runs only inside, under a branch.
  bool pure = true;
  op.getBody().walk([&](Operation *inner) {
    pure &= inner->getNumRegions() == 0 && isMemoryEffectFree(inner);
  });
  for (int64_t i = 0, e = s.size(); i < e; ++i) {
    Value row = fragmentRow(i % 4), col = fragmentCol(i / 4, i % 4);
    Value inside =
        arith::AndIOp::create(b, cmp(arith::CmpIPredicate::ult, row, rows),
                              cmp(arith::CmpIPredicate::ult, col, cols));
    auto element = [&]() -> Value {
      Value position =
          group == 1 ? row : arith::DivUIOp::create(b, row, idx(group));
      Value qi = arith::AddIOp::create(b, lookup(op.getQStart()), position);
      Value ki = arith::AddIOp::create(b, lookup(op.getKStart()), col);
      if (!isMask)
        return cloneElementRegion(op.getBody().front(), {s[i], qi, ki});
      Value visible = cloneElementRegion(op.getBody().front(), {qi, ki});
      return arith::SelectOp::create(b, visible, s[i], negInf());
    };
    if (pure) {
      s[i] = arith::SelectOp::create(b, inside, element(), s[i]);
      continue;
    }
    auto ifOp = scf::IfOp::create(b, b.getF32Type(), inside, true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, element());
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, s[i]);
    s[i] = ifOp.getResult(0);
  }
  map.map(op->getResult(0), pack(s));
}

void GPUKernelBuilder::lower(TileNormalizeOp op) {
  SmallVector<Value> s = unpack(lookup(op.getScores()));
  NormalizerAttr normalizer = op.getNormalizer();
  double scale = op.getScale().convertToDouble();
  SmallVector<Value> p(s.size());
  Value maxState = lookup(op.getMax()), sumState = lookup(op.getSum());
  Value alphas;
  if (!normalizer.hasLse()) {
    for (size_t i = 0; i < s.size(); ++i)
      p[i] = norm::weight(b, normalizer, s[i], scale, Value());
    alphas = vector::BroadcastOp::create(b, rowStateType(), f32(1.0));
  } else {
    SmallVector<Value> m = unpack(maxState), l = unpack(sumState);
    SmallVector<Value> newM, newL, alpha;
    for (int64_t r = 0; r < 2; ++r) {
      // Elements e of every n-tile with e / 2 == r are this row's.
      Value mx = negInf();
      for (size_t i = 0; i < s.size(); ++i)
        if ((i % 4) / 2 == static_cast<size_t>(r))
          mx = arith::MaximumFOp::create(b, mx, s[i]);
      norm::MaxStep step = norm::maxStep(b, m[r], quadReduce(mx, true), scale);
      Value sum = f32(0.0);
      for (size_t i = 0; i < s.size(); ++i)
        if ((i % 4) / 2 == static_cast<size_t>(r)) {
          p[i] = norm::weight(b, normalizer, s[i], scale, step.offset);
          sum = arith::AddFOp::create(b, sum, p[i]);
        }
      newL.push_back(
          arith::AddFOp::create(b, arith::MulFOp::create(b, l[r], step.alpha),
                                quadReduce(sum, false)));
      newM.push_back(step.max);
      alpha.push_back(step.alpha);
    }
    maxState = pack(newM);
    sumState = pack(newL);
    alphas = pack(alpha);
  }
  for (Value &weight : p)
    weight = arith::TruncFOp::create(b, dtype, weight);
  map.map(op->getResult(0), pack(p));
  map.map(op->getResult(1), maxState);
  map.map(op->getResult(2), sumState);
  map.map(op->getResult(3), alphas);
}

void GPUKernelBuilder::lower(TilePVOp op) {
  SmallVector<Value> acc = unpack(lookup(op.getAcc()));
  SmallVector<Value> p = unpack(lookup(op.getP()));
  Value v = lookup(op.getV());
  waitFor(v);
  int64_t blockKV = dim(v.getType(), 0), dv = dim(v.getType(), 1);
  if (Value alphas = op.getAlpha()) {
    SmallVector<Value> alpha = unpack(lookup(alphas));
    for (size_t i = 0; i < acc.size(); ++i)
      acc[i] = arith::MulFOp::create(b, acc[i], alpha[(i % 4) / 2]);
  }
  Value vRowInStep = arith::RemUIOp::create(b, lane, idx(16));
  Value vChunkInStep = arith::DivUIOp::create(b, lane, idx(16));
  for (int64_t kk = 0; kk < blockKV / 16; ++kk) {
    // The weights' C fragments of two n-tiles are the A fragment of one
    // k-step.
    int64_t lo = 2 * kk * 4, hi = (2 * kk + 1) * 4;
    SmallVector<Value> a = {
        packPair(p[lo], p[lo + 1]), packPair(p[lo + 2], p[lo + 3]),
        packPair(p[hi], p[hi + 1]), packPair(p[hi + 2], p[hi + 3])};
    Value vRow = arith::AddIOp::create(b, vRowInStep, idx(16 * kk));
    for (int64_t dp = 0; dp < dv / 16; ++dp) {
      SmallVector<Value> vb = loadMatrices(
          v, vRow, arith::AddIOp::create(b, vChunkInStep, idx(2 * dp)),
          /*transpose=*/true);
      for (int64_t half = 0; half < 2; ++half) {
        int64_t nt = 2 * dp + half;
        SmallVector<Value> c(acc.begin() + nt * 4, acc.begin() + nt * 4 + 4);
        SmallVector<Value> d = mma(a, {vb[2 * half], vb[2 * half + 1]}, c);
        std::copy(d.begin(), d.end(), acc.begin() + nt * 4);
      }
    }
  }
  map.map(op->getResult(0), pack(acc));
}

void GPUKernelBuilder::lower(TileFinalizeOp op) {
  SmallVector<Value> acc = unpack(lookup(op.getAcc()));
  SmallVector<Value> m = unpack(lookup(op.getMax()));
  SmallVector<Value> l = unpack(lookup(op.getSum()));
  Value out = lookup(op.getOut());
  Value lse = op.getLse() ? lookup(op.getLse()) : Value();
  Value sink = op.getSink() ? lookup(op.getSink()) : Value();
  Type outType = cast<MemRefType>(out.getType()).getElementType();
  Value rows = viewRows(out);
  int64_t nTiles = static_cast<int64_t>(acc.size()) / 4;
  for (int64_t r = 0; r < 2; ++r) {
    Value row = fragmentRow(2 * r);
    ifThen(cmp(arith::CmpIPredicate::ult, row, rows), [&] {
      norm::Final final = norm::finalize(b, op.getNormalizer(), m[r], l[r],
                                         sink, op.getScale().convertToDouble());
      SmallVector<Value> at = viewIndices(out, row);
      for (int64_t nt = 0; nt < nTiles; ++nt)
        for (int64_t c = 0; c < 2; ++c) {
          Value o =
              arith::MulFOp::create(b, acc[nt * 4 + 2 * r + c], final.factor);
          if (outType != o.getType())
            o = arith::TruncFOp::create(b, outType, o);
          SmallVector<Value> indices(at);
          indices.push_back(fragmentCol(nt, c));
          memref::StoreOp::create(b, o, out, indices);
        }
      if (lse)
        ifThen(cmp(arith::CmpIPredicate::eq, quadCol, idx(0)), [&] {
          memref::StoreOp::create(b, final.lse, lse,
                                  viewIndices(lse, row, /*headDim=*/false));
        });
    });
  }
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

LogicalResult GPUKernelBuilder::convertFor(scf::ForOp op) {
  SmallVector<Value> inits;
  for (Value init : op.getInitArgs())
    inits.push_back(lookup(init));
  Value lb = lookup(op.getLowerBound()), step = lookup(op.getStep());
  if (op->hasAttr("attn.parallel_rows")) {
    // Independent iterations: thread t runs t, t + threads, ...
    lb = arith::AddIOp::create(b, lb, arith::MulIOp::create(b, tid, step));
    step = arith::MulIOp::create(b, step, idx(threads()));
  }
  auto loop =
      scf::ForOp::create(b, lb, lookup(op.getUpperBound()), step, inits);
  map.map(op.getInductionVar(), loop.getInductionVar());
  map.map(op.getRegionIterArgs(), loop.getRegionIterArgs());
  Block *body = loop.getBody();
  if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>())
    body->back().erase();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(body);
  if (failed(convertBlock(*op.getBody())))
    return failure();
  SmallVector<Value> yields;
  for (Value v : op.getBody()->getTerminator()->getOperands())
    yields.push_back(lookup(v));
  scf::YieldOp::create(b, yields);
  b.setInsertionPointAfter(loop);
  map.map(op.getResults(), loop.getResults());
  return success();
}

LogicalResult GPUKernelBuilder::convertIf(scf::IfOp op) {
  SmallVector<Type> types;
  for (Value result : op.getResults())
    types.push_back(convertedType(result));
  bool hasElse = !op.getElseRegion().empty();
  auto ifOp = scf::IfOp::create(b, types, lookup(op.getCondition()), hasElse);
  for (auto [from, to] : llvm::zip(op->getRegions(), ifOp->getRegions())) {
    if (from.empty())
      continue;
    Block *block = &to.front();
    if (!block->empty() && block->back().hasTrait<OpTrait::IsTerminator>())
      block->back().erase();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(block);
    if (failed(convertBlock(from.front())))
      return failure();
    SmallVector<Value> yields;
    for (Value v : from.front().getTerminator()->getOperands())
      yields.push_back(lookup(v));
    scf::YieldOp::create(b, yields);
  }
  map.map(op.getResults(), ifOp.getResults());
  return success();
}

LogicalResult GPUKernelBuilder::convertBlock(Block &block) {
  for (Operation &op : block.without_terminator())
    if (failed(convertOp(op)))
      return failure();
  return success();
}

LogicalResult GPUKernelBuilder::convertOp(Operation &op) {
  b.setLoc(op.getLoc());
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case<TileLoadQOp, TileLoadKOp, TileLoadVOp>([&](auto load) {
        lowerLoad(load, load.getSource(), load.getTile());
        return success();
      })
      .Case<TileInitOp, TileQKOp, TileNormalizeOp, TilePVOp, TileFinalizeOp>(
          [&](auto tileOp) {
            lower(tileOp);
            return success();
          })
      .Case<TileScoreModOp>([&](auto tileOp) {
        lowerElementOp(tileOp, /*isMask=*/false);
        return success();
      })
      .Case<TileMaskOp>([&](auto tileOp) {
        lowerElementOp(tileOp, /*isMask=*/true);
        return success();
      })
      // Destinations: register tiles need none, shared ones are allocated
      // per load.
      .Case<tensor::EmptyOp>([&](auto) { return success(); })
      .Case<scf::ForOp>([&](auto loop) { return convertFor(loop); })
      .Case<scf::IfOp>([&](auto ifOp) { return convertIf(ifOp); })
      .Case<func::ReturnOp>([&](auto) {
        gpu::ReturnOp::create(b);
        return success();
      })
      .Case<memref::GetGlobalOp>([&](memref::GetGlobalOp get) {
        // Constant tables (ALiBi slopes) move into the gpu.module.
        auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
            source, get.getNameAttr());
        if (global && !module.lookupSymbol(global.getSymName())) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(module.getBody());
          b.clone(*global);
        }
        b.clone(op, map);
        return success();
      })
      .Default([&](Operation *other) -> LogicalResult {
        bool hasTileOps = false;
        other->walk([&](Operation *inner) {
          hasTileOps |=
              inner->getDialect() && isa<AttnDialect>(inner->getDialect());
        });
        if (hasTileOps ||
            (other->getNumRegions() > 0 &&
             llvm::any_of(other->getResultTypes(), llvm::IsaPred<TensorType>)))
          return other->emitOpError()
                 << "convert-attn-to-nvvm cannot lower this op around tile "
                    "ops";
        b.clone(*other, map);
        return success();
      });
}

LogicalResult GPUKernelBuilder::build(gpu::GPUModuleOp gpuModule,
                                      bool combine) {
  module = gpuModule;
  int64_t rows = tiling.getRows(), blockKV = tiling.getBlockKv();
  warps = rows / 16;
  // The kernel's arguments without the work item (the block index).
  SmallVector<Type> argTypes(source.getArgumentTypes().drop_back());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(b, source.getName(),
                                     b.getFunctionType(argTypes, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(threads()), 1, 1}));
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  for (auto [from, to] :
       llvm::zip(source.getArguments().drop_back(), entry.getArguments()))
    map.map(from, to);
  map.map(source.getArguments().back(),
          gpu::BlockIdOp::create(b, gpu::Dimension::x));
  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, tid, idx(32));
  warp = arith::DivUIOp::create(b, tid, idx(32));
  quadRow = arith::DivUIOp::create(b, lane, idx(4));
  quadCol = arith::RemUIOp::create(b, lane, idx(4));
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  smem = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                         MemRefLayoutAttrInterface(), workgroup));
  (void)blockKV;
  if (failed(convertBlock(source.getBody().front())))
    return failure();
  // The tile level's return.
  gpu::ReturnOp::create(b);
  // The manifest is the kernel's; the combine is named in its interface.
  if (combine)
    return success();
  func->setAttr("attn.tiling", tiling);
  func->setAttr("attn.interface", source->getAttr("attn.interface"));
  func->setAttr(
      "attn.launch",
      b.getDictionaryAttr(
          {b.getNamedAttr("block", b.getDenseI64ArrayAttr({threads(), 1, 1})),
           b.getNamedAttr("shared_bytes", b.getI64IntegerAttr(smemBytes))}));
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Why `kernel` is out of this lowering's reach, or "" when it is not.
static std::string unsupportedReason(func::FuncOp kernel, TilingAttr tiling,
                                     Type dtype, int64_t d, int64_t dv) {
  if (!dtype.isBF16() && !dtype.isF16())
    return "the GPU target computes on bf16/f16 tensor cores; f32 specs "
           "need a TF32 path that does not exist yet (use dtype bf16 or f16)";
  int64_t rows = tiling.getRows(), blockKV = tiling.getBlockKv();
  if (rows % 16 != 0 || rows < 16 || rows > 128)
    return "the GPU tile rows (" + std::to_string(rows) +
           ") must be a multiple of 16 from 16 to 128 (one warp per 16)";
  if (blockKV % 16 != 0 || blockKV < 16 || blockKV > 128)
    return "the GPU block_kv (" + std::to_string(blockKV) +
           ") must be a multiple of 16 from 16 to 128";
  if (d % 16 != 0 || dv % 16 != 0 || d > 256 || dv > 256)
    return "the GPU target needs head dims that are multiples of 16 up to "
           "256, got " +
           std::to_string(d) + " and " + std::to_string(dv);
  return "";
}

namespace {
struct ConvertAttnToNVVMPass final
    : mlir::attn::impl::ConvertAttnToNVVMPassBase<ConvertAttnToNVVMPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp moduleOp = getOperation();
    SmallVector<func::FuncOp> kernels;
    moduleOp.walk([&](func::FuncOp func) {
      if (func->hasAttr("attn.tiling"))
        kernels.push_back(func);
    });
    if (kernels.empty())
      return;
    OpBuilder b(moduleOp.getBodyRegion());
    b.setInsertionPointToEnd(moduleOp.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(b, moduleOp.getLoc(), "attn_kernels");
    moduleOp->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      b.getUnitAttr());
    for (func::FuncOp kernel : kernels) {
      auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
      auto iface = kernel->getAttrOfType<DictionaryAttr>("attn.interface");
      auto params = iface ? dyn_cast<ArrayAttr>(iface.get("params")) : nullptr;
      auto headDims =
          iface ? dyn_cast<DenseI64ArrayAttr>(iface.get("head_dims")) : nullptr;
      if (!params || params.empty() || !headDims || headDims.size() != 2) {
        kernel.emitError() << "convert-attn-to-nvvm: the kernel has no "
                              "attn.interface; run attn-tile first";
        return signalPassFailure();
      }
      Type dtype =
          cast<ShapedType>(
              cast<TypeAttr>(cast<DictionaryAttr>(params[0]).get("type"))
                  .getValue())
              .getElementType();
      std::string reason =
          unsupportedReason(kernel, tiling, dtype, headDims[0], headDims[1]);
      if (!reason.empty()) {
        kernel.emitError() << "convert-attn-to-nvvm: " << reason;
        return signalPassFailure();
      }
      if (failed(GPUKernelBuilder(kernel, tiling, dtype).build(gpuModule)))
        return signalPassFailure();
      // A kernel that can split its kv range has a combine (one CTA per
      // work item, a thread per row).
      if (auto ref =
              dyn_cast_or_null<FlatSymbolRefAttr>(iface.get("combine"))) {
        auto combine = moduleOp.lookupSymbol<func::FuncOp>(ref.getValue());
        if (!combine) {
          kernel.emitError()
              << "convert-attn-to-nvvm: the combine " << ref << " is missing";
          return signalPassFailure();
        }
        if (failed(GPUKernelBuilder(combine, tiling, dtype)
                       .build(gpuModule, /*combine=*/true)))
          return signalPassFailure();
      }
    }
    // The host functions (kernels, combines) are replaced by the module.
    for (func::FuncOp func :
         llvm::to_vector(moduleOp.getBody()->getOps<func::FuncOp>()))
      func.erase();
    for (memref::GlobalOp global :
         llvm::to_vector(moduleOp.getBody()->getOps<memref::GlobalOp>()))
      global.erase();
    // No libdevice (it is not linked, and its calls are slow): exp2 is one
    // MUFU instruction (ex2.approx.ftz), exp, log, log1p and tanh become
    // polynomials, fma, absf and floor the native fma.rn, abs and
    // cvt.rmi instructions.
    gpuModule.walk([&](math::Exp2Op exp2) {
      if (!exp2.getType().isF32())
        return;
      OpBuilder rewriter(exp2);
      auto call = LLVM::CallIntrinsicOp::create(
          rewriter, exp2.getLoc(), exp2.getType(),
          rewriter.getStringAttr("llvm.nvvm.ex2.approx.ftz.f32"),
          ValueRange{exp2.getOperand()});
      exp2.replaceAllUsesWith(call.getResult(0));
      exp2.erase();
    });
    // tanh (softcap) is one MUFU instruction too (tanh.approx, sm_75 on).
    gpuModule.walk([&](math::TanhOp tanh) {
      if (!tanh.getType().isF32())
        return;
      OpBuilder rewriter(tanh);
      // llvm.tanh with afn selects tanh.approx.f32 in the NVPTX backend.
      auto call = LLVM::CallIntrinsicOp::create(
          rewriter, tanh.getLoc(), TypeRange{tanh.getType()},
          rewriter.getStringAttr("llvm.tanh.f32"),
          ValueRange{tanh.getOperand()},
          LLVM::FastmathFlagsAttr::get(rewriter.getContext(),
                                       LLVM::FastmathFlags::afn));
      tanh.replaceAllUsesWith(call.getResult(0));
      tanh.erase();
    });
    RewritePatternSet patterns(&getContext());
    populateApproximateMathPatterns(patterns, /*expandExp2=*/false);
    if (failed(applyPatternsGreedily(gpuModule, std::move(patterns))))
      return signalPassFailure();
    gpuModule.walk([&](Operation *op) {
      OpBuilder rewriter(op);
      Value native;
      if (auto fma = dyn_cast<math::FmaOp>(op))
        native = LLVM::FMAOp::create(rewriter, fma.getLoc(), fma.getA(),
                                     fma.getB(), fma.getC());
      else if (isa<math::AbsFOp, math::FloorOp>(op) &&
               op->getResult(0).getType().isF32())
        // As intrinsic calls: convert-gpu-to-nvvm sends llvm.intr.fabs and
        // llvm.intr.floor to libdevice.
        native =
            LLVM::CallIntrinsicOp::create(
                rewriter, op->getLoc(), op->getResult(0).getType(),
                rewriter.getStringAttr(
                    isa<math::AbsFOp>(op) ? "llvm.fabs.f32" : "llvm.floor.f32"),
                op->getOperands())
                .getResult(0);
      if (!native)
        return;
      op->replaceAllUsesWith(ValueRange{native});
      op->erase();
    });
  }
};
} // namespace
