//===- MaskAnalysisTest.cpp - Mask attributes to tile classification ------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAnalysis.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

class MaskAnalysisTest : public ::testing::Test {
protected:
  MaskAnalysisTest() { context.loadDialect<AttnDialect>(); }

  attnrt::mask::Node model(StringRef text) {
    auto attr =
        dyn_cast_or_null<MaskAttrInterface>(parseAttribute(text, &context));
    EXPECT_TRUE(attr) << text.str();
    return buildMaskModel(attr);
  }

  TileCounts count(StringRef text, int64_t qLen, int64_t kvLen, int64_t block) {
    attnrt::mask::Data data;
    data.qLen = qLen;
    data.kvLen = kvLen;
    return countTiles(model(text), data, 0, 0, block, block);
  }

  MLIRContext context;
};

TEST_F(MaskAnalysisTest, ModelPrintsLikeTheIR) {
  const char *masks[] = {
      "and<causal, or<sinks<4>, sliding_window<left = 64, right = 0>>>",
      "on_heads<heads = [0, 3], mask = not<chunked<128>>>",
      "neighborhood<grid = [8, 8], kernel = [3, 3], dilation = [1, 2], "
      "causal = [true, false]>",
      "or<block_sparse<block_q = 64, block_kv = 64>, vertical_slash, "
      "document<cu_seqlens>, prefix_lm<operand>, causal<top_left>>"};
  for (const char *text : masks)
    EXPECT_EQ(model((Twine("#attn.") + text).str()).str(), text);
}

TEST_F(MaskAnalysisTest, CausalTilesSplitAlongTheDiagonal) {
  // 4 x 4 tiles of 64: 6 above the diagonal, 4 on it, 6 below.
  TileCounts c = count("#attn.causal", 256, 256, 64);
  EXPECT_EQ(c.empty, 6);
  EXPECT_EQ(c.partial, 4);
  EXPECT_EQ(c.full, 6);
}

TEST_F(MaskAnalysisTest, SlidingWindowSkipsFarTiles) {
  // S = 8192, window 256, tiles of 64: only a band of tiles is visible.
  TileCounts c = count("#attn.sliding_window<left = 256>", 8192, 8192, 64);
  EXPECT_EQ(c.total(), 128 * 128);
  // Per q-tile at most 6 kv tiles touch [p - 256, p]; 4 fully inside.
  EXPECT_LE(c.full + c.partial, 128 * 6);
  EXPECT_GT(c.empty, 128 * 120);
}

TEST_F(MaskAnalysisTest, DecodeSeesTheWholeCache) {
  TileCounts c = count("#attn.causal", 1, 1000, 128);
  EXPECT_EQ(c.full, 8);
  EXPECT_EQ(c.partial, 0);
}

} // namespace
