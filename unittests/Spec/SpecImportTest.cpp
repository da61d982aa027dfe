//===- SpecImportTest.cpp - Tests of the YAML spec importer ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Spec/SpecImport.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Imports `text` as if read from `spec.yaml`, capturing diagnostics.
struct Imported {
  OwningOpRef<ModuleOp> module;
  std::vector<std::string> errors; // "line:col: message"
};

class SpecImportTest : public ::testing::Test {
protected:
  Imported import(StringRef text) {
    Imported result;
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "spec.yaml"), SMLoc());
    ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diag) {
      std::string where;
      if (auto loc = dyn_cast<FileLineColLoc>(diag.getLocation()))
        where = std::to_string(loc.getLine()) + ":" +
                std::to_string(loc.getColumn()) + ": ";
      result.errors.push_back(where + diag.str());
      return success();
    });
    result.module = importSpec(sourceMgr, &context);
    return result;
  }

  AttentionOp attentionOf(Imported &imported) {
    AttentionOp op;
    imported.module->walk([&](AttentionOp found) { op = found; });
    return op;
  }

  MLIRContext context;
};

TEST_F(SpecImportTest, ImportsTheGemmaExample) {
  Imported r = import(R"yaml(
name: gemma2_local
dtype: bf16
head_dim: 256
heads: {q: 16, kv: 8}
scale: 0.0625
mask:
  - causal
  - {sliding_window: {left: 4096, right: 0}}
score:
  - {softcap: 50.0}
  - {expr: "score - 0.05 * abs(q_idx - kv_idx)"}
outputs: [out, lse]
)yaml");
  ASSERT_TRUE(r.module) << (r.errors.empty() ? "" : r.errors.front());
  AttentionOp op = attentionOf(r);
  ASSERT_TRUE(op);
  EXPECT_TRUE(op.getQ().getType().getElementType().isBF16());
  EXPECT_EQ(op.getProblemShape().numQHeads, 16);
  EXPECT_EQ(op.getProblemShape().numKVHeads, 8);
  EXPECT_EQ(op.getProblemShape().headDimQK, 256);
  EXPECT_DOUBLE_EQ(op.getScaleOrDefault(), 0.0625);
  EXPECT_TRUE(op.getLse());
  EXPECT_TRUE(isa<AndAttr>(op.getMaskAttr()));
  ASSERT_EQ(op.getScoreModsAttr().size(), 2u);
  EXPECT_TRUE(isa<ScoreModMarkerAttr>(op.getScoreModsAttr()[1]));
  EXPECT_FALSE(op.getScoreMod().empty());
}

TEST_F(SpecImportTest, DefaultsAreFilledIn) {
  Imported r = import("name: plain\nhead_dim: 64\nheads: 4\n");
  ASSERT_TRUE(r.module);
  AttentionOp op = attentionOf(r);
  EXPECT_TRUE(op.getQ().getType().getElementType().isF32());
  EXPECT_EQ(op.getLayout(), Layout::bshd);
  EXPECT_DOUBLE_EQ(op.getScaleOrDefault(), 0.125);
  EXPECT_EQ(op.getNormalizerOrDefault().getKind(), NormalizerKind::softmax);
  EXPECT_FALSE(op.getLse());
  EXPECT_FALSE(op.getMaskAttr());
}

TEST_F(SpecImportTest, OperandsFollowTheComponents) {
  Imported r = import(R"yaml(
name: sparse
head_dim: 64
heads: 8
mask: {block_sparse: {block: [64, 64]}}
score: [{alibi: {slopes: operand}}]
normalizer: softmax_with_sink
)yaml");
  ASSERT_TRUE(r.module) << (r.errors.empty() ? "" : r.errors.front());
  AttentionOp op = attentionOf(r);
  EXPECT_TRUE(op.getKvNumBlocks());
  EXPECT_TRUE(op.getKvIndices());
  EXPECT_TRUE(op.getAlibiSlopes());
  EXPECT_TRUE(op.getSink());
  EXPECT_FALSE(op.getBias());
}

TEST_F(SpecImportTest, NeighborhoodPinsTheSequenceLength) {
  Imported r = import(R"yaml(
name: natten
head_dim: 32
heads: 2
mask: {neighborhood: {grid: [8, 16], kernel: [3, 5]}}
)yaml");
  ASSERT_TRUE(r.module);
  EXPECT_EQ(attentionOf(r).getProblemShape().qLen, 128);
}

TEST_F(SpecImportTest, ErrorsPointAtTheField) {
  Imported r = import("name: bad\nhead_dim: 64\nheads: {q: 6, kv: 4}\n");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("3:19: 'heads.kv': the number of kv heads (4) "
                              "must divide the number of query heads (6)",
                              0),
            0u)
      << r.errors[0];
}

TEST_F(SpecImportTest, ExprErrorsPointInsideTheString) {
  Imported r = import("name: e\nhead_dim: 64\nheads: 1\n"
                      "score: [{expr: \"score * (q_idx +\"}]\n");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("4:33: 'score[0].expr': expected a value", 0), 0u)
      << r.errors[0];
}

TEST_F(SpecImportTest, UnknownFieldsAreNamed) {
  Imported r = import("name: u\nhead_dim: 64\nheads: 1\nmaks: causal\n");
  EXPECT_FALSE(r.module);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("4:1: unknown field 'maks'"), std::string::npos)
      << r.errors[0];
}

TEST_F(SpecImportTest, YamlSyntaxErrorsAreLocated) {
  Imported r = import("name: s\nhead_dim: 64\nheads: 1\nmask: [causal\n");
  EXPECT_FALSE(r.module);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].rfind("4:", 0), 0u) << r.errors[0];
}

// attn-run --save writes --dtype and --split-kv into the spec's fields:
// replaced where the spec has them, added in its style where it does not,
// the rest of the text kept; the result imports with the overrides' values.
TEST_F(SpecImportTest, OverridesAreWrittenIntoTheSpec) {
  SpecOverrides overrides;
  overrides.dtype = "f32";
  overrides.splitKV = 3;
  const char *specs[] = {
      // Block style, the fields present (dtype quoted).
      "# a comment\nname: a\ndtype: \"bf16\"  # kept\nhead_dim: 64\n"
      "heads: 2\nschedule:\n  block_q: 64\n  split_kv: 1\n",
      // Block style, no dtype, no schedule.
      "# a comment\nname: b\nhead_dim: 64\nheads: 2\nmask: causal\n",
      // A block schedule without split_kv, indented by four.
      "name: c\ndtype: f16\nhead_dim: 64\nheads: 2\nschedule:\n"
      "    block_q: 64\n    block_kv: 32\n",
      // A flow schedule without split_kv, and an empty one.
      "name: d\nhead_dim: 64\nheads: 2\nschedule: {block_q: 64}\n",
      "name: e\nhead_dim: 64\nheads: 2\nschedule: {}\n",
      // Flow style throughout, after a comment that holds a '{'.
      "# see {this}\n{name: f, dtype: bf16, head_dim: 64, heads: 2}\n",
      "---\n{ name: g, head_dim: 64, heads: 2, schedule: { split_kv: 8 } }\n",
  };
  for (const char *spec : specs) {
    SCOPED_TRACE(spec);
    std::string error;
    FailureOr<std::string> written =
        writeOverridesIntoSpec(spec, overrides, error);
    ASSERT_TRUE(succeeded(written)) << error;
    SCOPED_TRACE(*written);
    if (llvm::StringRef(spec).starts_with("#")) {
      EXPECT_TRUE(llvm::StringRef(*written).starts_with("#"));
    }
    Imported r = import(*written);
    ASSERT_TRUE(r.module) << (r.errors.empty() ? "" : r.errors[0]);
    AttentionOp op = attentionOf(r);
    EXPECT_TRUE(op.getQ().getType().getElementType().isF32());
    ASSERT_TRUE(op.getScheduleAttr());
    EXPECT_EQ(op.getScheduleAttr().getSplitKv(), 3);
  }
  // The rest of a schedule stays.
  std::string error;
  FailureOr<std::string> written =
      writeOverridesIntoSpec(specs[2], overrides, error);
  ASSERT_TRUE(succeeded(written)) << error;
  Imported r = import(*written);
  ASSERT_TRUE(r.module);
  EXPECT_EQ(attentionOf(r).getScheduleAttr().getBlockQ(), 64);
  EXPECT_EQ(attentionOf(r).getScheduleAttr().getBlockKv(), 32);
  // No overrides: the text as it was.
  written = writeOverridesIntoSpec(specs[0], SpecOverrides(), error);
  ASSERT_TRUE(succeeded(written)) << error;
  EXPECT_EQ(*written, specs[0]);
}

} // namespace
