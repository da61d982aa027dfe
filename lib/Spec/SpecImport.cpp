//===- SpecImport.cpp - YAML attention spec to attn.attention -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The spec format is documented in docs/spec.md. The mask algebra is
// recursive and its nodes are scalars, sequences or single-key maps, so the
// importer walks LLVM's YAML node tree (llvm/Support/YAMLParser.h) directly:
// every error then carries the node's exact file:line:column and the path of
// the field (`mask[1].sliding_window.left`).
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/SpecImport.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Spec/ScoreExpr.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include <cmath>
#include <sstream>

using namespace mlir;
using namespace mlir::attn;
namespace yaml = llvm::yaml;

namespace {

/// Whether `text` is [A-Za-z_][A-Za-z0-9_]*.
bool isIdentifier(StringRef text) {
  return !text.empty() &&
         (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_') &&
         llvm::all_of(text, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

/// A number as a person writes it ("-0.125", "50").
std::string formatNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

/// A YAML node read into memory. LLVM's YAML parser streams (a node is gone
/// once its parent moves on), and the importer needs to look back, e.g. to
/// check fields against each other, so the document is copied first.
struct SpecNode {
  enum class Kind { Null, Scalar, Sequence, Mapping, Other };
  Kind kind = Kind::Null;
  const char *start = nullptr; ///< where the node starts in the buffer
  std::string value;           ///< a scalar's value, unescaped
  /// Where a scalar's value starts in the buffer when the value is spelled
  /// there byte for byte (plain or quoted without escapes, on one line), so
  /// that offsets into the value map to columns; null otherwise.
  const char *valueStart = nullptr;
  std::vector<std::unique_ptr<SpecNode>> keys;  ///< a mapping's keys
  std::vector<std::unique_ptr<SpecNode>> items; ///< mapping values, list items

  bool isNull() const { return kind == Kind::Null; }
  bool isScalar() const { return kind == Kind::Scalar; }
  bool isSequence() const { return kind == Kind::Sequence; }
  bool isMapping() const { return kind == Kind::Mapping; }

  /// Copies `node` and everything under it.
  static std::unique_ptr<SpecNode> read(yaml::Node *node) {
    auto result = std::make_unique<SpecNode>();
    result->start = node->getSourceRange().Start.getPointer();
    if (auto *scalar = dyn_cast<yaml::ScalarNode>(node)) {
      SmallString<32> storage;
      result->kind = Kind::Scalar;
      result->value = scalar->getValue(storage).str();
      StringRef raw = scalar->getRawValue();
      if (!raw.empty() && (raw.front() == '"' || raw.front() == '\''))
        raw = raw.drop_front().drop_back();
      if (raw == result->value)
        result->valueStart = raw.data();
      // YAML's plain null spellings.
      bool quoted = scalar->getRawValue() != raw;
      if (!quoted && (raw == "~" || raw == "null" || raw == "Null" ||
                      raw == "NULL"))
        result->kind = Kind::Null;
    } else if (auto *block = dyn_cast<yaml::BlockScalarNode>(node)) {
      result->kind = Kind::Scalar;
      result->value = block->getValue().str();
    } else if (auto *seq = dyn_cast<yaml::SequenceNode>(node)) {
      result->kind = Kind::Sequence;
      for (yaml::Node &item : *seq)
        result->items.push_back(read(&item));
    } else if (auto *map = dyn_cast<yaml::MappingNode>(node)) {
      result->kind = Kind::Mapping;
      for (yaml::KeyValueNode &kv : *map) {
        result->keys.push_back(read(kv.getKey()));
        result->items.push_back(read(kv.getValue()));
      }
    } else if (!isa<yaml::NullNode>(node)) {
      result->kind = Kind::Other;
    }
    return result;
  }
};

/// The keys of a YAML mapping, checked against the allowed ones.
struct Fields {
  llvm::StringMap<std::pair<const SpecNode *, const SpecNode *>> entries;
  /// The value node of `key`, or null when absent.
  const SpecNode *get(StringRef key) const {
    auto it = entries.find(key);
    return it == entries.end() ? nullptr : it->second.second;
  }
};

/// A score modifier as written, before the op is built.
struct ScoreEntry {
  ScoreModAttrInterface attr; // null for `expr`
  const SpecNode *node = nullptr;
  std::string expr;           // the expression text, for `expr`
  const SpecNode *exprNode = nullptr;
};

class SpecImporter {
public:
  SpecImporter(llvm::SourceMgr &sourceMgr, MLIRContext *context,
               const SpecOverrides &overrides)
      : sm(sourceMgr), ctx(context), builder(context), overrides(overrides) {
    const llvm::MemoryBuffer *buffer = sm.getMemoryBuffer(sm.getMainFileID());
    filename = buffer->getBufferIdentifier();
  }

  OwningOpRef<ModuleOp> import();

private:
  llvm::SourceMgr &sm;
  MLIRContext *ctx;
  OpBuilder builder;
  SpecOverrides overrides;
  StringRef filename;
  SmallVector<std::string> path;

  // Spec contents.
  std::string name;
  Type elementType;
  int64_t headDimQK = 0, headDimV = 0, numQHeads = 0, numKVHeads = 0;
  Layout layout = Layout::bshd;
  KVStorage storage = KVStorage::contiguous;
  int64_t pageSize = ShapedType::kDynamic;
  std::optional<double> scale;
  MaskAttrInterface mask;
  SmallVector<ScoreEntry> scoreEntries;
  NormalizerAttr normalizer;
  bool wantLse = false;
  SmallVector<std::string> headParams;
  ScheduleAttr schedule;
  int64_t seqLen = ShapedType::kDynamic; // pinned by a neighborhood grid

  //===--------------------------------------------------------------------===//
  // Locations and errors
  //===--------------------------------------------------------------------===//

  Location locOf(const char *ptr) {
    auto [line, col] = sm.getLineAndColumn(SMLoc::getFromPointer(ptr));
    return FileLineColLoc::get(ctx, filename, line, col);
  }
  Location locOf(const SpecNode *node) {
    return locOf(node->start);
  }

  std::string pathString() const {
    std::string text;
    for (const std::string &part : path) {
      if (!text.empty() && part.front() != '[')
        text += '.';
      text += part;
    }
    return text;
  }

  InFlightDiagnostic error(const SpecNode *node, const Twine &message) {
    InFlightDiagnostic diag = emitError(locOf(node));
    if (!path.empty())
      diag << "'" << pathString() << "': ";
    diag << message;
    return diag;
  }

  /// An emitError callback for attribute verifiers, located at `node`.
  auto errorAt(const SpecNode *node) {
    return [this, node]() { return error(node, ""); };
  }

  /// Pushes a field name onto the path for the scope's lifetime.
  struct PathScope {
    SmallVectorImpl<std::string> &path;
    PathScope(SmallVectorImpl<std::string> &path, const Twine &part)
        : path(path) {
      path.push_back(part.str());
    }
    ~PathScope() { path.pop_back(); }
  };

  //===--------------------------------------------------------------------===//
  // Node helpers
  //===--------------------------------------------------------------------===//

  static std::string describe(const SpecNode *node) {
    switch (node->kind) {
    case SpecNode::Kind::Null:
      return "nothing";
    case SpecNode::Kind::Scalar:
      return "'" + node->value + "'";
    case SpecNode::Kind::Mapping:
      return "a mapping";
    case SpecNode::Kind::Sequence:
      return "a list";
    case SpecNode::Kind::Other:
      break;
    }
    return "an alias or anchor";
  }

  FailureOr<std::string> getScalar(const SpecNode *node, StringRef expected) {
    if (!node->isScalar()) {
      (void)error(node, "expected " + expected + ", got " + describe(node));
      return failure();
    }
    return node->value;
  }

  FailureOr<int64_t> getInt(const SpecNode *node, int64_t min,
                            StringRef expected = "") {
    std::string what = expected.empty()
                           ? (min > 0 ? "a positive integer"
                                      : "a non-negative integer")
                           : expected.str();
    FailureOr<std::string> text = getScalar(node, what);
    if (failed(text))
      return failure();
    int64_t value;
    if (StringRef(*text).getAsInteger(10, value) || value < min) {
      (void)error(node, "expected " + what + ", got '" + *text + "'");
      return failure();
    }
    return value;
  }

  FailureOr<double> getNumber(const SpecNode *node) {
    FailureOr<std::string> text = getScalar(node, "a number");
    if (failed(text))
      return failure();
    double value;
    if (StringRef(*text).getAsDouble(value) || !std::isfinite(value)) {
      (void)error(node, "expected a finite number, got '" + *text + "'");
      return failure();
    }
    return value;
  }

  FailureOr<bool> getBool(const SpecNode *node) {
    FailureOr<std::string> text = getScalar(node, "true or false");
    if (failed(text))
      return failure();
    if (*text == "true")
      return true;
    if (*text == "false")
      return false;
    (void)error(node, "expected true or false, got '" + *text + "'");
    return failure();
  }

  /// Reads one of `choices`; `what` names the field in the message.
  FailureOr<std::string> getChoice(const SpecNode *node,
                                   ArrayRef<StringRef> choices) {
    std::string allowed = llvm::join(choices, " | ");
    FailureOr<std::string> text = getScalar(node, "one of " + allowed);
    if (failed(text))
      return failure();
    if (!llvm::is_contained(choices, *text)) {
      (void)error(node, "expected one of " + allowed + ", got '" + *text + "'");
      return failure();
    }
    return text;
  }

  FailureOr<SmallVector<const SpecNode *>> getList(const SpecNode *node,
                                               StringRef expected) {
    if (!node->isSequence()) {
      (void)error(node, "expected " + expected + ", got " + describe(node));
      return failure();
    }
    SmallVector<const SpecNode *> items;
    for (const auto &item : node->items)
      items.push_back(item.get());
    return items;
  }

  FailureOr<SmallVector<int64_t>> getIntList(const SpecNode *node, int64_t min) {
    FailureOr<SmallVector<const SpecNode *>> items =
        getList(node, "a list of integers");
    if (failed(items))
      return failure();
    SmallVector<int64_t> values;
    for (size_t i = 0; i < items->size(); ++i) {
      const SpecNode *item = (*items)[i];
      PathScope scope(path, "[" + Twine(i) + "]");
      FailureOr<int64_t> v = getInt(item, min);
      if (failed(v))
        return failure();
      values.push_back(*v);
    }
    return values;
  }

  /// Reads a mapping whose keys must be among `allowed`.
  FailureOr<Fields> getFields(const SpecNode *node, ArrayRef<StringRef> allowed,
                              StringRef expected = "a mapping") {
    // An empty value (`{causal: }`) is a mapping without fields.
    if (node->isNull())
      return Fields();
    if (!node->isMapping()) {
      (void)error(node, "expected " + expected + ", got " + describe(node));
      return failure();
    }
    Fields fields;
    for (size_t i = 0; i < node->keys.size(); ++i) {
      const SpecNode *keyNode = node->keys[i].get();
      FailureOr<std::string> key = getScalar(keyNode, "a field name");
      if (failed(key))
        return failure();
      if (!llvm::is_contained(allowed, *key)) {
        if (allowed.empty())
          (void)error(keyNode, "unknown field '" + *key +
                                   "'; this entry takes no fields");
        else
          (void)error(keyNode, "unknown field '" + *key + "'; expected " +
                                   (allowed.size() == 1 ? "" : "one of ") +
                                   llvm::join(allowed, ", "));
        return failure();
      }
      const SpecNode *value = node->items[i].get();
      if (!fields.entries.try_emplace(*key, keyNode, value).second) {
        (void)error(keyNode, "field '" + *key + "' is given twice");
        return failure();
      }
    }
    return fields;
  }

  /// Reads a mapping with exactly one key, as used by tagged choices such as
  /// `{sliding_window: {...}}`.
  FailureOr<std::pair<std::string, const SpecNode *>>
  getSingleKey(const SpecNode *node, ArrayRef<StringRef> allowed) {
    FailureOr<Fields> fields = getFields(node, allowed);
    if (failed(fields))
      return failure();
    if (fields->entries.size() != 1) {
      (void)error(node, "expected exactly one of " + llvm::join(allowed, ", ") +
                            " in this mapping, got " +
                            Twine(fields->entries.size()));
      return failure();
    }
    auto &entry = *fields->entries.begin();
    return std::make_pair(entry.getKey().str(), entry.getValue().second);
  }

  //===--------------------------------------------------------------------===//
  // Sections of the spec
  //===--------------------------------------------------------------------===//

  LogicalResult readTopLevel(const SpecNode *root);
  LogicalResult readHeads(const SpecNode *node);
  LogicalResult readHeadDim(const SpecNode *node);
  LogicalResult readStorage(const SpecNode *node);
  LogicalResult readScore(const SpecNode *node);
  LogicalResult readNormalizer(const SpecNode *node);
  LogicalResult readOutputs(const SpecNode *node);
  LogicalResult readSchedule(const SpecNode *node);
  FailureOr<Align> readAlign(const Fields &fields);
  MaskAttrInterface readMask(const SpecNode *node);
  MaskAttrInterface readMaskNode(const SpecNode *node);
  /// The sizes the spec fixes (heads and head dims).
  ProblemShape specShape() const {
    ProblemShape shape;
    shape.numQHeads = numQHeads;
    shape.numKVHeads = numKVHeads;
    shape.headDimQK = headDimQK;
    shape.headDimV = headDimV;
    return shape;
  }
  MaskAttrInterface readMaskPrimitive(StringRef key, const SpecNode *value,
                                      const SpecNode *node);
  MaskAttrInterface readMaskList(const SpecNode *node, bool isAnd);

  OwningOpRef<ModuleOp> build(const SpecNode *root);
  LogicalResult buildScoreRegion(AttentionOp op, Location loc);
};

} // namespace

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

static constexpr StringRef kTopLevelFields[] = {
    "name",   "dtype",     "head_dim",    "heads",      "layout",
    "scale",  "mask",      "score",       "normalizer", "outputs",
    "kv_storage", "head_params", "schedule"};

LogicalResult SpecImporter::readTopLevel(const SpecNode *root) {
  FailureOr<Fields> fields =
      getFields(root, kTopLevelFields, "a mapping of spec fields");
  if (failed(fields))
    return failure();

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
                             "got '" + *text + "'");
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
      return error(node, "the scale must be positive, got " + formatNumber(*value));
    scale = *value;
  }
  if (const SpecNode *node = fields->get("head_params")) {
    PathScope scope(path, "head_params");
    FailureOr<SmallVector<const SpecNode *>> items =
        getList(node, "a list of parameter names");
    if (failed(items))
      return failure();
    for (size_t i = 0; i < items->size(); ++i) {
      const SpecNode *item = (*items)[i];
      PathScope itemScope(path, "[" + Twine(i) + "]");
      FailureOr<std::string> text = getScalar(item, "a parameter name");
      if (failed(text))
        return failure();
      if (!isIdentifier(*text))
        return error(item, "expected an identifier ([A-Za-z_][A-Za-z0-9_]*) "
                           "to use in expr as NAME[h], got '" + *text + "'");
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

  // Checks that need several fields, located at the field that must change.
  if (!headParams.empty() &&
      llvm::none_of(scoreEntries, [](const ScoreEntry &e) { return !e.attr; })) {
    PathScope scope(path, "head_params");
    return error(fields->get("head_params"),
                 "head_params are read only by 'expr' score modifiers, and "
                 "there is none; remove head_params or use them in an expr");
  }
  if (schedule && schedule.getBlockKv() &&
      !ShapedType::isDynamic(pageSize) &&
      pageSize % schedule.getBlockKv() != 0) {
    // A kv tile may not cross a page of a paged cache.
    PathScope scope(path, "schedule");
    PathScope keyScope(path, "block_kv");
    static constexpr StringRef keys[] = {"block_q", "block_kv", "warps",
                                         "stages", "split_kv"};
    FailureOr<Fields> scheduleFields =
        getFields(fields->get("schedule"), keys);
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
    const SpecNode *maskNode = fields->get("mask");
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
    return error(fields->get("kv_storage"),
                 "a neighborhood mask needs contiguous kv storage");
  }
  // Checks the op verifier would make, reported here at the field.
  if (mask) {
    PathScope scope(path, "mask");
    const SpecNode *maskNode = fields->get("mask");
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

LogicalResult SpecImporter::readHeads(const SpecNode *node) {
  PathScope scope(path, "heads");
  if (node->isScalar()) {
    FailureOr<int64_t> n = getInt(node, 1);
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
    FailureOr<int64_t> n = getInt(q, 1);
    if (failed(n))
      return failure();
    numQHeads = numKVHeads = *n;
  }
  if (const SpecNode *kv = fields->get("kv")) {
    PathScope kvScope(path, "kv");
    FailureOr<int64_t> n = getInt(kv, 1);
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
    FailureOr<int64_t> d = getInt(node, 1);
    if (failed(d))
      return failure();
    headDimQK = headDimV = *d;
    return success();
  }
  FailureOr<Fields> fields =
      getFields(node, {"qk", "v"}, "a head dim or {qk: N, v: M}");
  if (failed(fields))
    return failure();
  for (auto [key, slot] : {std::pair<StringRef, int64_t *>{"qk", &headDimQK},
                           {"v", &headDimV}}) {
    const SpecNode *value = fields->get(key);
    if (!value)
      return error(node, "missing field '" + key + "'");
    PathScope keyScope(path, key);
    FailureOr<int64_t> d = getInt(value, 1);
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
                         "N}}, got " + describe(node));
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
  FailureOr<int64_t> n = getInt(size, 1);
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

static constexpr StringRef kMaskKeys[] = {
    "causal",       "sliding_window", "sinks",          "chunked",
    "prefix_lm",    "document",       "neighborhood",   "block_sparse",
    "vertical_slash", "on_heads",     "any",            "all",
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
    (void)error(node, "unknown mask '" + *text +
                          "'; a bare word may be causal, document or "
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
  FailureOr<SmallVector<const SpecNode *>> items = getList(node, "a list of masks");
  if (failed(items))
    return {};
  if (items->empty()) {
    (void)error(node, "expected at least one mask in the list");
    return {};
  }
  SmallVector<MaskAttrInterface> masks;
  for (size_t i = 0; i < items->size(); ++i) {
      const SpecNode *item = (*items)[i];
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
    FailureOr<int64_t> n =
        getInt(value, 1, "a positive integer or 'operand'");
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
      for (size_t i = 0; i < items->size(); ++i) {
      const SpecNode *item = (*items)[i];
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
      (void)error(value, Twine("missing field '") +
                             (heads ? "mask" : "heads") + "'");
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
        for (size_t j = 0; j < axes->size(); ++j) {
      const SpecNode *axis = (*axes)[j];
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
  std::optional<size_t> firstExpr, lastExpr;
  for (auto [i, entry] : llvm::enumerate(scoreEntries)) {
    if (entry.attr)
      continue;
    if (lastExpr && *lastExpr + 1 != i)
      return error(entry.node,
                   "expr modifiers must be consecutive (they form the op's "
                   "one score_mod region); move this expr next to the one "
                   "at position " +
                       Twine(*lastExpr) + " or fold the modifiers between "
                       "them into the expression");
    if (!firstExpr)
      firstExpr = i;
    lastExpr = i;
  }
  return success();
}

LogicalResult SpecImporter::readNormalizer(const SpecNode *node) {
  PathScope scope(path, "normalizer");
  static constexpr StringRef kinds[] = {"softmax", "softmax_with_sink",
                                        "softmax_off_by_one", "sigmoid",
                                        "none"};
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
  for (size_t i = 0; i < items->size(); ++i) {
      const SpecNode *item = (*items)[i];
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
  static constexpr StringRef keys[] = {"block_q", "block_kv", "warps", "stages",
                                       "split_kv"};
  FailureOr<Fields> fields = getFields(node, keys);
  if (failed(fields))
    return failure();
  int64_t values[5] = {0, 0, 0, 0, 0};
  for (auto [i, key] : llvm::enumerate(keys)) {
    if (const SpecNode *value = fields->get(key)) {
      PathScope keyScope(path, key);
      FailureOr<int64_t> v = getInt(value, 1);
      if (failed(v))
        return failure();
      values[i] = *v;
      // Fields no target reads yet are refused rather than ignored.
      if (key == "warps" || key == "stages" || (key == "split_kv" && *v > 1))
        return errorAt(value)()
               << "is not read by any target yet (the CPU target has no "
                  "warps or pipeline stages and does not split the kv "
                  "range); remove it";
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

//===----------------------------------------------------------------------===//
// Building the module
//===----------------------------------------------------------------------===//

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
      shape.push_back(d == BiasDim::h ? numQHeads
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
    argTypes.push_back(operandType(
        ctx, kind, numQHeads, headParams.size(), seqLen, ragged,
        bias ? bias.getDims() : ArrayRef<BiasDim>(), elementType));
  SmallVector<Type> resultTypes = {outType};
  if (wantLse)
    resultTypes.push_back(lseType);

  auto func = func::FuncOp::create(builder, loc, name,
                                   builder.getFunctionType(argTypes,
                                                           resultTypes));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  Value optional[getMaxEnumValForOperandKind() + 1] = {};
  for (auto [i, kind] : llvm::enumerate(kinds))
    optional[static_cast<unsigned>(kind)] = entry->getArgument(3 + i);

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
      schedule, TilingAttr());
  if (markerAdded && failed(buildScoreRegion(op, loc)))
    return nullptr;
  func::ReturnOp::create(builder, loc, op->getResults());

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> SpecImporter::import() {
  // The YAML parser reports syntax errors through a SourceMgr of its own
  // (over the same bytes, so pointers agree), routed into MLIR diagnostics.
  const llvm::MemoryBuffer *buffer = sm.getMemoryBuffer(sm.getMainFileID());
  llvm::SourceMgr yamlSourceMgr;
  yamlSourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(buffer->getMemBufferRef(),
                                       /*RequiresNullTerminator=*/false),
      SMLoc());
  yamlSourceMgr.setDiagHandler(
      [](const llvm::SMDiagnostic &diag, void *context) {
        auto *self = static_cast<SpecImporter *>(context);
        Location loc = diag.getLoc().isValid()
                           ? self->locOf(diag.getLoc().getPointer())
                           : Location(UnknownLoc::get(self->ctx));
        emitError(loc) << diag.getMessage();
      },
      this);
  yaml::Stream stream(buffer->getMemBufferRef(), yamlSourceMgr);
  auto doc = stream.begin();
  if (doc == stream.end() || stream.failed()) {
    emitError(FileLineColLoc::get(ctx, filename, 1, 1))
        << "the spec is empty; expected a mapping with at least name, "
           "head_dim and heads";
    return nullptr;
  }
  yaml::Node *rootNode = doc->getRoot();
  if (stream.failed() || !rootNode)
    return nullptr;
  std::unique_ptr<SpecNode> root = SpecNode::read(rootNode);
  if (stream.failed())
    return nullptr;
  if (root->isNull()) {
    emitError(FileLineColLoc::get(ctx, filename, 1, 1))
        << "the spec is empty; expected a mapping with at least name, "
           "head_dim and heads";
    return nullptr;
  }
  if (++doc != stream.end()) {
    emitError(locOf(doc->getRoot()->getSourceRange().Start.getPointer()))
        << "the file holds more than one YAML document; write one spec per "
           "file";
    return nullptr;
  }
  if (failed(readTopLevel(root.get())))
    return nullptr;
  return build(root.get());
}

OwningOpRef<ModuleOp> mlir::attn::importSpec(llvm::SourceMgr &sourceMgr,
                                             MLIRContext *context,
                                             const SpecOverrides &overrides) {
  context->loadDialect<AttnDialect, func::FuncDialect>();
  return SpecImporter(sourceMgr, context, overrides).import();
}
