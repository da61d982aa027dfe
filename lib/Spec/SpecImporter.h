//===- SpecImporter.h - Shared parts of the spec importer -------*- C++ -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Spec: the importer behind importSpec (SpecImport.h), in
// three layers, one file each:
//   SpecNode.cpp    the YAML layer: LLVM's YAML tree copied into SpecNodes,
//                   typed readers of scalars, lists and mappings, and errors
//                   located at a node and named by the field's path
//                   (`mask[1].sliding_window.left`);
//   SpecFields.cpp  the spec's meaning: each field read into the importer's
//                   state and checked where it is written;
//   SpecImport.cpp  the checks that need several fields, then the module: a
//                   func.func around one attn.attention, its operand types
//                   and score_mod region; and importSpec.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_SPEC_SPECIMPORTER_H
#define ATTN_LIB_SPEC_SPECIMPORTER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Spec/SpecImport.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class SourceMgr;
namespace yaml {
class Node;
} // namespace yaml
} // namespace llvm

namespace mlir::attn::spec {

//===----------------------------------------------------------------------===//
// The YAML layer (SpecNode.cpp)
//===----------------------------------------------------------------------===//

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

  /// How deep a spec may nest (mappings and lists); a spec is a handful of
  /// levels deep, and the readers recurse.
  static constexpr unsigned kMaxDepth = 64;

  /// Copies `node` and everything under it, down to kMaxDepth levels; the
  /// first node below that is recorded in `tooDeep` and not copied.
  static std::unique_ptr<SpecNode>
  read(llvm::yaml::Node *node, const char *&tooDeep, unsigned depth = 0);
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

/// Reads the spec's YAML into SpecNodes and their values, reporting each
/// error at the node's file:line:column, prefixed by the path of the field
/// being read (kept in `path` through PathScope).
/// " (did you mean 'x'?)" for the candidate closest to `word` when it is a
/// likely typo (at most 2 edits, fewer than half the word), else "".
std::string didYouMean(StringRef word, ArrayRef<StringRef> candidates);

class NodeReader {
public:
  NodeReader(llvm::SourceMgr &sourceMgr, MLIRContext *context);

  /// Parses the main buffer as one YAML document and copies it. Returns null
  /// after reporting errors (YAML syntax, an empty file, several documents).
  std::unique_ptr<SpecNode> readDocument();

protected:
  llvm::SourceMgr &sm;
  MLIRContext *ctx;
  StringRef filename;
  /// Where each line of the spec starts, for locations in O(log n): the
  /// SourceMgr scans back to the line's start for every column, which is
  /// quadratic on a long one-line expression.
  std::vector<const char *> lineStarts;
  SmallVector<std::string> path;

  //===--------------------------------------------------------------------===//
  // Locations and errors
  //===--------------------------------------------------------------------===//

  Location locOf(const char *ptr);
  /// Refuses bytes that are no spec text (binary files, control
  /// characters, invalid UTF-8) with a location and without echoing them.
  bool checkText(StringRef text);
  Location locOf(const SpecNode *node) { return locOf(node->start); }

  /// The field path, e.g. `mask[1].sliding_window.left`.
  std::string pathString() const;

  /// An error at `node`, prefixed by the field path.
  InFlightDiagnostic error(const SpecNode *node, const Twine &message);

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
  // Typed readers; each reports its own error and returns failure
  //===--------------------------------------------------------------------===//

  /// What `node` is, for messages: 'text', a list, a mapping, nothing ...
  static std::string describe(const SpecNode *node);

  FailureOr<std::string> getScalar(const SpecNode *node, StringRef expected);
  /// An integer of at least `min` (and at most `max`); `expected` replaces
  /// "a positive integer" or "a non-negative integer" in the message.
  FailureOr<int64_t> getInt(const SpecNode *node, int64_t min,
                            StringRef expected = "",
                            int64_t max = std::numeric_limits<int64_t>::max());
  /// A finite number.
  FailureOr<double> getNumber(const SpecNode *node);
  FailureOr<bool> getBool(const SpecNode *node);
  /// Reads one of `choices`.
  FailureOr<std::string> getChoice(const SpecNode *node,
                                   ArrayRef<StringRef> choices);
  FailureOr<SmallVector<const SpecNode *>> getList(const SpecNode *node,
                                                   StringRef expected);
  FailureOr<SmallVector<int64_t>> getIntList(const SpecNode *node, int64_t min);
  /// Reads a mapping whose keys must be among `allowed`.
  FailureOr<Fields> getFields(const SpecNode *node, ArrayRef<StringRef> allowed,
                              StringRef expected = "a mapping");
  /// Reads a mapping with exactly one key, as used by tagged choices such as
  /// `{sliding_window: {...}}`.
  FailureOr<std::pair<std::string, const SpecNode *>>
  getSingleKey(const SpecNode *node, ArrayRef<StringRef> allowed);
};

//===----------------------------------------------------------------------===//
// The importer (SpecFields.cpp, SpecImport.cpp)
//===----------------------------------------------------------------------===//

/// The schedule's fields, in the order of ScheduleAttr's parameters.
inline constexpr StringRef kScheduleKeys[] = {"block_q", "block_kv", "warps",
                                              "stages", "split_kv"};

/// A score modifier as written, before the op is built.
struct ScoreEntry {
  ScoreModAttrInterface attr; ///< null for `expr`
  const SpecNode *node = nullptr;
  std::string expr; ///< the expression text, for `expr`
  const SpecNode *exprNode = nullptr;
};

/// Reads a spec's fields (SpecFields.cpp) and builds the module they describe
/// (SpecImport.cpp).
class SpecImporter : NodeReader {
public:
  SpecImporter(llvm::SourceMgr &sourceMgr, MLIRContext *context,
               const SpecOverrides &overrides)
      : NodeReader(sourceMgr, context), builder(context), overrides(overrides) {
  }

  OwningOpRef<ModuleOp> import();

private:
  OpBuilder builder;
  SpecOverrides overrides;

  // Spec contents.
  Fields topLevel; ///< the spec's fields, for checks across them
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
  // Sections of the spec (SpecFields.cpp)
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
  MaskAttrInterface readMaskPrimitive(StringRef key, const SpecNode *value,
                                      const SpecNode *node);
  MaskAttrInterface readMaskList(const SpecNode *node, bool isAnd);
  /// The sizes the spec fixes (heads and head dims).
  ProblemShape specShape() const {
    ProblemShape shape;
    shape.numQHeads = numQHeads;
    shape.numKVHeads = numKVHeads;
    shape.headDimQK = headDimQK;
    shape.headDimV = headDimV;
    return shape;
  }

  //===--------------------------------------------------------------------===//
  // Checks across fields and building the module (SpecImport.cpp)
  //===--------------------------------------------------------------------===//

  /// Checks that need several fields (some of them the op verifier makes
  /// too), each located at the field that must change. Also pins seqLen to
  /// the neighborhood grid's token count.
  LogicalResult checkAcrossFields();
  OwningOpRef<ModuleOp> build(const SpecNode *root);
  /// The schedule with the overrides' split_kv, when given.
  ScheduleAttr scheduleWithOverrides() const;
  LogicalResult buildScoreRegion(AttentionOp op, Location loc);
};

} // namespace mlir::attn::spec

#endif // ATTN_LIB_SPEC_SPECIMPORTER_H
