//===- RandomInputs.cpp - Random valid inputs for a spec ------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// What attn-run feeds a kernel: random valid inputs and operands for every
// parameter (sequence lengths and pages for paged and ragged storage), and
// the count of visible query-key pairs that --bench calls work.
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/RandomInputs.h"
#include "attn/Analysis/MaskAnalysis.h"
#include "attn/Dialect/Attn/Transforms/Tiling.h"
#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

Geometry mlir::attn::makeGeometry(AttentionOp op, int64_t B, int64_t Lq,
                                  int64_t Lkv, std::mt19937 &rng,
                                  const InputOptions &options) {
  Geometry g;
  g.storage = op.getKvStorage();
  g.batch = B;
  g.qLen = Lq;
  g.kvLen = Lkv;
  auto uniformInt = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  for (int64_t b = 0; b < B; ++b) {
    bool first = b == 0;
    int64_t q = Lq, kv = Lkv;
    if (g.storage == KVStorage::ragged && !first) {
      q = uniformInt(1, Lq);
      kv = Lq == Lkv ? q : uniformInt(0, Lkv);
    } else if (g.storage == KVStorage::paged && !first) {
      kv = uniformInt(0, Lkv);
    }
    g.qLens.push_back(q);
    g.kvLens.push_back(kv);
    g.tokensQ += q;
    g.tokensKV += kv;
  }
  if (g.storage == KVStorage::paged) {
    g.pageSize = getPageSize(op);
    g.maxPages = std::max<int64_t>((Lkv + g.pageSize - 1) / g.pageSize, 1);
    g.numPages = B * g.maxPages + 1;
    for (int64_t i = 0; i < g.numPages; ++i)
      g.pageOrder.push_back(int32_t(i));
    std::shuffle(g.pageOrder.begin(), g.pageOrder.end(), rng);
  }
  // The packed documents' seed, drawn only for a document mask, so that the
  // other specs draw what they always drew.
  g.independentDocuments = options.independentDocuments;
  bool documents = false;
  if (MaskAttrInterface mask = op.getMaskAttr())
    mask.walk([&](DocumentAttr) { documents = true; });
  if (documents && !g.independentDocuments)
    g.documentSeed = uint32_t(rng());
  return g;
}

/// The document operand `name` (`doc_q`, `doc_kv`, or the document mask's
/// `cu_seqlens_q`, `cu_seqlens_kv`) of packed documents: per batch entry one
/// sequence of n = max(Lq, Lkv) tokens, drawn from the geometry's seed (so
/// both sides draw the same), of which each side holds the last tokens: its
/// token i is token i + n - L of the sequence.
static void fillPackedDocuments(HostTensor &t, const std::string &name,
                                const Geometry &g) {
  bool isQ = name == "doc_q" || name == "cu_seqlens_q";
  bool ids = name == "doc_q" || name == "doc_kv";
  bool ragged = g.storage == KVStorage::ragged;
  std::mt19937 rng(g.documentSeed);
  auto uniformInt = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  int64_t token = 0; // the packed sequence's first token (ragged)
  for (int64_t b = 0; b < g.batch; ++b) {
    int64_t n = std::max(g.qLens[b], g.kvLens[b]);
    int64_t len = isQ ? g.qLens[b] : g.kvLens[b], shift = n - len;
    if (!ids) {
      // Three documents (some maybe empty) by cumulative lengths.
      std::vector<int64_t> cuts = {0, uniformInt(0, n), uniformInt(0, n), n};
      std::sort(cuts.begin(), cuts.end());
      for (size_t j = 0; j < cuts.size(); ++j)
        t.ints[b * 4 + j] =
            int32_t(std::clamp<int64_t>(cuts[j] - shift, 0, len));
      continue;
    }
    // Sorted ids: a few documents per sequence.
    std::vector<int32_t> sequence(n);
    int32_t id = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (i > 0 && uniformInt(0, std::max<int64_t>(n / 3, 1)) == 0)
        ++id;
      sequence[i] = id;
    }
    // Positions past a shorter sequence (a paged cache's) keep its last id.
    int64_t width = ragged ? len : t.shape[1];
    int32_t *row = t.ints.data() + (ragged ? token : b * width);
    for (int64_t i = 0; i < width; ++i)
      row[i] = i < len ? sequence[i + shift] : id;
    token += len;
  }
}

HostTensor mlir::attn::makeInput(const attnrt::ParamSpec &p, AttentionOp op,
                                 const Geometry &g, std::mt19937 &rng) {
  int64_t B = g.batch, Lq = g.qLen, Lkv = g.kvLen;
  bool ragged = g.storage == KVStorage::ragged;
  ProblemShape shape = op.getProblemShape();
  int64_t Hq = shape.numQHeads;
  bool bhsd = op.getLayout() == Layout::bhsd;
  HostTensor t;
  t.dtype = p.dtype;
  t.shape = p.shape;
  auto fillDynamic = [&](std::vector<int64_t> sizes) {
    for (size_t i = 0; i < t.shape.size() && i < sizes.size(); ++i)
      if (t.shape[i] < 0)
        t.shape[i] = sizes[i];
  };
  auto layoutSizes = [&](int64_t L) {
    return bhsd ? std::vector<int64_t>{B, -1, L, -1}
                : std::vector<int64_t>{B, L, -1, -1};
  };
  const std::string &n = p.name;
  std::vector<int64_t> numBlocks;
  if (ragged && (n == "q" || n == "out"))
    fillDynamic({g.tokensQ});
  else if (ragged && (n == "k" || n == "v"))
    fillDynamic({g.tokensKV});
  else if (ragged && n == "lse")
    fillDynamic({Hq, g.tokensQ});
  else if (ragged && n == "doc_q")
    fillDynamic({g.tokensQ});
  else if (ragged && n == "doc_kv")
    fillDynamic({g.tokensKV});
  else if (ragged && (n == "cu_seqlens_q" || n == "cu_seqlens_kv"))
    fillDynamic({B + 1});
  else if (g.storage == KVStorage::paged && (n == "k" || n == "v"))
    fillDynamic({g.numPages});
  else if (n == "block_table")
    fillDynamic({B, g.maxPages});
  else if (n == "cache_seqlens")
    fillDynamic({B});
  else if (n == "q" || n == "out")
    fillDynamic(layoutSizes(Lq));
  else if (n == "k" || n == "v")
    fillDynamic(layoutSizes(Lkv));
  else if (n == "lse")
    fillDynamic({B, Hq, Lq});
  else if (n == "doc_q")
    fillDynamic({B, Lq});
  else if (n == "doc_kv")
    fillDynamic({B, Lkv});
  else if (n == "cu_seqlens_q" || n == "cu_seqlens_kv")
    fillDynamic({B, 4});
  else if (n == "prefix_len")
    fillDynamic({B});
  else if (n == "vertical" || n == "slash")
    fillDynamic({B, Hq, std::min<int64_t>(8, Lkv)});
  else if (n == "bias") {
    std::vector<int64_t> sizes;
    if (ArrayAttr mods = op.getScoreModsAttr())
      for (Attribute mod : mods)
        if (auto bias = dyn_cast<BiasAttr>(mod))
          for (BiasDim d : bias.getDims())
            sizes.push_back(d == BiasDim::b   ? B
                            : d == BiasDim::h ? Hq
                            : d == BiasDim::q ? Lq
                                              : Lkv);
    fillDynamic(sizes);
  } else if (n == "kv_num_blocks" || n == "kv_indices") {
    BlockSparseAttr sparse;
    op.getMaskAttr().walk([&](BlockSparseAttr s) { sparse = s; });
    int64_t nQB = (Lq + sparse.getBlockQ() - 1) / sparse.getBlockQ();
    int64_t nKB = (Lkv + sparse.getBlockKv() - 1) / sparse.getBlockKv();
    fillDynamic({B, Hq, nQB, nKB});
  }
  for (int64_t &d : t.shape)
    if (d < 0)
      d = 1;

  int64_t count = t.numElements();
  std::normal_distribution<double> normal(0.0, 1.0);
  auto uniformInt = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  if (t.dtype != ATTN_I32) {
    t.values.resize(count);
    for (double &x : t.values) {
      x = normal(rng);
      if (n == "alibi_slopes")
        x = 0.01 + std::fabs(x) * 0.1;
      x = roundTo(t.dtype, x);
    }
    return t;
  }
  t.ints.resize(count);
  bool documentBounds =
      !ragged && (n == "cu_seqlens_q" || n == "cu_seqlens_kv");
  if (!g.independentDocuments &&
      (n == "doc_q" || n == "doc_kv" || documentBounds)) {
    fillPackedDocuments(t, n, g);
  } else if (ragged && (n == "doc_q" || n == "doc_kv")) {
    // Sorted ids per packed sequence: a few documents each.
    const std::vector<int64_t> &lens = n == "doc_q" ? g.qLens : g.kvLens;
    int64_t token = 0;
    for (int64_t b = 0; b < B; ++b) {
      int32_t id = 0;
      for (int64_t i = 0; i < lens[b]; ++i, ++token) {
        if (i > 0 && uniformInt(0, std::max<int64_t>(lens[b] / 3, 1)) == 0)
          ++id;
        t.ints[token] = id;
      }
    }
  } else if (n == "doc_q" || n == "doc_kv") {
    // Sorted ids: a few documents per sequence.
    int64_t L = t.shape[1];
    for (int64_t b = 0; b < t.shape[0]; ++b) {
      int32_t id = 0;
      for (int64_t i = 0; i < L; ++i) {
        if (i > 0 && uniformInt(0, std::max<int64_t>(L / 3, 1)) == 0)
          ++id;
        t.ints[b * L + i] = id;
      }
    }
  } else if (ragged && (n == "cu_seqlens_q" || n == "cu_seqlens_kv")) {
    // Sequence starts: prefix sums of the lengths.
    const std::vector<int64_t> &lens = n == "cu_seqlens_q" ? g.qLens : g.kvLens;
    t.ints[0] = 0;
    for (int64_t b = 0; b < B; ++b)
      t.ints[b + 1] = int32_t(t.ints[b] + lens[b]);
  } else if (n == "cu_seqlens_q" || n == "cu_seqlens_kv") {
    int64_t L = n == "cu_seqlens_q" ? Lq : Lkv;
    for (int64_t b = 0; b < t.shape[0]; ++b) {
      std::vector<int32_t> cuts = {0, int32_t(uniformInt(0, L)),
                                   int32_t(uniformInt(0, L)), int32_t(L)};
      std::sort(cuts.begin(), cuts.end());
      std::copy(cuts.begin(), cuts.end(), t.ints.begin() + b * 4);
    }
  } else if (n == "prefix_len") {
    for (int32_t &x : t.ints)
      x = int32_t(uniformInt(0, Lkv));
  } else if (n == "vertical") {
    for (int32_t &x : t.ints)
      x = int32_t(uniformInt(0, std::max<int64_t>(Lkv - 1, 0)));
  } else if (n == "slash") {
    for (int32_t &x : t.ints)
      x = int32_t(uniformInt(0, std::min<int64_t>(Lkv, 64)));
  } else if (n == "kv_num_blocks" || n == "kv_indices") {
    // Filled together below; counts first.
    int64_t nKB = t.shape.size() == 4 ? t.shape[3] : 0;
    if (n == "kv_num_blocks") {
      (void)nKB;
      for (int32_t &x : t.ints)
        x = -1; // replaced once kv_indices' width is known
    }
  } else if (n == "block_table") {
    for (int64_t i = 0; i < B * g.maxPages; ++i)
      t.ints[i] = g.pageOrder[i];
  } else if (n == "cache_seqlens") {
    for (int64_t b = 0; b < B; ++b)
      t.ints[b] = int32_t(g.kvLens[b]);
  }
  return t;
}

void mlir::attn::fillBlockSparse(HostTensor &counts, HostTensor &indices,
                                 std::mt19937 &rng) {
  int64_t rows = counts.numElements();
  int64_t nKB = indices.shape[3];
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int32_t> all(nKB);
    for (int64_t j = 0; j < nKB; ++j)
      all[j] = int32_t(j);
    std::shuffle(all.begin(), all.end(), rng);
    int64_t n = std::uniform_int_distribution<int64_t>(0, nKB)(rng);
    counts.ints[r] = int32_t(n);
    std::copy(all.begin(), all.end(), indices.ints.begin() + r * nKB);
  }
}

double mlir::attn::countVisiblePairs(AttentionOp op,
                                     std::map<std::string, HostTensor> &tensors,
                                     const Geometry &geometry) {
  ProblemShape shape = op.getProblemShape();
  int64_t batchSize = geometry.batch, Lq = geometry.qLen, Lkv = geometry.kvLen;
  double pairs =
      double(Lq) * double(Lkv) * double(batchSize) * double(shape.numQHeads);
  if (op.getKvStorage() != KVStorage::contiguous) {
    // Per-sequence lengths: count each batch entry's visible pairs.
    attnrt::mask::Node model;
    if (MaskAttrInterface mask = op.getMaskAttr())
      model = buildMaskModel(mask);
    std::vector<attnrt::mask::Run> runs;
    pairs = 0;
    int64_t qStart = 0, kvStart = 0; // packed tokens, for ragged storage
    for (int64_t b = 0; b < batchSize; ++b) {
      int64_t lq = geometry.qLens[b], lkv = geometry.kvLens[b];
      int64_t qFirst = qStart, kvFirst = kvStart;
      qStart += lq;
      kvStart += lkv;
      if (!op.getMaskAttr()) {
        pairs += double(lq) * double(lkv) * double(shape.numQHeads);
        continue;
      }
      attnrt::mask::Data data = attnrt::mask::sequenceData(
          maskData(tensors, lq, lkv), lq, lkv,
          geometry.storage == KVStorage::ragged ? qFirst : 0,
          geometry.storage == KVStorage::ragged ? kvFirst : 0);
      for (int64_t h = 0; h < shape.numQHeads; ++h)
        for (int64_t q = 0; q < lq; ++q) {
          attnrt::mask::visibleRuns(model, data, b, h, q, 0, lkv, runs);
          for (auto &r : runs)
            pairs += double(r.end - r.begin);
        }
    }
  } else if (MaskAttrInterface mask = op.getMaskAttr()) {
    attnrt::mask::Node model = buildMaskModel(mask);
    attnrt::mask::Data data = maskData(tensors, Lq, Lkv);
    bool perBatch = attnrt::mask::dependsOnBatch(model);
    bool perHead = attnrt::mask::dependsOnHead(model);
    std::vector<attnrt::mask::Run> runs;
    pairs = 0;
    for (int64_t b = 0; b < (perBatch ? batchSize : 1); ++b)
      for (int64_t h = 0; h < (perHead ? shape.numQHeads : 1); ++h) {
        double count = 0;
        for (int64_t q = 0; q < Lq; ++q) {
          attnrt::mask::visibleRuns(model, data, b, h, q, 0, Lkv, runs);
          for (auto &r : runs)
            count += double(r.end - r.begin);
        }
        pairs += count * (perBatch ? 1 : double(batchSize)) *
                 (perHead ? 1 : double(shape.numQHeads));
      }
  }
  return pairs;
}
