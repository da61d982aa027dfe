//===- MaskModel.cpp - The mask algebra, evaluated without MLIR -----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/MaskModel.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <sstream>

using namespace attnrt::mask;

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0)))
    --q;
  return q;
}

/// The query position that masks see: bottom-right aligned by default.
int64_t alignedPosition(const Data &data, int64_t q, bool topLeft) {
  return topLeft ? q : q + data.kvLen - data.qLen;
}

/// The document of token `t` under cumulative lengths `cu` ([B, D + 1]), or
/// `outside` when no range holds it.
int64_t documentOf(const IntView &cu, int64_t b, int64_t t, int64_t outside) {
  int64_t numBounds = cu.shape.back();
  for (int64_t d = 0; d + 1 < numBounds; ++d)
    if (cu.at({b, d}) <= t && t < cu.at({b, d + 1}))
      return d;
  return outside;
}

/// The group positions [first, last] a neighborhood dimension of size `n`
/// shows to coordinate `x` (NATTEN's window, shifted at the borders), and the
/// dilation group both must share.
struct DimWindow {
  int64_t group, dilation, first, last;
  bool contains(int64_t coord) const {
    if (coord % dilation != group)
      return false;
    int64_t j = coord / dilation;
    return first <= j && j <= last;
  }
};

DimWindow dimWindow(int64_t n, int64_t kernel, int64_t dilation, bool causal,
                    int64_t x) {
  int64_t group = x % dilation;
  int64_t index = x / dilation;
  int64_t groupLen = (n - group + dilation - 1) / dilation;
  int64_t k = std::min(kernel, groupLen);
  int64_t first, last;
  if (causal) {
    first = std::max<int64_t>(index - kernel + 1, 0);
    last = index;
  } else {
    first = std::clamp<int64_t>(index - kernel / 2, 0, groupLen - k);
    last = first + k - 1;
  }
  return {group, dilation, first, last};
}

/// `v[d]`, or `fallback` when the optional list `v` is empty.
int64_t dimOf(size_t d, const std::vector<int64_t> &v, int64_t fallback) {
  return v.empty() ? fallback : v[d];
}

/// Row-major coordinates of token `t` over `grid`.
void coordinates(const std::vector<int64_t> &grid, int64_t t,
                 std::vector<int64_t> &coords) {
  coords.assign(grid.size(), 0);
  for (size_t d = grid.size(); d-- > 0;) {
    coords[d] = t % grid[d];
    t /= grid[d];
  }
}

std::vector<DimWindow> neighborhoodWindows(const Node &node, int64_t q) {
  std::vector<int64_t> qc;
  coordinates(node.grid, q, qc);
  std::vector<DimWindow> windows;
  for (size_t d = 0; d < node.grid.size(); ++d)
    windows.push_back(
        dimWindow(node.grid[d], node.kernel[d], dimOf(d, node.dilation, 1),
                  node.causalDims.empty() ? false : node.causalDims[d], qc[d]));
  return windows;
}

/// Sorts runs and merges the ones that touch or overlap.
void normalize(std::vector<Run> &runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Run &a, const Run &b) { return a.begin < b.begin; });
  std::vector<Run> merged;
  for (const Run &r : runs) {
    if (r.begin >= r.end)
      continue;
    if (!merged.empty() && r.begin <= merged.back().end)
      merged.back().end = std::max(merged.back().end, r.end);
    else
      merged.push_back(r);
  }
  runs.swap(merged);
}

void addClipped(std::vector<Run> &runs, int64_t begin, int64_t end, int64_t k0,
                int64_t k1) {
  begin = std::max(begin, k0);
  end = std::min(end, k1);
  if (begin < end)
    runs.push_back({begin, end});
}

void intersect(std::vector<Run> &acc, const std::vector<Run> &other) {
  std::vector<Run> out;
  size_t i = 0, j = 0;
  while (i < acc.size() && j < other.size()) {
    int64_t begin = std::max(acc[i].begin, other[j].begin);
    int64_t end = std::min(acc[i].end, other[j].end);
    if (begin < end)
      out.push_back({begin, end});
    if (acc[i].end < other[j].end)
      ++i;
    else
      ++j;
  }
  acc.swap(out);
}

} // namespace

static const char *const kKindNames[] = {"causal",
                                         "sliding_window",
                                         "sinks",
                                         "chunked",
                                         "prefix_lm",
                                         "document",
                                         "neighborhood",
                                         "block_sparse",
                                         "vertical_slash",
                                         "and",
                                         "or",
                                         "not",
                                         "on_heads"};

const char *attnrt::mask::kindName(Kind kind) {
  return kKindNames[static_cast<int>(kind)];
}

bool attnrt::mask::kindFromName(const std::string &name, Kind &kind) {
  for (size_t i = 0; i < std::size(kKindNames); ++i)
    if (name == kKindNames[i]) {
      kind = static_cast<Kind>(i);
      return true;
    }
  return false;
}

Data attnrt::mask::sequenceData(const Data &batch, int64_t qLen, int64_t kvLen,
                                int64_t qStart, int64_t kvStart) {
  Data data = batch;
  data.qLen = qLen;
  data.kvLen = kvLen;
  // Packed ids are rank 1; views right-align, so (b, q) reads data[q].
  if (!data.docQ.empty() && data.docQ.shape.size() == 1)
    data.docQ.data += qStart * data.docQ.strides[0];
  if (!data.docKV.empty() && data.docKV.shape.size() == 1)
    data.docKV.data += kvStart * data.docKV.strides[0];
  return data;
}

int64_t IntView::offset(std::initializer_list<int64_t> index) const {
  // Indices are right-aligned with the shape: a view of lower rank
  // broadcasts over the leading indices.
  int64_t skip =
      static_cast<int64_t>(index.size()) - static_cast<int64_t>(shape.size());
  int64_t offset = 0;
  int64_t i = 0;
  for (int64_t value : index) {
    int64_t axis = i++ - skip;
    if (axis < 0)
      continue;
    if (shape[axis] != 1)
      offset += value * strides[axis];
  }
  return offset;
}

std::string Node::str() const {
  std::ostringstream os;
  auto list = [&](const char *name) {
    os << name << '<';
    for (size_t i = 0; i < children.size(); ++i)
      os << (i ? ", " : "") << children[i].str();
    os << '>';
  };
  auto ints = [&](const std::vector<int64_t> &v) {
    os << '[';
    for (size_t i = 0; i < v.size(); ++i)
      os << (i ? ", " : "") << v[i];
    os << ']';
  };
  switch (kind) {
  case Kind::Causal:
    os << (topLeft ? "causal<top_left>" : "causal");
    break;
  case Kind::SlidingWindow:
    os << "sliding_window<left = " << left << ", right = " << right
       << (topLeft ? ", align = top_left" : "") << '>';
    break;
  case Kind::Sinks:
    os << "sinks<" << count << '>';
    break;
  case Kind::Chunked:
    os << "chunked<" << count << '>';
    break;
  case Kind::PrefixLM:
    if (count < 0)
      os << "prefix_lm<operand>";
    else
      os << "prefix_lm<" << count << '>';
    break;
  case Kind::Document:
    os << (fromCuSeqlens ? "document<cu_seqlens>" : "document");
    break;
  case Kind::Neighborhood:
    os << "neighborhood<grid = ";
    ints(grid);
    os << ", kernel = ";
    ints(kernel);
    if (!dilation.empty()) {
      os << ", dilation = ";
      ints(dilation);
    }
    if (!causalDims.empty()) {
      os << ", causal = [";
      for (size_t i = 0; i < causalDims.size(); ++i)
        os << (i ? ", " : "") << (causalDims[i] ? "true" : "false");
      os << ']';
    }
    os << '>';
    break;
  case Kind::BlockSparse:
    os << "block_sparse<block_q = " << blockQ << ", block_kv = " << blockKV
       << '>';
    break;
  case Kind::VerticalSlash:
    os << "vertical_slash";
    break;
  case Kind::And:
  case Kind::Or:
    list(kindName(kind));
    break;
  case Kind::Not:
    os << "not<" << children.front().str() << '>';
    break;
  case Kind::OnHeads:
    os << "on_heads<heads = ";
    ints(heads);
    os << ", mask = " << children.front().str() << '>';
    break;
  }
  return os.str();
}

bool attnrt::mask::isVisible(const Node &node, const Data &data, int64_t b,
                             int64_t h, int64_t q, int64_t k) {
  int64_t p = alignedPosition(data, q, node.topLeft);
  switch (node.kind) {
  case Kind::Causal:
    return k <= p;
  case Kind::SlidingWindow:
    return p - node.left <= k && k <= p + node.right;
  case Kind::Sinks:
    return k < node.count;
  case Kind::Chunked:
    return floorDiv(p, node.count) == floorDiv(k, node.count);
  case Kind::PrefixLM:
    return k < (node.count >= 0 ? node.count : data.prefixLen.at({b}));
  case Kind::Document:
    if (node.fromCuSeqlens)
      return documentOf(data.cuSeqlensQ, b, q, -1) ==
             documentOf(data.cuSeqlensKV, b, k, -2);
    return data.docQ.at({b, q}) == data.docKV.at({b, k});
  case Kind::Neighborhood: {
    std::vector<int64_t> qc, kc;
    coordinates(node.grid, q, qc);
    coordinates(node.grid, k, kc);
    for (size_t d = 0; d < node.grid.size(); ++d) {
      int64_t dil = dimOf(d, node.dilation, 1);
      bool causal = node.causalDims.empty() ? false : node.causalDims[d];
      if (qc[d] % dil != kc[d] % dil)
        return false;
      // Positions within the shared dilation group.
      int64_t n = (node.grid[d] - qc[d] % dil + dil - 1) / dil;
      int64_t i = qc[d] / dil, j = kc[d] / dil;
      int64_t kernel = node.kernel[d];
      if (causal) {
        if (j > i || j < i - kernel + 1)
          return false;
        continue;
      }
      int64_t size = std::min(kernel, n);
      int64_t start = i - kernel / 2;
      if (start < 0)
        start = 0;
      if (start > n - size)
        start = n - size;
      if (j < start || j >= start + size)
        return false;
    }
    return true;
  }
  case Kind::BlockSparse: {
    int64_t qb = q / node.blockQ, kb = k / node.blockKV;
    int64_t n = data.kvNumBlocks.at({b, h, qb});
    for (int64_t j = 0; j < n; ++j)
      if (data.kvIndices.at({b, h, qb, j}) == kb)
        return true;
    return false;
  }
  case Kind::VerticalSlash: {
    int64_t pos = alignedPosition(data, q, false);
    for (int64_t j = 0, e = data.vertical.shape.back(); j < e; ++j)
      if (data.vertical.at({b, h, j}) == k)
        return true;
    for (int64_t j = 0, e = data.slash.shape.back(); j < e; ++j)
      if (pos - data.slash.at({b, h, j}) == k)
        return true;
    return false;
  }
  case Kind::And:
    for (const Node &child : node.children)
      if (!isVisible(child, data, b, h, q, k))
        return false;
    return true;
  case Kind::Or:
    for (const Node &child : node.children)
      if (isVisible(child, data, b, h, q, k))
        return true;
    return false;
  case Kind::Not:
    return !isVisible(node.children.front(), data, b, h, q, k);
  case Kind::OnHeads:
    if (std::find(node.heads.begin(), node.heads.end(), h) == node.heads.end())
      return true;
    return isVisible(node.children.front(), data, b, h, q, k);
  }
  return false;
}

void attnrt::mask::visibleRuns(const Node &node, const Data &data, int64_t b,
                               int64_t h, int64_t q, int64_t k0, int64_t k1,
                               std::vector<Run> &runs) {
  runs.clear();
  if (k0 >= k1)
    return;
  int64_t p = alignedPosition(data, q, node.topLeft);
  switch (node.kind) {
  case Kind::Causal:
    addClipped(runs, k0, p + 1, k0, k1);
    return;
  case Kind::SlidingWindow:
    addClipped(runs, p - node.left, p + node.right + 1, k0, k1);
    return;
  case Kind::Sinks:
    addClipped(runs, 0, node.count, k0, k1);
    return;
  case Kind::Chunked: {
    int64_t chunk = floorDiv(p, node.count) * node.count;
    addClipped(runs, chunk, chunk + node.count, k0, k1);
    return;
  }
  case Kind::PrefixLM:
    addClipped(runs, 0, node.count >= 0 ? node.count : data.prefixLen.at({b}),
               k0, k1);
    return;
  case Kind::Document: {
    if (node.fromCuSeqlens) {
      int64_t d = documentOf(data.cuSeqlensQ, b, q, -1);
      if (d >= 0 && d + 1 < data.cuSeqlensKV.shape.back())
        addClipped(runs, data.cuSeqlensKV.at({b, d}),
                   data.cuSeqlensKV.at({b, d + 1}), k0, k1);
      return;
    }
    // Ids are data: scan the range once, in runs of matching keys.
    int32_t id = data.docQ.at({b, q});
    for (int64_t k = k0; k < k1;) {
      while (k < k1 && data.docKV.at({b, k}) != id)
        ++k;
      int64_t begin = k;
      while (k < k1 && data.docKV.at({b, k}) == id)
        ++k;
      if (begin < k)
        runs.push_back({begin, k});
    }
    return;
  }
  case Kind::Neighborhood: {
    std::vector<DimWindow> windows = neighborhoodWindows(node, q);
    size_t rank = node.grid.size();
    int64_t rowLen = node.grid.back();
    std::vector<int64_t> kc;
    // Walk the range one grid row (last dimension) at a time.
    for (int64_t k = k0; k < k1;) {
      coordinates(node.grid, k, kc);
      int64_t rowStart = k - kc.back();
      int64_t segmentEnd = std::min(k1, rowStart + rowLen);
      bool rowVisible = true;
      for (size_t d = 0; d + 1 < rank && rowVisible; ++d)
        rowVisible = windows[d].contains(kc[d]);
      if (rowVisible) {
        const DimWindow &w = windows.back();
        int64_t first = kc.back(), last = segmentEnd - 1 - rowStart;
        // Group positions j with coordinate group + dilation * j in range.
        int64_t jFirst =
            std::max(w.first, (first - w.group + w.dilation - 1) / w.dilation);
        int64_t jLast = std::min(w.last, floorDiv(last - w.group, w.dilation));
        if (w.dilation == 1)
          addClipped(runs, rowStart + jFirst, rowStart + jLast + 1, k0, k1);
        else
          for (int64_t j = jFirst; j <= jLast; ++j) {
            int64_t key = rowStart + w.group + w.dilation * j;
            addClipped(runs, key, key + 1, k0, k1);
          }
      }
      k = segmentEnd;
    }
    normalize(runs); // rows that meet end to end form one run
    return;
  }
  case Kind::BlockSparse: {
    int64_t qb = q / node.blockQ;
    int64_t numKVBlocks = (data.kvLen + node.blockKV - 1) / node.blockKV;
    int64_t n = data.kvNumBlocks.at({b, h, qb});
    for (int64_t j = 0; j < n; ++j) {
      int64_t kb = data.kvIndices.at({b, h, qb, j});
      if (kb >= 0 && kb < numKVBlocks)
        addClipped(runs, kb * node.blockKV, (kb + 1) * node.blockKV, k0, k1);
    }
    normalize(runs);
    return;
  }
  case Kind::VerticalSlash: {
    int64_t pos = alignedPosition(data, q, false);
    for (int64_t j = 0, e = data.vertical.shape.back(); j < e; ++j) {
      int64_t k = data.vertical.at({b, h, j});
      addClipped(runs, k, k + 1, k0, k1);
    }
    for (int64_t j = 0, e = data.slash.shape.back(); j < e; ++j) {
      int64_t k = pos - data.slash.at({b, h, j});
      addClipped(runs, k, k + 1, k0, k1);
    }
    normalize(runs);
    return;
  }
  case Kind::And: {
    std::vector<Run> other;
    visibleRuns(node.children.front(), data, b, h, q, k0, k1, runs);
    for (size_t i = 1; i < node.children.size() && !runs.empty(); ++i) {
      visibleRuns(node.children[i], data, b, h, q, k0, k1, other);
      intersect(runs, other);
    }
    return;
  }
  case Kind::Or: {
    std::vector<Run> other;
    for (const Node &child : node.children) {
      visibleRuns(child, data, b, h, q, k0, k1, other);
      runs.insert(runs.end(), other.begin(), other.end());
    }
    normalize(runs);
    return;
  }
  case Kind::Not: {
    std::vector<Run> inner;
    visibleRuns(node.children.front(), data, b, h, q, k0, k1, inner);
    int64_t next = k0;
    for (const Run &r : inner) {
      addClipped(runs, next, r.begin, k0, k1);
      next = r.end;
    }
    addClipped(runs, next, k1, k0, k1);
    return;
  }
  case Kind::OnHeads:
    if (std::find(node.heads.begin(), node.heads.end(), h) == node.heads.end())
      runs.push_back({k0, k1});
    else
      visibleRuns(node.children.front(), data, b, h, q, k0, k1, runs);
    return;
  }
}

/// The id of `ids` at (b, t) for every t in [t0, t1), or nullopt when they
/// differ.
static std::optional<int32_t> commonId(const IntView &ids, int64_t b,
                                       int64_t t0, int64_t t1) {
  const int32_t *first = ids.data + ids.offset({b, t0});
  int64_t step = ids.lastStride();
  for (int64_t i = 1; i < t1 - t0; ++i)
    if (first[i * step] != *first)
      return std::nullopt;
  return *first;
}

/// The kind of the tile [q0, q1) x [k0, k1) when a few reads decide it:
/// a causal mask from its corners, document ids when each side of the
/// tile holds one document, conjunctions and disjunctions from their
/// operands; nullopt otherwise (classifyTile then walks the rows). A
/// causal run over packed documents is mostly tiles across two documents
/// (empty) or inside one (full), which this decides from 2 x 64 reads
/// instead of a walk over every pair.
static std::optional<TileKind> quickKind(const Node &node, const Data &data,
                                         int64_t b, int64_t q0, int64_t q1,
                                         int64_t k0, int64_t k1) {
  switch (node.kind) {
  case Kind::Causal: {
    // Row q sees keys up to its aligned position, which grows with q.
    int64_t first = alignedPosition(data, q0, node.topLeft);
    int64_t last = alignedPosition(data, q1 - 1, node.topLeft);
    if (first >= k1 - 1)
      return TileKind::Full;
    if (last < k0)
      return TileKind::Empty;
    return std::nullopt;
  }
  case Kind::Document: {
    if (node.fromCuSeqlens)
      return std::nullopt;
    std::optional<int32_t> q = commonId(data.docQ, b, q0, q1);
    std::optional<int32_t> k =
        q ? commonId(data.docKV, b, k0, k1) : std::nullopt;
    if (!q || !k)
      return std::nullopt;
    return *q == *k ? TileKind::Full : TileKind::Empty;
  }
  case Kind::And:
  case Kind::Or: {
    // And: one empty operand empties the tile, all full fill it; Or: the
    // other way round.
    bool isAnd = node.kind == Kind::And;
    TileKind absorbing = isAnd ? TileKind::Empty : TileKind::Full;
    bool allNeutral = true;
    for (const Node &child : node.children) {
      std::optional<TileKind> kind = quickKind(child, data, b, q0, q1, k0, k1);
      if (kind == absorbing)
        return absorbing;
      allNeutral &= kind.has_value();
    }
    if (allNeutral)
      return isAnd ? TileKind::Full : TileKind::Empty;
    return std::nullopt;
  }
  default:
    return std::nullopt;
  }
}

TileKind attnrt::mask::classifyTile(const Node &node, const Data &data,
                                    int64_t b, int64_t h, int64_t q0,
                                    int64_t q1, int64_t k0, int64_t k1) {
  if (std::optional<TileKind> kind = quickKind(node, data, b, q0, q1, k0, k1))
    return *kind;
  bool sawFull = false, sawEmpty = false;
  std::vector<Run> runs;
  for (int64_t q = q0; q < q1; ++q) {
    visibleRuns(node, data, b, h, q, k0, k1, runs);
    int64_t covered = 0;
    for (const Run &r : runs)
      covered += r.end - r.begin;
    if (covered == k1 - k0)
      sawFull = true;
    else if (covered == 0)
      sawEmpty = true;
    else
      return TileKind::Partial;
    if (sawFull && sawEmpty)
      return TileKind::Partial;
  }
  return sawFull ? TileKind::Full : TileKind::Empty;
}

void attnrt::mask::classifyTileRow(const Node *node, const Data &data,
                                   int64_t b, int64_t h, int64_t q0, int64_t q1,
                                   int64_t blockKV, int32_t *kinds,
                                   int64_t numTiles) {
  for (int64_t kt = 0; kt < numTiles; ++kt) {
    int64_t k0 = kt * blockKV, k1 = std::min(k0 + blockKV, data.kvLen);
    TileKind kind = TileKind::Empty;
    if (q0 < q1 && k0 < k1)
      kind = node ? classifyTile(*node, data, b, h, q0, q1, k0, k1)
                  : TileKind::Full;
    kinds[kt] = static_cast<int32_t>(kind);
  }
}

/// Whether `node` or any node below it satisfies `pred`.
template <typename Pred> static bool anyNode(const Node &node, Pred pred) {
  if (pred(node))
    return true;
  for (const Node &child : node.children)
    if (anyNode(child, pred))
      return true;
  return false;
}

bool attnrt::mask::dependsOnBatch(const Node &node) {
  return anyNode(node, [](const Node &n) {
    return (n.kind == Kind::PrefixLM && n.count < 0) ||
           n.kind == Kind::Document || n.kind == Kind::BlockSparse ||
           n.kind == Kind::VerticalSlash;
  });
}

bool attnrt::mask::dependsOnHead(const Node &node) {
  return anyNode(node, [](const Node &n) {
    return n.kind == Kind::OnHeads || n.kind == Kind::BlockSparse ||
           n.kind == Kind::VerticalSlash;
  });
}
