//===- AttnTileOps.cpp - Attn tile-level op verifiers and effects ---------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The verifiers of the tile level (attn.tile.*): tiles have static shapes
// that agree with each other (rows = the tile's rows, columns = its keys or
// a head dim), the operand tiles share the input dtype, an op's tiles are
// all tensors or all buffers, and element regions take and yield what their
// op promises. The memory effects: what the memref form reads and writes.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Verifier helpers
//===----------------------------------------------------------------------===//

static ShapedType shapedType(Value value) {
  return cast<ShapedType>(value.getType());
}

/// Fails unless `value` has a static shape (a tile).
static LogicalResult verifyStaticTile(Operation *op, Value value,
                                      StringRef name) {
  ShapedType type = shapedType(value);
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
  int64_t x = shapedType(a).getDimSize(dimA);
  int64_t y = shapedType(b).getDimSize(dimB);
  if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
    return success();
  return op->emitOpError() << "dimension " << dimA << " of " << nameA << " ("
                           << x << ") must equal dimension " << dimB << " of "
                           << nameB << " (" << y << ")";
}

/// Fails unless `a` and `b` have the same element type.
static LogicalResult verifySameDtype(Operation *op, Value a, StringRef nameA,
                                     Value b, StringRef nameB) {
  Type x = shapedType(a).getElementType(), y = shapedType(b).getElementType();
  if (x == y)
    return success();
  return op->emitOpError() << nameA << " (" << x << ") and " << nameB << " ("
                           << y << ") must have the same element type";
}

/// Fails unless the tiles are all static, and all tensors or all memrefs.
static LogicalResult verifyTiles(Operation *op,
                                 ArrayRef<std::pair<Value, StringRef>> tiles) {
  for (auto [tile, name] : tiles)
    if (failed(verifyStaticTile(op, tile, name)))
      return failure();
  bool tensors = isa<TensorType>(tiles.front().first.getType());
  for (auto [tile, name] : tiles.drop_front())
    if (isa<TensorType>(tile.getType()) != tensors)
      return op->emitOpError()
             << "tiles must be all tensors or all memrefs; " << name << " is "
             << (tensors ? "a memref" : "a tensor") << " and "
             << tiles.front().second << " is not";
  return success();
}

/// The row max, row sum and accumulator of an online-softmax state: one row
/// each per accumulator row.
static LogicalResult verifyState(Operation *op, Value acc, Value max,
                                 Value sum) {
  if (failed(verifySameDim(op, max, "the row max", 0, acc, "the accumulator",
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
  int64_t rows = 1;
  for (int64_t size : shapedType(view).getShape().drop_back()) {
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
  int64_t room = shapedType(tile).getDimSize(dim);
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
static unsigned lastDim(Value view) { return shapedType(view).getRank() - 1; }

/// Rows of a packed GQA group share a query position: a positive group.
static LogicalResult verifyGroup(Operation *op, int64_t group) {
  if (group < 1)
    return op->emitOpError() << "group must be positive, got " << group;
  return success();
}

/// The scale of normalize and finalize: positive and finite.
static LogicalResult verifyScale(Operation *op, APFloat scale) {
  double value = scale.convertToDouble();
  if (!(value > 0) || !std::isfinite(value))
    return op->emitOpError()
           << "scale must be a positive finite number, got " << value;
  return success();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

/// A load: the view's rows fit the tile, the head dims and dtypes agree;
/// only load_q takes a rank-3 (packed group) view.
static LogicalResult verifyLoad(Operation *op, Value source, Value tile,
                                StringRef role, bool allowGroup) {
  std::string view = ("the " + role + " view").str();
  std::string tileName = ("the " + role + " tile").str();
  if (!allowGroup && shapedType(source).getRank() != 2)
    return op->emitOpError()
           << view << " must have rank 2, got " << source.getType();
  if (failed(verifyTiles(op, {{tile, tileName}})) ||
      failed(verifyGroupView(op, source, view)) ||
      failed(verifyFits(op, source, view, tile, tileName, 0)) ||
      failed(verifySameDtype(op, source, view, tile, tileName)))
    return failure();
  return verifySameDim(op, source, view, lastDim(source), tile, tileName, 1);
}

LogicalResult TileLoadQOp::verify() {
  return verifyLoad(*this, getSource(), getTile(), "q", /*allowGroup=*/true);
}
LogicalResult TileLoadKOp::verify() {
  return verifyLoad(*this, getSource(), getTile(), "k", /*allowGroup=*/false);
}
LogicalResult TileLoadVOp::verify() {
  return verifyLoad(*this, getSource(), getTile(), "v", /*allowGroup=*/false);
}

LogicalResult TileInitOp::verify() {
  if (failed(verifyTiles(*this, {{getAcc(), "the accumulator"},
                                 {getMax(), "the row max"},
                                 {getSum(), "the row sum"}})))
    return failure();
  return verifyState(*this, getAcc(), getMax(), getSum());
}

LogicalResult TileQKOp::verify() {
  if (failed(verifyTiles(*this, {{getQ(), "the q tile"},
                                 {getK(), "the k tile"},
                                 {getScores(), "the score tile"}})) ||
      failed(
          verifySameDtype(*this, getQ(), "the q tile", getK(), "the k tile")) ||
      failed(verifySameDim(*this, getK(), "the k tile", 1, getQ(), "the q tile",
                           1)) ||
      failed(verifySameDim(*this, getScores(), "the score tile", 0, getQ(),
                           "the q tile", 0)) ||
      failed(verifySameDim(*this, getScores(), "the score tile", 1, getK(),
                           "the k tile", 0)))
    return failure();
  return success();
}

LogicalResult TileScoreModOp::verify() {
  if (failed(verifyTiles(*this, {{getScores(), "the score tile"}})) ||
      failed(verifyGroup(*this, getGroup())))
    return failure();
  Builder b(getContext());
  return verifyElementRegion(
      *this, getBody(), {b.getF32Type(), b.getIndexType(), b.getIndexType()},
      b.getF32Type());
}

LogicalResult TileMaskOp::verify() {
  if (failed(verifyTiles(*this, {{getScores(), "the score tile"}})) ||
      failed(verifyGroup(*this, getGroup())))
    return failure();
  Builder b(getContext());
  return verifyElementRegion(
      *this, getBody(), {b.getIndexType(), b.getIndexType()}, b.getI1Type());
}

LogicalResult TileNormalizeOp::verify() {
  if (failed(verifyTiles(*this, {{getScores(), "the score tile"},
                                 {getP(), "the weight tile"},
                                 {getMax(), "the row max"},
                                 {getSum(), "the row sum"},
                                 {getAlpha(), "the rescale factors"}})) ||
      failed(verifyScale(*this, getScale())))
    return failure();
  for (unsigned d = 0; d < 2; ++d)
    if (failed(verifySameDim(*this, getP(), "the weight tile", d, getScores(),
                             "the score tile", d)))
      return failure();
  for (auto [row, name] : {std::pair<Value, StringRef>{getMax(), "the row max"},
                           {getSum(), "the row sum"},
                           {getAlpha(), "the rescale factors"}})
    if (failed(verifySameDim(*this, row, name, 0, getScores(), "the score tile",
                             0)))
      return failure();
  return success();
}

LogicalResult TilePVOp::verify() {
  SmallVector<std::pair<Value, StringRef>> tiles = {
      {getP(), "the weight tile"},
      {getV(), "the v tile"},
      {getAcc(), "the accumulator"}};
  if (getAlpha())
    tiles.push_back({getAlpha(), "the rescale factors"});
  if (failed(verifyTiles(*this, tiles)) ||
      failed(verifySameDtype(*this, getP(), "the weight tile", getV(),
                             "the v tile")) ||
      failed(verifySameDim(*this, getP(), "the weight tile", 0, getAcc(),
                           "the accumulator", 0)) ||
      failed(verifySameDim(*this, getP(), "the weight tile", 1, getV(),
                           "the v tile", 0)) ||
      failed(verifySameDim(*this, getV(), "the v tile", 1, getAcc(),
                           "the accumulator", 1)))
    return failure();
  if (Value alpha = getAlpha())
    return verifySameDim(*this, alpha, "the rescale factors", 0, getAcc(),
                         "the accumulator", 0);
  return success();
}

LogicalResult TileFinalizeOp::verify() {
  if (failed(verifyTiles(*this, {{getAcc(), "the accumulator"},
                                 {getMax(), "the row max"},
                                 {getSum(), "the row sum"}})) ||
      failed(verifyState(*this, getAcc(), getMax(), getSum())) ||
      failed(verifyScale(*this, getScale())) ||
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

//===----------------------------------------------------------------------===//
// Memory effects
//===----------------------------------------------------------------------===//

using EffectList =
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>;

/// The effects of a tile op on its memref operands: every memref operand is
/// read (a DPS op's inits included: score_mod, normalize and pv read what
/// they update), `written` ones are also written. Tensor operands have none.
static void memrefEffects(Operation *op, EffectList &effects,
                          ValueRange written) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    if (llvm::is_contained(written, operand.get()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

/// A DPS tile op writes its inits.
template <typename DpsOp>
static void dpsEffects(DpsOp op, EffectList &effects) {
  SmallVector<Value> inits;
  for (OpOperand &init : op.getDpsInitsMutable())
    inits.push_back(init.get());
  memrefEffects(op, effects, inits);
}

void TileLoadQOp::getEffects(EffectList &effects) {
  dpsEffects(*this, effects);
}
void TileLoadKOp::getEffects(EffectList &effects) {
  dpsEffects(*this, effects);
}
void TileLoadVOp::getEffects(EffectList &effects) {
  dpsEffects(*this, effects);
}
void TileInitOp::getEffects(EffectList &effects) { dpsEffects(*this, effects); }
void TileQKOp::getEffects(EffectList &effects) { dpsEffects(*this, effects); }
void TileScoreModOp::getEffects(EffectList &effects) {
  dpsEffects(*this, effects);
}
void TileMaskOp::getEffects(EffectList &effects) { dpsEffects(*this, effects); }
void TileNormalizeOp::getEffects(EffectList &effects) {
  dpsEffects(*this, effects);
}
void TilePVOp::getEffects(EffectList &effects) { dpsEffects(*this, effects); }
void TileFinalizeOp::getEffects(EffectList &effects) {
  SmallVector<Value> written = {getOut()};
  if (Value lse = getLse())
    written.push_back(lse);
  memrefEffects(*this, effects, written);
}
