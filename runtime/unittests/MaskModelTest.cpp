//===- MaskModelTest.cpp - Tile classification against brute force -------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// For random shapes, tile sizes, parameters and operand data, every mask
// primitive and random nestings of and/or/not/on_heads: the runs of every
// row equal the pairwise definition, and every tile's classification equals
// the brute-force one (so a tile called empty has no visible element, one
// called full no hidden one, and the number called partial is the true one).
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/MaskModel.h"
#include "gtest/gtest.h"

#include <random>

using namespace attnrt::mask;

namespace {

struct Problem {
  int64_t batch = 2, heads = 3;
  Data data;
  std::vector<int32_t> docQ, docKV, cuQ, cuKV, prefix, numBlocks, indices,
      vertical, slash;
};

IntView view(const std::vector<int32_t> &storage, std::vector<int64_t> shape) {
  IntView v;
  v.data = storage.data();
  v.shape = shape;
  v.strides.assign(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    v.strides[i - 1] = v.strides[i] * shape[i];
  return v;
}

class MaskGenerator {
public:
  explicit MaskGenerator(uint64_t seed) : rng(seed) {}

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  bool coin() { return uniform(0, 1) == 1; }

  /// A random problem; lengths are a grid's product when `grid` is given.
  void fillProblem(Problem &p, const Node *withGrid) {
    Data &d = p.data;
    if (withGrid) {
      d.qLen = d.kvLen = 1;
      for (int64_t g : withGrid->grid)
        d.qLen = d.kvLen = d.qLen * g;
    } else {
      d.qLen = uniform(1, 90);
      d.kvLen = coin() ? d.qLen : uniform(1, 90);
    }
    int64_t B = p.batch, H = p.heads, Lq = d.qLen, Lkv = d.kvLen;
    auto ids = [&](std::vector<int32_t> &v, int64_t len) {
      v.resize(B * len);
      int32_t current = 0;
      for (auto &x : v) {
        if (uniform(0, 9) == 0)
          current = static_cast<int32_t>(uniform(0, 3));
        x = current;
      }
    };
    ids(p.docQ, Lq);
    ids(p.docKV, Lkv);
    d.docQ = view(p.docQ, {B, Lq});
    d.docKV = view(p.docKV, {B, Lkv});
    const int64_t numDocs = 3;
    auto cu = [&](std::vector<int32_t> &v, int64_t len) {
      v.clear();
      for (int64_t b = 0; b < B; ++b) {
        std::vector<int32_t> cuts = {0};
        for (int64_t i = 0; i < numDocs - 1; ++i)
          cuts.push_back(static_cast<int32_t>(uniform(0, len)));
        cuts.push_back(static_cast<int32_t>(uniform(0, len)));
        std::sort(cuts.begin(), cuts.end());
        v.insert(v.end(), cuts.begin(), cuts.end());
      }
    };
    cu(p.cuQ, Lq);
    cu(p.cuKV, Lkv);
    d.cuSeqlensQ = view(p.cuQ, {B, numDocs + 1});
    d.cuSeqlensKV = view(p.cuKV, {B, numDocs + 1});
    p.prefix = {static_cast<int32_t>(uniform(0, Lkv)),
                static_cast<int32_t>(uniform(0, Lkv))};
    d.prefixLen = view(p.prefix, {B});
    int64_t n = uniform(1, 4);
    p.vertical.resize(H * n);
    p.slash.resize(H * n);
    for (auto &x : p.vertical)
      x = static_cast<int32_t>(uniform(0, Lkv - 1));
    for (auto &x : p.slash)
      x = static_cast<int32_t>(uniform(0, Lkv));
    d.vertical = view(p.vertical, {1, H, n});
    d.slash = view(p.slash, {1, H, n});
  }

  /// Block-sparse operands for the given block sizes.
  void fillBlocks(Problem &p, int64_t blockQ, int64_t blockKV) {
    int64_t B = p.batch, H = p.heads;
    int64_t nQB = (p.data.qLen + blockQ - 1) / blockQ;
    int64_t nKB = (p.data.kvLen + blockKV - 1) / blockKV;
    bool broadcastHeads = coin();
    int64_t Hs = broadcastHeads ? 1 : H;
    p.numBlocks.resize(B * Hs * nQB);
    p.indices.assign(B * Hs * nQB * nKB, 0);
    for (int64_t i = 0; i < B * Hs * nQB; ++i) {
      std::vector<int32_t> all(nKB);
      for (int64_t j = 0; j < nKB; ++j)
        all[j] = static_cast<int32_t>(j);
      std::shuffle(all.begin(), all.end(), rng);
      int64_t count = uniform(0, nKB);
      p.numBlocks[i] = static_cast<int32_t>(count);
      for (int64_t j = 0; j < nKB; ++j)
        p.indices[i * nKB + j] = all[j];
    }
    p.data.kvNumBlocks = view(p.numBlocks, {B, Hs, nQB});
    p.data.kvIndices = view(p.indices, {B, Hs, nQB, nKB});
  }

  Node primitive(Kind kind) {
    Node n;
    n.kind = kind;
    switch (kind) {
    case Kind::Causal:
      n.topLeft = coin();
      break;
    case Kind::SlidingWindow:
      n.left = uniform(0, 20);
      n.right = uniform(0, 1) ? 0 : uniform(0, 20);
      n.topLeft = coin();
      break;
    case Kind::Sinks:
    case Kind::Chunked:
      n.count = uniform(1, 24);
      break;
    case Kind::PrefixLM:
      n.count = coin() ? -1 : uniform(1, 40);
      break;
    case Kind::Document:
      n.fromCuSeqlens = coin();
      break;
    case Kind::BlockSparse:
      n.blockQ = uniform(1, 16);
      n.blockKV = uniform(1, 16);
      break;
    default:
      break;
    }
    return n;
  }

  /// A neighborhood over a random 1-3 dimensional grid.
  Node neighborhood() {
    Node n;
    n.kind = Kind::Neighborhood;
    int64_t rank = uniform(1, 3);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t g = uniform(1, rank == 1 ? 60 : 9);
      int64_t dil = uniform(1, std::max<int64_t>(1, std::min<int64_t>(g, 3)));
      int64_t k = uniform(1, std::max<int64_t>(1, g / dil));
      n.grid.push_back(g);
      n.kernel.push_back(k);
      n.dilation.push_back(dil);
      n.causalDims.push_back(uniform(0, 3) == 0);
    }
    if (coin()) {
      n.dilation.clear();
      for (size_t d = 0; d < n.grid.size(); ++d)
        n.kernel[d] = uniform(1, n.grid[d]);
    }
    return n;
  }

  /// A random expression of the mask algebra (no block_sparse or
  /// neighborhood: those fix shapes and are tested on their own).
  Node expression(int depth) {
    static const Kind leaves[] = {
        Kind::Causal,   Kind::SlidingWindow, Kind::Sinks,        Kind::Chunked,
        Kind::PrefixLM, Kind::Document,      Kind::VerticalSlash};
    if (depth == 0 || uniform(0, 2) == 0)
      return primitive(leaves[uniform(0, std::size(leaves) - 1)]);
    Node n;
    switch (uniform(0, 3)) {
    case 0:
      n.kind = Kind::And;
      break;
    case 1:
      n.kind = Kind::Or;
      break;
    case 2:
      n.kind = Kind::Not;
      n.children.push_back(expression(depth - 1));
      return n;
    default:
      n.kind = Kind::OnHeads;
      n.heads = {uniform(0, 2)};
      if (coin())
        n.heads.push_back((n.heads[0] + 1) % 3);
      n.children.push_back(expression(depth - 1));
      return n;
    }
    int64_t count = uniform(1, 3);
    for (int64_t i = 0; i < count; ++i)
      n.children.push_back(expression(depth - 1));
    return n;
  }

  std::mt19937_64 rng;
};

/// Checks runs and tile kinds of `mask` against the pairwise definition.
void checkAgainstBruteForce(const Node &mask, const Problem &p,
                            MaskGenerator &gen) {
  const Data &d = p.data;
  std::vector<attnrt::mask::Run> runs;
  for (int64_t b = 0; b < p.batch; ++b)
    for (int64_t h = 0; h < p.heads; ++h) {
      // Rows: runs over a random range equal the pairwise definition.
      for (int64_t q = 0; q < d.qLen; ++q) {
        int64_t k0 = gen.uniform(0, d.kvLen), k1 = gen.uniform(k0, d.kvLen);
        visibleRuns(mask, d, b, h, q, k0, k1, runs);
        std::vector<attnrt::mask::Run> expected;
        for (int64_t k = k0; k < k1; ++k)
          if (isVisible(mask, d, b, h, q, k)) {
            if (!expected.empty() && expected.back().end == k)
              ++expected.back().end;
            else
              expected.push_back({k, k + 1});
          }
        ASSERT_EQ(runs, expected)
            << mask.str() << " b=" << b << " h=" << h << " q=" << q << " keys ["
            << k0 << ", " << k1 << ") Lq=" << d.qLen << " Lkv=" << d.kvLen;
      }
      // Tiles.
      int64_t tq = gen.uniform(1, 24), tk = gen.uniform(1, 24);
      for (int64_t q0 = 0; q0 < d.qLen; q0 += tq)
        for (int64_t k0 = 0; k0 < d.kvLen; k0 += tk) {
          int64_t q1 = std::min(q0 + tq, d.qLen);
          int64_t k1 = std::min(k0 + tk, d.kvLen);
          int64_t visible = 0;
          for (int64_t q = q0; q < q1; ++q)
            for (int64_t k = k0; k < k1; ++k)
              visible += isVisible(mask, d, b, h, q, k);
          TileKind expected = visible == 0 ? TileKind::Empty
                              : visible == (q1 - q0) * (k1 - k0)
                                  ? TileKind::Full
                                  : TileKind::Partial;
          ASSERT_EQ(classifyTile(mask, d, b, h, q0, q1, k0, k1), expected)
              << mask.str() << " tile q[" << q0 << ", " << q1 << ") k[" << k0
              << ", " << k1 << ") b=" << b << " h=" << h << " Lq=" << d.qLen
              << " Lkv=" << d.kvLen;
        }
    }
}

TEST(MaskModel, EveryPrimitiveMatchesBruteForce) {
  MaskGenerator gen(1);
  for (Kind kind :
       {Kind::Causal, Kind::SlidingWindow, Kind::Sinks, Kind::Chunked,
        Kind::PrefixLM, Kind::Document, Kind::VerticalSlash}) {
    for (int trial = 0; trial < 40; ++trial) {
      Problem p;
      gen.fillProblem(p, nullptr);
      checkAgainstBruteForce(gen.primitive(kind), p, gen);
    }
  }
}

TEST(MaskModel, BlockSparseMatchesBruteForce) {
  MaskGenerator gen(2);
  for (int trial = 0; trial < 60; ++trial) {
    Problem p;
    gen.fillProblem(p, nullptr);
    Node mask = gen.primitive(Kind::BlockSparse);
    gen.fillBlocks(p, mask.blockQ, mask.blockKV);
    checkAgainstBruteForce(mask, p, gen);
  }
}

TEST(MaskModel, NeighborhoodMatchesBruteForce) {
  MaskGenerator gen(3);
  for (int trial = 0; trial < 150; ++trial) {
    Node mask = gen.neighborhood();
    Problem p;
    gen.fillProblem(p, &mask);
    checkAgainstBruteForce(mask, p, gen);
  }
}

TEST(MaskModel, NestedExpressionsMatchBruteForce) {
  MaskGenerator gen(4);
  for (int trial = 0; trial < 300; ++trial) {
    Problem p;
    gen.fillProblem(p, nullptr);
    checkAgainstBruteForce(gen.expression(3), p, gen);
  }
}

TEST(MaskModel, NeighborhoodFollowsNatten) {
  // 1D, 7 tokens, kernel 3: windows shift at the borders.
  Node mask;
  mask.kind = Kind::Neighborhood;
  mask.grid = {7};
  mask.kernel = {3};
  Data d;
  d.qLen = d.kvLen = 7;
  std::vector<attnrt::mask::Run> runs;
  visibleRuns(mask, d, 0, 0, 0, 0, 7, runs);
  EXPECT_EQ(runs, (std::vector<attnrt::mask::Run>{{0, 3}}));
  visibleRuns(mask, d, 0, 0, 3, 0, 7, runs);
  EXPECT_EQ(runs, (std::vector<attnrt::mask::Run>{{2, 5}}));
  visibleRuns(mask, d, 0, 0, 6, 0, 7, runs);
  EXPECT_EQ(runs, (std::vector<attnrt::mask::Run>{{4, 7}}));
  // Dilation 2: query 3 (group 1: tokens 1, 3, 5) sees 1, 3, 5.
  mask.dilation = {2};
  visibleRuns(mask, d, 0, 0, 3, 0, 7, runs);
  EXPECT_EQ(runs, (std::vector<attnrt::mask::Run>{{1, 2}, {3, 4}, {5, 6}}));
}

TEST(MaskModel, BottomRightAlignmentLetsADecodeQuerySeeEverything) {
  Node causal;
  causal.kind = Kind::Causal;
  Data d;
  d.qLen = 1;
  d.kvLen = 100;
  EXPECT_EQ(classifyTile(causal, d, 0, 0, 0, 1, 0, 100), TileKind::Full);
  causal.topLeft = true;
  EXPECT_EQ(classifyTile(causal, d, 0, 0, 0, 1, 0, 100), TileKind::Partial);
}

} // namespace
