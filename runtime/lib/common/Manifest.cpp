//===- Manifest.cpp - A compiled kernel's manifest, parsed ----------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>

using namespace attnrt;
using json = nlohmann::json;

namespace {

bool parseDtype(const std::string &text, attn_dtype &dtype) {
  static const std::pair<const char *, attn_dtype> names[] = {
      {"f32", ATTN_F32},
      {"f16", ATTN_F16},
      {"bf16", ATTN_BF16},
      {"i32", ATTN_I32}};
  for (auto [name, value] : names)
    if (text == name) {
      dtype = value;
      return true;
    }
  return false;
}

/// The mask model of a manifest (written by lib/Target/Manifest.cpp),
/// checked so that the mask model can evaluate it: the sizes it divides by
/// are positive, neighborhood lists agree, each kind has its number of
/// children, and nesting is bounded.
bool parseMask(const json &j, mask::Node &node, std::string &error,
               int depth = 0) {
  if (depth > 64) {
    error = "the manifest's mask nests deeper than 64 levels";
    return false;
  }
  std::string kind = j.at("kind").get<std::string>();
  if (!mask::kindFromName(kind, node.kind)) {
    error = "the manifest's mask has an unknown kind '" + kind + "'";
    return false;
  }
  node.topLeft = j.at("top_left").get<bool>();
  node.left = j.at("left").get<int64_t>();
  node.right = j.at("right").get<int64_t>();
  node.count = j.at("count").get<int64_t>();
  node.fromCuSeqlens = j.at("cu_seqlens").get<bool>();
  node.blockQ = j.at("block_q").get<int64_t>();
  node.blockKV = j.at("block_kv").get<int64_t>();
  node.grid = j.at("grid").get<std::vector<int64_t>>();
  node.kernel = j.at("kernel").get<std::vector<int64_t>>();
  node.dilation = j.at("dilation").get<std::vector<int64_t>>();
  node.causalDims = j.at("causal_dims").get<std::vector<bool>>();
  node.heads = j.at("heads").get<std::vector<int64_t>>();
  for (const json &child : j.at("children")) {
    node.children.emplace_back();
    if (!parseMask(child, node.children.back(), error, depth + 1))
      return false;
  }
  auto bad = [&](const std::string &why) {
    error = "the manifest's " + kind + " mask " + why;
    return false;
  };
  size_t children = node.children.size();
  switch (node.kind) {
  case mask::Kind::And:
  case mask::Kind::Or:
    if (children == 0)
      return bad("has no operands");
    return true;
  case mask::Kind::Not:
  case mask::Kind::OnHeads:
    if (children != 1)
      return bad("takes one operand, not " + std::to_string(children));
    for (int64_t head : node.heads)
      if (head < 0)
        return bad("lists a negative head");
    return true;
  default:
    if (children != 0)
      return bad("takes no operands");
    break;
  }
  switch (node.kind) {
  case mask::Kind::Chunked:
    if (node.count <= 0)
      return bad("has a chunk size of " + std::to_string(node.count));
    break;
  case mask::Kind::Sinks:
    if (node.count < 0)
      return bad("has a negative sink count");
    break;
  case mask::Kind::PrefixLM:
    if (node.count < -1)
      return bad("has a negative prefix length");
    break;
  case mask::Kind::BlockSparse:
    if (node.blockQ <= 0 || node.blockKV <= 0)
      return bad("has a block size that is not positive");
    break;
  case mask::Kind::Neighborhood: {
    // Dilation and causal dimensions are optional: empty lists mean 1 and
    // none (as the mask model reads them).
    size_t rank = node.grid.size();
    if (rank == 0 || node.kernel.size() != rank ||
        (!node.dilation.empty() && node.dilation.size() != rank) ||
        (!node.causalDims.empty() && node.causalDims.size() != rank))
      return bad("has grid, kernel, dilation and causal lists of different "
                 "lengths");
    int64_t tokens = 1;
    for (size_t d = 0; d < rank; ++d) {
      int64_t dilation = node.dilation.empty() ? 1 : node.dilation[d];
      if (node.grid[d] <= 0 || node.kernel[d] <= 0 || dilation <= 0)
        return bad("has a grid, kernel or dilation that is not positive");
      if (node.grid[d] > (int64_t(1) << 31) / tokens)
        return bad("has a grid of more than 2^31 tokens");
      tokens *= node.grid[d];
    }
    break;
  }
  default:
    break;
  }
  return true;
}

/// The int32 operands (name and rank) the mask model reads for `node`;
/// with `ragged` storage, document ids are one per packed token.
void maskOperands(const mask::Node &node, bool ragged,
                  std::vector<std::pair<const char *, size_t>> &operands) {
  switch (node.kind) {
  case mask::Kind::Document:
    if (node.fromCuSeqlens)
      operands.insert(operands.end(),
                      {{"cu_seqlens_q", 2}, {"cu_seqlens_kv", 2}});
    else
      operands.insert(operands.end(),
                      {{"doc_q", ragged ? 1 : 2}, {"doc_kv", ragged ? 1 : 2}});
    break;
  case mask::Kind::PrefixLM:
    if (node.count < 0)
      operands.push_back({"prefix_len", 1});
    break;
  case mask::Kind::BlockSparse:
    operands.insert(operands.end(), {{"kv_num_blocks", 3}, {"kv_indices", 4}});
    break;
  case mask::Kind::VerticalSlash:
    operands.insert(operands.end(), {{"vertical", 3}, {"slash", 3}});
    break;
  default:
    break;
  }
  for (const mask::Node &child : node.children)
    maskOperands(child, ragged, operands);
}

} // namespace

/// Whether `j` holds no floating-point number: a manifest has none, and
/// reading one as an integer would convert it out of range (undefined
/// behavior in nlohmann's get<int64_t>). Iterative: nesting is unbounded.
static bool onlyIntegers(const json &j) {
  std::vector<const json *> pending = {&j};
  while (!pending.empty()) {
    const json *node = pending.back();
    pending.pop_back();
    if (node->is_number_float())
      return false;
    if (node->is_structured())
      for (const json &child : *node)
        pending.push_back(&child);
  }
  return true;
}

bool attnrt::parseManifest(const std::string &text, Manifest &m,
                           std::string &error) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "the manifest is not valid JSON";
    return false;
  }
  if (!onlyIntegers(j)) {
    error = "the manifest holds a number that is not an integer; its "
            "fields are integers";
    return false;
  }
  m.text = text;
  try {
    // Format 4 carries the mask model of every masked kernel; older
    // manifests come from compilers whose kernels this runtime does not
    // call.
    if (int format = j.value("format", 0); format != 4) {
      error = "the manifest has format " + std::to_string(format) +
              ", expected 4; recompile the kernel with this version of Attn";
      return false;
    }
    m.name = j.at("name").get<std::string>();
    m.entry = j.at("entry").get<std::string>();
    m.target = j.at("target").get<std::string>();
    m.targetDetail = j.value("target_detail", "");
    m.specHash = j.value("spec_hash", "");
    m.layout = j.at("layout").get<std::string>();
    m.normalizer = j.at("normalizer").get<std::string>();
    m.numQHeads = j.at("heads").at("q").get<int64_t>();
    m.numKVHeads = j.at("heads").at("kv").get<int64_t>();
    m.headDimQK = j.at("head_dim").at("qk").get<int64_t>();
    m.headDimV = j.at("head_dim").at("v").get<int64_t>();
    m.kvStorage = j.value("kv_storage", "contiguous");
    if (j.contains("mask_model") && !j["mask_model"].is_null()) {
      auto node = std::make_shared<mask::Node>();
      if (!parseMask(j["mask_model"], *node, error))
        return false;
      m.mask = std::move(node);
    }
    if (m.kvStorage != "contiguous" && m.kvStorage != "paged" &&
        m.kvStorage != "ragged") {
      error = "the manifest has an unknown kv_storage '" + m.kvStorage + "'";
      return false;
    }
    const json &tile = j.at("tile"), &work = j.at("work");
    m.blockQ = tile.at("query_positions").get<int64_t>();
    m.blockKV = tile.at("keys").get<int64_t>();
    m.headGroup = tile.at("head_group").get<int64_t>();
    m.numHeadGroups = work.at("head_groups").get<int64_t>();
    const json &splits = work.at("kv_splits");
    m.numKVSplits = splits.is_string() && splits == "per_launch"
                        ? 0
                        : splits.get<int64_t>();
    m.combineEntry = j.value("combine_entry", "");
    if (m.numKVSplits != 1 && m.combineEntry.empty()) {
      error = "the manifest is inconsistent: 'work.kv_splits' is not 1 but "
              "there is no 'combine_entry'";
      return false;
    }
    m.qTilesOfLongest =
        work.at("q_tiles").at("of").get<std::string>() == "longest_q_sequence";
    // The launch divides by these; a hand-edited manifest must not crash it.
    for (auto [name, value] :
         {std::pair<const char *, int64_t>{"heads.q", m.numQHeads},
          {"heads.kv", m.numKVHeads},
          {"head_dim.qk", m.headDimQK},
          {"head_dim.v", m.headDimV},
          {"tile.query_positions", m.blockQ},
          {"tile.keys", m.blockKV},
          {"tile.head_group", m.headGroup},
          {"work.head_groups", m.numHeadGroups}})
      if (value < 1) {
        error = std::string("the manifest is inconsistent: '") + name +
                "' must be positive, got " + std::to_string(value);
        return false;
      }
    for (auto [name, divisor] :
         {std::pair<const char *, int64_t>{"tile.head_group", m.headGroup},
          {"heads.kv", m.numKVHeads}})
      if (m.numQHeads % divisor != 0) {
        error = "the manifest is inconsistent: 'heads.q' (" +
                std::to_string(m.numQHeads) + ") must be a multiple of '" +
                name + "' (" + std::to_string(divisor) + ")";
        return false;
      }
    // The compiler's bound (kMaxKVSplits in AttnDialect.h).
    if (m.numKVSplits < 0 || m.numKVSplits > 256) {
      error = "the manifest is inconsistent: 'work.kv_splits' must be in "
              "[1, 256] or \"per_launch\", got " +
              std::to_string(m.numKVSplits);
      return false;
    }
    if (m.numHeadGroups * m.headGroup != m.numQHeads) {
      error = "the manifest is inconsistent: 'work.head_groups' (" +
              std::to_string(m.numHeadGroups) +
              ") must be 'heads.q' / "
              "'tile.head_group' (" +
              std::to_string(m.numQHeads / m.headGroup) + ")";
      return false;
    }
    if (work.at("q_tiles").at("query_positions").get<int64_t>() != m.blockQ) {
      error = "the manifest is inconsistent: 'work.q_tiles.query_positions' "
              "differs from 'tile.query_positions'";
      return false;
    }
    // GPU targets: the thread block of a work item, its dynamic shared
    // memory and the chip; the CUDA launch needs them, a CPU manifest has
    // none.
    if (j.contains("launch")) {
      const json &launch = j["launch"];
      for (const char *key : {"block", "shared_bytes"})
        if (!launch.is_object() || !launch.contains(key)) {
          error = std::string("the manifest's 'launch' has no '") + key + "'";
          return false;
        }
      auto block = launch.at("block").get<std::vector<int64_t>>();
      if (block.size() != 3) {
        error = "the manifest's 'launch.block' must hold 3 sizes (x, y, z), "
                "got " +
                std::to_string(block.size());
        return false;
      }
      int64_t threads = 1;
      for (size_t i = 0; i < 3; ++i) {
        if (block[i] < 1 || block[i] > 1024) {
          error = "the manifest's 'launch.block' sizes must be in [1, 1024], "
                  "got " +
                  std::to_string(block[i]) + " in dimension " +
                  std::to_string(i);
          return false;
        }
        m.blockDim[i] = block[i];
        threads *= block[i];
      }
      if (threads > 1024) {
        error = "the manifest's 'launch.block' has " + std::to_string(threads) +
                " threads, more than the 1024 of a CUDA block";
        return false;
      }
      m.sharedBytes = launch.at("shared_bytes").get<int64_t>();
      if (m.sharedBytes < 0 || m.sharedBytes > INT32_MAX) {
        error = "the manifest's 'launch.shared_bytes' must be in [0, 2^31), "
                "got " +
                std::to_string(m.sharedBytes);
        return false;
      }
      m.chip = launch.value("chip", "");
    } else if (m.target == "cuda") {
      error = "the manifest for target 'cuda' has no 'launch' (block, "
              "shared_bytes, chip); recompile the kernel with this version "
              "of Attn";
      return false;
    }
    if (j.contains("checks")) {
      const json &checks = j["checks"];
      if (checks.contains("bias_axes"))
        m.biasAxes = checks["bias_axes"].get<std::vector<std::string>>();
      if (checks.contains("block_sparse")) {
        m.sparseBlockQ = checks["block_sparse"].at("block_q");
        m.sparseBlockKV = checks["block_sparse"].at("block_kv");
      }
    }
    for (const json &p : j.at("params")) {
      ParamSpec spec;
      spec.name = p.at("name").get<std::string>();
      if (!parseDtype(p.at("dtype").get<std::string>(), spec.dtype)) {
        error = "parameter '" + spec.name + "' has an unknown dtype";
        return false;
      }
      spec.shape = p.at("shape").get<std::vector<int64_t>>();
      spec.innerContiguous = p.value("inner_contiguous", false);
      spec.internal = p.value("internal", false);
      if (spec.shape.size() > ATTN_MAX_RANK) {
        error = "parameter '" + spec.name + "' has too high a rank";
        return false;
      }
      m.params.push_back(spec);
    }
    // The tile's walk, the work grid and the internal parameters describe
    // one kernel; a hand-edited manifest where they disagree would make
    // the launch pass the kernel what it does not read.
    const std::string walk = tile.at("kv_tiles").get<std::string>();
    static const char *walks[] = {"bounds", "disjuncts", "listed_blocks",
                                  "vertical_slash", "tile_table"};
    if (std::find(std::begin(walks), std::end(walks), walk) ==
        std::end(walks)) {
      error = "the manifest has an unknown 'tile.kv_tiles' '" + walk + "'";
      return false;
    }
    if (tile.at("rows").get<int64_t>() != m.blockQ * m.headGroup) {
      error = "the manifest is inconsistent: 'tile.rows' must be "
              "'tile.query_positions' x 'tile.head_group' (" +
              std::to_string(m.blockQ * m.headGroup) + ")";
      return false;
    }
    const std::string of = work.at("q_tiles").at("of").get<std::string>();
    if (of != (m.kvStorage == "ragged" ? "longest_q_sequence" : "q_len")) {
      error = "the manifest is inconsistent: 'work.q_tiles.of' is '" + of +
              "', expected '" +
              (m.kvStorage == "ragged" ? "longest_q_sequence" : "q_len") +
              "' for " + m.kvStorage + " storage";
      return false;
    }
    if ((m.sparseBlockQ || m.sparseBlockKV) &&
        (m.sparseBlockQ < 1 || m.sparseBlockKV < 1)) {
      error = "the manifest is inconsistent: 'checks.block_sparse' sizes "
              "must be positive";
      return false;
    }
    auto hasInternal = [&](const char *name) {
      return std::any_of(
          m.params.begin(), m.params.end(),
          [&](const ParamSpec &p) { return p.internal && p.name == name; });
    };
    for (const ParamSpec &p : m.params)
      if (p.internal && p.name != "tile_kinds" && p.name != "partial_out" &&
          p.name != "partial_lse") {
        error =
            "the manifest has an unknown internal parameter '" + p.name + "'";
        return false;
      }
    // The launch reads these by name; a manifest without one is not this
    // runtime's.
    std::vector<const char *> required = {"q", "k", "v", "out"};
    if (m.kvStorage == "paged")
      required.insert(required.end(), {"block_table", "cache_seqlens"});
    if (m.kvStorage == "ragged")
      required.insert(required.end(), {"cu_seqlens_q", "cu_seqlens_kv"});
    for (const char *name : required)
      if (std::none_of(m.params.begin(), m.params.end(),
                       [&](const ParamSpec &p) {
                         return p.name == name && !p.internal;
                       })) {
        error = std::string("the manifest lists no parameter '") + name +
                "'; every kernel takes q, k, v and out (and its storage's "
                "operands)";
        return false;
      }
    // The mask model reads its operands by name and rank.
    if (m.mask) {
      std::vector<std::pair<const char *, size_t>> operands;
      maskOperands(*m.mask, m.kvStorage == "ragged", operands);
      for (auto [name, rank] : operands)
        if (std::none_of(m.params.begin(), m.params.end(),
                         [&, name = name, rank = rank](const ParamSpec &p) {
                           return p.name == name && !p.internal &&
                                  p.dtype == ATTN_I32 && p.shape.size() == rank;
                         })) {
          error = std::string("the manifest's mask reads the operand '") +
                  name + "' (int32, rank " + std::to_string(rank) +
                  "), which its parameters do not list";
          return false;
        }
    }
    bool table = walk == "tile_table";
    if ((table && !m.mask) || table != hasInternal("tile_kinds")) {
      error = "the manifest is inconsistent: 'tile.kv_tiles' = 'tile_table' "
              "needs a 'mask_model' and goes with the 'tile_kinds' parameter";
      return false;
    }
    if (table)
      m.tableMask = m.mask;
    bool split = m.numKVSplits != 1;
    bool softmaxFamily = m.normalizer == "softmax" ||
                         m.normalizer == "softmax_with_sink" ||
                         m.normalizer == "softmax_off_by_one";
    if (split != hasInternal("partial_out") ||
        (split && softmaxFamily) != hasInternal("partial_lse")) {
      error = "the manifest is inconsistent: a kernel that splits its kv "
              "range ('work.kv_splits' not 1) and the 'partial_out' "
              "parameter (and 'partial_lse' for the softmax family) go "
              "together";
      return false;
    }
  } catch (const json::exception &e) {
    error = std::string("the manifest is malformed: ") + e.what();
    return false;
  }
  return true;
}
