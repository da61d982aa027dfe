//===- MaskAttrTest.cpp - Tests of the mask algebra attributes ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Dialect/Attn/Transforms/Passes.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::attn;

namespace {

class MaskAttrTest : public ::testing::Test {
protected:
  MaskAttrTest() { context.loadDialect<AttnDialect>(); }

  MaskAttrInterface parse(StringRef text) {
    return dyn_cast_or_null<MaskAttrInterface>(parseAttribute(text, &context));
  }

  std::string print(Attribute attr) {
    std::string text;
    llvm::raw_string_ostream os(text);
    attr.print(os);
    return text;
  }

  MLIRContext context;
};

TEST_F(MaskAttrTest, NestedMasksPrintWithoutPrefix) {
  MaskAttrInterface mask =
      parse("#attn.and<causal, or<sinks<4>, sliding_window<left = 64>>>");
  ASSERT_TRUE(mask);
  EXPECT_EQ(print(mask),
            "#attn.and<causal, or<sinks<4>, sliding_window<left = 64>>>");
}

TEST_F(MaskAttrTest, RequiredOperandsCollectThroughCombinators) {
  MaskAttrInterface mask =
      parse("#attn.or<not<block_sparse<block_q = 64, block_kv = 64>>, "
            "on_heads<heads = [0], mask = prefix_lm<operand>>, document>");
  ASSERT_TRUE(mask);
  SmallVector<OperandKind> kinds;
  mask.getRequiredOperands(kinds);
  EXPECT_EQ(kinds, (SmallVector<OperandKind>{
                       OperandKind::kv_num_blocks, OperandKind::kv_indices,
                       OperandKind::prefix_len, OperandKind::doc_q,
                       OperandKind::doc_kv}));
}

TEST_F(MaskAttrTest, VerifiersRejectBadParameters) {
  auto emit = [&]() { return emitError(UnknownLoc::get(&context)); };
  ScopedDiagnosticHandler silence(&context,
                                  [](Diagnostic &) { return success(); });
  EXPECT_FALSE(SlidingWindowAttr::getChecked(emit, &context, int64_t(-1),
                                             int64_t(0), Align::bottom_right));
  EXPECT_FALSE(SinksAttr::getChecked(emit, &context, int64_t(0)));
  EXPECT_FALSE(ChunkedAttr::getChecked(emit, &context, int64_t(-4)));
  EXPECT_FALSE(NeighborhoodAttr::getChecked(
      emit, &context, ArrayRef<int64_t>{8, 8}, ArrayRef<int64_t>{9, 3},
      ArrayRef<int64_t>{}, ArrayRef<bool>{}));
  EXPECT_FALSE(OnHeadsAttr::getChecked(
      emit, &context, ArrayRef<int64_t>{1, 1},
      MaskAttrInterface(CausalAttr::get(&context, Align::bottom_right))));
  EXPECT_TRUE(NeighborhoodAttr::getChecked(
      emit, &context, ArrayRef<int64_t>{8, 8}, ArrayRef<int64_t>{3, 3},
      ArrayRef<int64_t>{2, 2}, ArrayRef<bool>{true, false}));
}

TEST_F(MaskAttrTest, ShapeChecksNameTheProblem) {
  MaskAttrInterface mask =
      parse("#attn.and<on_heads<heads = [7], mask = causal>, "
            "neighborhood<grid = [4, 4], kernel = [3, 3]>>");
  ASSERT_TRUE(mask);
  std::string message;
  ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto emit = [&]() { return emitError(UnknownLoc::get(&context)); };
  ProblemShape shape;
  shape.numQHeads = 8;
  shape.qLen = shape.kvLen = 16;
  EXPECT_TRUE(succeeded(mask.verifyShape(shape, emit)));
  shape.numQHeads = 4;
  EXPECT_TRUE(failed(mask.verifyShape(shape, emit)));
  EXPECT_NE(message.find("head 7"), std::string::npos) << message;
  shape.numQHeads = 8;
  shape.qLen = 15;
  EXPECT_TRUE(failed(mask.verifyShape(shape, emit)));
  EXPECT_NE(message.find("16 tokens"), std::string::npos) << message;
}

TEST_F(MaskAttrTest, SimplifyFlattensAndDeduplicates) {
  MaskAttrInterface mask =
      parse("#attn.and<and<causal, causal>, not<not<sinks<4>>>, "
            "and<sinks<4>>>");
  ASSERT_TRUE(mask);
  EXPECT_EQ(print(simplifyMask(mask)), "#attn.and<causal, sinks<4>>");
  EXPECT_EQ(print(simplifyMask(parse("#attn.or<chunked<8>>"))),
            "#attn.chunked<8>");
  EXPECT_EQ(print(simplifyMask(
                parse("#attn.on_heads<heads = [5, 1, 3], mask = causal>"))),
            "#attn.on_heads<heads = [1, 3, 5], mask = causal>");
}

} // namespace
