//===- Kernel.cpp - A compiled kernel, any target -------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Kernel.h"
#include "attn/runtime/MaskSvg.h"
#include "attn/runtime/ThreadPool.h"

#include <algorithm>
#include <cstring>

using namespace attnrt;

namespace {

std::string shapeText(const attn_tensor &t) {
  std::string s = "[";
  for (int32_t i = 0; i < t.rank; ++i)
    s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + "]";
}

int32_t readInt(const attn_tensor &t, std::initializer_list<int64_t> index) {
  int64_t offset = 0, i = 0;
  for (int64_t v : index) {
    if (t.shape[i] != 1)
      offset += v * t.strides[i];
    ++i;
  }
  return static_cast<const int32_t *>(t.data)[offset];
}

} // namespace

Kernel::~Kernel() = default;

mask::Data attnrt::maskData(const Args &args, int64_t qLen, int64_t kvLen) {
  auto view = [&](const char *name) {
    mask::IntView v;
    auto it = args.find(name);
    if (it == args.end())
      return v;
    const attn_tensor &t = it->second;
    v.data = static_cast<const int32_t *>(t.data);
    v.shape.assign(t.shape, t.shape + t.rank);
    v.strides.assign(t.strides, t.strides + t.rank);
    return v;
  };
  mask::Data data;
  data.qLen = qLen;
  data.kvLen = kvLen;
  data.docQ = view("doc_q");
  data.docKV = view("doc_kv");
  data.cuSeqlensQ = view("cu_seqlens_q");
  data.cuSeqlensKV = view("cu_seqlens_kv");
  data.prefixLen = view("prefix_len");
  data.kvNumBlocks = view("kv_num_blocks");
  data.kvIndices = view("kv_indices");
  data.vertical = view("vertical");
  data.slash = view("slash");
  return data;
}

std::vector<int64_t> Kernel::outputDims(const std::string &name) const {
  auto axis = [](int64_t a) { return -1 - a; };
  bool ragged = m.kvStorage == "ragged";
  if (name == "out")
    return ragged ? std::vector<int64_t>{axis(0), axis(1), m.headDimV}
                  : std::vector<int64_t>{axis(0), axis(1), axis(2), m.headDimV};
  if (ragged)
    return {m.numQHeads, axis(0)};
  return {axis(0), m.numQHeads, axis(m.seqAxis())};
}

std::vector<int64_t> Kernel::outputShape(const std::string &name,
                                         const attn_tensor &q) const {
  std::vector<int64_t> shape = outputDims(name);
  for (int64_t &size : shape)
    if (size < 0)
      size = q.shape[-1 - size];
  return shape;
}

bool Kernel::validate(const Args &args, std::string &error) const {
  return validateOn(args, device(), error);
}

bool Kernel::validateOn(const Args &args, attn_device_kind device,
                        std::string &error) const {
  // Presence and the static parts of each parameter.
  for (const auto &arg : args) {
    const std::string &name = arg.first;
    if (std::none_of(m.params.begin(), m.params.end(), [&](const ParamSpec &p) {
          return p.name == name && !p.internal;
        })) {
      std::string known;
      for (const ParamSpec &p : m.params)
        if (!p.internal)
          known += (known.empty() ? "" : ", ") + p.name;
      error = "'" + name + "' is not a parameter of kernel '" + m.name +
              "' (parameters: " + known + ")";
      return false;
    }
  }
  for (const ParamSpec &p : m.params) {
    if (p.internal)
      continue;
    auto it = args.find(p.name);
    attn_tensor_spec spec{};
    spec.name = p.name.c_str();
    spec.dtype = p.dtype;
    spec.rank = static_cast<int32_t>(p.shape.size());
    std::copy(p.shape.begin(), p.shape.end(), spec.shape);
    spec.inner_contiguous = p.innerContiguous;
    if (attn_check_tensor(it == args.end() ? nullptr : &it->second, &spec,
                          device) != ATTN_OK) {
      error = attn_last_error();
      return false;
    }
  }

  // Overlap last: a tensor whose shape is wrong spans memory it does not
  // own, and its shape is the error to report.
  bool agree = m.kvStorage == "contiguous" ? validateContiguous(args, error)
                                           : validateStorage(args, error);
  return agree && checkNoOverlap(args, error);
}

bool Kernel::validateContiguous(const Args &args, std::string &error) const {
  // Sizes that must agree between parameters.
  const attn_tensor &q = args.at("q"), &k = args.at("k"), &v = args.at("v");
  bool bhsd = m.layout == "bhsd";
  int seq = bhsd ? 2 : 1;
  Sizes sizes{q.shape[0], q.shape[seq], k.shape[seq]};
  auto mismatch = [&](const std::string &name, const attn_tensor &t,
                      const std::string &expected) {
    error = "operand '" + name + "' has shape " + shapeText(t) + ", expected " +
            expected;
    return false;
  };
  auto expectShape = [&](const std::string &name, std::vector<int64_t> want) {
    auto it = args.find(name);
    if (it == args.end())
      return true;
    const attn_tensor &t = it->second;
    std::string text = "[";
    for (size_t i = 0; i < want.size(); ++i)
      text += (i ? ", " : "") + std::to_string(want[i]);
    text += "]";
    if (static_cast<size_t>(t.rank) != want.size())
      return mismatch(name, t, text);
    for (size_t i = 0; i < want.size(); ++i)
      if (t.shape[i] != want[i])
        return mismatch(name, t, text);
    return true;
  };
  auto layoutShape = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
    return bhsd ? std::vector<int64_t>{b, h, s, d}
                : std::vector<int64_t>{b, s, h, d};
  };
  if (!expectShape("k", layoutShape(sizes.batch, sizes.kvLen, m.numKVHeads,
                                    m.headDimQK)) ||
      !expectShape("v", layoutShape(sizes.batch, sizes.kvLen, m.numKVHeads,
                                    m.headDimV)) ||
      !expectShape("out", outputShape("out", q)) ||
      !expectShape("lse", outputShape("lse", q)) ||
      !expectShape("doc_q", {sizes.batch, sizes.qLen}) ||
      !expectShape("doc_kv", {sizes.batch, sizes.kvLen}) ||
      !expectShape("prefix_len", {sizes.batch}))
    return false;
  (void)v;
  if (!checkBroadcastOperands(args, sizes, error))
    return false;
  for (const char *name : {"cu_seqlens_q", "cu_seqlens_kv"}) {
    auto it = args.find(name);
    if (it != args.end() && it->second.shape[0] != sizes.batch)
      return mismatch(name, it->second,
                      "[" + std::to_string(sizes.batch) + ", D + 1]");
  }
  return checkValues(args, sizes, error);
}

bool Kernel::checkBroadcastOperands(const Args &args, const Sizes &sizes,
                                    std::string &error) const {
  // Axes that broadcast: each size 1 or the full size.
  auto broadcastable = [&](const std::string &name, std::vector<int64_t> full) {
    auto it = args.find(name);
    if (it == args.end())
      return true;
    const attn_tensor &t = it->second;
    for (size_t i = 0; i < full.size() && i < static_cast<size_t>(t.rank); ++i)
      if (full[i] >= 0 && t.shape[i] != 1 && t.shape[i] != full[i]) {
        error = "operand '" + name + "' has size " +
                std::to_string(t.shape[i]) + " in dimension " +
                std::to_string(i) + ", expected 1 or " +
                std::to_string(full[i]);
        return false;
      }
    return true;
  };
  std::vector<int64_t> biasFull;
  for (const std::string &axis : m.biasAxes)
    biasFull.push_back(axis == "b"   ? sizes.batch
                       : axis == "h" ? m.numQHeads
                       : axis == "q" ? sizes.qLen
                                     : sizes.kvLen);
  int64_t numQBlocks = -1, numKVBlocks = -1;
  if (m.sparseBlockQ > 0) {
    numQBlocks = (sizes.qLen + m.sparseBlockQ - 1) / m.sparseBlockQ;
    numKVBlocks = (sizes.kvLen + m.sparseBlockKV - 1) / m.sparseBlockKV;
  }
  if (!broadcastable("bias", biasFull) ||
      !broadcastable("vertical", {sizes.batch, m.numQHeads}) ||
      !broadcastable("slash", {sizes.batch, m.numQHeads}) ||
      !broadcastable("kv_num_blocks", {sizes.batch, m.numQHeads, numQBlocks}) ||
      !broadcastable("kv_indices", {sizes.batch, m.numQHeads, numQBlocks}))
    return false;
  return true;
}

bool Kernel::checkValues(const Args &args, const Sizes &sizes,
                         std::string &error) const {
  // Block-sparse: counts within the kv blocks, listed indices in range and
  // distinct, for every (batch, head) the kernel reads (broadcasting size-1
  // axes as it does).
  auto numBlocks = args.find("kv_num_blocks");
  auto indices = args.find("kv_indices");
  if (numBlocks != args.end() && indices != args.end()) {
    const attn_tensor &n = numBlocks->second, &idx = indices->second;
    int64_t numKVBlocks = (sizes.kvLen + m.sparseBlockKV - 1) / m.sparseBlockKV;
    int64_t numQBlocks = (sizes.qLen + m.sparseBlockQ - 1) / m.sparseBlockQ;
    for (auto [name, t] :
         {std::pair<const char *, const attn_tensor *>{"kv_num_blocks", &n},
          {"kv_indices", &idx}})
      if (t->shape[2] != numQBlocks) {
        error = std::string("operand '") + name + "' has " +
                std::to_string(t->shape[2]) +
                " q blocks in dimension 2, "
                "expected " +
                std::to_string(numQBlocks) + " (q_len " +
                std::to_string(sizes.qLen) + " in blocks of " +
                std::to_string(m.sparseBlockQ) + ")";
        return false;
      }
    int64_t width = idx.shape[3];
    std::vector<int64_t> seen(numKVBlocks, -1);
    int64_t row = 0;
    for (int64_t b = 0; b < sizes.batch; ++b)
      for (int64_t h = 0; h < m.numQHeads; ++h)
        for (int64_t qb = 0; qb < numQBlocks; ++qb, ++row) {
          auto where = [&](int64_t j) {
            std::string text = "[" + std::to_string(b) + ", " +
                               std::to_string(h) + ", " + std::to_string(qb);
            return text + (j >= 0 ? ", " + std::to_string(j) : "") + "]";
          };
          int32_t count = readInt(n, {b, h, qb});
          if (count < 0 || count > width) {
            error = "operand 'kv_num_blocks' holds " + std::to_string(count) +
                    " at " + where(-1) + ", outside [0, " +
                    std::to_string(width) + "] (kv_indices' last size)";
            return false;
          }
          for (int64_t j = 0; j < count; ++j) {
            int32_t kb = readInt(idx, {b, h, qb, j});
            if (kb < 0 || kb >= numKVBlocks) {
              error = "operand 'kv_indices' holds block " + std::to_string(kb) +
                      " at " + where(j) + ", outside [0, " +
                      std::to_string(numKVBlocks) + ")";
              return false;
            }
            if (seen[kb] == row) {
              error = "operand 'kv_indices' lists block " + std::to_string(kb) +
                      " twice at " + where(-1) + "; a block is visible or not";
              return false;
            }
            seen[kb] = row;
          }
        }
  }
  // Vertical-slash: key indices within the keys, diagonal offsets >= 0.
  for (auto [name, bound] :
       {std::pair<const char *, int64_t>{"vertical", sizes.kvLen},
        {"slash", -1}}) {
    auto it = args.find(name);
    if (it == args.end())
      continue;
    const attn_tensor &t = it->second;
    for (int64_t b = 0; b < t.shape[0]; ++b)
      for (int64_t h = 0; h < t.shape[1]; ++h)
        for (int64_t j = 0; j < t.shape[2]; ++j) {
          int32_t value = readInt(t, {b, h, j});
          if (value < 0 || (bound >= 0 && value >= bound)) {
            error = std::string("operand '") + name + "' holds " +
                    std::to_string(value) + " at [" + std::to_string(b) + ", " +
                    std::to_string(h) + ", " + std::to_string(j) +
                    "], expected " +
                    (bound >= 0
                         ? "a key index in [0, " + std::to_string(bound) + ")"
                         : std::string("a non-negative diagonal "
                                       "offset"));
            return false;
          }
        }
  }
  // cu_seqlens of documents: non-decreasing, within [0, L] (ragged
  // storage's own cu_seqlens are checked by validateStorage).
  for (auto [name, len] :
       {std::pair<const char *, int64_t>{"cu_seqlens_q", sizes.qLen},
        {"cu_seqlens_kv", sizes.kvLen}}) {
    auto it = args.find(name);
    if (it == args.end() || m.kvStorage == "ragged")
      continue;
    const attn_tensor &t = it->second;
    for (int64_t b = 0; b < t.shape[0]; ++b)
      for (int64_t d = 0; d < t.shape[1]; ++d) {
        int32_t value = readInt(t, {b, d});
        int32_t prev = d ? readInt(t, {b, d - 1}) : 0;
        if (value < prev || value > len) {
          error = std::string("operand '") + name +
                  "' must be non-decreasing "
                  "within [0, " +
                  std::to_string(len) + "], got " + std::to_string(value) +
                  " at [" + std::to_string(b) + ", " + std::to_string(d) + "]";
          return false;
        }
      }
  }
  return true;
}

bool Kernel::checkNoOverlap(const Args &args, std::string &error) const {
  // The bytes a tensor view can touch: [lo, hi), empty for no elements.
  auto span = [](const attn_tensor &t) -> std::pair<intptr_t, intptr_t> {
    int64_t size = t.dtype == ATTN_F16 || t.dtype == ATTN_BF16 ? 2 : 4;
    int64_t lo = 0, hi = 0;
    for (int32_t i = 0; i < t.rank; ++i) {
      if (t.shape[i] == 0)
        return {0, 0};
      int64_t reach = (t.shape[i] - 1) * t.strides[i];
      (reach < 0 ? lo : hi) += reach;
    }
    auto base = reinterpret_cast<intptr_t>(t.data);
    return {base + lo * size, base + (hi + 1) * size};
  };
  // Outputs are written while other work items still read the inputs, so
  // an output may share no byte with any other argument.
  for (const char *output : {"out", "lse"}) {
    auto it = args.find(output);
    if (it == args.end())
      continue;
    auto [lo, hi] = span(it->second);
    if (lo == hi)
      continue;
    for (const auto &[name, tensor] : args) {
      if (name == output || (name == "out" && std::string(output) == "lse"))
        continue;
      auto [otherLo, otherHi] = span(tensor);
      if (otherLo < hi && lo < otherHi) {
        error = std::string("operand '") + output + "' overlaps '" + name +
                "' in memory; give the kernel a separate output buffer";
        return false;
      }
    }
  }
  return true;
}

bool Kernel::validateStorage(const Args &args, std::string &error) const {
  const attn_tensor &q = args.at("q"), &k = args.at("k");
  bool bhsd = m.layout == "bhsd";
  auto expectShape = [&](const std::string &name,
                         const std::vector<int64_t> &want) {
    const attn_tensor &t = args.at(name);
    bool same = static_cast<size_t>(t.rank) == want.size() &&
                std::equal(want.begin(), want.end(), t.shape);
    if (same)
      return true;
    std::string text = "[";
    for (size_t i = 0; i < want.size(); ++i)
      text += (i ? ", " : "") + std::to_string(want[i]);
    error = "operand '" + name + "' has shape " + shapeText(t) + ", expected " +
            text + "]";
    return false;
  };
  auto has = [&](const char *name) { return args.count(name) != 0; };

  if (m.kvStorage == "paged") {
    // q, out, lse as contiguous; k, v: [pages, page_size, Hkv, D] (bshd) or
    // [pages, Hkv, page_size, D] (bhsd).
    int64_t B = q.shape[0], Lq = q.shape[bhsd ? 2 : 1];
    int64_t pages = k.shape[0], pageSize = k.shape[bhsd ? 2 : 1];
    auto layoutShape = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
      return bhsd ? std::vector<int64_t>{b, h, s, d}
                  : std::vector<int64_t>{b, s, h, d};
    };
    const attn_tensor &table = args.at("block_table");
    if (!expectShape("v",
                     layoutShape(pages, pageSize, m.numKVHeads, m.headDimV)) ||
        !expectShape("out", outputShape("out", q)) ||
        (has("lse") && !expectShape("lse", outputShape("lse", q))) ||
        !expectShape("block_table", {B, table.shape[1]}) ||
        !expectShape("cache_seqlens", {B}))
      return false;
    int64_t maxPages = table.shape[1];
    const attn_tensor &seqlens = args.at("cache_seqlens");
    for (int64_t b = 0; b < B; ++b) {
      int32_t len = readInt(seqlens, {b});
      if (len < 0 || len > maxPages * pageSize) {
        error = "operand 'cache_seqlens' holds " + std::to_string(len) +
                " at [" + std::to_string(b) + "], outside [0, " +
                std::to_string(maxPages * pageSize) + "] (block_table's " +
                std::to_string(maxPages) + " pages of " +
                std::to_string(pageSize) + " keys)";
        return false;
      }
      for (int64_t i = 0; i < (len + pageSize - 1) / pageSize; ++i) {
        int32_t page = readInt(table, {b, i});
        if (page < 0 || page >= pages) {
          error = "operand 'block_table' holds page " + std::to_string(page) +
                  " at [" + std::to_string(b) + ", " + std::to_string(i) +
                  "], outside [0, " + std::to_string(pages) +
                  ") (the pages of k and v)";
          return false;
        }
      }
    }
    // Per-key operands cover the longest sequence.
    int64_t longest = sequencesOf(args).longestKV;
    if (has("doc_q") && !expectShape("doc_q", {B, Lq}))
      return false;
    if (has("doc_kv")) {
      const attn_tensor &docKV = args.at("doc_kv");
      if (docKV.shape[0] != B || docKV.shape[1] < longest) {
        error = "operand 'doc_kv' has shape " + shapeText(docKV) +
                ", expected [" + std::to_string(B) + ", L] with L at least " +
                std::to_string(longest) + " (the longest cache_seqlens)";
        return false;
      }
    }
    return checkSequenceOperands(args, B, error) &&
           checkBroadcastOperands(args, {B, Lq, longest}, error) &&
           checkValues(args, {B, Lq, longest}, error);
  }

  // Ragged: q, out [tokens_q, Hq, D]; k, v [tokens_kv, Hkv, D]; lse
  // [Hq, tokens_q]; cu_seqlens_q and cu_seqlens_kv [B + 1].
  int64_t tokensQ = q.shape[0], tokensKV = k.shape[0];
  const attn_tensor &cuQ = args.at("cu_seqlens_q");
  if (cuQ.shape[0] < 1) {
    error = "operand 'cu_seqlens_q' has shape " + shapeText(cuQ) +
            ", expected [batch + 1] (at least one entry)";
    return false;
  }
  if (!expectShape("v", {tokensKV, m.numKVHeads, m.headDimV}) ||
      !expectShape("out", outputShape("out", q)) ||
      (has("lse") && !expectShape("lse", outputShape("lse", q))) ||
      !expectShape("cu_seqlens_kv", {cuQ.shape[0]}))
    return false;
  for (auto [name, tokens] :
       {std::pair<const char *, int64_t>{"cu_seqlens_q", tokensQ},
        {"cu_seqlens_kv", tokensKV}}) {
    const attn_tensor &cu = args.at(name);
    for (int64_t i = 0; i < cu.shape[0]; ++i) {
      int32_t value = readInt(cu, {i});
      int32_t prev = i ? readInt(cu, {i - 1}) : 0;
      if (value < prev || value > tokens) {
        error = std::string("operand '") + name +
                "' must be non-decreasing within [0, " +
                std::to_string(tokens) + "] (the packed tokens), got " +
                std::to_string(value) + " at [" + std::to_string(i) + "]";
        return false;
      }
    }
  }
  if ((has("doc_q") && !expectShape("doc_q", {tokensQ})) ||
      (has("doc_kv") && !expectShape("doc_kv", {tokensKV})))
    return false;
  // Per-position operands cover the longest sequences.
  Sequences seqs = sequencesOf(args);
  int64_t batch = cuQ.shape[0] - 1;
  Sizes sizes{batch, seqs.longestQ, seqs.longestKV};
  return checkSequenceOperands(args, batch, error) &&
         checkBroadcastOperands(args, sizes, error) &&
         checkValues(args, sizes, error);
}

bool Kernel::checkSequenceOperands(const Args &args, int64_t batch,
                                   std::string &error) const {
  // Per-batch operands of paged and ragged storage (the per-head ones are
  // checkBroadcastOperands').
  auto it = args.find("prefix_len");
  if (it != args.end() && it->second.shape[0] != batch) {
    error = "operand 'prefix_len' has shape " + shapeText(it->second) +
            ", expected [" + std::to_string(batch) + "]";
    return false;
  }
  return true;
}

Kernel::Sequences Kernel::sequencesOf(const Args &args) const {
  Sequences seqs;
  auto add = [&](int64_t q, int64_t kv, int64_t qStart, int64_t kvStart) {
    seqs.qLens.push_back(q);
    seqs.kvLens.push_back(kv);
    seqs.qStarts.push_back(qStart);
    seqs.kvStarts.push_back(kvStart);
    seqs.longestQ = std::max(seqs.longestQ, q);
    seqs.longestKV = std::max(seqs.longestKV, kv);
  };
  if (m.kvStorage == "paged") {
    const attn_tensor &q = args.at("q"), &seqlens = args.at("cache_seqlens");
    for (int64_t b = 0; b < q.shape[0]; ++b)
      add(q.shape[m.layout == "bhsd" ? 2 : 1], readInt(seqlens, {b}), 0, 0);
  } else if (m.kvStorage == "ragged") {
    const attn_tensor &cuQ = args.at("cu_seqlens_q"),
                      &cuKV = args.at("cu_seqlens_kv");
    for (int64_t b = 0; b + 1 < cuQ.shape[0]; ++b) {
      int64_t qStart = readInt(cuQ, {b}), kvStart = readInt(cuKV, {b});
      add(readInt(cuQ, {b + 1}) - qStart, readInt(cuKV, {b + 1}) - kvStart,
          qStart, kvStart);
    }
  }
  return seqs;
}

int64_t Kernel::numItems(const Args &args) const {
  // The manifest's grid: batch x head groups x q tiles (x kv chunks, which
  // the launch adds).
  auto tiles = [&](int64_t len) { return (len + m.blockQ - 1) / m.blockQ; };
  if (m.qTilesOfLongest) {
    // Items cover the longest sequence; shorter ones leave items idle.
    Sequences seqs = sequencesOf(args);
    return int64_t(seqs.qLens.size()) * m.numHeadGroups * tiles(seqs.longestQ);
  }
  const attn_tensor &q = args.at("q");
  return q.shape[0] * m.numHeadGroups * tiles(q.shape[m.seqAxis()]);
}

int64_t Kernel::longestQ(const Args &args) const {
  if (m.kvStorage == "ragged")
    return sequencesOf(args).longestQ;
  return args.at("q").shape[m.seqAxis()];
}

int64_t Kernel::longestKV(const Args &args) const {
  if (m.kvStorage != "contiguous")
    return sequencesOf(args).longestKV;
  return args.at("k").shape[m.seqAxis()];
}

bool Kernel::sequenceMask(const Args &args, int64_t b, int64_t h,
                          mask::Data &data, std::string &error) const {
  if (!validateOn(args, ATTN_DEVICE_CPU, error))
    return false;
  const attn_tensor &q = args.at("q"), &k = args.at("k");
  int seq = m.seqAxis();
  bool varlen = m.kvStorage != "contiguous";
  Sequences seqs;
  int64_t batch = q.shape[0];
  if (varlen) {
    seqs = sequencesOf(args);
    batch = int64_t(seqs.qLens.size());
  }
  if (b < 0 || b >= batch || h < 0 || h >= m.numQHeads) {
    error = "batch entry " + std::to_string(b) + ", head " + std::to_string(h) +
            " is outside the launch (batch " + std::to_string(batch) + ", " +
            std::to_string(m.numQHeads) + " query heads)";
    return false;
  }
  if (!varlen) {
    data = maskData(args, q.shape[seq], k.shape[seq]);
    return true;
  }
  data = mask::sequenceData(maskData(args, seqs.longestQ, seqs.longestKV),
                            seqs.qLens[b], seqs.kvLens[b], seqs.qStarts[b],
                            seqs.kvStarts[b]);
  return true;
}

bool Kernel::tileKinds(const Args &args, int64_t b, int64_t h,
                       std::vector<int32_t> &kinds, int64_t &qTiles,
                       int64_t &kvTiles, std::string &error) const {
  mask::Data data;
  if (!sequenceMask(args, b, h, data, error))
    return false;
  qTiles = (data.qLen + m.blockQ - 1) / m.blockQ;
  kvTiles = (data.kvLen + m.blockKV - 1) / m.blockKV;
  kinds.resize(qTiles * kvTiles);
  for (int64_t qt = 0; qt < qTiles; ++qt) {
    int64_t q0 = qt * m.blockQ;
    mask::classifyTileRow(m.mask.get(), data, b, h, q0,
                          std::min(q0 + m.blockQ, data.qLen), m.blockKV,
                          &kinds[qt * kvTiles], kvTiles);
  }
  return true;
}

bool Kernel::maskSvg(const Args &args, int64_t b, int64_t h, std::string &svg,
                     std::string &error) const {
  mask::Data data;
  if (!sequenceMask(args, b, h, data, error))
    return false;
  svg = mask::drawMaskSvg(m.mask.get(), data, b, h, m.blockQ, m.blockKV);
  return true;
}

/// The most values an operand-dependent table is kept with (32 MiB).
constexpr size_t kMaxKeptTableInputs = size_t(1) << 22;

/// Appends the shape of `view` (its rank first; an absent view appends
/// rank 0) and its values in row-major order.
static void appendValues(const mask::IntView &view, std::vector<int64_t> &out) {
  if (view.empty()) {
    out.push_back(0);
    return;
  }
  out.push_back(static_cast<int64_t>(view.shape.size()));
  out.insert(out.end(), view.shape.begin(), view.shape.end());
  int64_t count = 1;
  for (int64_t n : view.shape)
    count *= n;
  std::vector<int64_t> index(view.shape.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < index.size(); ++d)
      offset += index[d] * view.strides[d];
    out.push_back(view.data[offset]);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < view.shape[d])
        break;
      index[d] = 0;
    }
  }
}

bool Kernel::computeTileTable(const Args &args, ThreadPool &pool,
                              std::vector<int32_t> &table, attn_tensor &view,
                              std::string &error) const {
  const attn_tensor &q = args.at("q"), &k = args.at("k");
  int seq = m.seqAxis();
  mask::Data data = maskData(args, q.shape[seq], k.shape[seq]);
  // Paged and ragged storage: every sequence has its own lengths (and, for
  // ragged, its first packed tokens), so the table is per batch entry and
  // sized for the longest sequence.
  bool varlen = m.kvStorage != "contiguous";
  Sequences seqs;
  if (varlen) {
    seqs = sequencesOf(args);
    data.qLen = seqs.longestQ;
    data.kvLen = seqs.longestKV;
  }
  const std::vector<int64_t> &qLens = seqs.qLens, &kvLens = seqs.kvLens,
                             &qStarts = seqs.qStarts, &kvStarts = seqs.kvStarts;
  bool perBatch = mask::dependsOnBatch(*m.tableMask) || varlen;
  int64_t batches =
      perBatch ? (varlen ? int64_t(qLens.size()) : q.shape[0]) : 1;
  int64_t heads = mask::dependsOnHead(*m.tableMask) ? m.numQHeads : 1;
  int64_t qTiles = (data.qLen + m.blockQ - 1) / m.blockQ;
  int64_t kvTiles = (data.kvLen + m.blockKV - 1) / m.blockKV;
  // The table must fit in memory: refuse a launch whose table would not.
  int64_t entries = 0;
  if (__builtin_mul_overflow(batches, heads, &entries) ||
      __builtin_mul_overflow(entries, qTiles, &entries) ||
      __builtin_mul_overflow(entries, std::max<int64_t>(kvTiles, 1),
                             &entries) ||
      entries > (int64_t(1) << 31)) {
    error = "kernel '" + m.name + "': the tile table of this launch (" +
            std::to_string(batches) + " x " + std::to_string(heads) + " x " +
            std::to_string(qTiles) + " x " + std::to_string(kvTiles) +
            " tiles) is larger than 2^31 entries; launch fewer or shorter "
            "sequences";
    return false;
  }
  // Masks that read no operand (dependsOnBatch covers every operand) give
  // the same table for the same lengths.
  std::pair<int64_t, int64_t> lengths{data.qLen, data.kvLen};
  bool cacheable = !perBatch;
  // Other tables are kept with what they were computed from (the last
  // one): every value the classification reads.
  std::vector<int64_t> inputs;
  if (!cacheable) {
    inputs = {data.qLen, data.kvLen, batches, heads};
    for (const std::vector<int64_t> *v : {&qLens, &kvLens, &qStarts, &kvStarts})
      inputs.insert(inputs.end(), v->begin(), v->end());
    for (const mask::IntView *v :
         {&data.docQ, &data.docKV, &data.cuSeqlensQ, &data.cuSeqlensKV,
          &data.prefixLen, &data.kvNumBlocks, &data.kvIndices, &data.vertical,
          &data.slash})
      appendValues(*v, inputs);
  }
  std::unique_lock<std::mutex> lock(tableCacheMutex);
  if (cacheable) {
    auto it = tableCache.find(lengths);
    if (it != tableCache.end())
      table = it->second;
  } else if (inputs == lastTableInputs) {
    table = lastTable;
  }
  if (table.empty()) {
    table.assign(batches * heads * qTiles * std::max<int64_t>(kvTiles, 1), 0);
    pool.parallelFor(batches * heads * qTiles, [&](int64_t row) {
      int64_t qt = row % qTiles, bh = row / qTiles;
      int64_t h = bh % heads, b = bh / heads;
      mask::Data seqData = varlen
                               ? mask::sequenceData(data, qLens[b], kvLens[b],
                                                    qStarts[b], kvStarts[b])
                               : data;
      // Tiles past a shorter sequence's end are empty.
      int64_t q0 = qt * m.blockQ, q1 = std::min(q0 + m.blockQ, seqData.qLen);
      mask::classifyTileRow(m.tableMask.get(), seqData, b, h, q0, q1, m.blockKV,
                            &table[row * kvTiles], kvTiles);
    });
    if (cacheable) {
      // A few lengths are common; bound the memory for the rest.
      if (tableCache.size() >= 64)
        tableCache.clear();
      tableCache[lengths] = table;
    } else if (inputs.size() <= kMaxKeptTableInputs) {
      lastTableInputs = std::move(inputs);
      lastTable = table;
    } else {
      // Too large to keep twice (block lists of long sequences): the next
      // launch classifies again.
      lastTableInputs.clear();
      lastTable.clear();
    }
  }
  view = attn_tensor{};
  view.data = table.data();
  view.dtype = ATTN_I32;
  view.rank = 4;
  int64_t shape[4] = {batches, heads, qTiles, std::max<int64_t>(kvTiles, 1)};
  int64_t stride = 1;
  for (int i = 3; i >= 0; --i) {
    view.shape[i] = shape[i];
    view.strides[i] = stride;
    stride *= shape[i];
  }
  view.device = ATTN_DEVICE_CPU;
  return true;
}
