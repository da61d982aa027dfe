//===- CPUKernel.cpp - Load and launch compiled CPU kernels ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CPUKernel.h"
#include "attn/runtime/ThreadPool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <utility>

using namespace attnrt;
using json = nlohmann::json;

namespace {

bool parseDtype(const std::string &text, attn_dtype &dtype) {
  static const std::pair<const char *, attn_dtype> names[] = {
      {"f32", ATTN_F32}, {"f16", ATTN_F16}, {"bf16", ATTN_BF16},
      {"i32", ATTN_I32}};
  for (auto [name, value] : names)
    if (text == name) {
      dtype = value;
      return true;
    }
  return false;
}

/// An MLIR strided memref descriptor of any rank, as int64 words:
/// allocated, aligned, offset, sizes[rank], strides[rank].
std::vector<int64_t> descriptor(const attn_tensor &t) {
  std::vector<int64_t> words;
  words.push_back(reinterpret_cast<int64_t>(t.data));
  words.push_back(reinterpret_cast<int64_t>(t.data));
  words.push_back(0);
  for (int32_t i = 0; i < t.rank; ++i)
    words.push_back(t.shape[i]);
  for (int32_t i = 0; i < t.rank; ++i)
    words.push_back(t.strides[i]);
  return words;
}

/// Calls `fn(args[0], ..., args[N-1], item)`.
template <size_t... I>
void callWith(void *fn, void *const *args, int64_t item,
              std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<void *>(nullptr))...,
                      int64_t);
  reinterpret_cast<Fn>(fn)(args[I]..., item);
}

template <size_t N>
void callN(void *fn, void *const *args, int64_t item) {
  callWith(fn, args, item, std::make_index_sequence<N>{});
}

using Caller = void (*)(void *, void *const *, int64_t);
template <size_t... N>
constexpr auto makeCallers(std::index_sequence<N...>) {
  return std::array<Caller, sizeof...(N)>{&callN<N>...};
}
// q, k, v, 15 optional operands, out, lse: at most 20 parameters.
constexpr auto kCallers = makeCallers(std::make_index_sequence<21>{});

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

/// The mask model of a manifest (written by lib/Target/Manifest.cpp).
bool parseMask(const json &j, mask::Node &node, std::string &error) {
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
    if (!parseMask(child, node.children.back(), error))
      return false;
  }
  return true;
}

/// An IntView of an int32 argument, or an empty one when absent.
mask::IntView intView(const std::map<std::string, attn_tensor> &args,
                      const char *name) {
  mask::IntView v;
  auto it = args.find(name);
  if (it == args.end())
    return v;
  const attn_tensor &t = it->second;
  v.data = static_cast<const int32_t *>(t.data);
  v.shape.assign(t.shape, t.shape + t.rank);
  v.strides.assign(t.strides, t.strides + t.rank);
  return v;
}

} // namespace

std::unique_ptr<CPUKernel> CPUKernel::load(const std::string &libraryPath,
                                           const std::string &manifestJson,
                                           std::string &error) {
  json m = json::parse(manifestJson, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object()) {
    error = "the manifest is not valid JSON";
    return nullptr;
  }
  std::unique_ptr<CPUKernel> kernel(new CPUKernel());
  try {
    // Format 3 names the tile's units and counts the work items; older
    // manifests come from compilers whose kernels this runtime does not
    // call.
    if (int format = m.value("format", 0); format != 3) {
      error = "the manifest has format " + std::to_string(format) +
              ", expected 3; recompile the kernel with this version of Attn";
      return nullptr;
    }
    if (m.value("target", "") != "cpu") {
      error = "the manifest is for target '" + m.value("target", "") +
              "', not cpu";
      return nullptr;
    }
    kernel->kernelName = m.at("name").get<std::string>();
    kernel->layout = m.at("layout").get<std::string>();
    kernel->numQHeads = m.at("heads").at("q").get<int64_t>();
    kernel->numKVHeads = m.at("heads").at("kv").get<int64_t>();
    kernel->headDimQK = m.at("head_dim").at("qk").get<int64_t>();
    kernel->headDimV = m.at("head_dim").at("v").get<int64_t>();
    kernel->kvStorage = m.value("kv_storage", "contiguous");
    if (kernel->kvStorage != "contiguous" && kernel->kvStorage != "paged" &&
        kernel->kvStorage != "ragged") {
      error = "the manifest has an unknown kv_storage '" + kernel->kvStorage +
              "'";
      return nullptr;
    }
    const json &tile = m.at("tile"), &work = m.at("work");
    kernel->blockQSize = tile.at("query_positions").get<int64_t>();
    kernel->blockKVSize = tile.at("keys").get<int64_t>();
    kernel->headGroup = tile.at("head_group").get<int64_t>();
    kernel->numHeadGroups = work.at("head_groups").get<int64_t>();
    kernel->numKVSplits = work.at("kv_splits").get<int64_t>();
    kernel->qTilesOfLongest =
        work.at("q_tiles").at("of").get<std::string>() == "longest_q_sequence";
    if (work.at("q_tiles").at("query_positions").get<int64_t>() !=
        kernel->blockQSize) {
      error = "the manifest is inconsistent: 'work.q_tiles.query_positions' "
              "differs from 'tile.query_positions'";
      return nullptr;
    }
    // The launch divides by these; a hand-edited manifest must not crash it.
    for (auto [name, value] :
         {std::pair<const char *, int64_t>{"heads.q", kernel->numQHeads},
          {"heads.kv", kernel->numKVHeads},
          {"head_dim.qk", kernel->headDimQK},
          {"head_dim.v", kernel->headDimV},
          {"tile.query_positions", kernel->blockQSize},
          {"tile.keys", kernel->blockKVSize},
          {"tile.head_group", kernel->headGroup},
          {"work.head_groups", kernel->numHeadGroups},
          {"work.kv_splits", kernel->numKVSplits}})
      if (value < 1) {
        error = std::string("the manifest is inconsistent: '") + name +
                "' must be positive, got " + std::to_string(value);
        return nullptr;
      }
    for (auto [name, divisor] :
         {std::pair<const char *, int64_t>{"tile.head_group",
                                           kernel->headGroup},
          {"heads.kv", kernel->numKVHeads}})
      if (kernel->numQHeads % divisor != 0) {
        error = "the manifest is inconsistent: 'heads.q' (" +
                std::to_string(kernel->numQHeads) +
                ") must be a multiple of '" + name + "' (" +
                std::to_string(divisor) + ")";
        return nullptr;
      }
    if (m.contains("checks")) {
      const json &checks = m["checks"];
      if (checks.contains("bias_axes"))
        kernel->biasAxes = checks["bias_axes"].get<std::vector<std::string>>();
      if (checks.contains("tile_table_mask")) {
        kernel->tableMask = std::make_unique<mask::Node>();
        if (!parseMask(checks["tile_table_mask"], *kernel->tableMask, error))
          return nullptr;
      }
      if (checks.contains("block_sparse")) {
        kernel->sparseBlockQ = checks["block_sparse"].at("block_q");
        kernel->sparseBlockKV = checks["block_sparse"].at("block_kv");
      }
    }
    for (const json &p : m.at("params")) {
      ParamSpec spec;
      spec.name = p.at("name").get<std::string>();
      if (!parseDtype(p.at("dtype").get<std::string>(), spec.dtype)) {
        error = "parameter '" + spec.name + "' has an unknown dtype";
        return nullptr;
      }
      spec.shape = p.at("shape").get<std::vector<int64_t>>();
      spec.innerContiguous = p.value("inner_contiguous", false);
      spec.internal = p.value("internal", false);
      if (spec.shape.size() > ATTN_MAX_RANK) {
        error = "parameter '" + spec.name + "' has too high a rank";
        return nullptr;
      }
      kernel->paramSpecs.push_back(spec);
    }
    if (kernel->paramSpecs.size() >= kCallers.size()) {
      error = "the kernel has too many parameters";
      return nullptr;
    }
    kernel->manifest = manifestJson;
    std::string entry = m.at("entry").get<std::string>();
    kernel->library = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!kernel->library) {
      const char *why = dlerror();
      error = "cannot load '" + libraryPath + "': " + (why ? why : "unknown");
      return nullptr;
    }
    kernel->entry = dlsym(kernel->library, entry.c_str());
    if (!kernel->entry) {
      error = "'" + libraryPath + "' has no symbol '" + entry + "'";
      return nullptr;
    }
  } catch (const json::exception &e) {
    error = std::string("the manifest is malformed: ") + e.what();
    return nullptr;
  }
  return kernel;
}

CPUKernel::~CPUKernel() {
  if (library)
    dlclose(library);
}

bool CPUKernel::validate(const std::map<std::string, attn_tensor> &args,
                         std::string &error) const {
  // Presence and the static parts of each parameter.
  for (const auto &[name, tensor] : args) {
    (void)tensor;
    if (std::none_of(paramSpecs.begin(), paramSpecs.end(),
                     [&](const ParamSpec &p) {
                       return p.name == name && !p.internal;
                     })) {
      std::string known;
      for (const ParamSpec &p : paramSpecs)
        if (!p.internal)
          known += (known.empty() ? "" : ", ") + p.name;
      error = "'" + name + "' is not a parameter of kernel '" + kernelName +
              "' (parameters: " + known + ")";
      return false;
    }
  }
  for (const ParamSpec &p : paramSpecs) {
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
                          ATTN_DEVICE_CPU) != ATTN_OK) {
      error = attn_last_error();
      return false;
    }
  }

  if (!checkNoOverlap(args, error))
    return false;
  if (kvStorage != "contiguous")
    return validateStorage(args, error);

  // Sizes that must agree between parameters.
  const attn_tensor &q = args.at("q"), &k = args.at("k"), &v = args.at("v");
  bool bhsd = layout == "bhsd";
  int seq = bhsd ? 2 : 1;
  Sizes sizes{q.shape[0], q.shape[seq], k.shape[seq]};
  auto mismatch = [&](const std::string &name, const attn_tensor &t,
                      const std::string &expected) {
    error = "operand '" + name + "' has shape " + shapeText(t) +
            ", expected " + expected;
    return false;
  };
  auto expectShape = [&](const std::string &name,
                         std::vector<int64_t> want) {
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
  if (!expectShape("k", layoutShape(sizes.batch, sizes.kvLen, numKVHeads,
                                    headDimQK)) ||
      !expectShape("v", layoutShape(sizes.batch, sizes.kvLen, numKVHeads,
                                    headDimV)) ||
      !expectShape("out", layoutShape(sizes.batch, sizes.qLen, numQHeads,
                                      headDimV)) ||
      !expectShape("lse", {sizes.batch, numQHeads, sizes.qLen}) ||
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

bool CPUKernel::checkBroadcastOperands(
    const std::map<std::string, attn_tensor> &args, const Sizes &sizes,
    std::string &error) const {
  // Axes that broadcast: each size 1 or the full size.
  auto broadcastable = [&](const std::string &name,
                           std::vector<int64_t> full) {
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
  for (const std::string &axis : biasAxes)
    biasFull.push_back(axis == "b"   ? sizes.batch
                       : axis == "h" ? numQHeads
                       : axis == "q" ? sizes.qLen
                                     : sizes.kvLen);
  int64_t numQBlocks = -1, numKVBlocks = -1;
  if (sparseBlockQ > 0) {
    numQBlocks = (sizes.qLen + sparseBlockQ - 1) / sparseBlockQ;
    numKVBlocks = (sizes.kvLen + sparseBlockKV - 1) / sparseBlockKV;
  }
  if (!broadcastable("bias", biasFull) ||
      !broadcastable("vertical", {sizes.batch, numQHeads}) ||
      !broadcastable("slash", {sizes.batch, numQHeads}) ||
      !broadcastable("kv_num_blocks", {sizes.batch, numQHeads, numQBlocks}) ||
      !broadcastable("kv_indices", {sizes.batch, numQHeads, numQBlocks}))
    return false;
  return true;
}

bool CPUKernel::checkValues(const std::map<std::string, attn_tensor> &args,
                            const Sizes &sizes, std::string &error) const {
  // Block-sparse: counts within the kv blocks, listed indices in range and
  // distinct, for every (batch, head) the kernel reads (broadcasting size-1
  // axes as it does).
  auto numBlocks = args.find("kv_num_blocks");
  auto indices = args.find("kv_indices");
  if (numBlocks != args.end() && indices != args.end()) {
    const attn_tensor &n = numBlocks->second, &idx = indices->second;
    int64_t numKVBlocks = (sizes.kvLen + sparseBlockKV - 1) / sparseBlockKV;
    int64_t numQBlocks = (sizes.qLen + sparseBlockQ - 1) / sparseBlockQ;
    for (auto [name, t] : {std::pair<const char *, const attn_tensor *>{
                               "kv_num_blocks", &n},
                           {"kv_indices", &idx}})
      if (t->shape[2] != numQBlocks) {
        error = std::string("operand '") + name + "' has " +
                std::to_string(t->shape[2]) + " q blocks in dimension 2, "
                "expected " + std::to_string(numQBlocks) + " (q_len " +
                std::to_string(sizes.qLen) + " in blocks of " +
                std::to_string(sparseBlockQ) + ")";
        return false;
      }
    int64_t width = idx.shape[3];
    std::vector<int64_t> seen(numKVBlocks, -1);
    int64_t row = 0;
    for (int64_t b = 0; b < sizes.batch; ++b)
      for (int64_t h = 0; h < numQHeads; ++h)
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
              error = "operand 'kv_indices' holds block " +
                      std::to_string(kb) + " at " + where(j) +
                      ", outside [0, " + std::to_string(numKVBlocks) + ")";
              return false;
            }
            if (seen[kb] == row) {
              error = "operand 'kv_indices' lists block " +
                      std::to_string(kb) + " twice at " + where(-1) +
                      "; a block is visible or not";
              return false;
            }
            seen[kb] = row;
          }
        }
  }
  // Vertical-slash: key indices within the keys, diagonal offsets >= 0.
  for (auto [name, bound] : {std::pair<const char *, int64_t>{"vertical",
                                                               sizes.kvLen},
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
                    std::to_string(value) + " at [" + std::to_string(b) +
                    ", " + std::to_string(h) + ", " + std::to_string(j) +
                    "], expected " +
                    (bound >= 0 ? "a key index in [0, " +
                                      std::to_string(bound) + ")"
                                : std::string("a non-negative diagonal "
                                              "offset"));
            return false;
          }
        }
  }
  // cu_seqlens of documents: non-decreasing, within [0, L] (ragged
  // storage's own cu_seqlens are checked by validateStorage).
  for (auto [name, len] : {std::pair<const char *, int64_t>{"cu_seqlens_q",
                                                             sizes.qLen},
                           {"cu_seqlens_kv", sizes.kvLen}}) {
    auto it = args.find(name);
    if (it == args.end() || kvStorage == "ragged")
      continue;
    const attn_tensor &t = it->second;
    for (int64_t b = 0; b < t.shape[0]; ++b)
      for (int64_t d = 0; d < t.shape[1]; ++d) {
        int32_t value = readInt(t, {b, d});
        int32_t prev = d ? readInt(t, {b, d - 1}) : 0;
        if (value < prev || value > len) {
          error = std::string("operand '") + name + "' must be non-decreasing "
                  "within [0, " + std::to_string(len) + "], got " +
                  std::to_string(value) + " at [" + std::to_string(b) + ", " +
                  std::to_string(d) + "]";
          return false;
        }
      }
  }
  return true;
}

bool CPUKernel::launch(const std::map<std::string, attn_tensor> &args,
                       ThreadPool &pool, std::string &error) const {
  if (!validate(args, error))
    return false;
  std::vector<int32_t> table;
  attn_tensor tableView{};
  if (tableMask)
    computeTileTable(args, pool, table, tableView);
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(paramSpecs.size());
  for (const ParamSpec &p : paramSpecs)
    descriptors.push_back(
        descriptor(p.internal ? tableView : args.at(p.name)));
  std::vector<void *> pointers;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  Caller call = kCallers[pointers.size()];
  void *fn = entry;
  pool.parallelFor(numItems(args), [&](int64_t item) {
    call(fn, pointers.data(), item);
  });
  return true;
}

bool CPUKernel::checkNoOverlap(const std::map<std::string, attn_tensor> &args,
                               std::string &error) const {
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

bool CPUKernel::validateStorage(const std::map<std::string, attn_tensor> &args,
                                std::string &error) const {
  const attn_tensor &q = args.at("q"), &k = args.at("k");
  bool bhsd = layout == "bhsd";
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
    error = "operand '" + name + "' has shape " + shapeText(t) +
            ", expected " + text + "]";
    return false;
  };
  auto has = [&](const char *name) { return args.count(name) != 0; };

  if (kvStorage == "paged") {
    // q, out, lse as contiguous; k, v: [pages, page_size, Hkv, D] (bshd) or
    // [pages, Hkv, page_size, D] (bhsd).
    int64_t B = q.shape[0], Lq = q.shape[bhsd ? 2 : 1];
    int64_t pages = k.shape[0], pageSize = k.shape[bhsd ? 2 : 1];
    auto layoutShape = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
      return bhsd ? std::vector<int64_t>{b, h, s, d}
                  : std::vector<int64_t>{b, s, h, d};
    };
    const attn_tensor &table = args.at("block_table");
    if (!expectShape("v", layoutShape(pages, pageSize, numKVHeads,
                                      headDimV)) ||
        !expectShape("out", layoutShape(B, Lq, numQHeads, headDimV)) ||
        (has("lse") && !expectShape("lse", {B, numQHeads, Lq})) ||
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
  if (!expectShape("v", {tokensKV, numKVHeads, headDimV}) ||
      !expectShape("out", {tokensQ, numQHeads, headDimV}) ||
      (has("lse") && !expectShape("lse", {numQHeads, tokensQ})) ||
      !expectShape("cu_seqlens_kv", {cuQ.shape[0]}))
    return false;
  for (auto [name, tokens] : {std::pair<const char *, int64_t>{
                                  "cu_seqlens_q", tokensQ},
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

bool CPUKernel::checkSequenceOperands(
    const std::map<std::string, attn_tensor> &args, int64_t batch,
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

CPUKernel::Sequences
CPUKernel::sequencesOf(const std::map<std::string, attn_tensor> &args) const {
  Sequences seqs;
  auto add = [&](int64_t q, int64_t kv, int64_t qStart, int64_t kvStart) {
    seqs.qLens.push_back(q);
    seqs.kvLens.push_back(kv);
    seqs.qStarts.push_back(qStart);
    seqs.kvStarts.push_back(kvStart);
    seqs.longestQ = std::max(seqs.longestQ, q);
    seqs.longestKV = std::max(seqs.longestKV, kv);
  };
  if (kvStorage == "paged") {
    const attn_tensor &q = args.at("q"), &seqlens = args.at("cache_seqlens");
    for (int64_t b = 0; b < q.shape[0]; ++b)
      add(q.shape[layout == "bhsd" ? 2 : 1], readInt(seqlens, {b}), 0, 0);
  } else if (kvStorage == "ragged") {
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

int64_t
CPUKernel::numItems(const std::map<std::string, attn_tensor> &args) const {
  // The manifest's grid: batch x head groups x q tiles x kv splits.
  auto tiles = [&](int64_t len) { return (len + blockQSize - 1) / blockQSize; };
  if (qTilesOfLongest) {
    // Items cover the longest sequence; shorter ones leave items idle.
    Sequences seqs = sequencesOf(args);
    return int64_t(seqs.qLens.size()) * numHeadGroups * tiles(seqs.longestQ) *
           numKVSplits;
  }
  const attn_tensor &q = args.at("q");
  return q.shape[0] * numHeadGroups * tiles(q.shape[layout == "bhsd" ? 2 : 1]) *
         numKVSplits;
}

void CPUKernel::computeTileTable(const std::map<std::string, attn_tensor> &args,
                                 ThreadPool &pool, std::vector<int32_t> &table,
                                 attn_tensor &view) const {
  const attn_tensor &q = args.at("q"), &k = args.at("k");
  int seq = layout == "bhsd" ? 2 : 1;
  mask::Data data;
  data.qLen = q.shape[seq];
  data.kvLen = k.shape[seq];
  // Paged and ragged storage: every sequence has its own lengths (and, for
  // ragged, its first packed tokens), so the table is per batch entry and
  // sized for the longest sequence.
  bool varlen = kvStorage != "contiguous";
  Sequences seqs;
  if (varlen) {
    seqs = sequencesOf(args);
    data.qLen = seqs.longestQ;
    data.kvLen = seqs.longestKV;
  }
  const std::vector<int64_t> &qLens = seqs.qLens, &kvLens = seqs.kvLens,
                             &qStarts = seqs.qStarts, &kvStarts = seqs.kvStarts;
  data.docQ = intView(args, "doc_q");
  data.docKV = intView(args, "doc_kv");
  data.cuSeqlensQ = intView(args, "cu_seqlens_q");
  data.cuSeqlensKV = intView(args, "cu_seqlens_kv");
  data.prefixLen = intView(args, "prefix_len");
  data.kvNumBlocks = intView(args, "kv_num_blocks");
  data.kvIndices = intView(args, "kv_indices");
  data.vertical = intView(args, "vertical");
  data.slash = intView(args, "slash");
  bool perBatch = mask::dependsOnBatch(*tableMask) || varlen;
  int64_t batches =
      perBatch ? (varlen ? int64_t(qLens.size()) : q.shape[0]) : 1;
  int64_t heads = mask::dependsOnHead(*tableMask) ? numQHeads : 1;
  int64_t qTiles = (data.qLen + blockQSize - 1) / blockQSize;
  int64_t kvTiles = (data.kvLen + blockKVSize - 1) / blockKVSize;
  // Masks that read no operand (dependsOnBatch covers every operand) give
  // the same table for the same lengths.
  std::pair<int64_t, int64_t> lengths{data.qLen, data.kvLen};
  bool cacheable = !perBatch;
  std::unique_lock<std::mutex> lock(tableCacheMutex, std::defer_lock);
  if (cacheable) {
    lock.lock();
    auto it = tableCache.find(lengths);
    if (it != tableCache.end())
      table = it->second;
  }
  if (table.empty()) {
  table.assign(batches * heads * qTiles * std::max<int64_t>(kvTiles, 1), 0);
  pool.parallelFor(batches * heads * qTiles, [&](int64_t row) {
    int64_t qt = row % qTiles, bh = row / qTiles;
    int64_t h = bh % heads, b = bh / heads;
    mask::Data seqData =
        varlen ? mask::sequenceData(data, qLens[b], kvLens[b], qStarts[b],
                                    kvStarts[b])
               : data;
    int64_t q0 = qt * blockQSize, q1 = std::min(q0 + blockQSize, seqData.qLen);
    for (int64_t kt = 0; kt < kvTiles; ++kt) {
      int64_t k0 = kt * blockKVSize;
      int64_t k1 = std::min(k0 + blockKVSize, seqData.kvLen);
      // Tiles past a shorter sequence's end stay empty.
      if (q0 < q1 && k0 < k1)
        table[row * kvTiles + kt] = static_cast<int32_t>(mask::classifyTile(
            *tableMask, seqData, b, h, q0, q1, k0, k1));
    }
  });
  if (cacheable) {
    // A few lengths are common; bound the memory for the rest.
    if (tableCache.size() >= 64)
      tableCache.clear();
    tableCache[lengths] = table;
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
}
