//===- AttnOps.cpp - Attn operations --------------------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/IR/MaskShapes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Custom clauses of the assembly format
//===----------------------------------------------------------------------===//

/// The optional clauses of attn.attention, each absent when unset:
///   mask(<mask expr>) score(<mod>, ...) normalizer<kind[, bias = x]>
static ParseResult parseClauses(OpAsmParser &parser, MaskAttrInterface &mask,
                                ArrayAttr &mods, NormalizerAttr &normalizer) {
  if (succeeded(parser.parseOptionalKeyword("mask")) &&
      (parser.parseLParen() || parseMaskExpr(parser, mask) ||
       parser.parseRParen()))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("score"))) {
    SmallVector<Attribute> list;
    if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren,
                                       [&]() -> ParseResult {
                                         ScoreModAttrInterface mod;
                                         if (parseScoreModExpr(parser, mod))
                                           return failure();
                                         list.push_back(mod);
                                         return success();
                                       }))
      return failure();
    mods = parser.getBuilder().getArrayAttr(list);
  }
  if (succeeded(parser.parseOptionalKeyword("normalizer"))) {
    Attribute attr = NormalizerAttr::parse(parser, Type());
    if (!attr)
      return failure();
    normalizer = cast<NormalizerAttr>(attr);
  }
  return success();
}

static void printClauses(OpAsmPrinter &printer, AttentionOp,
                         MaskAttrInterface mask, ArrayAttr mods,
                         NormalizerAttr normalizer) {
  // Each clause brings its own leading space, so an op without clauses
  // prints none.
  if (mask) {
    printer << " mask(";
    printAttnAttrStripped(printer, mask);
    printer << ")";
  }
  if (mods) {
    printer << " score(";
    llvm::interleaveComma(mods, printer, [&](Attribute mod) {
      printAttnAttrStripped(printer, mod);
    });
    printer << ")";
  }
  if (normalizer) {
    printer << " ";
    printAttnAttrStripped(printer, normalizer);
  }
}

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// AttentionOp helpers
//===----------------------------------------------------------------------===//

NormalizerAttr AttentionOp::getNormalizerOrDefault() {
  if (NormalizerAttr normalizer = getNormalizerAttr())
    return normalizer;
  return NormalizerAttr::get(getContext(), NormalizerKind::softmax,
                             APFloat(0.0));
}

double AttentionOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t d = getProblemShape().headDimQK;
  return ProblemShape::isKnown(d) ? 1.0 / std::sqrt(static_cast<double>(d))
                                  : 0.0;
}

Value AttentionOp::getOptionalOperand(OperandKind kind) {
  // The generated accessors are named after the operands; map kinds to them.
  switch (kind) {
  case OperandKind::bias:
    return getBias();
  case OperandKind::doc_q:
    return getDocQ();
  case OperandKind::doc_kv:
    return getDocKv();
  case OperandKind::cu_seqlens_q:
    return getCuSeqlensQ();
  case OperandKind::cu_seqlens_kv:
    return getCuSeqlensKv();
  case OperandKind::prefix_len:
    return getPrefixLen();
  case OperandKind::kv_num_blocks:
    return getKvNumBlocks();
  case OperandKind::kv_indices:
    return getKvIndices();
  case OperandKind::vertical:
    return getVertical();
  case OperandKind::slash:
    return getSlash();
  case OperandKind::alibi_slopes:
    return getAlibiSlopes();
  case OperandKind::sink:
    return getSink();
  case OperandKind::head_params:
    return getHeadParams();
  case OperandKind::block_table:
    return getBlockTable();
  case OperandKind::cache_seqlens:
    return getCacheSeqlens();
  }
  llvm_unreachable("unknown operand kind");
}

/// The axes of q/k/v/out: {batch, seq, head, dim}, or -1 for an absent axis.
struct Axes {
  int batch, seq, head, dim;
};

static Axes getAxes(Layout layout, KVStorage storage) {
  if (storage == KVStorage::ragged)
    return {-1, 0, 1, 2};
  if (layout == Layout::bhsd)
    return {0, 2, 1, 3};
  return {0, 1, 2, 3};
}

static int64_t dimOr(RankedTensorType type, int axis) {
  if (!type || axis < 0 || axis >= type.getRank())
    return ShapedType::kDynamic;
  return type.getDimSize(axis);
}

ProblemShape AttentionOp::getProblemShape() {
  Axes axes = getAxes(getLayout(), getKvStorage());
  auto q = getQ().getType();
  auto k = getK().getType();
  auto v = getV().getType();
  ProblemShape shape;
  shape.batch = dimOr(q, axes.batch);
  shape.qLen = dimOr(q, axes.seq);
  shape.numQHeads = dimOr(q, axes.head);
  shape.headDimQK = dimOr(q, axes.dim);
  shape.numKVHeads = dimOr(k, axes.head);
  shape.headDimV = dimOr(v, axes.dim);
  // Paged and ragged storage leave the per-sequence lengths to operands.
  if (getKvStorage() == KVStorage::contiguous)
    shape.kvLen = dimOr(k, axes.seq);
  if (getKvStorage() == KVStorage::ragged)
    shape.qLen = ShapedType::kDynamic;
  return shape;
}

int64_t AttentionOp::getNumHeadParams() {
  Value params = getHeadParams();
  if (!params)
    return 0;
  auto type = cast<RankedTensorType>(params.getType());
  return type.getRank() == 2 ? type.getDimSize(1) : 0;
}

//===----------------------------------------------------------------------===//
// AttentionOp verifier
//===----------------------------------------------------------------------===//

namespace {
/// Checks sizes that must agree, treating dynamic sizes as unknown.
struct SizeChecker {
  AttentionOp op;
  LogicalResult equal(int64_t a, int64_t b, const Twine &what) {
    if (ProblemShape::isKnown(a) && ProblemShape::isKnown(b) && a != b)
      return op.emitOpError() << what << " (" << a << " vs " << b << ")";
    return success();
  }
};
} // namespace

static bool isSupportedElementType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

static std::string describeDims(ArrayRef<int64_t> dims) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(dims, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ']';
  return text;
}

/// Checks one optional operand: element type, rank and the sizes that are
/// known (`expected` holds kDynamic where any size goes, and for axes that
/// broadcast, `broadcast[i]` allows size 1 too).
static LogicalResult checkOperand(AttentionOp op, OperandKind kind,
                                  Type elementType,
                                  ArrayRef<SmallVector<int64_t, 2>> expected) {
  Value value = op.getOptionalOperand(kind);
  if (!value)
    return success();
  auto type = cast<RankedTensorType>(value.getType());
  StringRef name = stringifyOperandKind(kind);
  if (type.getElementType() != elementType)
    return op.emitOpError()
           << "operand '" << name << "' must have element type " << elementType
           << ", got " << type.getElementType();
  if (type.getRank() != static_cast<int64_t>(expected.size()))
    return op.emitOpError() << "operand '" << name << "' must have rank "
                            << expected.size() << ", got " << type;
  for (auto [axis, allowed] : llvm::enumerate(expected)) {
    int64_t actual = type.getDimSize(axis);
    if (ShapedType::isDynamic(actual))
      continue;
    bool ok = llvm::any_of(allowed, [&](int64_t a) {
      return ShapedType::isDynamic(a) || a == actual;
    });
    if (!ok) {
      InFlightDiagnostic diag = op.emitOpError()
                                << "operand '" << name << "' dimension " << axis
                                << " must be ";
      llvm::interleave(allowed, diag, [&](int64_t a) { diag << a; }, " or ");
      return diag << ", got " << type;
    }
  }
  return success();
}

/// Ceil division for sizes that may be dynamic.
static int64_t ceilDivOr(int64_t a, int64_t b) {
  if (!ProblemShape::isKnown(a))
    return ShapedType::kDynamic;
  return a / b + (a % b != 0);
}

static LogicalResult verifyOperandShapes(AttentionOp op,
                                         const ProblemShape &shape) {
  MLIRContext *ctx = op.getContext();
  Type i32 = IntegerType::get(ctx, 32);
  Type f32 = Float32Type::get(ctx);
  const int64_t dyn = ShapedType::kDynamic;
  int64_t B = shape.batch, H = shape.numQHeads;
  using Dims = SmallVector<int64_t, 2>;

  if (failed(checkOperand(op, OperandKind::sink, f32, {Dims{H}})) ||
      failed(checkOperand(op, OperandKind::alibi_slopes, f32, {Dims{H}})) ||
      failed(checkOperand(op, OperandKind::head_params, f32,
                          {Dims{H}, Dims{dyn}})) ||
      failed(checkOperand(op, OperandKind::prefix_len, i32, {Dims{B}})) ||
      failed(checkOperand(op, OperandKind::vertical, i32,
                          {Dims{B, 1}, Dims{H, 1}, Dims{dyn}})) ||
      failed(checkOperand(op, OperandKind::slash, i32,
                          {Dims{B, 1}, Dims{H, 1}, Dims{dyn}})) ||
      failed(checkOperand(op, OperandKind::cache_seqlens, i32, {Dims{B}})) ||
      failed(checkOperand(op, OperandKind::block_table, i32,
                          {Dims{B}, Dims{dyn}})))
    return failure();

  // Document ids: [B, L], or per packed token with ragged storage.
  bool ragged = op.getKvStorage() == KVStorage::ragged;
  if (ragged) {
    int64_t qTokens = op.getQ().getType().getDimSize(0);
    int64_t kvTokens = op.getK().getType().getDimSize(0);
    if (failed(checkOperand(op, OperandKind::doc_q, i32, {Dims{qTokens}})) ||
        failed(checkOperand(op, OperandKind::doc_kv, i32, {Dims{kvTokens}})))
      return failure();
  } else if (failed(checkOperand(op, OperandKind::doc_q, i32,
                                 {Dims{B}, Dims{shape.qLen}})) ||
             failed(checkOperand(op, OperandKind::doc_kv, i32,
                                 {Dims{B}, Dims{shape.kvLen}}))) {
    return failure();
  }

  // cu_seqlens: [B + 1] for ragged storage, [B, D + 1] for documents.
  for (OperandKind kind :
       {OperandKind::cu_seqlens_q, OperandKind::cu_seqlens_kv}) {
    SmallVector<Dims> dims;
    if (ragged)
      dims = {Dims{dyn}};
    else
      dims = {Dims{B}, Dims{dyn}};
    if (failed(checkOperand(op, kind, i32, dims)))
      return failure();
  }

  // Block-sparse indices follow FlexAttention's BlockMask.
  MaskAttrInterface mask = op.getMaskAttr();
  int64_t numQBlocks = dyn, numKVBlocks = dyn;
  if (mask) {
    BlockSparseAttr first;
    bool conflict = false;
    mask.walk([&](BlockSparseAttr sparse) {
      if (first && first != sparse)
        conflict = true;
      first = sparse;
      numQBlocks = ceilDivOr(shape.qLen, sparse.getBlockQ());
      numKVBlocks = ceilDivOr(shape.kvLen, sparse.getBlockKv());
    });
    if (conflict)
      return op.emitOpError()
             << "block_sparse masks share the kv_num_blocks/kv_indices "
                "operands, so they must have one block size";
  }
  if (failed(checkOperand(op, OperandKind::kv_num_blocks, i32,
                          {Dims{B, 1}, Dims{H, 1}, Dims{numQBlocks}})) ||
      failed(checkOperand(
          op, OperandKind::kv_indices, i32,
          {Dims{B, 1}, Dims{H, 1}, Dims{numQBlocks}, Dims{numKVBlocks}})))
    return failure();

  // Bias: the listed axes of [b, h, q, k]; each broadcasts from 1.
  if (Value bias = op.getBias()) {
    auto type = cast<RankedTensorType>(bias.getType());
    Type qType = op.getQ().getType().getElementType();
    if (type.getElementType() != f32 && type.getElementType() != qType)
      return op.emitOpError() << "operand 'bias' must have element type f32 or "
                              << qType << ", got " << type.getElementType();
    BiasAttr biasMod;
    if (ArrayAttr mods = op.getScoreModsAttr())
      for (Attribute mod : mods)
        if (auto b = dyn_cast<BiasAttr>(mod)) {
          if (biasMod)
            return op.emitOpError()
                   << "the score list holds two bias modifiers but the op "
                      "has one 'bias' operand; add the biases into one";
          biasMod = b;
        }
    if (biasMod) {
      SmallVector<Dims> dims;
      for (BiasDim d : biasMod.getDims()) {
        int64_t full = d == BiasDim::b   ? B
                       : d == BiasDim::h ? H
                       : d == BiasDim::q ? shape.qLen
                                         : shape.kvLen;
        dims.push_back(Dims{full, 1});
      }
      if (failed(
              checkOperand(op, OperandKind::bias, type.getElementType(), dims)))
        return failure();
    }
  }
  return success();
}

/// A recorded tiling (attn-schedule's, or written by hand) must fit the
/// problem: the kernel would read out of bounds or skip keys otherwise.
static LogicalResult verifyTiling(AttentionOp op, const ProblemShape &shape) {
  TilingAttr tiling = op.getTilingAttr();
  if (!tiling)
    return success();
  int64_t group = tiling.getHeadGroup();
  if (group > 1 && (!ProblemShape::isKnown(shape.numQHeads) ||
                    !ProblemShape::isKnown(shape.numKVHeads) ||
                    shape.numQHeads != group * shape.numKVHeads))
    return op.emitOpError()
           << "tiling head_group " << group
           << " must be 1 or the GQA group (query heads / kv heads)";
  if (group > 1 && !isHeadIndependent(op))
    return op.emitOpError()
           << "tiling head_group " << group
           << " packs query heads into one tile, but the op depends on the "
              "head (a per-head mask, ALiBi, a per-head bias or score_mod, "
              "or a sink); use head_group = 1";
  if (op.getKvStorage() == KVStorage::paged) {
    int64_t pageSize =
        op.getK().getType().getDimSize(op.getLayout() == Layout::bhsd ? 2 : 1);
    if (!ShapedType::isDynamic(pageSize) && pageSize % tiling.getBlockKv() != 0)
      return op.emitOpError() << "tiling block_kv " << tiling.getBlockKv()
                              << " must divide the page size " << pageSize
                              << ", so that a kv tile never crosses a page";
  }
  MaskAttrInterface mask = op.getMaskAttr();
  switch (tiling.getKvTiles()) {
  case KVTileWalk::listed_blocks:
    if (!walksListedBlocks(mask, tiling.getQueryPositions(),
                           tiling.getBlockKv()))
      return op.emitOpError()
             << "tiling kv_tiles = listed_blocks needs a block_sparse mask "
                "whose blocks the tiles divide; use kv_tiles = tile_table";
    break;
  case KVTileWalk::disjuncts:
    if (!isa_and_nonnull<OrAttr>(mask) || !boundedDisjuncts(mask))
      return op.emitOpError()
             << "tiling kv_tiles = disjuncts needs an 'or' of conjunctions of "
                "causal, sliding_window, sinks, chunked and constant "
                "prefix_lm masks; use kv_tiles = tile_table";
    break;
  case KVTileWalk::vertical_slash:
    if (!listedVerticalSlash(mask))
      return op.emitOpError()
             << "tiling kv_tiles = vertical_slash needs a vertical_slash "
                "mask, alone or and-ed with causal, sliding_window, sinks, "
                "chunked and constant prefix_lm masks; use kv_tiles = "
                "tile_table";
    break;
  case KVTileWalk::bounds:
  case KVTileWalk::tile_table:
    break;
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  auto qType = getQ().getType();
  auto kType = getK().getType();
  auto vType = getV().getType();
  Type elementType = qType.getElementType();
  KVStorage storage = getKvStorage();

  // Element types.
  if (kType.getElementType() != elementType ||
      vType.getElementType() != elementType)
    return emitOpError() << "q, k and v must share one element type, got "
                         << elementType << ", " << kType.getElementType()
                         << " and " << vType.getElementType();
  if (!isSupportedElementType(elementType))
    return emitOpError() << "element type " << elementType
                         << " is not supported; use f32, f16 or bf16";

  // Ranks.
  int64_t rank = storage == KVStorage::ragged ? 3 : 4;
  StringRef expectedShape =
      storage == KVStorage::ragged  ? "[tokens, heads, head_dim]"
      : getLayout() == Layout::bhsd ? "[batch, heads, seq, head_dim]"
                                    : "[batch, seq, heads, head_dim]";
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"q", qType},
                            {"k", kType},
                            {"v", vType}}) {
    if (type.getRank() != rank)
      return emitOpError() << "'" << name << "' must have rank " << rank << " "
                           << expectedShape << " for "
                           << stringifyKVStorage(storage) << " storage, got "
                           << type;
  }
  if (storage == KVStorage::ragged && getLayout() != Layout::bshd)
    return emitOpError() << "ragged storage packs tokens as [tokens, heads, "
                            "head_dim]; set layout to bshd";

  ProblemShape shape = getProblemShape();
  Axes axes = getAxes(getLayout(), storage);
  SizeChecker sizes{*this};

  // Bounded sizes: everything derived from them (per-head tables, tiles,
  // kernel scratch) stays bounded too.
  for (auto [name, value, limit] :
       {std::tuple<StringRef, int64_t, int64_t>{"query heads", shape.numQHeads,
                                                kMaxHeads},
        {"kv heads", shape.numKVHeads, kMaxHeads},
        {"qk head dim", shape.headDimQK, kMaxHeadDim},
        {"v head dim", shape.headDimV, kMaxHeadDim}})
    if (ProblemShape::isKnown(value) && value > limit)
      return emitOpError() << "has " << value << " as its " << name
                           << ", above the limit of " << limit;

  // Heads and head dims.
  if (failed(sizes.equal(dimOr(kType, axes.head), dimOr(vType, axes.head),
                         "k and v must have the same number of heads")))
    return failure();
  if (ProblemShape::isKnown(shape.numQHeads) &&
      ProblemShape::isKnown(shape.numKVHeads)) {
    if (shape.numKVHeads != 0 && shape.numQHeads % shape.numKVHeads != 0)
      return emitOpError() << "the number of query heads (" << shape.numQHeads
                           << ") must be a multiple of the number of kv heads ("
                           << shape.numKVHeads << ") for GQA/MQA";
  }
  if (failed(sizes.equal(shape.headDimQK, dimOr(kType, axes.dim),
                         "q and k must have the same head dim")))
    return failure();
  for (auto [name, size] : {std::pair<StringRef, int64_t>{
                                "the number of query heads", shape.numQHeads},
                            {"the number of kv heads", shape.numKVHeads},
                            {"the q/k head dim", shape.headDimQK},
                            {"the v head dim", shape.headDimV}})
    if (size == 0)
      return emitOpError() << name << " must be positive, got 0";

  // Batch and sequence.
  if (storage == KVStorage::contiguous) {
    if (failed(sizes.equal(shape.batch, dimOr(kType, axes.batch),
                           "q and k must have the same batch size")) ||
        failed(sizes.equal(shape.batch, dimOr(vType, axes.batch),
                           "q and v must have the same batch size")) ||
        failed(sizes.equal(dimOr(kType, axes.seq), dimOr(vType, axes.seq),
                           "k and v must have the same sequence length")))
      return failure();
  } else {
    // Paged: [pages, page_size, heads, dim]; ragged: [tokens, heads, dim].
    for (int axis = 0; axis < rank - 2; ++axis)
      if (failed(sizes.equal(dimOr(kType, axis), dimOr(vType, axis),
                             "k and v must have the same shape but for the "
                             "head dim")))
        return failure();
  }

  // Results.
  auto outType = getOut().getType();
  SmallVector<int64_t> expectedOut(qType.getShape());
  expectedOut[axes.dim] = shape.headDimV;
  if (outType.getElementType() != elementType)
    return emitOpError() << "'out' must have element type " << elementType
                         << " like q, got " << outType.getElementType();
  if (outType.getRank() != rank ||
      failed(verifyCompatibleShape(outType.getShape(), expectedOut)))
    return emitOpError() << "'out' must have shape "
                         << describeDims(expectedOut)
                         << " (q's shape with v's head dim), got " << outType;

  NormalizerAttr normalizer = getNormalizerOrDefault();
  if (Value lse = getLse()) {
    if (!normalizer.hasLse())
      return emitOpError() << "normalizer '"
                           << stringifyNormalizerKind(normalizer.getKind())
                           << "' has no log-sum-exp; drop the lse result";
    auto lseType = cast<RankedTensorType>(lse.getType());
    SmallVector<int64_t> expectedLse =
        storage == KVStorage::ragged
            ? SmallVector<int64_t>{shape.numQHeads, shape.qLen}
            : SmallVector<int64_t>{shape.batch, shape.numQHeads, shape.qLen};
    if (!lseType.getElementType().isF32() ||
        lseType.getRank() != static_cast<int64_t>(expectedLse.size()) ||
        failed(verifyCompatibleShape(lseType.getShape(), expectedLse)))
      return emitOpError() << "'lse' must be f32 with shape "
                           << describeDims(expectedLse) << ", got " << lseType;
  }

  // Scale.
  if (std::optional<APFloat> scale = getScale()) {
    double s = scale->convertToDouble();
    if (!(s > 0.0) || !std::isfinite(s))
      return emitOpError() << "scale must be a positive finite number, got "
                           << s;
  }

  if (ArrayAttr mods = getScoreModsAttr(); mods && mods.empty())
    return emitOpError() << "the score list is empty; remove 'score()'";
  if (Value params = getHeadParams()) {
    auto type = cast<RankedTensorType>(params.getType());
    if (type.getRank() == 2 && type.isDynamicDim(1))
      return emitOpError() << "operand 'head_params' must have a static "
                              "number of parameters (its dimension 1), got "
                           << type;
  }

  // Every component's shape constraints.
  auto emitError = [&]() { return emitOpError(); };
  if (MaskAttrInterface mask = getMaskAttr())
    if (failed(mask.verifyShape(shape, emitError)))
      return failure();
  if (ArrayAttr mods = getScoreModsAttr())
    for (Attribute mod : mods)
      if (failed(
              cast<ScoreModAttrInterface>(mod).verifyShape(shape, emitError)))
        return failure();

  // Optional operands: present exactly when a component reads them.
  SmallVector<std::pair<OperandKind, Attribute>> required;
  auto require = [&](Attribute who, auto collect) {
    SmallVector<OperandKind> kinds;
    collect(kinds);
    for (OperandKind kind : kinds)
      required.push_back({kind, who});
  };
  // Name the primitive that reads an operand, not the whole mask.
  if (MaskAttrInterface mask = getMaskAttr())
    mask.walk([&](MaskAttrInterface node) {
      if (!isa<AndAttr, OrAttr, NotAttr, OnHeadsAttr>(node))
        require(node, [&](auto &k) { node.getRequiredOperands(k); });
    });
  if (ArrayAttr mods = getScoreModsAttr())
    for (Attribute mod : mods)
      require(mod, [&](auto &k) {
        cast<ScoreModAttrInterface>(mod).getRequiredOperands(k);
      });
  if (normalizer.getKind() == NormalizerKind::softmax_with_sink)
    required.push_back({OperandKind::sink, normalizer});
  if (storage == KVStorage::paged) {
    required.push_back({OperandKind::block_table, getKvStorageAttr()});
    required.push_back({OperandKind::cache_seqlens, getKvStorageAttr()});
  } else if (storage == KVStorage::ragged) {
    required.push_back({OperandKind::cu_seqlens_q, getKvStorageAttr()});
    required.push_back({OperandKind::cu_seqlens_kv, getKvStorageAttr()});
  }
  // head_params feed the score_mod region's trailing arguments.
  if (getHeadParams())
    if (ArrayAttr mods = getScoreModsAttr())
      for (Attribute mod : mods)
        if (isa<ScoreModMarkerAttr>(mod))
          required.push_back({OperandKind::head_params, mod});

  llvm::SmallBitVector isRequired(getMaxEnumValForOperandKind() + 1);
  for (auto [kind, who] : required) {
    if (isRequired.test(static_cast<unsigned>(kind)) && who &&
        storage == KVStorage::ragged &&
        (kind == OperandKind::cu_seqlens_q ||
         kind == OperandKind::cu_seqlens_kv))
      return emitOpError() << "'document<cu_seqlens>' cannot be combined with "
                              "ragged storage, which already separates "
                              "sequences by cu_seqlens; use document ids";
    isRequired.set(static_cast<unsigned>(kind));
    if (!getOptionalOperand(kind))
      return emitOpError() << "'" << who << "' reads operand '"
                           << stringifyOperandKind(kind)
                           << "', which is missing";
  }
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (getOptionalOperand(kind) && !isRequired.test(i))
      return emitOpError() << "operand '" << stringifyOperandKind(kind)
                           << "' is not read by any mask, score modifier, "
                              "normalizer or storage kind; remove it";
  }
  if (failed(verifyTiling(*this, shape)))
    return failure();
  return verifyOperandShapes(*this, shape);
}

LogicalResult AttentionOp::verifyRegions() {
  unsigned numMarkers = 0;
  if (ArrayAttr mods = getScoreModsAttr())
    numMarkers = llvm::count_if(
        mods, [](Attribute a) { return isa<ScoreModMarkerAttr>(a); });
  if (numMarkers > 1)
    return emitOpError() << "the score list holds " << numMarkers
                         << " 'score_mod' entries but the op has one region; "
                            "merge the custom code into one region";
  Region &region = getScoreMod();
  if (numMarkers == 1 && region.empty())
    return emitOpError()
           << "the score list holds 'score_mod' but the op has no score_mod "
              "region; add one or remove the entry";
  if (numMarkers == 0 && !region.empty())
    return emitOpError() << "the op has a score_mod region but its score list "
                            "does not say where it applies; add 'score_mod' "
                            "to score(...)";
  if (region.empty())
    return success();
  if (!region.hasOneBlock())
    return emitOpError() << "the score_mod region must have exactly one block";

  Block &block = region.front();
  int64_t numParams = getNumHeadParams();
  unsigned expected = 5 + numParams;
  std::string signature =
      "the score_mod region must take (score: f32, b: index, h: index, "
      "q_idx: index, kv_idx: index)";
  if (numParams)
    signature += " followed by " + std::to_string(numParams) +
                 " f32 per-head parameter(s)";
  auto signatureError = [&]() { return emitOpError() << signature; };
  if (block.getNumArguments() != expected)
    return signatureError()
           << ", but it takes " << block.getNumArguments() << " argument(s)";
  for (BlockArgument arg : block.getArguments()) {
    unsigned i = arg.getArgNumber();
    bool isIndex = i >= 1 && i <= 4;
    Type want = isIndex ? Type(IndexType::get(getContext()))
                        : Type(Float32Type::get(getContext()));
    if (arg.getType() != want)
      return signatureError()
             << ", but argument #" << i << " is " << arg.getType();
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 1 ||
      !yield.getValues()[0].getType().isF32())
    return emitOpError() << "the score_mod region must end in 'attn.yield' of "
                            "exactly one f32 score";
  return success();
}
