//===- SplitKV.cpp - The combine of a split kv range ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Split-KV (FlashDecoding): chunk c of S visits every S-th kv tile of a
// work item and writes its partial rows: out_c (normalized over its own
// keys) and lse_c for the softmax family, the unnormalized sum otherwise.
// The combine merges them exactly, per row, as a softmax over the chunks
// with scores lse_c (the norm:: builders every lowering uses):
//   lse = log(e^z + sum_c e^(lse_c))   (z: the sink logit; no term without)
//   out = sum_c e^(lse_c - lse) out_c
// or out = sum_c out_c for sigmoid and none. A chunk that saw no visible
// key has lse_c = -inf and weighs 0; a row no chunk sees gets out 0 and
// lse -inf (z with a sink), as without a split.
//
//===----------------------------------------------------------------------===//

#include "TileBuilder.h"
#include "attn/Dialect/Attn/Utils/Normalizer.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::detail;

void TileBuilder::buildCombine(ArrayRef<Value> args) {
  Value item = bindArguments(args);
  emitWorkItem(item);
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  NormalizerKind kind = normalizer.getKind();
  Type f32Type = b.getF32Type();
  Value acc = memref::AllocaOp::create(b, MemRefType::get({Dv}, f32Type));

  Value outView = queryView(out);
  Value lseRows = lse ? lseView() : Value();
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value first = arith::MulIOp::create(b, item, splits);
  // Rows are independent (each writes its own out and lse row): a target
  // may run the loop's iterations in parallel (attn.parallel_rows).
  forLoop(idx(0), rows, 1, [&](Value r) {
    b.getInsertionBlock()->getParentOp()->setAttr("attn.parallel_rows",
                                                  b.getUnitAttr());
    // The row's place in the views: position r / G, head r % G.
    SmallVector<Value> at;
    Value h = head;
    if (group > 1) {
      Value g = arith::RemUIOp::create(b, r, idx(group));
      at = {arith::DivUIOp::create(b, r, idx(group)), g};
      h = arith::AddIOp::create(b, head, g);
    } else {
      at = {r};
    }
    Value total, factor = f32(1.0);
    auto partialLseOf = [&](Value c) {
      return memref::LoadOp::create(
                 b, partialLse,
                 ValueRange{arith::AddIOp::create(b, first, c), r})
          .getResult();
    };
    // The chunks are the keys of a softmax whose scores are their lse_c and
    // whose values are their rows: the same running max, weights and final
    // factor as a kernel's (norm::), or plain sums for sigmoid/none.
    // Partial lse values are logits: scale 1.
    Value offset, sum;
    std::function<Value(Value)> weight = [&](Value) { return f32(1.0); };
    if (normalizer.hasLse()) {
      Value m = forLoopCarry(
          idx(0), splits, 1, {negInf}, [&](Value c, ValueRange carried) {
            return SmallVector<Value>{
                arith::MaximumFOp::create(b, carried[0], partialLseOf(c))};
          })[0];
      offset = norm::maxStep(b, negInf, m, /*scale=*/1.0).offset;
      weight = [&](Value c) -> Value {
        return norm::weight(b, normalizer, partialLseOf(c), /*scale=*/1.0,
                            offset);
      };
      sum = forLoopCarry(idx(0), splits, 1, {f32(0.0)},
                         [&](Value c, ValueRange carried) {
                           return SmallVector<Value>{
                               arith::AddFOp::create(b, carried[0], weight(c))};
                         })[0];
      Value sink;
      if (kind == NormalizerKind::softmax_with_sink)
        sink = loadF32(operands.lookup(OperandKind::sink), {h});
      norm::Final final = norm::finalize(b, normalizer, m, sum, sink,
                                         /*scale=*/1.0);
      factor = final.factor;
      total = final.lse;
    }
    // out = factor * sum_c weight_c * out_c, accumulated in f32.
    forLoop(idx(0), idx(Dv), 1, [&](Value d) {
      memref::StoreOp::create(b, f32(0.0), acc, ValueRange{d});
    });
    forLoop(idx(0), splits, 1, [&](Value c) {
      Value w = weight(c);
      Value partial = arith::AddIOp::create(b, first, c);
      forLoop(idx(0), idx(Dv), 1, [&](Value d) {
        Value o =
            memref::LoadOp::create(b, partialOut, ValueRange{partial, r, d});
        Value sum = arith::AddFOp::create(
            b, memref::LoadOp::create(b, acc, ValueRange{d}),
            arith::MulFOp::create(b, w, o));
        memref::StoreOp::create(b, sum, acc, ValueRange{d});
      });
    });
    Type outType = cast<MemRefType>(outView.getType()).getElementType();
    forLoop(idx(0), idx(Dv), 1, [&](Value d) {
      Value o = arith::MulFOp::create(
          b, memref::LoadOp::create(b, acc, ValueRange{d}), factor);
      if (outType != f32Type)
        o = arith::TruncFOp::create(b, outType, o);
      SmallVector<Value> indices(at);
      indices.push_back(d);
      memref::StoreOp::create(b, o, outView, indices);
    });
    if (lseRows)
      memref::StoreOp::create(b, total, lseRows, at);
  });
  func::ReturnOp::create(b);
}
