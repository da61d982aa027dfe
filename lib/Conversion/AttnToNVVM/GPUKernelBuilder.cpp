//===- GPUKernelBuilder.cpp - One tile-level kernel as a gpu.func ---------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The lowering of one kernel of the tile level (the tensor form attn-tile
// builds) to a gpu.func: one CTA per work item, one warp per 16 tile rows,
// mma.sync m16n8k16 on bf16/f16 fragments; see convert-attn-to-nvvm in
// Conversion/Passes.td.
//
// The tile values become per-thread values: Q, K and V tiles live in
// (swizzled) shared memory, scores, weights, the accumulator and the row
// state in registers in the mma C-fragment layout: element e of n-tile nt
// of lane l in warp w sits at row 16 w + l / 4 + 8 (e / 2) and column
// 8 nt + 2 (l % 4) + e % 2. A row-state tile holds its thread's two rows (the
// row sums as the lane's partial sums, which finalize adds over the quad).
//
//===----------------------------------------------------------------------===//

#include "GPUKernelBuilder.h"
#include "attn/Dialect/Attn/Utils/Normalizer.h"
#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/TypeSwitch.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

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
  issueCopy(view, tile);
  commitCopy(tile);
}

void GPUKernelBuilder::issueCopy(Value view, Value tile, bool barrier) {
  int64_t rows = dim(tile.getType(), 0), cols = dim(tile.getType(), 1);
  int64_t chunksPerRow = cols / 8;
  Value valid = viewRows(view);
  // Every thread is done with the tile's previous contents.
  if (barrier)
    gpu::BarrierOp::create(b);
  auto token = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  auto copyChunk = [&](Value row, Value chunk) {
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
  };
  int64_t chunks = rows * chunksPerRow;
  if (threads() % chunksPerRow == 0 && chunks % threads() == 0 &&
      chunks / threads() <= 16) {
    // Unrolled: thread t copies chunk t % chunksPerRow of rows
    // t / chunksPerRow + k threads / chunksPerRow, so that the copies issue
    // back to back from addresses computed once.
    Value firstRow = arith::DivUIOp::create(b, tid, idx(chunksPerRow));
    Value chunk = arith::RemUIOp::create(b, tid, idx(chunksPerRow));
    int64_t rowStep = threads() / chunksPerRow;
    for (int64_t k = 0; k < chunks / threads(); ++k)
      copyChunk(arith::AddIOp::create(b, firstRow, idx(k * rowStep)), chunk);
    return;
  }
  forLoop(tid, idx(chunks), threads(), [&](Value i) {
    copyChunk(arith::DivUIOp::create(b, i, idx(chunksPerRow)),
              arith::RemUIOp::create(b, i, idx(chunksPerRow)));
  });
}

void GPUKernelBuilder::commitCopy(Value tile) {
  auto token = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  lastGroup = nvgpu::DeviceAsyncCreateGroupOp::create(b, token, ValueRange{});
  pendingCopies.push_back(tile);
}

bool GPUKernelBuilder::waitFor(Value tile) {
  auto it = llvm::find(pendingCopies, tile);
  if (it == pendingCopies.end())
    return false;
  // Groups complete in order: the ones issued after this tile's may stay
  // in flight.
  int64_t after = std::distance(it, pendingCopies.end()) - 1;
  nvgpu::DeviceAsyncWaitOp::create(b, lastGroup, b.getI32IntegerAttr(after));
  gpu::BarrierOp::create(b);
  pendingCopies.erase(pendingCopies.begin(), it + 1);
  return true;
}

std::optional<GPUKernelBuilder::KPrefetch>
GPUKernelBuilder::planPrefetch(scf::ForOp loop) {
  Block *body = loop.getBody();
  TileLoadKOp load;
  bool pvAfter = false;
  for (Operation &op : *body) {
    if (auto k = dyn_cast<TileLoadKOp>(op)) {
      if (load)
        return std::nullopt; // two K tiles
      load = k;
    }
    pvAfter |= load && isa<TilePVOp>(op);
  }
  if (!load || !pvAfter)
    return std::nullopt;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.inclusive = true;
  options.filter = [&](Operation *op) { return op->getBlock() == body; };
  SetVector<Operation *> slice;
  if (failed(getBackwardSlice(load.getSource(), &slice, options)))
    return std::nullopt;
  KPrefetch plan;
  plan.load = load;
  plan.sourceIv = loop.getInductionVar();
  for (Operation *op : slice) {
    if (op->getNumRegions() || isa<AttnDialect>(op->getDialect()) ||
        !(isMemoryEffectFree(op) || isa<memref::LoadOp>(op)))
      return std::nullopt;
    // Only the induction variable may come from the loop's block
    // arguments: the carried state of the next iteration is not known.
    for (Value operand : op->getOperands())
      if (auto arg = dyn_cast<BlockArgument>(operand);
          arg && arg.getOwner() == body && arg != plan.sourceIv)
        return std::nullopt;
    plan.slice.push_back(op);
  }
  llvm::sort(plan.slice,
             [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  return plan;
}

void GPUKernelBuilder::prefetchK(KPrefetch &plan, Value iv, Value upper,
                                 bool barrier) {
  ifThen(cmp(arith::CmpIPredicate::slt, iv, upper), [&] {
    // The slice again, for `iv`; the current iteration's values stay
    // mapped.
    SmallVector<std::pair<Value, Value>> saved;
    auto remap = [&](Value from, Value to) {
      saved.push_back({from, map.lookupOrNull(from)});
      if (to)
        map.map(from, to);
    };
    remap(plan.sourceIv, iv);
    for (Operation *op : plan.slice) {
      for (Value result : op->getResults())
        remap(result, Value());
      (void)convertOp(*op);
    }
    issueCopy(lookup(plan.load.getSource()), plan.tile, barrier);
    for (auto &[from, to] : llvm::reverse(saved)) {
      if (to)
        map.map(from, to);
      else
        map.erase(from);
    }
  });
  // Unconditionally, so that the group count is the same on every path.
  commitCopy(plan.tile);
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
  if (prefetch && prefetch->load == op) {
    // Issued one iteration ahead (or by the loop's prologue).
    map.map(op->getResult(0), prefetch->tile);
    return;
  }
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
  // Columns from `cols` on are no keys: only a tile cut short (the last
  // one) tests them.
  SmallVector<Value> flat;
  for (int64_t nt = 0; nt < nTiles; ++nt)
    flat.append(s[nt].begin(), s[nt].end());
  Value scores = pack(flat);
  Value cols = lookup(op.getCols());
  Value shortTile = cmp(arith::CmpIPredicate::ult, cols, idx(blockKV));
  map.map(
      op->getResult(0), ifCarry(shortTile, scores, [&]() -> SmallVector<Value> {
        SmallVector<Value> cut;
        for (int64_t i = 0, e = flat.size(); i < e; ++i) {
          Value key =
              cmp(arith::CmpIPredicate::ult, fragmentCol(i / 4, i % 4), cols);
          cut.push_back(arith::SelectOp::create(b, key, flat[i], negInf()));
        }
        return {pack(cut)};
      })[0]);
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
    bool exactExp2 =
        norm::exp2CoefficientValue(scale) >= std::numeric_limits<float>::min();
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
          // ex2.approx(-inf) is 0: masked keys need no select, unless the
          // coefficient flushes to 0 (then -inf * 0 is NaN).
          p[i] = norm::weight(b, normalizer, s[i], scale, step.offset,
                              /*exactExp2=*/exactExp2);
          sum = arith::AddFOp::create(b, sum, p[i]);
        }
      // Each lane keeps the sum of its own columns; finalize adds the
      // quad's (the max above must be the row's at every step).
      newL.push_back(arith::AddFOp::create(
          b, arith::MulFOp::create(b, l[r], step.alpha), sum));
      newM.push_back(step.max);
      alpha.push_back(step.alpha);
    }
    maxState = pack(newM);
    sumState = pack(newL);
    alphas = pack(alpha);
  }
  // Pairs of weights round together (cvt.rn.bf16x2.f32): a pair is one
  // register of P V's A fragment.
  auto pairType = VectorType::get({2}, b.getF32Type());
  for (size_t i = 0; i < p.size(); i += 2) {
    Value pair =
        arith::TruncFOp::create(b, VectorType::get({2}, dtype),
                                vector::FromElementsOp::create(
                                    b, pairType, ValueRange{p[i], p[i + 1]}));
    p[i] = vector::ExtractOp::create(b, pair, 0);
    p[i + 1] = vector::ExtractOp::create(b, pair, 1);
  }
  map.map(op->getResult(0), pack(p));
  map.map(op->getResult(1), maxState);
  map.map(op->getResult(2), sumState);
  map.map(op->getResult(3), alphas);
}

void GPUKernelBuilder::lower(TilePVOp op) {
  SmallVector<Value> acc = unpack(lookup(op.getAcc()));
  SmallVector<Value> p = unpack(lookup(op.getP()));
  Value v = lookup(op.getV());
  bool synced = waitFor(v);
  // Every warp is past Q K^T: the next K tile may land while P V runs.
  if (prefetch && op->getBlock() == prefetch->load->getBlock() &&
      prefetch->load->isBeforeInBlock(op))
    prefetchK(*prefetch, arith::AddIOp::create(b, prefetch->iv, prefetch->step),
              prefetch->upper, /*barrier=*/!synced);
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
  // The row sums are kept per lane (see TileNormalizeOp): the row's is the
  // quad's total.
  for (Value &partial : l)
    partial = quadReduce(partial, /*max=*/false);
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
  Value upper = lookup(op.getUpperBound());
  // A kv loop prefetches its K tiles (the prologue issues the first).
  std::optional<KPrefetch> outer = std::move(prefetch);
  prefetch = planPrefetch(op);
  if (prefetch) {
    Type tileType = prefetch->load.getTile().getType();
    prefetch->tile = allocateShared(dim(tileType, 0), dim(tileType, 1));
    prefetchK(*prefetch, lb, upper, /*barrier=*/true);
  }
  auto loop = scf::ForOp::create(b, lb, upper, step, inits);
  if (prefetch) {
    prefetch->iv = loop.getInductionVar();
    prefetch->step = step;
    prefetch->upper = upper;
  }
  llvm::scope_exit restore([&] { prefetch = std::move(outer); });
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
  warps = tiling.getRows() / 16;
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
