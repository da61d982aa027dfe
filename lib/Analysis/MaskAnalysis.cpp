//===- MaskAnalysis.cpp - Tile classification of attn masks ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Analysis/MaskAnalysis.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;
namespace mask = attnrt::mask;

mask::Node mlir::attn::buildMaskModel(MaskAttrInterface attr) {
  mask::Node node;
  auto children = [&](ArrayRef<MaskAttrInterface> operands) {
    for (MaskAttrInterface operand : operands)
      node.children.push_back(buildMaskModel(operand));
  };
  llvm::TypeSwitch<Attribute>(attr)
      .Case([&](CausalAttr a) {
        node.kind = mask::Kind::Causal;
        node.topLeft = a.getAlign() == Align::top_left;
      })
      .Case([&](SlidingWindowAttr a) {
        node.kind = mask::Kind::SlidingWindow;
        node.left = a.getLeft();
        node.right = a.getRight();
        node.topLeft = a.getAlign() == Align::top_left;
      })
      .Case([&](SinksAttr a) {
        node.kind = mask::Kind::Sinks;
        node.count = a.getCount();
      })
      .Case([&](ChunkedAttr a) {
        node.kind = mask::Kind::Chunked;
        node.count = a.getSize();
      })
      .Case([&](PrefixLMAttr a) {
        node.kind = mask::Kind::PrefixLM;
        node.count = a.getLength().value_or(-1);
      })
      .Case([&](DocumentAttr a) {
        node.kind = mask::Kind::Document;
        node.fromCuSeqlens = a.getSource() == DocumentSource::cu_seqlens;
      })
      .Case([&](NeighborhoodAttr a) {
        node.kind = mask::Kind::Neighborhood;
        node.grid.assign(a.getGrid().begin(), a.getGrid().end());
        node.kernel.assign(a.getKernel().begin(), a.getKernel().end());
        node.dilation.assign(a.getDilation().begin(), a.getDilation().end());
        node.causalDims.assign(a.getCausal().begin(), a.getCausal().end());
      })
      .Case([&](BlockSparseAttr a) {
        node.kind = mask::Kind::BlockSparse;
        node.blockQ = a.getBlockQ();
        node.blockKV = a.getBlockKv();
      })
      .Case([&](VerticalSlashAttr) { node.kind = mask::Kind::VerticalSlash; })
      .Case([&](AndAttr a) {
        node.kind = mask::Kind::And;
        children(a.getOperands());
      })
      .Case([&](OrAttr a) {
        node.kind = mask::Kind::Or;
        children(a.getOperands());
      })
      .Case([&](NotAttr a) {
        node.kind = mask::Kind::Not;
        children(a.getOperand());
      })
      .Case([&](OnHeadsAttr a) {
        node.kind = mask::Kind::OnHeads;
        node.heads.assign(a.getHeads().begin(), a.getHeads().end());
        children(a.getMask());
      })
      .Default([](Attribute) {
        llvm_unreachable("mask attribute without a model");
      });
  return node;
}

TileCounts mlir::attn::countTiles(const mask::Node &node,
                                  const mask::Data &data, int64_t batch,
                                  int64_t head, int64_t blockQ,
                                  int64_t blockKV) {
  TileCounts counts;
  for (int64_t q0 = 0; q0 < data.qLen; q0 += blockQ)
    for (int64_t k0 = 0; k0 < data.kvLen; k0 += blockKV) {
      switch (mask::classifyTile(node, data, batch, head, q0,
                                 std::min(q0 + blockQ, data.qLen), k0,
                                 std::min(k0 + blockKV, data.kvLen))) {
      case mask::TileKind::Empty:
        ++counts.empty;
        break;
      case mask::TileKind::Full:
        ++counts.full;
        break;
      case mask::TileKind::Partial:
        ++counts.partial;
        break;
      }
    }
  return counts;
}
