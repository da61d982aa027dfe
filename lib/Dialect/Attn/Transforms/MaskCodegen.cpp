//===- MaskCodegen.cpp - Mask and score-modifier code of attn-tile --------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The element code of the tile level (whether a key is visible to a query,
// the modified score) and the kv-tile bounds and full-tile tests that let the
// flash loop skip tiles and mask code. Semantics: docs/spec.md.
//
//===----------------------------------------------------------------------===//

#include "TileBuilder.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"
#include <limits>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

template <typename CombineOp, typename ListAttr>
FailureOr<Value> TileBuilder::emitMaskList(ListAttr list, Value qi, Value ki) {
  Value result;
  for (MaskAttrInterface m : list.getOperands()) {
    FailureOr<Value> v = emitMask(m, qi, ki);
    if (failed(v))
      return failure();
    result = result ? CombineOp::create(b, result, *v).getResult() : *v;
  }
  return result;
}

Value TileBuilder::anyMatch(Value memref, ArrayRef<Value> prefix, Value count,
                            function_ref<Value(Value)> matches) {
  Value init = arith::ConstantOp::create(b, b.getBoolAttr(false));
  return forLoopCarry(
      idx(0), count, 1, init,
      [&](Value j, ValueRange found) -> SmallVector<Value> {
        SmallVector<Value> indices(prefix);
        indices.push_back(j);
        Value element = loadInt(memref, indices);
        return {arith::OrIOp::create(b, found[0], matches(element))};
      })[0];
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
TileBuilder::neighborhoodWindow(NeighborhoodAttr hood, size_t d, Value qc) {
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
  Value last =
      arith::SubIOp::create(b, arith::AddIOp::create(b, start, size), idx(1));
  return {group, start, last};
}

Value TileBuilder::emitNeighborhood(NeighborhoodAttr hood, Value qi, Value ki) {
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

void TileBuilder::neighborhoodBounds(NeighborhoodAttr hood, Value &kLo,
                                     Value &kHi) {
  // Row-major order: a row's visible keys lie between the token of the
  // windows' first positions and the token of their last positions.
  ArrayRef<int64_t> grid = hood.getGrid();
  SmallVector<int64_t> strides = gridStrides(grid);
  SmallVector<Value> inits = {idx(std::numeric_limits<int64_t>::max()),
                              idx(std::numeric_limits<int64_t>::min())};
  SmallVector<Value> range = forLoopCarry(
      idx(0), positions, 1, inits,
      [&](Value i, ValueRange minMax) -> SmallVector<Value> {
        Value qi = arith::AddIOp::create(b, q0, i);
        Value first = idx(0), last = idx(0);
        for (size_t d = 0; d < grid.size(); ++d) {
          Value dil = idx(hood.getDilationAt(d));
          Value qc = arith::RemUIOp::create(
              b, arith::DivUIOp::create(b, qi, idx(strides[d])), idx(grid[d]));
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

TileBuilder::BlockList TileBuilder::blockListOf(BlockSparseAttr sparse,
                                                Value qi) {
  Value numBlocks = operands.lookup(OperandKind::kv_num_blocks);
  Value indices = operands.lookup(OperandKind::kv_indices);
  Value qb = arith::DivUIOp::create(b, qi, idx(sparse.getBlockQ()));
  SmallVector<Value, 4> countAt = batchHeadIndices(numBlocks);
  countAt.push_back(qb);
  SmallVector<Value, 4> rowAt = batchHeadIndices(indices);
  rowAt.push_back(qb);
  return {indices, rowAt, loadInt(numBlocks, countAt)};
}

FailureOr<Value> TileBuilder::emitMask(MaskAttrInterface m, Value qi,
                                       Value ki) {
  auto floorDiv = [&](Value a, int64_t c) {
    return arith::FloorDivSIOp::create(b, a, idx(c)).getResult();
  };
  return llvm::TypeSwitch<Attribute, FailureOr<Value>>(m)
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
        Value n =
            a.getLength()
                ? idx(*a.getLength())
                : loadInt(operands.lookup(OperandKind::prefix_len), {batch});
        return cmp(arith::CmpIPredicate::slt, ki, n);
      })
      .Case([&](DocumentAttr a) -> FailureOr<Value> {
        if (a.getSource() == DocumentSource::ids) {
          Value docQ = operands.lookup(OperandKind::doc_q);
          Value docKV = operands.lookup(OperandKind::doc_kv);
          // Ragged storage packs the ids per token like q and k.
          Value dq = storage == KVStorage::ragged
                         ? loadInt(docQ, {arith::AddIOp::create(b, qBase, qi)})
                         : loadInt(docQ, {batch, qi});
          Value dk =
              storage == KVStorage::ragged
                  ? loadInt(docKV, {arith::AddIOp::create(b, kvBase, ki)})
                  : loadInt(docKV, {batch, ki});
          return cmp(arith::CmpIPredicate::eq, dq, dk);
        }
        // The document of a token: the d with cu[b, d] <= t < cu[b, d + 1].
        auto documentOf = [&](Value cu, Value t, int64_t outside) {
          Value bounds = memref::DimOp::create(b, cu, 1);
          Value last = arith::SubIOp::create(b, bounds, idx(1));
          return forLoopCarry(
              idx(0), last, 1, idx(outside),
              [&](Value d, ValueRange found) -> SmallVector<Value> {
                Value lo = loadInt(cu, {batch, d});
                Value hi =
                    loadInt(cu, {batch, arith::AddIOp::create(b, d, idx(1))});
                Value in = arith::AndIOp::create(
                    b, cmp(arith::CmpIPredicate::sle, lo, t),
                    cmp(arith::CmpIPredicate::slt, t, hi));
                Value unset =
                    cmp(arith::CmpIPredicate::eq, found[0], idx(outside));
                return {arith::SelectOp::create(
                    b, arith::AndIOp::create(b, in, unset), d, found[0])};
              })[0];
        };
        Value dq =
            documentOf(operands.lookup(OperandKind::cu_seqlens_q), qi, -1);
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
        if (vsColumns) {
          // The tile's listed columns and diagonals (prepareVerticalSlash).
          auto isSet = [&](Value buffer, Value index) {
            Value flag = memref::LoadOp::create(b, buffer, index);
            Value zero = arith::ConstantOp::create(b, b.getI8IntegerAttr(0));
            return arith::CmpIOp::create(b, arith::CmpIPredicate::ne, flag,
                                         zero)
                .getResult();
          };
          Value column = arith::SubIOp::create(b, ki, vsK0);
          Value diagonal = arith::SubIOp::create(
              b, arith::SubIOp::create(b, p, ki), vsDiagMin);
          Value inVertical = isSet(vsColumns, column);
          Value inSlash = isSet(vsDiagonals, diagonal);
          return arith::OrIOp::create(b, inVertical, inSlash).getResult();
        }
        Value inVertical = anyMatch(
            vert, batchHeadIndices(vert), memref::DimOp::create(b, vert, 2),
            [&](Value e) { return cmp(arith::CmpIPredicate::eq, e, ki); });
        Value diag = arith::SubIOp::create(b, p, ki);
        Value inSlash = anyMatch(
            slash, batchHeadIndices(slash), memref::DimOp::create(b, slash, 2),
            [&](Value e) { return cmp(arith::CmpIPredicate::eq, e, diag); });
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
        return op.emitOpError() << "mask " << m << " cannot be tiled yet";
      });
}

FailureOr<Value> TileBuilder::emitScoreMods(Value s, Value qi, Value ki) {
  if (!hasScoreMods())
    return s;
  for (Attribute mod : op.getScoreModsAttr()) {
    if (auto softcap = dyn_cast<SoftcapAttr>(mod)) {
      Value cap = f32(softcap.getCap().convertToDouble());
      Value t = math::TanhOp::create(b, arith::DivFOp::create(b, s, cap));
      s = arith::MulFOp::create(b, cap, t);
    } else if (auto alibi = dyn_cast<AlibiAttr>(mod)) {
      Value slope =
          alibi.getSlopes() == SlopeSource::operand
              ? loadF32(operands.lookup(OperandKind::alibi_slopes), {head})
              : loadF32(alibiTable, {head});
      Value p = aligned(qi, false);
      // |p - k| as max(p - k, k - p): math.absi on index has no lowering
      // on every target.
      Value absDist = maxIndex(arith::SubIOp::create(b, p, ki),
                               arith::SubIOp::create(b, ki, p));
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
        indices.push_back(broadcastIndex(memref, dim, value));
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
      return op.emitOpError()
             << "score modifier " << mod << " cannot be tiled yet";
    }
  }
  return s;
}

void TileBuilder::kvTileBounds(ArrayRef<MaskAttrInterface> parts, Value &lo,
                               Value &hi) {
  // Keys in [kLo, kHi] can be visible to the tile's queries
  // [q0, q0 + positions).
  Value qFirst = q0;
  Value qLast =
      arith::SubIOp::create(b, arith::AddIOp::create(b, q0, positions), idx(1));
  Value kLo = idx(0);
  Value kHi = arith::SubIOp::create(b, kvLen, idx(1));
  for (MaskAttrInterface m : parts) {
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
          b, arith::FloorDivSIOp::create(b, aligned(qLast, false), size), size);
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
  Value hiTile =
      arith::AddIOp::create(b, arith::FloorDivSIOp::create(b, kHi, bk), idx(1));
  hi = maxIndex(lo, hiTile);
  hi = arith::SelectOp::create(b, cmp(arith::CmpIPredicate::slt, kHi, kLo), lo,
                               hi);
}

Value TileBuilder::tileIsFull(ArrayRef<MaskAttrInterface> parts, Value k0,
                              Value k1) {
  // Every pair of [q0, q0 + positions) x [k0, k1) is visible when every
  // conjunct holds for the extreme pairs; causal, sliding-window, sinks,
  // chunked and constant prefix conjuncts are understood.
  Value full = arith::ConstantOp::create(b, b.getBoolAttr(true));
  Value qFirst = q0;
  Value qLast =
      arith::SubIOp::create(b, arith::AddIOp::create(b, q0, positions), idx(1));
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
    } else if (auto prefix = dyn_cast<PrefixLMAttr>(m);
               prefix && prefix.getLength()) {
      holds = cmp(arith::CmpIPredicate::slt, kLast, idx(*prefix.getLength()));
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
              b,
              cmp(arith::CmpIPredicate::eq, c, chunkOf(aligned(qLast, false))),
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

Value TileBuilder::verticalSlashHits(Value k0, Value k1) {
  Value vert = operands.lookup(OperandKind::vertical);
  Value slash = operands.lookup(OperandKind::slash);
  // A vertical key inside [k0, k1).
  Value anyVertical =
      anyMatch(vert, batchHeadIndices(vert), memref::DimOp::create(b, vert, 2),
               [&](Value e) {
                 Value after = cmp(arith::CmpIPredicate::sge, e, k0);
                 Value before = cmp(arith::CmpIPredicate::slt, e, k1);
                 return arith::AndIOp::create(b, after, before).getResult();
               });
  // A diagonal p - k = s whose keys for the tile's positions
  // [pFirst - s, pLast - s] meet [k0, k1).
  Value pFirst = aligned(q0, false);
  Value pLast = aligned(
      arith::SubIOp::create(b, arith::AddIOp::create(b, q0, positions), idx(1)),
      false);
  Value kLast = arith::SubIOp::create(b, k1, idx(1));
  Value anySlash =
      anyMatch(slash, batchHeadIndices(slash),
               memref::DimOp::create(b, slash, 2), [&](Value s) {
                 Value first = arith::SubIOp::create(b, pFirst, s);
                 Value last = arith::SubIOp::create(b, pLast, s);
                 Value reaches = cmp(arith::CmpIPredicate::sle, first, kLast);
                 Value starts = cmp(arith::CmpIPredicate::sge, last, k0);
                 return arith::AndIOp::create(b, reaches, starts).getResult();
               });
  return arith::OrIOp::create(b, anyVertical, anySlash);
}

void TileBuilder::prepareVerticalSlash(Value k0, Value cols) {
  Value vert = operands.lookup(OperandKind::vertical);
  Value slash = operands.lookup(OperandKind::slash);
  Value zero = arith::ConstantOp::create(b, b.getI8IntegerAttr(0));
  Value one = arith::ConstantOp::create(b, b.getI8IntegerAttr(1));
  auto clear = [&](Value buffer) {
    forLoop(idx(0), memref::DimOp::create(b, buffer, 0), 1,
            [&](Value i) { memref::StoreOp::create(b, zero, buffer, i); });
  };
  clear(vsColumns);
  clear(vsDiagonals);
  // Listed keys inside the tile.
  SmallVector<Value, 4> at = batchHeadIndices(vert);
  Value k1 = arith::AddIOp::create(b, k0, cols);
  forLoop(idx(0), memref::DimOp::create(b, vert, 2), 1, [&](Value e) {
    Value key = loadInt(vert, {at[0], at[1], e});
    Value after = cmp(arith::CmpIPredicate::sge, key, k0);
    Value before = cmp(arith::CmpIPredicate::slt, key, k1);
    ifThen(arith::AndIOp::create(b, after, before), [&] {
      memref::StoreOp::create(b, one, vsColumns,
                              ValueRange{arith::SubIOp::create(b, key, k0)});
    });
  });
  // Listed diagonals p - k the tile spans: from pFirst - (k1 - 1) to
  // pLast - k0.
  Value pFirst = aligned(q0, false);
  Value pLast = aligned(
      arith::SubIOp::create(b, arith::AddIOp::create(b, q0, positions), idx(1)),
      false);
  Value diagMin =
      arith::SubIOp::create(b, pFirst, arith::SubIOp::create(b, k1, idx(1)));
  Value diagMax = arith::SubIOp::create(b, pLast, k0);
  at = batchHeadIndices(slash);
  forLoop(idx(0), memref::DimOp::create(b, slash, 2), 1, [&](Value e) {
    Value s = loadInt(slash, {at[0], at[1], e});
    Value above = cmp(arith::CmpIPredicate::sge, s, diagMin);
    Value below = cmp(arith::CmpIPredicate::sle, s, diagMax);
    ifThen(arith::AndIOp::create(b, above, below), [&] {
      memref::StoreOp::create(b, one, vsDiagonals,
                              ValueRange{arith::SubIOp::create(b, s, diagMin)});
    });
  });
  vsK0 = k0;
  vsDiagMin = diagMin;
}
