//===- MaskAnalysisTest.cpp - Mask attributes to tile classification ------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAnalysis.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"
#include <random>

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

namespace {
// classifyTile decides some tiles from a few reads (causal corners, one
// document per side); its kinds must be the per-pair definition's.
TEST_F(MaskAnalysisTest, TileKindsMatchThePairsWithDocumentIds) {
  const int64_t batch = 2, qLen = 97, kvLen = 130;
  std::mt19937 rng(7);
  for (bool sorted : {true, false}) {
    std::vector<int32_t> docQ(batch * qLen), docKV(batch * kvLen);
    for (int64_t b = 0; b < batch; ++b) {
      // Sorted: runs of 1 to 60 tokens; else ids 0..2 at random.
      int32_t id = 0;
      for (int64_t i = 0, run = 0; i < kvLen; ++i, --run) {
        if (run <= 0) {
          run = 1 + rng() % 60;
          ++id;
        }
        docKV[b * kvLen + i] = sorted ? id : int32_t(rng() % 3);
        if (i >= kvLen - qLen) // q aligned with the last keys
          docQ[b * qLen + i - (kvLen - qLen)] = docKV[b * kvLen + i];
      }
    }
    attnrt::mask::Data data;
    data.qLen = qLen;
    data.kvLen = kvLen;
    data.docQ = {docQ.data(), {batch, qLen}, {qLen, 1}};
    data.docKV = {docKV.data(), {batch, kvLen}, {kvLen, 1}};
    for (const char *text : {"#attn.and<causal, document>", "#attn.document",
                             "#attn.or<document, causal>",
                             "#attn.and<causal<top_left>, document>"}) {
      attnrt::mask::Node node = model(text);
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t block : {1, 8, 16, 64})
          for (int64_t q0 = 0; q0 < qLen; q0 += block)
            for (int64_t k0 = 0; k0 < kvLen; k0 += block) {
              int64_t q1 = std::min(q0 + block, qLen);
              int64_t k1 = std::min(k0 + block, kvLen);
              int64_t visible = 0;
              for (int64_t q = q0; q < q1; ++q)
                for (int64_t k = k0; k < k1; ++k)
                  visible += attnrt::mask::isVisible(node, data, b, 0, q, k);
              auto expected = visible == 0 ? attnrt::mask::TileKind::Empty
                              : visible == (q1 - q0) * (k1 - k0)
                                  ? attnrt::mask::TileKind::Full
                                  : attnrt::mask::TileKind::Partial;
              ASSERT_EQ(
                  attnrt::mask::classifyTile(node, data, b, 0, q0, q1, k0, k1),
                  expected)
                  << text << " sorted=" << sorted << " b=" << b << " tile ("
                  << q0 << ", " << k0 << ") of " << block;
            }
    }
  }
}
} // namespace
