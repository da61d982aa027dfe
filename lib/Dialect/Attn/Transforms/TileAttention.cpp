//===- TileAttention.cpp - attn.attention to the tile level ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Builds the target-neutral flash loop of one work item (see attn-tile in
// Transforms/Passes.td): the work decomposition, the views of the tensors,
// the kv-tile iteration that the mask analysis allows and the attn.tile ops.
//
//===----------------------------------------------------------------------===//

#include "TileBuilder.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILEPASS
#include "attn/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value TileBuilder::loadInt(Value memref, ValueRange indices) {
  Value value = memref::LoadOp::create(b, memref, indices);
  return arith::IndexCastOp::create(b, b.getIndexType(), value);
}

Value TileBuilder::broadcastIndex(Value memref, int64_t dim, Value value) {
  Value size = memref::DimOp::create(b, memref, dim);
  Value isOne = cmp(arith::CmpIPredicate::eq, size, idx(1));
  return arith::SelectOp::create(b, isOne, idx(0), value);
}

Value TileBuilder::view(Value tensor, Value bIdx, Value s0, Value len, Value h,
                        int64_t heads) {
  // q, k, v and out are [B, L, H, D] (bshd), [B, H, L, D] (bhsd) or packed
  // [tokens, H, D] (ragged storage, where s0 is a token and bIdx unused).
  auto type = cast<MemRefType>(tensor.getType());
  int64_t dim = type.getShape().back();
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  OpFoldResult width = b.getIndexAttr(dim), count = b.getIndexAttr(heads);
  SmallVector<OpFoldResult> offsets, sizes;
  bool headMajor = false;
  if (type.getRank() == 3) {
    offsets = {s0, h, zero};
    sizes = {len, count, width};
  } else if (layout == Layout::bhsd) {
    offsets = {bIdx, h, s0, zero};
    sizes = {one, count, len, width};
    headMajor = heads > 1;
  } else {
    offsets = {bIdx, s0, h, zero};
    sizes = {one, len, count, width};
  }
  SmallVector<int64_t> shape = {ShapedType::kDynamic, dim};
  if (heads > 1)
    shape = headMajor ? SmallVector<int64_t>{heads, ShapedType::kDynamic, dim}
                      : SmallVector<int64_t>{ShapedType::kDynamic, heads, dim};
  SmallVector<OpFoldResult> strides(offsets.size(), one);
  auto viewType = memref::SubViewOp::inferRankReducedResultType(
      shape, type, offsets, sizes, strides);
  Value result =
      memref::SubViewOp::create(b, viewType, tensor, offsets, sizes, strides);
  if (headMajor) // [heads, len, D] to position-major rows
    result = memref::TransposeOp::create(
        b, result,
        AffineMapAttr::get(AffineMap::getPermutationMap(
            ArrayRef<unsigned>{1, 0, 2}, b.getContext())));
  return result;
}

Value TileBuilder::queryView(Value tensor) {
  Value first = storage == KVStorage::ragged
                    ? arith::AddIOp::create(b, qBase, q0).getResult()
                    : q0;
  return view(tensor, batch, first, positions, head, group);
}

Value TileBuilder::lseView() {
  // lse: [B, Hq, Lq], or [Hq, tokens] with ragged storage.
  bool ragged = storage == KVStorage::ragged;
  OpFoldResult one = b.getIndexAttr(1);
  OpFoldResult heads = b.getIndexAttr(group);
  Value first = ragged ? arith::AddIOp::create(b, qBase, q0).getResult() : q0;
  SmallVector<OpFoldResult> offsets, sizes;
  if (ragged) {
    offsets = {head, first};
    sizes = {heads, positions};
  } else {
    offsets = {batch, head, first};
    sizes = {one, heads, positions};
  }
  SmallVector<OpFoldResult> strides(offsets.size(), one);
  SmallVector<int64_t> shape = {ShapedType::kDynamic};
  if (group > 1)
    shape = {group, ShapedType::kDynamic};
  auto type = memref::SubViewOp::inferRankReducedResultType(
      shape, cast<MemRefType>(lse.getType()), offsets, sizes, strides);
  Value result =
      memref::SubViewOp::create(b, type, lse, offsets, sizes, strides);
  if (group > 1) // [group, positions] to the rows' [positions, group]
    result = memref::TransposeOp::create(
        b, result,
        AffineMapAttr::get(AffineMap::getPermutationMap(
            ArrayRef<unsigned>{1, 0}, b.getContext())));
  return result;
}

Value TileBuilder::keyView(Value tensor, Value k0, Value cols) {
  if (storage == KVStorage::ragged)
    return view(tensor, batch, arith::AddIOp::create(b, kvBase, k0), cols,
                kvHead);
  if (storage == KVStorage::paged) {
    // Key k0 is slot k0 % page_size of page block_table[b, k0 / page_size].
    Value page = loadInt(operands.lookup(OperandKind::block_table),
                         {batch, arith::DivUIOp::create(b, k0, idx(pageSize))});
    Value slot = arith::RemUIOp::create(b, k0, idx(pageSize));
    return view(tensor, page, slot, cols, kvHead);
  }
  return view(tensor, batch, k0, cols, kvHead);
}

void TileBuilder::emitWorkItem(Value item) {
  unsigned seqAxis = layout == Layout::bhsd ? 2 : 1;
  Value cuQ = operands.lookup(OperandKind::cu_seqlens_q);
  Value cuKV = operands.lookup(OperandKind::cu_seqlens_kv);
  auto next = [&](Value i) { return arith::AddIOp::create(b, i, idx(1)); };
  // q tiles per (batch, head): of the longest sequence with ragged storage.
  Value numQTiles;
  if (storage == KVStorage::ragged) {
    Value numSeqs =
        arith::SubIOp::create(b, memref::DimOp::create(b, cuQ, 0), idx(1));
    Value maxLen =
        forLoopCarry(idx(0), numSeqs, 1, {idx(0)},
                     [&](Value s, ValueRange longest) -> SmallVector<Value> {
                       Value len = arith::SubIOp::create(
                           b, loadInt(cuQ, {next(s)}), loadInt(cuQ, {s}));
                       return {maxIndex(longest[0], len)};
                     })[0];
    numQTiles = arith::CeilDivSIOp::create(b, maxLen, idx(BQPositions));
  } else {
    numQTiles = arith::CeilDivSIOp::create(
        b, memref::DimOp::create(b, q, seqAxis), idx(BQPositions));
  }
  // Items are (batch, head group, q tile); a group is one head unless the
  // tile packs a GQA group.
  int64_t numGroups = Hq / group;
  qTile = arith::RemSIOp::create(b, item, numQTiles);
  Value bh = arith::DivSIOp::create(b, item, numQTiles);
  head = arith::RemSIOp::create(b, bh, idx(numGroups));
  if (group > 1)
    head = arith::MulIOp::create(b, head, idx(group));
  batch = arith::DivSIOp::create(b, bh, idx(numGroups));
  kvHead = arith::DivSIOp::create(b, head, idx(Hq / Hkv));
  // The item's sequence lengths.
  if (storage == KVStorage::ragged) {
    qBase = loadInt(cuQ, {batch});
    qLen = arith::SubIOp::create(b, loadInt(cuQ, {next(batch)}), qBase);
    kvBase = loadInt(cuKV, {batch});
    kvLen = arith::SubIOp::create(b, loadInt(cuKV, {next(batch)}), kvBase);
  } else {
    qLen = memref::DimOp::create(b, q, seqAxis);
    kvLen = storage == KVStorage::paged
                ? loadInt(operands.lookup(OperandKind::cache_seqlens), {batch})
                : memref::DimOp::create(b, k, seqAxis).getResult();
  }
  offset = arith::SubIOp::create(b, kvLen, qLen);
  q0 = arith::MulIOp::create(b, qTile, idx(BQPositions));
  positions = minIndex(idx(BQPositions), arith::SubIOp::create(b, qLen, q0));
  // Short sequences leave some q tiles of a ragged batch without rows.
  if (storage == KVStorage::ragged)
    positions = maxIndex(positions, idx(0));
  rows = group > 1 ? arith::MulIOp::create(b, positions, idx(group)).getResult()
                   : positions;
}

//===----------------------------------------------------------------------===//
// The loop
//===----------------------------------------------------------------------===//

FailureOr<Value> TileBuilder::emitScoreModOp(Value scores, Value k0,
                                             Value cols) {
  auto modOp = TileScoreModOp::create(b, scores.getType(), q0, k0, rows, cols,
                                      group, scores);
  OpBuilder::InsertionGuard guard(b);
  Type index = b.getIndexType();
  Block *body =
      b.createBlock(&modOp.getBody(), {}, {b.getF32Type(), index, index},
                    {op.getLoc(), op.getLoc(), op.getLoc()});
  // The modifiers see the scaled score.
  Value scaled = arith::MulFOp::create(b, body->getArgument(0),
                                       f32(op.getScaleOrDefault()));
  FailureOr<Value> s =
      emitScoreMods(scaled, body->getArgument(1), body->getArgument(2));
  if (failed(s))
    return failure();
  YieldOp::create(b, ValueRange{*s});
  return modOp->getResult(0);
}

FailureOr<Value> TileBuilder::emitMaskOp(Value scores, Value k0, Value cols) {
  if (vsColumns)
    prepareVerticalSlash(k0, cols);
  auto maskOp = TileMaskOp::create(b, scores.getType(), q0, k0, rows, cols,
                                   group, scores);
  OpBuilder::InsertionGuard guard(b);
  Type index = b.getIndexType();
  Block *body = b.createBlock(&maskOp.getBody(), {}, {index, index},
                              {op.getLoc(), op.getLoc()});
  FailureOr<Value> visible =
      emitMask(mask, body->getArgument(0), body->getArgument(1));
  if (failed(visible))
    return failure();
  YieldOp::create(b, ValueRange{*visible});
  return maskOp->getResult(0);
}

void TileBuilder::forOwnedTiles(Value lo, Value hi,
                                function_ref<void(Value)> body) {
  if (!splitCapable())
    return forLoopState(lo, hi, body);
  // The first kt >= lo with kt % S == c: lo + (c + S - lo % S) % S.
  Value offset = arith::RemUIOp::create(
      b,
      arith::AddIOp::create(
          b, chunk,
          arith::SubIOp::create(b, splits,
                                arith::RemUIOp::create(b, lo, splits))),
      splits);
  setState(forLoopCarry(arith::AddIOp::create(b, lo, offset), hi, splits,
                        state(), [&](Value kt, ValueRange carried) {
                          setState(carried);
                          body(kt);
                          return state();
                        }));
}

LogicalResult TileBuilder::emitKVTile(Value kt, FullTest isFull) {
  Value k0 = arith::MulIOp::create(b, kt, idx(BK));
  Value cols = minIndex(idx(BK), arith::SubIOp::create(b, kvLen, k0));
  Value kTile =
      TileLoadKOp::create(b, kEmpty.getType(), keyView(k, k0, cols), kEmpty)
          ->getResult(0);
  // V is loaded with K, so that a target can overlap its copy with Q K^T.
  Value vTile =
      TileLoadVOp::create(b, vEmpty.getType(), keyView(v, k0, cols), vEmpty)
          ->getResult(0);
  Value scores = TileQKOp::create(b, sEmpty.getType(), qTileValue, kTile, rows,
                                  cols, sEmpty)
                     ->getResult(0);
  if (hasScoreMods()) {
    FailureOr<Value> modded = emitScoreModOp(scores, k0, cols);
    if (failed(modded))
      return failure();
    scores = *modded;
  }
  // Mask code only where the tile is not known to be full.
  if (mask && isFull) {
    Value full = isFull(k0, arith::AddIOp::create(b, k0, cols));
    Value partial = arith::XOrIOp::create(b, full, boolean(true));
    LogicalResult result = success();
    scores = ifCarry(partial, scores, [&]() -> SmallVector<Value> {
      FailureOr<Value> masked = emitMaskOp(scores, k0, cols);
      if (failed(masked)) {
        result = failure();
        return {scores};
      }
      return {*masked};
    })[0];
    if (failed(result))
      return failure();
  }
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  // f32 weights overwrite their scores (normalize is element-wise).
  Value pInit = pEmpty.getType() == scores.getType() ? scores : pEmpty;
  auto normalize = TileNormalizeOp::create(
      b,
      TypeRange{pEmpty.getType(), rowMax.getType(), rowSum.getType(),
                alphaEmpty.getType()},
      scores, rows, normalizer, b.getF64FloatAttr(scoreScale), pInit, rowMax,
      rowSum, alphaEmpty);
  Value p = normalize->getResult(0), alpha = normalize->getResult(3);
  rowMax = normalize->getResult(1);
  rowSum = normalize->getResult(2);
  // Only the softmax family rescales the accumulator.
  acc = TilePVOp::create(b, acc.getType(), p, vTile,
                         normalizer.hasLse() ? alpha : Value(), rows, cols, acc)
            ->getResult(0);
  return success();
}

LogicalResult TileBuilder::emitListedBlocks(BlockSparseAttr sparse) {
  auto [indices, prefix, count] = blockListOf(sparse, q0);
  int64_t tilesPerBlock = sparse.getBlockKv() / BK;
  Value numTiles = arith::CeilDivSIOp::create(b, kvLen, idx(BK));
  LogicalResult result = success();
  forLoopState(idx(0), count, [&](Value j) {
    Value block = loadInt(indices, {prefix[0], prefix[1], prefix[2], j});
    Value firstTile = arith::MulIOp::create(b, block, idx(tilesPerBlock));
    Value endTile = minIndex(
        arith::AddIOp::create(b, firstTile, idx(tilesPerBlock)), numTiles);
    forOwnedTiles(firstTile, endTile, [&](Value kt) {
      if (failed(emitKVTile(kt, nullptr)))
        result = failure();
    });
  });
  return result;
}

LogicalResult TileBuilder::emitDisjunctTiles(
    ArrayRef<SmallVector<MaskAttrInterface>> disjuncts) {
  SmallVector<std::pair<Value, Value>> ranges;
  for (const SmallVector<MaskAttrInterface> &parts : disjuncts) {
    Value lo, hi;
    kvTileBounds(parts, lo, hi);
    ranges.push_back({lo, hi});
  }
  auto isFull = [&](Value k0, Value k1) {
    Value full = boolean(false);
    for (const SmallVector<MaskAttrInterface> &parts : disjuncts)
      full = arith::OrIOp::create(b, full, tileIsFull(parts, k0, k1));
    return full;
  };
  LogicalResult result = success();
  for (auto [i, range] : llvm::enumerate(ranges)) {
    forOwnedTiles(range.first, range.second, [&](Value kt) {
      // A tile in an earlier disjunct's range was visited there.
      Value seen = boolean(false);
      for (auto [lo, hi] : ArrayRef(ranges).take_front(i)) {
        Value after = cmp(arith::CmpIPredicate::sge, kt, lo);
        Value before = cmp(arith::CmpIPredicate::slt, kt, hi);
        seen = arith::OrIOp::create(b, seen,
                                    arith::AndIOp::create(b, after, before));
      }
      ifState(arith::XOrIOp::create(b, seen, boolean(true)), [&] {
        if (failed(emitKVTile(kt, isFull)))
          result = failure();
      });
    });
  }
  return result;
}

void TileBuilder::emitFinalize() {
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  auto finalize = [&] {
    Value outView = queryView(out);
    Value lseRows = lse ? lseView() : Value();
    Value sink;
    if (normalizer.getKind() == NormalizerKind::softmax_with_sink)
      sink = loadF32(operands.lookup(OperandKind::sink), {head});
    TileFinalizeOp::create(b, acc, rowMax, rowSum, outView, lseRows, sink,
                           normalizer, b.getF64FloatAttr(scoreScale));
  };
  if (!splitCapable())
    return finalize();
  // One chunk writes the output itself; a split writes the chunk's partial
  // (out, lse) rows for the combine: the plain softmax of its keys (a sink
  // joins once, in the combine), or the unnormalized sum.
  auto ifOp = scf::IfOp::create(
      b, cmp(arith::CmpIPredicate::eq, splits, idx(1)), /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  finalize();
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  auto [partialRows, partialLseRows] = partialViews(partialItem);
  NormalizerAttr partial =
      normalizer.hasLse()
          ? NormalizerAttr::get(b.getContext(), NormalizerKind::softmax,
                                llvm::APFloat(0.0))
          : normalizer;
  TileFinalizeOp::create(b, acc, rowMax, rowSum, partialRows, partialLseRows,
                         Value(), partial, b.getF64FloatAttr(scoreScale));
}

std::pair<Value, Value> TileBuilder::partialViews(Value partial) {
  // partial_out [items x splits, rows, Dv], partial_lse [items x splits,
  // rows]: the tile rows of one chunk, row for row.
  OpFoldResult one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  auto view = [&](Value buffer, SmallVector<int64_t> shape,
                  SmallVector<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> offsets(sizes.size(), zero);
    offsets[0] = partial;
    SmallVector<OpFoldResult> strides(sizes.size(), one);
    auto type = memref::SubViewOp::inferRankReducedResultType(
        shape, cast<MemRefType>(buffer.getType()), offsets, sizes, strides);
    return memref::SubViewOp::create(b, type, buffer, offsets, sizes, strides)
        .getResult();
  };
  Value rowsOut = view(partialOut, {ShapedType::kDynamic, Dv},
                       {one, rows, b.getIndexAttr(Dv)});
  Value rowsLse = partialLse
                      ? view(partialLse, {ShapedType::kDynamic}, {one, rows})
                      : Value();
  return {rowsOut, rowsLse};
}

Value TileBuilder::bindArguments(ArrayRef<Value> args) {
  layout = op.getLayout();
  storage = op.getKvStorage();
  pageSize = getPageSize(op);
  ProblemShape shape = op.getProblemShape();
  D = shape.headDimQK;
  Dv = shape.headDimV;
  Hq = shape.numQHeads;
  Hkv = shape.numKVHeads;
  BQ = tiling.getRows();
  BK = tiling.getBlockKv();
  group = tiling.getHeadGroup();
  BQPositions = tiling.getQueryPositions();
  mask = op.getMaskAttr();

  // Arguments: q, k, v, optional operands (OperandKind order), [tile_kinds],
  // out, [lse], [partial_out, [partial_lse]], splits, item.
  unsigned next = 0;
  q = args[next++];
  k = args[next++];
  v = args[next++];
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (op.getOptionalOperand(kind))
      operands[kind] = args[next++];
  }
  if (tiling.usesTileTable())
    tileKinds = args[next++];
  out = args[next++];
  if (op.getLse())
    lse = args[next++];
  if (splitCapable()) {
    partialOut = args[next++];
    if (op.getNormalizerOrDefault().hasLse())
      partialLse = args[next++];
  }
  splits = args[next++];
  return args[next++];
}

LogicalResult TileBuilder::build(func::FuncOp kernel, ArrayRef<Value> args) {
  Value item = bindArguments(args);
  // A split kernel's item is (base item, kv chunk): chunk c of S visits
  // the kv tiles kt with kt % S == c (see forOwnedTiles).
  if (splitCapable()) {
    chunk = arith::RemUIOp::create(b, item, splits);
    partialItem = item;
    item = arith::DivUIOp::create(b, item, splits);
  }

  // The tiles, empty at the entry (bufferization makes each one buffer per
  // work item): Q, K, V and P in the input dtype, the rest in f32.
  auto f32Type = b.getF32Type();
  Type dtype = cast<ShapedType>(op.getQ().getType()).getElementType();
  auto tile = [&](ArrayRef<int64_t> shape, Type type) -> Value {
    return tensor::EmptyOp::create(b, shape, type);
  };
  Value qEmpty = tile({BQ, D}, dtype);
  kEmpty = tile({BK, D}, dtype);
  vEmpty = tile({BK, Dv}, dtype);
  sEmpty = tile({BQ, BK}, f32Type);
  pEmpty = tile({BQ, BK}, dtype);
  alphaEmpty = tile({BQ}, f32Type);
  Value accEmpty = tile({BQ, Dv}, f32Type);
  Value maxEmpty = tile({BQ}, f32Type), sumEmpty = tile({BQ}, f32Type);
  scoreScale = hasScoreMods() ? 1.0 : op.getScaleOrDefault();
  bool hasVerticalSlash = false;
  if (mask)
    mask.walk([&](VerticalSlashAttr) { hasVerticalSlash = true; });
  if (hasVerticalSlash) {
    Type i8 = b.getI8Type();
    vsColumns = memref::AllocaOp::create(b, MemRefType::get({BK}, i8));
    vsDiagonals =
        memref::AllocaOp::create(b, MemRefType::get({BQPositions + BK}, i8));
  }

  emitWorkItem(item);

  // Standard ALiBi slopes, when used, as a constant table.
  if (ArrayAttr mods = op.getScoreModsAttr())
    for (Attribute mod : mods)
      if (auto alibi = dyn_cast<AlibiAttr>(mod);
          alibi && alibi.getSlopes() == SlopeSource::standard && !alibiTable) {
        auto tableType = MemRefType::get({Hq}, f32Type);
        std::string name = (kernel.getName() + "_alibi_slopes").str();
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(kernel);
          SmallVector<float> slopes;
          for (double slope : AlibiAttr::getStandardSlopes(Hq))
            slopes.push_back(static_cast<float>(slope));
          auto init = DenseElementsAttr::get(
              RankedTensorType::get({Hq}, f32Type), ArrayRef<float>(slopes));
          memref::GlobalOp::create(b, name, b.getStringAttr("private"),
                                   tableType, init, /*constant=*/true,
                                   /*alignment=*/IntegerAttr());
        }
        alibiTable = memref::GetGlobalOp::create(b, tableType, name);
      }

  // A ragged batch's short sequences leave some items without rows.
  scf::IfOp hasRows;
  if (storage == KVStorage::ragged) {
    hasRows = scf::IfOp::create(b, cmp(arith::CmpIPredicate::sgt, rows, idx(0)),
                                /*withElseRegion=*/false);
    b.setInsertionPointToStart(&hasRows.getThenRegion().front());
  }
  qTileValue = TileLoadQOp::create(b, qEmpty.getType(), queryView(q), qEmpty)
                   ->getResult(0);
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  setState(TileInitOp::create(b,
                              TypeRange{maxEmpty.getType(), sumEmpty.getType(),
                                        accEmpty.getType()},
                              rows, normalizer, maxEmpty, sumEmpty, accEmpty)
               ->getResults());

  LogicalResult result = success();
  switch (tiling.getKvTiles()) {
  case KVTileWalk::listed_blocks:
    result = emitListedBlocks(cast<BlockSparseAttr>(mask));
    break;
  case KVTileWalk::disjuncts:
    result = emitDisjunctTiles(*boundedDisjuncts(mask));
    break;
  case KVTileWalk::bounds:
  case KVTileWalk::vertical_slash:
  case KVTileWalk::tile_table: {
    SmallVector<MaskAttrInterface> parts = conjuncts(mask);
    Value lo, hi;
    kvTileBounds(parts, lo, hi);
    auto isFull = [&](Value k0, Value k1) { return tileIsFull(parts, k0, k1); };
    forOwnedTiles(lo, hi, [&](Value kt) {
      if (tiling.getKvTiles() == KVTileWalk::vertical_slash) {
        // Only tiles that a listed vertical key or diagonal reaches.
        Value k0 = arith::MulIOp::create(b, kt, idx(BK));
        Value k1 = minIndex(arith::AddIOp::create(b, k0, idx(BK)), kvLen);
        ifState(verticalSlashHits(k0, k1),
                [&] { result = emitKVTile(kt, isFull); });
        return;
      }
      if (!tileKinds) {
        result = emitKVTile(kt, isFull);
        return;
      }
      // The runtime classified every tile: skip the empty ones, and run the
      // mask code on partial ones only.
      SmallVector<Value, 4> at = batchHeadIndices(tileKinds);
      at.append({qTile, kt});
      Value kind = loadInt(tileKinds, at);
      ifState(cmp(arith::CmpIPredicate::ne, kind, idx(0)), [&] {
        result = emitKVTile(kt, [&](Value, Value) {
          return cmp(arith::CmpIPredicate::eq, kind, idx(1));
        });
      });
    });
    break;
  }
  }
  if (failed(result))
    return failure();
  emitFinalize();
  if (hasRows)
    b.setInsertionPointAfter(hasRows);
  func::ReturnOp::create(b);
  return success();
}

//===----------------------------------------------------------------------===//
// The function and the pass
//===----------------------------------------------------------------------===//

/// The memref type a kernel takes for a tensor operand: the same shape,
/// strides given at run time, the innermost dimension contiguous for q/k/v/out.
static MemRefType kernelMemRefType(RankedTensorType type, bool innerUnit) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  if (innerUnit && !strides.empty())
    strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides);
  return MemRefType::get(type.getShape(), type.getElementType(), layout);
}

/// The parameter record of the manifest: name, tensor type (dtype and
/// shape, -1 for sizes given at run time), whether the innermost dimension
/// must be contiguous, and whether the runtime fills it itself.
static DictionaryAttr paramRecord(Builder &b, StringRef name, Type type,
                                  bool innerContiguous, bool internal) {
  return b.getDictionaryAttr(
      {b.getNamedAttr("name", b.getStringAttr(name)),
       b.getNamedAttr("type", TypeAttr::get(type)),
       b.getNamedAttr("inner_contiguous", b.getBoolAttr(innerContiguous)),
       b.getNamedAttr("internal", b.getBoolAttr(internal))});
}

/// One parameter of a kernel, in call order.
struct KernelParam {
  StringRef name;
  Type type;                    ///< the tensor type (dtype, static sizes)
  bool innerContiguous = false; ///< the innermost stride must be 1
  bool internal = false;        ///< the runtime fills it itself
};

/// The kernel's parameters in call order: q, k, v, the optional operands
/// (OperandKind order), [tile_kinds], out, [lse], [partial_out,
/// [partial_lse]]. The signature and the manifest's record both come from
/// this list; TileBuilder::bindArguments reads the arguments in it.
static SmallVector<KernelParam> kernelParams(AttentionOp op,
                                             TilingAttr tiling) {
  MLIRContext *ctx = op.getContext();
  SmallVector<KernelParam> params = {{"q", op.getQ().getType(), true},
                                     {"k", op.getK().getType(), true},
                                     {"v", op.getV().getType(), true}};
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (Value operand = op.getOptionalOperand(kind))
      params.push_back({stringifyOperandKind(kind), operand.getType()});
  }
  int64_t dynamic = ShapedType::kDynamic;
  Type f32 = Float32Type::get(ctx);
  if (tiling.usesTileTable())
    params.push_back({"tile_kinds",
                      RankedTensorType::get(SmallVector<int64_t>(4, dynamic),
                                            IntegerType::get(ctx, 32)),
                      false, /*internal=*/true});
  params.push_back({"out", op.getOut().getType(), true});
  if (Value lse = op.getLse())
    params.push_back({"lse", lse.getType()});
  // A kernel that can split its kv range writes each chunk's rows into
  // partial buffers the runtime allocates; the combine merges them.
  if (tiling.getSplitKv() != 1) {
    params.push_back(
        {"partial_out",
         RankedTensorType::get(
             {dynamic, dynamic, op.getProblemShape().headDimV}, f32),
         true, /*internal=*/true});
    if (op.getNormalizerOrDefault().hasLse())
      params.push_back({"partial_lse",
                        RankedTensorType::get({dynamic, dynamic}, f32), false,
                        /*internal=*/true});
  }
  return params;
}

/// What the kernel of `op` is, for the manifest: the problem it solves and
/// its parameters in call order. Recorded on the kernel function (as
/// `attn.interface`, beside `attn.tiling`) so that the manifest is written
/// from the lowered module.
static DictionaryAttr kernelInterface(AttentionOp op,
                                      ArrayRef<KernelParam> kernelParams,
                                      StringRef combineEntry) {
  Builder b(op.getContext());
  SmallVector<Attribute> params;
  for (const KernelParam &p : kernelParams)
    params.push_back(
        paramRecord(b, p.name, p.type, p.innerContiguous, p.internal));
  ProblemShape shape = op.getProblemShape();
  SmallVector<NamedAttribute> fields = {
      b.getNamedAttr("layout", op.getLayoutAttr()),
      b.getNamedAttr("kv_storage", op.getKvStorageAttr()),
      b.getNamedAttr(
          "heads", b.getDenseI64ArrayAttr({shape.numQHeads, shape.numKVHeads})),
      b.getNamedAttr("head_dims",
                     b.getDenseI64ArrayAttr({shape.headDimQK, shape.headDimV})),
      b.getNamedAttr("normalizer", op.getNormalizerOrDefault()),
      b.getNamedAttr("params", b.getArrayAttr(params))};
  if (MaskAttrInterface mask = op.getMaskAttr())
    fields.push_back(b.getNamedAttr("mask", mask));
  if (ArrayAttr mods = op.getScoreModsAttr())
    fields.push_back(b.getNamedAttr("score_mods", mods));
  if (!combineEntry.empty())
    fields.push_back(b.getNamedAttr(
        "combine", FlatSymbolRefAttr::get(b.getContext(), combineEntry)));
  return b.getDictionaryAttr(fields);
}

LogicalResult mlir::attn::tileAttentionFunc(func::FuncOp func) {
  Block &body = func.getBody().front();
  auto op = dyn_cast<AttentionOp>(body.front());
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!op || !ret || body.getOperations().size() != 2 ||
      llvm::any_of(op->getOperands(),
                   [](Value v) { return !isa<BlockArgument>(v); }) ||
      ret->getOperands() != op->getResults())
    return func.emitError()
           << "attn-tile expects a function whose body is one attn.attention "
              "on the function's arguments, returning its results (as "
              "attn-compile imports a spec)";
  TilingAttr tiling = op.getTilingAttr();
  if (!tiling)
    return op.emitOpError()
           << "has no #attn.tiling; run attn-schedule before attn-tile";

  // The kernel's signature: the tensors as strided memrefs, then the
  // number of kv chunks of the launch and the work item.
  SmallVector<KernelParam> params = kernelParams(op, tiling);
  SmallVector<Type> argTypes;
  for (const KernelParam &p : params)
    argTypes.push_back(
        kernelMemRefType(cast<RankedTensorType>(p.type), p.innerContiguous));
  OpBuilder builder(func);
  argTypes.push_back(builder.getIndexType());
  argTypes.push_back(builder.getIndexType());

  bool split = tiling.getSplitKv() != 1;
  std::string combineName =
      split ? (func.getName() + "_combine").str() : std::string();
  auto kernel = func::FuncOp::create(builder, func.getLoc(), func.getName(),
                                     builder.getFunctionType(argTypes, {}));
  kernel.setVisibility(func.getVisibility());
  kernel->setAttr("attn.tiling", tiling);
  kernel->setAttr("attn.interface", kernelInterface(op, params, combineName));
  Block *entry = kernel.addEntryBlock();
  SmallVector<Value> args(entry->getArguments());
  TileBuilder tb(op, kernel, tiling);
  if (failed(tb.build(kernel, args))) {
    kernel.erase();
    return failure();
  }
  if (split) {
    // The combine takes the kernel's arguments; its items are the kernel's
    // items without the chunk.
    auto combine = func::FuncOp::create(builder, func.getLoc(), combineName,
                                        builder.getFunctionType(argTypes, {}));
    combine.setVisibility(func.getVisibility());
    Block *combineEntry = combine.addEntryBlock();
    TileBuilder(op, combine, tiling)
        .buildCombine(SmallVector<Value>(combineEntry->getArguments()));
  }
  func.erase();
  return success();
}

namespace {
struct AttnTilePass final : mlir::attn::impl::AttnTilePassBase<AttnTilePass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs;
    getOperation().walk([&](func::FuncOp func) {
      if (!func.isExternal() &&
          llvm::any_of(func.getBody().front(),
                       [](Operation &o) { return isa<AttentionOp>(o); }))
        funcs.push_back(func);
    });
    for (func::FuncOp func : funcs)
      if (failed(tileAttentionFunc(func)))
        return signalPassFailure();
  }
};
} // namespace
