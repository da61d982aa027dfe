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
#include "llvm/Support/ConvertUTF.h"
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

/// The innermost flow collection ('[' or '{') or quoted scalar that `text`
/// opens and never closes, or null. A light scan of YAML's surface: quotes
/// and brackets count only where a value starts, comments and block
/// scalars are skipped. It only redirects an error the YAML parser already
/// reported, so a construct it misreads costs a less precise location.
static const char *findUnclosed(StringRef text) {
  SmallVector<const char *> open; // flow collections
  const char *begin = text.begin(), *end = text.end();
  bool valueStart = true;
  int blockIndent = -1; // > -1: skipping a block scalar's lines
  int lineIndent = 0;
  for (const char *p = begin; p < end; ++p) {
    char c = *p;
    if (c == '\n') {
      valueStart = true;
      // The next line's indentation; a block scalar ends where a line is
      // indented no deeper than the line that introduced it.
      const char *q = p + 1;
      while (q < end && *q == ' ')
        ++q;
      int indent = static_cast<int>(q - p - 1);
      if (blockIndent >= 0 && q < end && *q != '\n' && indent <= blockIndent)
        blockIndent = -1;
      if (blockIndent < 0)
        lineIndent = indent;
      continue;
    }
    if (blockIndent >= 0)
      continue;
    if (c == '#' && (p == begin || p[-1] == ' ' || p[-1] == '\t')) {
      while (p + 1 < end && p[1] != '\n')
        ++p;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r')
      continue;
    if (valueStart && (c == '"' || c == '\'')) {
      const char *quote = p;
      for (++p; p < end; ++p) {
        if (c == '"' && *p == '\\') {
          ++p;
          continue;
        }
        if (*p == c) {
          if (c == '\'' && p + 1 < end && p[1] == '\'') { // '' escapes '
            ++p;
            continue;
          }
          break;
        }
      }
      if (p >= end)
        return quote;
      valueStart = false;
      continue;
    }
    if (valueStart && (c == '[' || c == '{')) {
      open.push_back(p);
      continue;
    }
    if (!open.empty() && (c == ']' || c == '}')) {
      open.pop_back();
      valueStart = false;
      continue;
    }
    if (valueStart && open.empty() && (c == '|' || c == '>')) {
      blockIndent = lineIndent;
      continue;
    }
    bool spaceAfter = p + 1 == end || p[1] == ' ' || p[1] == '\n';
    if ((c == ':' || (c == '-' && open.empty())) && spaceAfter) {
      valueStart = true;
      continue;
    }
    if (c == ',' && !open.empty()) {
      valueStart = true;
      continue;
    }
    valueStart = false;
  }
  return open.empty() ? nullptr : open.back();
}

bool NodeReader::checkText(StringRef text) {
  // Located at column 0 so that the message does not echo the line: its
  // bytes may be anything.
  auto reject = [&](const char *at, const Twine &message) {
    StringRef before = text.take_front(at - text.begin());
    unsigned line = 1 + static_cast<unsigned>(before.count('\n'));
    size_t lineStart = before.rfind('\n'); // npos + 1 == 0
    unsigned col = static_cast<unsigned>(before.size() - (lineStart + 1) + 1);
    emitError(FileLineColLoc::get(ctx, filename, line, 0))
        << message << " at line " << line << ", column " << col;
    return false;
  };
  if (size_t nul = text.find('\0'); nul != StringRef::npos)
    return reject(text.begin() + nul,
                  "this is a binary file, not a YAML spec: a NUL byte");
  const char *control = llvm::find_if(text, [](char c) {
    unsigned char byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f;
  });
  if (control != text.end())
    return reject(control,
                  "a spec is text; control character 0x" +
                      llvm::utohexstr(static_cast<unsigned char>(*control),
                                      /*LowerCase=*/false, 2));
  const auto *utf8 = reinterpret_cast<const llvm::UTF8 *>(text.begin());
  if (!llvm::isLegalUTF8String(
          &utf8, reinterpret_cast<const llvm::UTF8 *>(text.end())))
    return reject(reinterpret_cast<const char *>(utf8),
                  "a spec is UTF-8 text; invalid UTF-8 byte 0x" +
                      llvm::utohexstr(*utf8, /*LowerCase=*/false, 2));
  return true;
}

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
  if (!checkText(buffer->getBuffer()))
    return nullptr;
  yamlSourceMgr.setDiagHandler(
      [](const llvm::SMDiagnostic &diag, void *context) {
        auto *self = static_cast<NodeReader *>(context);
        if (!diag.getLoc().isValid()) {
          emitError(UnknownLoc::get(self->ctx)) << diag.getMessage();
          return;
        }
        // The parser notices an unclosed bracket or quote where it gives
        // up, often at the end of the file: point at what opened it.
        const char *at = diag.getLoc().getPointer();
        const char *opener = findUnclosed(
            self->sm.getMemoryBuffer(self->sm.getMainFileID())->getBuffer());
        if (opener && opener < at) {
          InFlightDiagnostic error = emitError(self->locOf(opener));
          if (*opener == '[' || *opener == '{')
            error << "this '" << *opener << "' is never closed";
          else
            error << "this quoted scalar is never closed";
          error.attachNote(self->locOf(at))
              << "the YAML parser stopped here: " << diag.getMessage();
          return;
        }
        emitError(self->locOf(at)) << diag.getMessage();
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
