//===- AttnTileOps.cpp - Attn tile-level op verifiers ---------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The verifiers of the tile level (attn.tile.*): tiles have static shapes
// that agree with each other (rows = block_q, columns = block_kv or a head
// dim), and element regions take and yield what their op promises.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

/// Fails unless `value`'s memref type has a static shape (a tile buffer).
static LogicalResult verifyStaticTile(Operation *op, Value value,
                                      StringRef name) {
  auto type = cast<MemRefType>(value.getType());
  if (!type.hasStaticShape())
    return op->emitOpError() << name << " must be a tile with a static shape, "
                             << "got " << type;
  return success();
}

/// Fails unless dimension `dimA` of `a` equals dimension `dimB` of `b` (where
/// both are static).
static LogicalResult verifySameDim(Operation *op, Value a, StringRef nameA,
                                   unsigned dimA, Value b, StringRef nameB,
                                   unsigned dimB) {
  int64_t x = cast<MemRefType>(a.getType()).getDimSize(dimA);
  int64_t y = cast<MemRefType>(b.getType()).getDimSize(dimB);
  if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
    return success();
  return op->emitOpError() << "dimension " << dimA << " of " << nameA << " ("
                           << x << ") must equal dimension " << dimB << " of "
                           << nameB << " (" << y << ")";
}

/// The row max, row sum and accumulator of an online-softmax state: static
/// tiles with one row each per accumulator row.
static LogicalResult verifyState(Operation *op, Value acc, Value max,
                                 Value sum) {
  if (failed(verifyStaticTile(op, acc, "the accumulator")) ||
      failed(verifyStaticTile(op, max, "the row max")) ||
      failed(verifyStaticTile(op, sum, "the row sum")) ||
      failed(verifySameDim(op, max, "the row max", 0, acc, "the accumulator",
                           0)) ||
      failed(
          verifySameDim(op, sum, "the row sum", 0, acc, "the accumulator", 0)))
    return failure();
  return success();
}

/// The element region of score_mod and mask: block arguments of `argTypes`,
/// ended by an attn.yield of one `resultType` value.
static LogicalResult verifyElementRegion(Operation *op, Region &body,
                                         TypeRange argTypes, Type resultType) {
  Block &block = body.front();
  if (block.getArgumentTypes() != argTypes)
    return op->emitOpError()
           << "region must take " << argTypes.size() << " arguments of types ("
           << argTypes << "), got (" << block.getArgumentTypes() << ")";
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      yield.getValues()[0].getType() != resultType)
    return op->emitOpError() << "region must end with attn.yield of one "
                             << resultType << " value";
  return success();
}

/// The rows a view holds: its leading dimensions (all but the last, which
/// is the head dim) multiplied; dynamic when one of them is.
static int64_t viewRows(Value view) {
  auto type = cast<MemRefType>(view.getType());
  int64_t rows = 1;
  for (int64_t size : type.getShape().drop_back()) {
    if (ShapedType::isDynamic(size))
      return ShapedType::kDynamic;
    rows *= size;
  }
  return rows;
}

/// Fails when the static rows of view `view` exceed the rows (dimension
/// `dim`) of tile `tile`.
static LogicalResult verifyFits(Operation *op, Value view, StringRef viewName,
                                Value tile, StringRef tileName, unsigned dim) {
  int64_t rows = viewRows(view);
  int64_t room = cast<MemRefType>(tile.getType()).getDimSize(dim);
  if (ShapedType::isDynamic(rows) || ShapedType::isDynamic(room) ||
      rows <= room)
    return success();
  return op->emitOpError() << viewName << " has " << rows
                           << " rows, more than the " << room << " of "
                           << tileName;
}

/// A rank-3 view [positions, heads, D] packs a GQA group: its head count
/// must be static (the lowering walks it).
static LogicalResult verifyGroupView(Operation *op, Value view,
                                     StringRef name) {
  auto type = cast<MemRefType>(view.getType());
  if (type.getRank() == 3 && type.isDynamicDim(1))
    return op->emitOpError() << name << " packs a head group of dynamic "
                             << "size; dimension 1 must be static";
  return success();
}

/// The last dimension (the head dim) of a view.
static unsigned lastDim(Value view) {
  return cast<MemRefType>(view.getType()).getRank() - 1;
}

LogicalResult TileLoadQOp::verify() {
  if (failed(verifyStaticTile(*this, getTile(), "the q tile")) ||
      failed(verifyGroupView(*this, getSource(), "the q view")) ||
      failed(verifyFits(*this, getSource(), "the q view", getTile(),
                        "the q tile", 0)))
    return failure();
  return verifySameDim(*this, getSource(), "the q view", lastDim(getSource()),
                       getTile(), "the q tile", 1);
}

LogicalResult TileInitOp::verify() {
  return verifyState(*this, getAcc(), getMax(), getSum());
}

LogicalResult TileQKOp::verify() {
  if (failed(verifyStaticTile(*this, getQ(), "the q tile")) ||
      failed(verifyStaticTile(*this, getScores(), "the score tile")) ||
      failed(verifySameDim(*this, getK(), "the k view", 1, getQ(), "the q tile",
                           1)) ||
      failed(verifySameDim(*this, getScores(), "the score tile", 0, getQ(),
                           "the q tile", 0)) ||
      failed(verifyFits(*this, getK(), "the k view", getScores(),
                        "the score tile's columns", 1)))
    return failure();
  return success();
}

/// Rows of a packed GQA group share a query position: a positive group.
static LogicalResult verifyGroup(Operation *op, int64_t group) {
  if (group < 1)
    return op->emitOpError() << "group must be positive, got " << group;
  return success();
}

LogicalResult TileScoreModOp::verify() {
  if (failed(verifyStaticTile(*this, getScores(), "the score tile")) ||
      failed(verifyGroup(*this, getGroup())))
    return failure();
  Builder b(getContext());
  return verifyElementRegion(
      *this, getBody(), {b.getF32Type(), b.getIndexType(), b.getIndexType()},
      b.getF32Type());
}

LogicalResult TileMaskOp::verify() {
  if (failed(verifyStaticTile(*this, getScores(), "the score tile")) ||
      failed(verifyGroup(*this, getGroup())))
    return failure();
  Builder b(getContext());
  return verifyElementRegion(
      *this, getBody(), {b.getIndexType(), b.getIndexType()}, b.getI1Type());
}

LogicalResult TileNormalizeOp::verify() {
  if (failed(verifyStaticTile(*this, getScores(), "the score tile")) ||
      failed(verifyState(*this, getAcc(), getMax(), getSum())) ||
      failed(verifySameDim(*this, getScores(), "the score tile", 0, getAcc(),
                           "the accumulator", 0)))
    return failure();
  return success();
}

LogicalResult TilePVOp::verify() {
  if (failed(verifyStaticTile(*this, getP(), "the weight tile")) ||
      failed(verifyStaticTile(*this, getAcc(), "the accumulator")) ||
      failed(verifySameDim(*this, getP(), "the weight tile", 0, getAcc(),
                           "the accumulator", 0)) ||
      failed(verifySameDim(*this, getV(), "the v view", 1, getAcc(),
                           "the accumulator", 1)))
    return failure();
  return verifyFits(*this, getV(), "the v view", getP(),
                    "the weight tile's columns", 1);
}

LogicalResult TileFinalizeOp::verify() {
  if (failed(verifyState(*this, getAcc(), getMax(), getSum())) ||
      failed(verifyGroupView(*this, getOut(), "the output view")) ||
      failed(verifySameDim(*this, getOut(), "the output view",
                           lastDim(getOut()), getAcc(), "the accumulator",
                           1)) ||
      failed(verifyFits(*this, getOut(), "the output view", getAcc(),
                        "the accumulator", 0)))
    return failure();
  if (Value lse = getLse()) {
    // One lse per output row: the output view's shape without the head dim.
    auto lseType = cast<MemRefType>(lse.getType());
    if (lseType.getRank() != cast<MemRefType>(getOut().getType()).getRank() - 1)
      return emitOpError() << "the lse view must have one dimension less "
                              "than the output view";
    for (unsigned d = 0; d < lseType.getRank(); ++d)
      if (failed(verifySameDim(*this, lse, "the lse view", d, getOut(),
                               "the output view", d)))
        return failure();
  }
  NormalizerAttr normalizer = getNormalizer();
  if (getLse() && !normalizer.hasLse())
    return emitOpError() << "normalizer " << normalizer
                         << " defines no log-sum-exp; drop the lse view";
  bool needsSink = normalizer.getKind() == NormalizerKind::softmax_with_sink;
  if (getSink() && cast<MemRefType>(getOut().getType()).getRank() == 3)
    return emitOpError() << "a packed head group has one sink logit per "
                            "head; a scalar sink needs a rank-2 output view";
  if (needsSink != static_cast<bool>(getSink()))
    return emitOpError() << (needsSink ? "softmax_with_sink needs a sink logit"
                                       : "only softmax_with_sink takes a sink "
                                         "logit");
  return success();
}
