//===- SpecImport.cpp - YAML attention spec to attn.attention -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The entry point of the spec importer (docs/spec.md) and its last steps.
// Once SpecNode.cpp has read the YAML and SpecFields.cpp each field, this
// file checks what needs several fields, then builds a module holding one
// func.func around one attn.attention: the function's operand types (q, k, v,
// then the optional operands that the mask, score modifiers, normalizer and
// storage read, in the op's operand order), the op's attributes and its
// score_mod region, compiled from the `expr` score modifiers. The module is
// verified before it is returned.
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/SpecImport.h"
#include "SpecImporter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Spec/ScoreExpr.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::spec;

//===----------------------------------------------------------------------===//
// Checks across fields
//===----------------------------------------------------------------------===//

LogicalResult SpecImporter::checkAcrossFields() {
  if (!headParams.empty() &&
      llvm::none_of(scoreEntries,
                    [](const ScoreEntry &e) { return !e.attr; })) {
    PathScope scope(path, "head_params");
    return error(topLevel.get("head_params"),
                 "head_params are read only by 'expr' score modifiers, and "
                 "there is none; remove head_params or use them in an expr");
  }
  if (schedule && schedule.getBlockKv() && !ShapedType::isDynamic(pageSize) &&
      pageSize % schedule.getBlockKv() != 0) {
    // A kv tile may not cross a page of a paged cache.
    PathScope scope(path, "schedule");
    PathScope keyScope(path, "block_kv");
    FailureOr<Fields> scheduleFields =
        getFields(topLevel.get("schedule"), kScheduleKeys);
    if (failed(scheduleFields))
      return failure();
    return error(scheduleFields->get("block_kv"),
                 Twine(schedule.getBlockKv()) + " must divide the page size " +
                     Twine(pageSize) +
                     " (kv_storage), so that a kv tile never crosses a page");
  }
  if (mask) {
    // A neighborhood grid pins the sequence length.
    PathScope scope(path, "mask");
    const SpecNode *maskNode = topLevel.get("mask");
    LogicalResult pinned = success();
    mask.walk([&](NeighborhoodAttr hood) {
      int64_t tokens = hood.getNumTokens();
      if (ShapedType::isDynamic(seqLen))
        seqLen = tokens;
      else if (seqLen != tokens)
        pinned = error(maskNode, "two neighborhood grids hold different "
                                 "numbers of tokens (" +
                                     Twine(seqLen) + " and " + Twine(tokens) +
                                     "); the sequence has one length");
    });
    if (failed(pinned))
      return failure();
  }
  if (!ShapedType::isDynamic(seqLen) && storage != KVStorage::contiguous) {
    PathScope scope(path, "kv_storage");
    return error(topLevel.get("kv_storage"),
                 "a neighborhood mask needs contiguous kv storage");
  }
  // Checks the op verifier would make, reported here at the field.
  if (mask) {
    PathScope scope(path, "mask");
    const SpecNode *maskNode = topLevel.get("mask");
    BlockSparseAttr firstSparse;
    bool conflict = false, cuDocuments = false;
    mask.walk([&](BlockSparseAttr sparse) {
      conflict |= firstSparse && firstSparse != sparse;
      firstSparse = sparse;
    });
    mask.walk([&](DocumentAttr doc) {
      cuDocuments |= doc.getSource() == DocumentSource::cu_seqlens;
    });
    if (conflict)
      return error(maskNode, "block_sparse masks share the kv_num_blocks/"
                             "kv_indices operands, so they must have one "
                             "block size");
    if (cuDocuments && storage == KVStorage::ragged)
      return error(maskNode, "{document: cu_seqlens} cannot be combined with "
                             "ragged storage, which already separates "
                             "sequences by cu_seqlens; use document ids");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Building the module
//===----------------------------------------------------------------------===//

/// The schedule with the command line's split_kv, when given.
ScheduleAttr SpecImporter::scheduleWithOverrides() const {
  if (!overrides.splitKV)
    return schedule;
  if (!schedule)
    return ScheduleAttr::get(ctx, 0, 0, 0, 0, overrides.splitKV);
  return ScheduleAttr::get(ctx, schedule.getBlockQ(), schedule.getBlockKv(),
                           schedule.getWarps(), schedule.getStages(),
                           overrides.splitKV);
}

/// The type of an optional operand as the spec's function takes it.
static RankedTensorType operandType(MLIRContext *ctx, OperandKind kind,
                                    int64_t numQHeads, int64_t numParams,
                                    int64_t seqLen, bool ragged,
                                    ArrayRef<BiasDim> biasDims,
                                    Type biasElementType) {
  const int64_t dyn = ShapedType::kDynamic;
  Type i32 = IntegerType::get(ctx, 32);
  Type f32 = Float32Type::get(ctx);
  switch (kind) {
  case OperandKind::bias: {
    SmallVector<int64_t> shape;
    for (BiasDim d : biasDims)
      shape.push_back(d == BiasDim::h   ? numQHeads
                      : d == BiasDim::b ? dyn
                                        : seqLen);
    return RankedTensorType::get(shape, biasElementType);
  }
  case OperandKind::doc_q:
  case OperandKind::doc_kv:
    // One id per token: [B, L], or per packed token with ragged storage.
    return ragged ? RankedTensorType::get({dyn}, i32)
                  : RankedTensorType::get({dyn, seqLen}, i32);
  case OperandKind::cu_seqlens_q:
  case OperandKind::cu_seqlens_kv:
    return ragged ? RankedTensorType::get({dyn}, i32)
                  : RankedTensorType::get({dyn, dyn}, i32);
  case OperandKind::prefix_len:
  case OperandKind::cache_seqlens:
    return RankedTensorType::get({dyn}, i32);
  case OperandKind::kv_num_blocks:
    return RankedTensorType::get({dyn, dyn, dyn}, i32);
  case OperandKind::kv_indices:
    return RankedTensorType::get({dyn, dyn, dyn, dyn}, i32);
  case OperandKind::vertical:
  case OperandKind::slash:
    return RankedTensorType::get({dyn, dyn, dyn}, i32);
  case OperandKind::alibi_slopes:
  case OperandKind::sink:
    return RankedTensorType::get({numQHeads}, f32);
  case OperandKind::head_params:
    return RankedTensorType::get({numQHeads, numParams}, f32);
  case OperandKind::block_table:
    return RankedTensorType::get({dyn, dyn}, i32);
  }
  llvm_unreachable("unknown operand kind");
}

LogicalResult SpecImporter::buildScoreRegion(AttentionOp op, Location loc) {
  Region &region = op.getScoreMod();
  Block *block = new Block();
  region.push_back(block);
  Type f32 = builder.getF32Type();
  Type index = builder.getIndexType();
  Value score = block->addArgument(f32, loc);
  Value b = block->addArgument(index, loc);
  Value h = block->addArgument(index, loc);
  Value q = block->addArgument(index, loc);
  Value kv = block->addArgument(index, loc);
  SmallVector<Value> params;
  for (size_t i = 0; i < headParams.size(); ++i)
    params.push_back(block->addArgument(f32, loc));
  SmallVector<StringRef> paramNames(headParams.begin(), headParams.end());

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(block);
  for (auto [i, entry] : llvm::enumerate(scoreEntries)) {
    if (entry.attr)
      continue;
    PathScope scope(path, "score");
    PathScope itemScope(path, "[" + Twine(i) + "]");
    PathScope exprScope(path, "expr");
    ScoreExprEnv env{score, b, h, q, kv, paramNames, params};
    // Map a byte of the expression to its place in the file; quoted scalars
    // start one character later.
    const SpecNode *exprNode = entry.exprNode;
    std::string prefix = "'" + pathString() + "': ";
    auto locAt = [&](size_t offset) {
      return exprNode->valueStart ? locOf(exprNode->valueStart + offset)
                                  : locOf(exprNode);
    };
    FailureOr<Value> value =
        buildScoreExpr(builder, entry.expr, env, locAt, prefix);
    if (failed(value))
      return failure();
    score = *value;
  }
  YieldOp::create(builder, loc, ValueRange{score});
  return success();
}

OwningOpRef<ModuleOp> SpecImporter::build(const SpecNode *root) {
  Location loc = NameLoc::get(builder.getStringAttr(name), locOf(root));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());

  const int64_t dyn = ShapedType::kDynamic;
  bool ragged = storage == KVStorage::ragged;
  auto tensor = [&](int64_t batch, int64_t seq, int64_t heads, int64_t dim) {
    SmallVector<int64_t> shape;
    if (ragged)
      shape = {seq, heads, dim};
    else if (layout == Layout::bhsd)
      shape = {batch, heads, seq, dim};
    else
      shape = {batch, seq, heads, dim};
    return RankedTensorType::get(shape, elementType);
  };
  RankedTensorType qType = tensor(dyn, seqLen, numQHeads, headDimQK);
  RankedTensorType kType, vType;
  if (storage == KVStorage::paged) {
    // [pages, page_size, heads, dim] (bshd) or [pages, heads, page_size, dim].
    kType = tensor(dyn, pageSize, numKVHeads, headDimQK);
    vType = tensor(dyn, pageSize, numKVHeads, headDimV);
  } else {
    kType = tensor(dyn, seqLen, numKVHeads, headDimQK);
    vType = tensor(dyn, seqLen, numKVHeads, headDimV);
  }
  RankedTensorType outType = tensor(dyn, seqLen, numQHeads, headDimV);
  RankedTensorType lseType =
      ragged ? RankedTensorType::get({numQHeads, seqLen}, builder.getF32Type())
             : RankedTensorType::get({dyn, numQHeads, seqLen},
                                     builder.getF32Type());

  // Attributes.
  SmallVector<Attribute> mods;
  bool markerAdded = false;
  BiasAttr bias;
  for (ScoreEntry &entry : scoreEntries) {
    if (entry.attr) {
      mods.push_back(entry.attr);
      if (auto b = dyn_cast<BiasAttr>(entry.attr))
        bias = b;
    } else if (!markerAdded) {
      mods.push_back(ScoreModMarkerAttr::get(ctx));
      markerAdded = true;
    }
  }

  // Which optional operands the components read.
  SmallVector<OperandKind> kinds;
  if (mask)
    mask.getRequiredOperands(kinds);
  for (Attribute mod : mods)
    cast<ScoreModAttrInterface>(mod).getRequiredOperands(kinds);
  if (normalizer.getKind() == NormalizerKind::softmax_with_sink)
    kinds.push_back(OperandKind::sink);
  if (markerAdded && !headParams.empty())
    kinds.push_back(OperandKind::head_params);
  if (storage == KVStorage::paged) {
    kinds.push_back(OperandKind::block_table);
    kinds.push_back(OperandKind::cache_seqlens);
  } else if (ragged) {
    kinds.push_back(OperandKind::cu_seqlens_q);
    kinds.push_back(OperandKind::cu_seqlens_kv);
  }
  llvm::sort(kinds);
  kinds.erase(llvm::unique(kinds), kinds.end());

  SmallVector<Type> argTypes = {qType, kType, vType};
  for (OperandKind kind : kinds)
    argTypes.push_back(
        operandType(ctx, kind, numQHeads, headParams.size(), seqLen, ragged,
                    bias ? bias.getDims() : ArrayRef<BiasDim>(), elementType));
  SmallVector<Type> resultTypes = {outType};
  if (wantLse)
    resultTypes.push_back(lseType);

  auto func = func::FuncOp::create(
      builder, loc, name, builder.getFunctionType(argTypes, resultTypes));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  Value optional[getMaxEnumValForOperandKind() + 1] = {};
  for (auto [i, kind] : llvm::enumerate(kinds))
    optional[static_cast<unsigned>(kind)] = entry->getArgument(3 + i);

  static_assert(getMaxEnumValForOperandKind() == 14,
                "AttentionOp::create below takes one optional operand per "
                "OperandKind");
  auto op = AttentionOp::create(
      builder, loc, outType, wantLse ? Type(lseType) : Type(),
      entry->getArgument(0), entry->getArgument(1), entry->getArgument(2),
      optional[0], optional[1], optional[2], optional[3], optional[4],
      optional[5], optional[6], optional[7], optional[8], optional[9],
      optional[10], optional[11], optional[12], optional[13], optional[14],
      mask, mods.empty() ? ArrayAttr() : builder.getArrayAttr(mods),
      normalizer.getKind() == NormalizerKind::softmax &&
              normalizer.getBias().isZero()
          ? NormalizerAttr()
          : normalizer,
      scale ? builder.getF64FloatAttr(*scale) : FloatAttr(),
      LayoutAttr::get(ctx, layout), KVStorageAttr::get(ctx, storage),
      scheduleWithOverrides(), TilingAttr());
  if (markerAdded && failed(buildScoreRegion(op, loc)))
    return nullptr;
  func::ReturnOp::create(builder, loc, op->getResults());

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> SpecImporter::import() {
  std::unique_ptr<SpecNode> root = readDocument();
  if (!root)
    return nullptr;
  if (failed(readTopLevel(root.get())) || failed(checkAcrossFields()))
    return nullptr;
  return build(root.get());
}

OwningOpRef<ModuleOp> mlir::attn::importSpec(llvm::SourceMgr &sourceMgr,
                                             MLIRContext *context,
                                             const SpecOverrides &overrides) {
  context->loadDialect<AttnDialect, func::FuncDialect>();
  return SpecImporter(sourceMgr, context, overrides).import();
}
