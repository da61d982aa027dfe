//===- SpecRewrite.cpp - Overrides written into a spec's text -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-run --save stores the spec that ran. Command-line overrides (dtype,
// split_kv) change the kernel, so they are written into the spec's own
// fields: the value of a field that is there is replaced in place, a field
// that is not is added to its mapping in the mapping's style (a line at the
// first key's indentation in block style, an entry after the '{' in flow
// style). Everything else (comments, order, quoting) stays as written.
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/SpecImport.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <algorithm>
#include <functional>

using namespace mlir;
using namespace mlir::attn;
namespace yaml = llvm::yaml;

namespace {

/// Replaces [offset, offset + length) with text.
struct Edit {
  size_t offset, length;
  std::string text;
};

/// The key of `kv` when it is a plain or quoted scalar, else empty.
std::string keyOf(yaml::KeyValueNode &kv) {
  auto *key = llvm::dyn_cast_or_null<yaml::ScalarNode>(kv.getKey());
  llvm::SmallString<32> storage;
  return key ? key->getValue(storage).str() : "";
}

/// The value of a scalar node as written, else empty.
std::string scalarOf(yaml::Node *node) {
  auto *scalar = llvm::dyn_cast_or_null<yaml::ScalarNode>(node);
  llvm::SmallString<32> storage;
  return scalar ? scalar->getValue(storage).str() : "";
}

class Rewriter {
public:
  explicit Rewriter(llvm::StringRef text) : text(text) {}

  size_t offsetOf(const yaml::Node *node) const {
    return node->getSourceRange().Start.getPointer() - text.data();
  }

  /// Replaces the text of `node` (a scalar) with `value`.
  void replace(yaml::Node *node, llvm::StringRef value) {
    llvm::SMRange range = node->getSourceRange();
    // A plain scalar's range may run over the blanks after it.
    llvm::StringRef written =
        llvm::StringRef(range.Start.getPointer(),
                        range.End.getPointer() - range.Start.getPointer())
            .rtrim(" \t\r\n");
    edits.push_back({offsetOf(node), written.size(), value.str()});
  }

  /// Adds `key: value` to a mapping whose first entry (read) is `first`
  /// (null when empty) and whose '{' is at `brace` (npos in block style):
  /// in flow style after the '{', in block style as a line of its own at
  /// the first key's column, before it.
  void add(size_t brace, yaml::KeyValueNode *first, llvm::StringRef key,
           llvm::StringRef value) {
    std::string entry = (key + ": " + value).str();
    if (brace != llvm::StringRef::npos) {
      // `{key: value, ...`, or `{ key: value, ...` after a blank.
      bool blank = brace + 1 < text.size() && text[brace + 1] == ' ';
      std::string separator = first ? "," : "";
      edits.push_back({brace + 1, 0,
                       blank ? " " + entry + separator
                             : entry + separator + (first ? " " : "")});
      return;
    }
    size_t at = offsetOf(first->getKey());
    size_t lineStart = text.rfind('\n', at);
    size_t column =
        lineStart == llvm::StringRef::npos ? at : at - lineStart - 1;
    edits.push_back({at, 0, entry + "\n" + std::string(column, ' ')});
  }

  std::string apply() {
    std::string result = text.str();
    // From the end, so that offsets stay valid; entries added at one place
    // keep the order in which they were added.
    std::stable_sort(
        edits.begin(), edits.end(),
        [](const Edit &a, const Edit &b) { return a.offset < b.offset; });
    for (const Edit &edit : llvm::reverse(edits))
      result.replace(edit.offset, edit.length, edit.text);
    return result;
  }

private:
  llvm::StringRef text;
  std::vector<Edit> edits;
};

/// Where the flow mapping that a value starting at or after `from` opens has
/// its '{', or npos when the value is no flow mapping: skips blanks, the
/// ':' after a key, comments, directives and the document marker.
size_t flowBrace(llvm::StringRef text, size_t from) {
  for (size_t i = from; i < text.size();) {
    char c = text[i];
    bool lineStart = i == 0 || text[i - 1] == '\n';
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ':') {
      ++i;
    } else if (c == '#' || (c == '%' && lineStart)) {
      i = text.find('\n', i);
    } else if (lineStart && text.substr(i).starts_with("---")) {
      i += 3;
    } else {
      return c == '{' ? i : llvm::StringRef::npos;
    }
  }
  return llvm::StringRef::npos;
}

/// Walks the spec `text` once (the YAML parser reads each mapping once, in
/// order): `onEntry(kv)` for each top-level entry but `schedule`,
/// `onScheduleEntry(kv)` for each entry of the `schedule` mapping and then
/// `onSchedule(brace, first)`, and `onRoot(brace, first)` at the end, with
/// each mapping's '{' (npos in block style) and first entry.
struct SpecWalk {
  std::function<void(yaml::KeyValueNode &)> onEntry, onScheduleEntry;
  std::function<void(size_t, yaml::KeyValueNode *)> onRoot, onSchedule;

  LogicalResult run(llvm::StringRef text, std::string &error) {
    llvm::SourceMgr sourceMgr;
    std::string parseError;
    sourceMgr.setDiagHandler(
        [](const llvm::SMDiagnostic &diag, void *context) {
          auto *message = static_cast<std::string *>(context);
          if (message->empty())
            *message = diag.getMessage().str();
        },
        &parseError);
    yaml::Stream stream(text, sourceMgr);
    auto doc = stream.begin();
    auto *root =
        doc == stream.end()
            ? nullptr
            : llvm::dyn_cast_or_null<yaml::MappingNode>(doc->getRoot());
    if (!root || stream.failed()) {
      error = "the spec is not a YAML mapping" +
              (parseError.empty() ? "" : ": " + parseError);
      return failure();
    }
    size_t rootBrace = flowBrace(text, 0);
    yaml::KeyValueNode *first = nullptr;
    bool scheduleIsMapping = true;
    for (yaml::KeyValueNode &kv : *root) {
      if (!first)
        first = &kv;
      if (keyOf(kv) == "schedule") {
        auto *schedule =
            llvm::dyn_cast_or_null<yaml::MappingNode>(kv.getValue());
        if (!schedule) {
          scheduleIsMapping = false;
          continue;
        }
        size_t scheduleBrace = flowBrace(
            text, kv.getKey()->getSourceRange().End.getPointer() - text.data());
        yaml::KeyValueNode *firstOfSchedule = nullptr;
        for (yaml::KeyValueNode &entry : *schedule) {
          if (!firstOfSchedule)
            firstOfSchedule = &entry;
          if (onScheduleEntry)
            onScheduleEntry(entry);
        }
        if (onSchedule)
          onSchedule(scheduleBrace, firstOfSchedule);
        continue;
      }
      if (onEntry)
        onEntry(kv);
    }
    if (stream.failed()) {
      error = "the spec is not valid YAML" +
              (parseError.empty() ? "" : ": " + parseError);
      return failure();
    }
    if (!scheduleIsMapping) {
      error = "the spec's schedule is not a mapping";
      return failure();
    }
    if (onRoot)
      onRoot(rootBrace, first);
    return success();
  }
};

} // namespace

FailureOr<std::string>
mlir::attn::writeOverridesIntoSpec(llvm::StringRef specText,
                                   const SpecOverrides &overrides,
                                   std::string &error) {
  std::string splitKV =
      overrides.splitKV ? std::to_string(overrides.splitKV) : "";
  Rewriter rewriter(specText);
  bool hasDType = false, hasSchedule = false;
  SpecWalk walk;
  walk.onEntry = [&](yaml::KeyValueNode &kv) {
    if (keyOf(kv) != "dtype")
      return;
    hasDType = true;
    if (!overrides.dtype.empty())
      rewriter.replace(kv.getValue(), overrides.dtype);
  };
  bool hasSplitKV = false;
  walk.onScheduleEntry = [&](yaml::KeyValueNode &kv) {
    if (keyOf(kv) != "split_kv")
      return;
    hasSplitKV = true;
    if (!splitKV.empty())
      rewriter.replace(kv.getValue(), splitKV);
  };
  walk.onSchedule = [&](size_t brace, yaml::KeyValueNode *first) {
    hasSchedule = true;
    if (!hasSplitKV && !splitKV.empty())
      rewriter.add(brace, first, "split_kv", splitKV);
  };
  walk.onRoot = [&](size_t brace, yaml::KeyValueNode *first) {
    if (!hasDType && !overrides.dtype.empty())
      rewriter.add(brace, first, "dtype", overrides.dtype);
    if (!hasSchedule && !splitKV.empty())
      rewriter.add(brace, first, "schedule", "{split_kv: " + splitKV + "}");
  };
  if (failed(walk.run(specText, error)))
    return failure();
  std::string result = rewriter.apply();

  // Read the fields back: what was written is what a reader sees.
  std::string dtype, writtenSplitKV;
  SpecWalk check;
  check.onEntry = [&](yaml::KeyValueNode &kv) {
    if (keyOf(kv) == "dtype")
      dtype = scalarOf(kv.getValue());
  };
  check.onScheduleEntry = [&](yaml::KeyValueNode &kv) {
    if (keyOf(kv) == "split_kv")
      writtenSplitKV = scalarOf(kv.getValue());
  };
  if (failed(check.run(result, error)) ||
      (!overrides.dtype.empty() && dtype != overrides.dtype) ||
      (!splitKV.empty() && writtenSplitKV != splitKV)) {
    error = "cannot write the overrides into the spec's text" +
            (error.empty() ? "" : ": " + error);
    return failure();
  }
  return result;
}
