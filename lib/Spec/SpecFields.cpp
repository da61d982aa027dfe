//===- SpecFields.cpp - The fields of an attention spec -------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// What each field of a spec (docs/spec.md) means: name, dtype, heads, head
// dims, layout, kv_storage, scale, head_params, the mask algebra, score
// modifiers, the normalizer, outputs and the schedule, read into the
// importer's state. Attributes are built with getChecked (or their verify is
// called) with an emitError located at the field, so that the dialect's own
// checks report at the spec's file:line:column and field path.
//
//===----------------------------------------------------------------------===//

#include "SpecImporter.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include <cctype>
#include <sstream>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::spec;

/// Whether `text` is [A-Za-z_][A-Za-z0-9_]*.
static bool isIdentifier(StringRef text) {
  return !text.empty() &&
         (std::isalpha(static_cast<unsigned char>(text[0])) ||
          text[0] == '_') &&
         llvm::all_of(text, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// A number as a person writes it ("-0.125", "50").
static std::string formatNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

static constexpr StringRef kTopLevelFields[] = {
    "name",       "dtype",       "head_dim", "heads",      "layout",
    "scale",      "mask",        "score",    "normalizer", "outputs",
    "kv_storage", "head_params", "schedule"};

LogicalResult SpecImporter::readTopLevel(const SpecNode *root) {
  FailureOr<Fields> fields =
      getFields(root, kTopLevelFields, "a mapping of spec fields");
  if (failed(fields))
    return failure();
  topLevel = *fields;

  // name
  const SpecNode *nameNode = fields->get("name");
  if (!nameNode)
    return error(root, "missing field 'name' (the kernel's name)");
  {
    PathScope scope(path, "name");
    FailureOr<std::string> text = getScalar(nameNode, "an identifier");
    if (failed(text))
      return failure();
    if (!isIdentifier(*text))
      return error(nameNode, "expected an identifier ([A-Za-z_][A-Za-z0-9_]*), "
                             "got '" +
                                 *text + "'");
    name = *text;
  }

  // dtype
  elementType = Float32Type::get(ctx);
  if (const SpecNode *node = fields->get("dtype")) {
    PathScope scope(path, "dtype");
    FailureOr<std::string> dtype = getChoice(node, {"f32", "f16", "bf16"});
    if (failed(dtype))
      return failure();
    if (*dtype == "f16")
      elementType = Float16Type::get(ctx);
    else if (*dtype == "bf16")
      elementType = BFloat16Type::get(ctx);
  }

  if (!overrides.dtype.empty()) {
    if (overrides.dtype == "f32")
      elementType = Float32Type::get(ctx);
    else if (overrides.dtype == "f16")
      elementType = Float16Type::get(ctx);
    else if (overrides.dtype == "bf16")
      elementType = BFloat16Type::get(ctx);
    else
      return emitError(UnknownLoc::get(ctx))
             << "the dtype override must be f32, f16 or bf16, got '"
             << overrides.dtype << "'";
  }

  // head_dim and heads are required.
  const SpecNode *headDimNode = fields->get("head_dim");
  if (!headDimNode)
    return error(root, "missing field 'head_dim' (e.g. 'head_dim: 128' or "
                       "'head_dim: {qk: 192, v: 128}')");
  if (failed(readHeadDim(headDimNode)))
    return failure();
  const SpecNode *headsNode = fields->get("heads");
  if (!headsNode)
    return error(root, "missing field 'heads' (e.g. 'heads: {q: 32, kv: 8}' "
                       "or 'heads: 16')");
  if (failed(readHeads(headsNode)))
    return failure();

  if (const SpecNode *node = fields->get("layout")) {
    PathScope scope(path, "layout");
    FailureOr<std::string> text = getChoice(node, {"bshd", "bhsd"});
    if (failed(text))
      return failure();
    layout = *symbolizeLayout(*text);
  }
  if (const SpecNode *node = fields->get("kv_storage"))
    if (failed(readStorage(node)))
      return failure();
  if (const SpecNode *node = fields->get("scale")) {
    PathScope scope(path, "scale");
    FailureOr<double> value = getNumber(node);
    if (failed(value))
      return failure();
    if (*value <= 0)
      return error(node,
                   "the scale must be positive, got " + formatNumber(*value));
    scale = *value;
  }
  if (const SpecNode *node = fields->get("head_params")) {
    PathScope scope(path, "head_params");
    FailureOr<SmallVector<const SpecNode *>> items =
        getList(node, "a list of parameter names");
    if (failed(items))
      return failure();
    for (auto [i, item] : llvm::enumerate(*items)) {
      PathScope itemScope(path, "[" + Twine(i) + "]");
      FailureOr<std::string> text = getScalar(item, "a parameter name");
      if (failed(text))
        return failure();
      if (!isIdentifier(*text))
        return error(item, "expected an identifier ([A-Za-z_][A-Za-z0-9_]*) "
                           "to use in expr as NAME[h], got '" +
                               *text + "'");
      if (llvm::is_contained({"score", "b", "h", "q_idx", "kv_idx"}, *text) ||
          llvm::is_contained(headParams, *text))
        return error(item, "parameter name '" + *text +
                               "' is already taken; pick another");
      headParams.push_back(*text);
    }
  }
  if (const SpecNode *node = fields->get("mask")) {
    PathScope scope(path, "mask");
    mask = readMask(node);
    if (!mask)
      return failure();
  }
  if (const SpecNode *node = fields->get("score"))
    if (failed(readScore(node)))
      return failure();
  normalizer = NormalizerAttr::get(ctx, NormalizerKind::softmax, APFloat(0.0));
  if (const SpecNode *node = fields->get("normalizer"))
    if (failed(readNormalizer(node)))
      return failure();
  if (const SpecNode *node = fields->get("outputs"))
    if (failed(readOutputs(node)))
      return failure();
  if (const SpecNode *node = fields->get("schedule"))
    if (failed(readSchedule(node)))
      return failure();

  return success();
}

LogicalResult SpecImporter::readHeads(const SpecNode *node) {
  PathScope scope(path, "heads");
  if (node->isScalar()) {
    FailureOr<int64_t> n = getInt(node, 1, "", kMaxHeads);
    if (failed(n))
      return failure();
    numQHeads = numKVHeads = *n;
    return success();
  }
  FailureOr<Fields> fields =
      getFields(node, {"q", "kv"}, "a head count or {q: N, kv: M}");
  if (failed(fields))
    return failure();
  const SpecNode *q = fields->get("q");
  if (!q)
    return error(node, "missing field 'q' (the number of query heads)");
  {
    PathScope qScope(path, "q");
    FailureOr<int64_t> n = getInt(q, 1, "", kMaxHeads);
    if (failed(n))
      return failure();
    numQHeads = numKVHeads = *n;
  }
  if (const SpecNode *kv = fields->get("kv")) {
    PathScope kvScope(path, "kv");
    FailureOr<int64_t> n = getInt(kv, 1, "", kMaxHeads);
    if (failed(n))
      return failure();
    if (numQHeads % *n != 0)
      return error(kv, "the number of kv heads (" + Twine(*n) +
                           ") must divide the number of query heads (" +
                           Twine(numQHeads) + ") for GQA/MQA");
    numKVHeads = *n;
  }
  return success();
}

LogicalResult SpecImporter::readHeadDim(const SpecNode *node) {
  PathScope scope(path, "head_dim");
  if (node->isScalar()) {
    FailureOr<int64_t> d = getInt(node, 1, "", kMaxHeadDim);
    if (failed(d))
      return failure();
    headDimQK = headDimV = *d;
    return success();
  }
  FailureOr<Fields> fields =
      getFields(node, {"qk", "v"}, "a head dim or {qk: N, v: M}");
  if (failed(fields))
    return failure();
  for (auto [key, slot] :
       {std::pair<StringRef, int64_t *>{"qk", &headDimQK}, {"v", &headDimV}}) {
    const SpecNode *value = fields->get(key);
    if (!value)
      return error(node, "missing field '" + key + "'");
    PathScope keyScope(path, key);
    FailureOr<int64_t> d = getInt(value, 1, "", kMaxHeadDim);
    if (failed(d))
      return failure();
    *slot = *d;
  }
  return success();
}

LogicalResult SpecImporter::readStorage(const SpecNode *node) {
  PathScope scope(path, "kv_storage");
  if (node->isScalar()) {
    if (node->value != "contiguous" && node->value != "ragged")
      return error(node, "expected contiguous, ragged or {paged: {page_size: "
                         "N}}, got " +
                             describe(node));
    storage = *symbolizeKVStorage(node->value);
    if (storage == KVStorage::ragged && layout != Layout::bshd)
      return error(node, "ragged storage packs tokens as [tokens, heads, "
                         "head_dim]; use layout bshd");
    return success();
  }
  FailureOr<std::pair<std::string, const SpecNode *>> entry =
      getSingleKey(node, {"paged"});
  if (failed(entry))
    return failure();
  PathScope pagedScope(path, "paged");
  FailureOr<Fields> fields = getFields(entry->second, {"page_size"});
  if (failed(fields))
    return failure();
  const SpecNode *size = fields->get("page_size");
  if (!size)
    return error(entry->second, "missing field 'page_size'");
  PathScope sizeScope(path, "page_size");
  // Pages hold at most 2^16 keys (vLLM and FlashInfer use 16 to 256).
  FailureOr<int64_t> n = getInt(size, 1, "", int64_t(1) << 16);
  if (failed(n))
    return failure();
  storage = KVStorage::paged;
  pageSize = *n;
  return success();
}

FailureOr<Align> SpecImporter::readAlign(const Fields &fields) {
  const SpecNode *node = fields.get("align");
  if (!node)
    return Align::bottom_right;
  PathScope scope(path, "align");
  FailureOr<std::string> text = getChoice(node, {"bottom_right", "top_left"});
  if (failed(text))
    return failure();
  return *symbolizeAlign(*text);
}

//===----------------------------------------------------------------------===//
// Mask
//===----------------------------------------------------------------------===//

static constexpr StringRef kMaskKeys[] = {"causal",
                                          "sliding_window",
                                          "sinks",
                                          "chunked",
                                          "prefix_lm",
                                          "document",
                                          "neighborhood",
                                          "block_sparse",
                                          "vertical_slash",
                                          "on_heads",
                                          "any",
                                          "all",
                                          "not"};

MaskAttrInterface SpecImporter::readMask(const SpecNode *node) {
  MaskAttrInterface mask = readMaskNode(node);
  // Check against the heads and head dims, read before the mask, so that an
  // error points at the innermost mask that is wrong.
  if (mask && failed(mask.verifyShape(specShape(), errorAt(node))))
    return {};
  return mask;
}

MaskAttrInterface SpecImporter::readMaskNode(const SpecNode *node) {
  if (node->isNull()) {
    (void)error(node, "expected a mask, got nothing");
    return {};
  }
  if (node->isSequence())
    return readMaskList(node, /*isAnd=*/true);
  if (node->isScalar()) {
    FailureOr<std::string> text = getScalar(node, "a mask");
    if (failed(text))
      return {};
    if (*text == "causal" || *text == "document" || *text == "vertical_slash")
      return readMaskPrimitive(*text, nullptr, node);
    (void)error(node,
                "unknown mask '" + *text + "'" + didYouMean(*text, kMaskKeys) +
                    "; a bare word may be causal, document or "
                    "vertical_slash, and other masks are written as "
                    "{name: parameters} (one of " +
                    llvm::join(ArrayRef<StringRef>(kMaskKeys), ", ") + ")");
    return {};
  }
  FailureOr<std::pair<std::string, const SpecNode *>> entry =
      getSingleKey(node, kMaskKeys);
  if (failed(entry))
    return {};
  PathScope scope(path, entry->first);
  return readMaskPrimitive(entry->first, entry->second, node);
}

MaskAttrInterface SpecImporter::readMaskList(const SpecNode *node, bool isAnd) {
  FailureOr<SmallVector<const SpecNode *>> items =
      getList(node, "a list of masks");
  if (failed(items))
    return {};
  if (items->empty()) {
    (void)error(node, "expected at least one mask in the list");
    return {};
  }
  SmallVector<MaskAttrInterface> masks;
  for (auto [i, item] : llvm::enumerate(*items)) {
    PathScope scope(path, "[" + Twine(i) + "]");
    MaskAttrInterface m = readMask(item);
    if (!m)
      return {};
    masks.push_back(m);
  }
  if (masks.size() == 1)
    return masks.front();
  if (isAnd)
    return AndAttr::getChecked(errorAt(node), ctx,
                               ArrayRef<MaskAttrInterface>(masks));
  return OrAttr::getChecked(errorAt(node), ctx,
                            ArrayRef<MaskAttrInterface>(masks));
}

MaskAttrInterface SpecImporter::readMaskPrimitive(StringRef key,
                                                  const SpecNode *value,
                                                  const SpecNode *node) {
  auto emit = errorAt(value ? value : node);
  // Primitives written as a bare word have no parameters.
  auto paramsOf = [&](ArrayRef<StringRef> allowed) -> FailureOr<Fields> {
    if (!value || value->isNull())
      return Fields();
    return getFields(value, allowed);
  };

  if (key == "causal") {
    FailureOr<Fields> fields = paramsOf({"align"});
    if (failed(fields))
      return {};
    FailureOr<Align> align = readAlign(*fields);
    if (failed(align))
      return {};
    return CausalAttr::get(ctx, *align);
  }
  if (key == "sliding_window") {
    FailureOr<Fields> fields = getFields(value, {"left", "right", "align"});
    if (failed(fields))
      return {};
    const SpecNode *left = fields->get("left");
    if (!left) {
      (void)error(value, "missing field 'left' (keys before the query that "
                         "stay visible)");
      return {};
    }
    FailureOr<int64_t> l, r = int64_t(0);
    {
      PathScope scope(path, "left");
      if (failed(l = getInt(left, 0)))
        return {};
    }
    if (const SpecNode *right = fields->get("right")) {
      PathScope scope(path, "right");
      if (failed(r = getInt(right, 0)))
        return {};
    }
    FailureOr<Align> align = readAlign(*fields);
    if (failed(align))
      return {};
    return SlidingWindowAttr::getChecked(emit, ctx, *l, *r, *align);
  }
  if (key == "sinks" || key == "chunked") {
    FailureOr<int64_t> n = getInt(value, 1);
    if (failed(n))
      return {};
    if (key == "sinks")
      return SinksAttr::getChecked(emit, ctx, *n);
    return ChunkedAttr::getChecked(emit, ctx, *n);
  }
  if (key == "prefix_lm") {
    if (value->isScalar() && value->value == "operand")
      return PrefixLMAttr::get(ctx, std::nullopt);
    FailureOr<int64_t> n = getInt(value, 1, "a positive integer or 'operand'");
    if (failed(n))
      return {};
    return PrefixLMAttr::getChecked(emit, ctx, std::optional<int64_t>(*n));
  }
  if (key == "document") {
    DocumentSource source = DocumentSource::ids;
    if (value && !value->isNull()) {
      FailureOr<std::string> text = getChoice(value, {"ids", "cu_seqlens"});
      if (failed(text))
        return {};
      source = *symbolizeDocumentSource(*text);
    }
    return DocumentAttr::get(ctx, source);
  }
  if (key == "vertical_slash") {
    FailureOr<Fields> fields = paramsOf({});
    if (failed(fields))
      return {};
    return VerticalSlashAttr::get(ctx);
  }
  if (key == "neighborhood") {
    FailureOr<Fields> fields =
        getFields(value, {"grid", "kernel", "dilation", "causal"});
    if (failed(fields))
      return {};
    SmallVector<int64_t> grid, kernel, dilation;
    SmallVector<bool> causal;
    for (auto [field, out] :
         {std::pair<StringRef, SmallVector<int64_t> *>{"grid", &grid},
          {"kernel", &kernel},
          {"dilation", &dilation}}) {
      const SpecNode *n = fields->get(field);
      if (!n) {
        if (field == "dilation")
          continue;
        (void)error(value, "missing field '" + field + "'");
        return {};
      }
      PathScope scope(path, field);
      FailureOr<SmallVector<int64_t>> list = getIntList(n, 1);
      if (failed(list))
        return {};
      *out = *list;
    }
    if (const SpecNode *n = fields->get("causal")) {
      PathScope scope(path, "causal");
      FailureOr<SmallVector<const SpecNode *>> items =
          getList(n, "a list of true/false");
      if (failed(items))
        return {};
      for (auto [i, item] : llvm::enumerate(*items)) {
        PathScope itemScope(path, "[" + Twine(i) + "]");
        FailureOr<bool> b = getBool(item);
        if (failed(b))
          return {};
        causal.push_back(*b);
      }
    }
    return NeighborhoodAttr::getChecked(
        emit, ctx, ArrayRef<int64_t>(grid), ArrayRef<int64_t>(kernel),
        ArrayRef<int64_t>(dilation), ArrayRef<bool>(causal));
  }
  if (key == "block_sparse") {
    FailureOr<Fields> fields = getFields(value, {"block"});
    if (failed(fields))
      return {};
    const SpecNode *block = fields->get("block");
    if (!block) {
      (void)error(value, "missing field 'block' ([block_q, block_kv])");
      return {};
    }
    PathScope scope(path, "block");
    FailureOr<SmallVector<int64_t>> sizes = getIntList(block, 1);
    if (failed(sizes))
      return {};
    if (sizes->size() != 2) {
      (void)error(block, "expected [block_q, block_kv], got " +
                             Twine(sizes->size()) + " sizes");
      return {};
    }
    return BlockSparseAttr::getChecked(emit, ctx, (*sizes)[0], (*sizes)[1]);
  }
  if (key == "any" || key == "all")
    return readMaskList(value, key == "all");
  if (key == "not") {
    MaskAttrInterface inner = readMask(value);
    if (!inner)
      return {};
    return NotAttr::get(ctx, inner);
  }
  if (key == "on_heads") {
    FailureOr<Fields> fields = getFields(value, {"heads", "mask"});
    if (failed(fields))
      return {};
    const SpecNode *heads = fields->get("heads");
    const SpecNode *inner = fields->get("mask");
    if (!heads || !inner) {
      (void)error(value,
                  Twine("missing field '") + (heads ? "mask" : "heads") + "'");
      return {};
    }
    FailureOr<SmallVector<int64_t>> list;
    {
      PathScope scope(path, "heads");
      if (failed(list = getIntList(heads, 0)))
        return {};
    }
    MaskAttrInterface innerMask;
    {
      PathScope scope(path, "mask");
      if (!(innerMask = readMask(inner)))
        return {};
    }
    return OnHeadsAttr::getChecked(emit, ctx, ArrayRef<int64_t>(*list),
                                   innerMask);
  }
  llvm_unreachable("mask key not handled");
}

//===----------------------------------------------------------------------===//
// Score, normalizer, outputs, schedule
//===----------------------------------------------------------------------===//

LogicalResult SpecImporter::readScore(const SpecNode *node) {
  PathScope scope(path, "score");
  SmallVector<const SpecNode *> items;
  if (node->isSequence()) {
    for (const auto &item : node->items)
      items.push_back(item.get());
  } else {
    items.push_back(node);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const SpecNode *item = items[i];
    PathScope itemScope(path, "[" + Twine(i) + "]");
    ScoreEntry entry;
    entry.node = item;
    if (item->isScalar()) {
      if (item->value != "alibi")
        return error(item, "expected alibi or one of {softcap: c}, {alibi: "
                           "{...}}, {bias: {...}}, {expr: \"...\"}, got " +
                               describe(item));
      entry.attr = AlibiAttr::get(ctx, SlopeSource::standard);
      scoreEntries.push_back(entry);
      continue;
    }
    FailureOr<std::pair<std::string, const SpecNode *>> kv =
        getSingleKey(item, {"softcap", "alibi", "bias", "expr"});
    if (failed(kv))
      return failure();
    PathScope keyScope(path, kv->first);
    const SpecNode *value = kv->second;
    auto emit = errorAt(value);
    if (kv->first == "softcap") {
      FailureOr<double> cap = getNumber(value);
      if (failed(cap))
        return failure();
      if (!(entry.attr = SoftcapAttr::getChecked(emit, ctx, APFloat(*cap))))
        return failure();
    } else if (kv->first == "alibi") {
      FailureOr<Fields> fields = getFields(value, {"slopes"});
      if (failed(fields))
        return failure();
      SlopeSource source = SlopeSource::standard;
      if (const SpecNode *slopes = fields->get("slopes")) {
        PathScope slopesScope(path, "slopes");
        FailureOr<std::string> text =
            getChoice(slopes, {"standard", "operand"});
        if (failed(text))
          return failure();
        source = *symbolizeSlopeSource(*text);
      }
      entry.attr = AlibiAttr::get(ctx, source);
    } else if (kv->first == "bias") {
      FailureOr<Fields> fields = getFields(value, {"broadcast"});
      if (failed(fields))
        return failure();
      SmallVector<BiasDim> dims = {BiasDim::b, BiasDim::h, BiasDim::q,
                                   BiasDim::k};
      if (const SpecNode *broadcast = fields->get("broadcast")) {
        PathScope bScope(path, "broadcast");
        FailureOr<SmallVector<const SpecNode *>> axes =
            getList(broadcast, "a list of axes out of [b, h, q, k]");
        if (failed(axes))
          return failure();
        dims.clear();
        for (auto [j, axis] : llvm::enumerate(*axes)) {
          PathScope axisScope(path, "[" + Twine(j) + "]");
          FailureOr<std::string> text = getChoice(axis, {"b", "h", "q", "k"});
          if (failed(text))
            return failure();
          dims.push_back(*symbolizeBiasDim(*text));
        }
      }
      if (!(entry.attr =
                BiasAttr::getChecked(emit, ctx, ArrayRef<BiasDim>(dims))))
        return failure();
    } else {
      FailureOr<std::string> text = getScalar(value, "an expression string");
      if (failed(text))
        return failure();
      entry.expr = *text;
      entry.exprNode = value;
    }
    scoreEntries.push_back(entry);
  }
  // One bias operand: at most one bias modifier.
  const ScoreEntry *firstBias = nullptr;
  for (const ScoreEntry &entry : scoreEntries) {
    if (!isa_and_nonnull<BiasAttr>(entry.attr))
      continue;
    if (firstBias)
      return error(entry.node, "the score list holds two bias modifiers but "
                               "the op has one 'bias' operand; add the "
                               "biases into one");
    firstBias = &entry;
  }
  // One score_mod region: the exprs must be consecutive.
  std::optional<size_t> lastExpr;
  for (auto [i, entry] : llvm::enumerate(scoreEntries)) {
    if (entry.attr)
      continue;
    if (lastExpr && *lastExpr + 1 != i)
      return error(entry.node,
                   "expr modifiers must be consecutive (they form the op's "
                   "one score_mod region); move this expr next to the one "
                   "at position " +
                       Twine(*lastExpr) +
                       " or fold the modifiers between "
                       "them into the expression");
    lastExpr = i;
  }
  return success();
}

LogicalResult SpecImporter::readNormalizer(const SpecNode *node) {
  PathScope scope(path, "normalizer");
  static constexpr StringRef kinds[] = {
      "softmax", "softmax_with_sink", "softmax_off_by_one", "sigmoid", "none"};
  std::string kindText;
  double bias = 0.0;
  if (node->isScalar()) {
    FailureOr<std::string> text = getChoice(node, kinds);
    if (failed(text))
      return failure();
    kindText = *text;
  } else {
    FailureOr<std::pair<std::string, const SpecNode *>> kv =
        getSingleKey(node, kinds);
    if (failed(kv))
      return failure();
    kindText = kv->first;
    PathScope kindScope(path, kindText);
    if (kindText == "sigmoid") {
      FailureOr<Fields> fields = getFields(kv->second, {"bias"});
      if (failed(fields))
        return failure();
      if (const SpecNode *b = fields->get("bias")) {
        PathScope biasScope(path, "bias");
        FailureOr<double> value = getNumber(b);
        if (failed(value))
          return failure();
        bias = *value;
      }
    } else if (!kv->second->isNull()) {
      FailureOr<Fields> fields = getFields(kv->second, {});
      if (failed(fields))
        return failure();
    }
  }
  normalizer = NormalizerAttr::getChecked(
      errorAt(node), ctx, *symbolizeNormalizerKind(kindText), APFloat(bias));
  return success(normalizer != nullptr);
}

LogicalResult SpecImporter::readOutputs(const SpecNode *node) {
  PathScope scope(path, "outputs");
  FailureOr<SmallVector<const SpecNode *>> items =
      getList(node, "a list such as [out] or [out, lse]");
  if (failed(items))
    return failure();
  bool hasOut = false;
  for (auto [i, item] : llvm::enumerate(*items)) {
    PathScope itemScope(path, "[" + Twine(i) + "]");
    FailureOr<std::string> text = getChoice(item, {"out", "lse"});
    if (failed(text))
      return failure();
    bool &seen = *text == "out" ? hasOut : wantLse;
    if (seen)
      return error(item, "'" + *text + "' is listed twice");
    seen = true;
  }
  if (!hasOut)
    return error(node, "the outputs must include 'out'");
  if (wantLse && !normalizer.hasLse())
    return error(node, "normalizer '" +
                           stringifyNormalizerKind(normalizer.getKind()) +
                           "' has no log-sum-exp; remove 'lse' or use a "
                           "softmax normalizer");
  return success();
}

LogicalResult SpecImporter::readSchedule(const SpecNode *node) {
  PathScope scope(path, "schedule");
  FailureOr<Fields> fields = getFields(node, kScheduleKeys);
  if (failed(fields))
    return failure();
  int64_t values[5] = {0, 0, 0, 0, 0};
  for (auto [i, key] : llvm::enumerate(kScheduleKeys)) {
    if (const SpecNode *value = fields->get(key)) {
      PathScope keyScope(path, key);
      FailureOr<int64_t> v = getInt(value, 1);
      if (failed(v))
        return failure();
      values[i] = *v;
      if (failed(ScheduleAttr::verify(errorAt(value), i == 0 ? *v : 0,
                                      i == 1 ? *v : 0, i == 2 ? *v : 0,
                                      i == 3 ? *v : 0, i == 4 ? *v : 0)))
        return failure();
    }
  }
  schedule = ScheduleAttr::get(ctx, values[0], values[1], values[2], values[3],
                               values[4]);
  return success();
}
