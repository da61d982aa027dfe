//===- SpecNode.cpp - The YAML layer of the spec importer -----------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The mask algebra of the spec format (docs/spec.md) is recursive and its
// nodes are scalars, sequences or single-key maps, so the importer walks
// LLVM's YAML node tree (llvm/Support/YAMLParser.h) directly rather than
// mapping it onto structs with YAMLTraits. This file copies that tree into
// SpecNodes and reads typed values out of them; every error carries the
// node's exact file:line:column and the path of the field
// (`mask[1].sliding_window.left`).
//
//===----------------------------------------------------------------------===//

#include "SpecImporter.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::spec;
namespace yaml = llvm::yaml;

//===----------------------------------------------------------------------===//
// SpecNode
//===----------------------------------------------------------------------===//

std::unique_ptr<SpecNode> SpecNode::read(yaml::Node *node, const char *&tooDeep,
                                         unsigned depth) {
  auto result = std::make_unique<SpecNode>();
  // The parser gives no node after a syntax error (already reported; the
  // caller sees the stream failed and uses nothing of the tree).
  if (!node) {
    result->kind = Kind::Other;
    return result;
  }
  result->start = node->getSourceRange().Start.getPointer();
  if (depth > kMaxDepth) {
    if (!tooDeep)
      tooDeep = result->start;
    result->kind = Kind::Other;
    return result;
  }
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
    if (!quoted &&
        (raw == "~" || raw == "null" || raw == "Null" || raw == "NULL"))
      result->kind = Kind::Null;
  } else if (auto *block = dyn_cast<yaml::BlockScalarNode>(node)) {
    result->kind = Kind::Scalar;
    result->value = block->getValue().str();
  } else if (auto *seq = dyn_cast<yaml::SequenceNode>(node)) {
    result->kind = Kind::Sequence;
    for (yaml::Node &item : *seq) {
      result->items.push_back(read(&item, tooDeep, depth + 1));
      // Stop at once: moving on would make the parser skip the subtree
      // below the limit, recursing once per level.
      if (tooDeep)
        return result;
    }
  } else if (auto *map = dyn_cast<yaml::MappingNode>(node)) {
    result->kind = Kind::Mapping;
    for (yaml::KeyValueNode &kv : *map) {
      result->keys.push_back(read(kv.getKey(), tooDeep, depth + 1));
      if (tooDeep)
        return result;
      result->items.push_back(read(kv.getValue(), tooDeep, depth + 1));
      if (tooDeep)
        return result;
    }
  } else if (!isa<yaml::NullNode>(node)) {
    result->kind = Kind::Other;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// The document
//===----------------------------------------------------------------------===//

NodeReader::NodeReader(llvm::SourceMgr &sourceMgr, MLIRContext *context)
    : sm(sourceMgr), ctx(context) {
  const llvm::MemoryBuffer *buffer = sm.getMemoryBuffer(sm.getMainFileID());
  filename = buffer->getBufferIdentifier();
}

std::unique_ptr<SpecNode> NodeReader::readDocument() {
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
        auto *self = static_cast<NodeReader *>(context);
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
  const char *tooDeep = nullptr;
  std::unique_ptr<SpecNode> root = SpecNode::read(rootNode, tooDeep);
  if (stream.failed())
    return nullptr;
  if (tooDeep) {
    emitError(locOf(tooDeep))
        << "the spec nests deeper than " << SpecNode::kMaxDepth
        << " levels of mappings and lists";
    return nullptr;
  }
  if (root->isNull()) {
    emitError(FileLineColLoc::get(ctx, filename, 1, 1))
        << "the spec is empty; expected a mapping with at least name, "
           "head_dim and heads";
    return nullptr;
  }
  // Moving past the document may hit a syntax error (already reported)
  // instead of a second document, which then has no root.
  if (++doc != stream.end()) {
    if (stream.failed())
      return nullptr;
    yaml::Node *second = doc->getRoot();
    if (stream.failed() || !second)
      return nullptr;
    emitError(locOf(second->getSourceRange().Start.getPointer()))
        << "the file holds more than one YAML document; write one spec per "
           "file";
    return nullptr;
  }
  if (stream.failed())
    return nullptr;
  return root;
}

//===----------------------------------------------------------------------===//
// Locations and errors
//===----------------------------------------------------------------------===//

Location NodeReader::locOf(const char *ptr) {
  const llvm::MemoryBuffer *buffer = sm.getMemoryBuffer(sm.getMainFileID());
  const char *begin = buffer->getBufferStart(), *end = buffer->getBufferEnd();
  if (!ptr || ptr < begin || ptr > end)
    return FileLineColLoc::get(ctx, filename, 1, 1);
  if (lineStarts.empty()) {
    lineStarts.push_back(begin);
    for (const char *p = begin; p != end; ++p)
      if (*p == '\n')
        lineStarts.push_back(p + 1);
  }
  auto next = std::upper_bound(lineStarts.begin(), lineStarts.end(), ptr);
  unsigned line = static_cast<unsigned>(next - lineStarts.begin());
  unsigned col = static_cast<unsigned>(ptr - *std::prev(next)) + 1;
  return FileLineColLoc::get(ctx, filename, line, col);
}

std::string NodeReader::pathString() const {
  std::string text;
  for (const std::string &part : path) {
    if (!text.empty() && part.front() != '[')
      text += '.';
    text += part;
  }
  return text;
}

InFlightDiagnostic NodeReader::error(const SpecNode *node,
                                     const Twine &message) {
  InFlightDiagnostic diag = emitError(locOf(node));
  if (!path.empty())
    diag << "'" << pathString() << "': ";
  diag << message;
  return diag;
}

//===----------------------------------------------------------------------===//
// Typed readers
//===----------------------------------------------------------------------===//

std::string NodeReader::describe(const SpecNode *node) {
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

FailureOr<std::string> NodeReader::getScalar(const SpecNode *node,
                                             StringRef expected) {
  if (!node->isScalar()) {
    (void)error(node, "expected " + expected + ", got " + describe(node));
    return failure();
  }
  return node->value;
}

FailureOr<int64_t> NodeReader::getInt(const SpecNode *node, int64_t min,
                                      StringRef expected, int64_t max) {
  std::string what = expected.empty() ? (min > 0 ? "a positive integer"
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
  if (value > max) {
    (void)error(node,
                "expected at most " + Twine(max) + ", got '" + *text + "'");
    return failure();
  }
  return value;
}

FailureOr<double> NodeReader::getNumber(const SpecNode *node) {
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

FailureOr<bool> NodeReader::getBool(const SpecNode *node) {
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

std::string mlir::attn::spec::didYouMean(StringRef word,
                                         ArrayRef<StringRef> candidates) {
  StringRef best;
  unsigned bestDistance = 3;
  for (StringRef candidate : candidates) {
    unsigned distance = word.edit_distance(candidate, /*AllowReplacements=*/
                                           true, /*MaxEditDistance=*/2);
    if (distance < bestDistance && 2 * distance < word.size()) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best.str() + "'?)";
}

FailureOr<std::string> NodeReader::getChoice(const SpecNode *node,
                                             ArrayRef<StringRef> choices) {
  std::string allowed = llvm::join(choices, " | ");
  FailureOr<std::string> text = getScalar(node, "one of " + allowed);
  if (failed(text))
    return failure();
  if (!llvm::is_contained(choices, *text)) {
    (void)error(node, "expected one of " + allowed + ", got '" + *text + "'" +
                          didYouMean(*text, choices));
    return failure();
  }
  return text;
}

FailureOr<SmallVector<const SpecNode *>>
NodeReader::getList(const SpecNode *node, StringRef expected) {
  if (!node->isSequence()) {
    (void)error(node, "expected " + expected + ", got " + describe(node));
    return failure();
  }
  SmallVector<const SpecNode *> items;
  for (const auto &item : node->items)
    items.push_back(item.get());
  return items;
}

FailureOr<SmallVector<int64_t>> NodeReader::getIntList(const SpecNode *node,
                                                       int64_t min) {
  FailureOr<SmallVector<const SpecNode *>> items =
      getList(node, "a list of integers");
  if (failed(items))
    return failure();
  SmallVector<int64_t> values;
  for (auto [i, item] : llvm::enumerate(*items)) {
    PathScope scope(path, "[" + Twine(i) + "]");
    FailureOr<int64_t> v = getInt(item, min);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

FailureOr<Fields> NodeReader::getFields(const SpecNode *node,
                                        ArrayRef<StringRef> allowed,
                                        StringRef expected) {
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
        (void)error(keyNode,
                    "unknown field '" + *key + "'; this entry takes no fields");
      else
        (void)error(keyNode, "unknown field '" + *key + "'" +
                                 didYouMean(*key, allowed) + "; expected " +
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

FailureOr<std::pair<std::string, const SpecNode *>>
NodeReader::getSingleKey(const SpecNode *node, ArrayRef<StringRef> allowed) {
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
