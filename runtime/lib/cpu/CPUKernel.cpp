//===- CPUKernel.cpp - Load and launch compiled CPU kernels ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CPUKernel.h"

#include <algorithm>
#include <array>
#include <dlfcn.h>
#include <new>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

using namespace attnrt;

namespace {

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

/// Calls `fn(args[0], ..., args[N-1], splits, item)`.
template <size_t... I>
void callWith(void *fn, void *const *args, int64_t splits, int64_t item,
              std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<void *>(nullptr))...,
                      int64_t, int64_t);
  reinterpret_cast<Fn>(fn)(args[I]..., splits, item);
}

template <size_t N>
void callN(void *fn, void *const *args, int64_t splits, int64_t item) {
  callWith(fn, args, splits, item, std::make_index_sequence<N>{});
}

using Caller = void (*)(void *, void *const *, int64_t, int64_t);
template <size_t... N> constexpr auto makeCallers(std::index_sequence<N...>) {
  return std::array<Caller, sizeof...(N)>{&callN<N>...};
}
// q, k, v, 15 optional operands, tile_kinds, out, lse, partial_out,
// partial_lse: at most 23 parameters.
constexpr auto kCallers = makeCallers(std::make_index_sequence<24>{});

/// A dense row-major f32 view of `shape` over `data`.
attn_tensor denseF32(float *data, std::initializer_list<int64_t> shape) {
  attn_tensor t{};
  t.data = data;
  t.dtype = ATTN_F32;
  t.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1, i = t.rank;
  for (auto it = std::rbegin(shape); it != std::rend(shape); ++it) {
    --i;
    t.shape[i] = *it;
    t.strides[i] = stride;
    stride *= *it;
  }
  t.device = ATTN_DEVICE_CPU;
  return t;
}

} // namespace

std::unique_ptr<CPUKernel> CPUKernel::load(const std::string &libraryPath,
                                           const std::string &bytes,
                                           Manifest manifest,
                                           std::string &error) {
  if (manifest.target != "cpu") {
    error = "the manifest is for target '" + manifest.target + "', not cpu";
    return nullptr;
  }
  if (manifest.params.size() >= kCallers.size()) {
    error = "the kernel has too many parameters";
    return nullptr;
  }
  std::string entry = manifest.entry, combine = manifest.combineEntry;
  std::unique_ptr<CPUKernel> kernel(new CPUKernel(std::move(manifest)));
  std::string path = libraryPath;
  if (path.empty()) {
    // Load from memory: an anonymous file holds the library for dlopen.
    kernel->memfd = memfd_create("attn-kernel", MFD_CLOEXEC);
    if (kernel->memfd < 0 || write(kernel->memfd, bytes.data(), bytes.size()) !=
                                 static_cast<ssize_t>(bytes.size())) {
      error = "cannot stage the kernel's library in memory for loading";
      return nullptr;
    }
    path = "/proc/self/fd/" + std::to_string(kernel->memfd);
  }
  kernel->library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!kernel->library) {
    const char *why = dlerror();
    error = "cannot load " +
            (libraryPath.empty() ? "the artifact" : "'" + path + "'") + ": " +
            (why ? why : "unknown");
    return nullptr;
  }
  for (auto [symbol, name] :
       {std::pair<void **, const std::string *>{&kernel->entry, &entry},
        {&kernel->combine, &combine}}) {
    if (name->empty())
      continue;
    *symbol = dlsym(kernel->library, name->c_str());
    if (!*symbol) {
      error = "the library has no symbol '" + *name + "'";
      return nullptr;
    }
  }
  return kernel;
}

CPUKernel::~CPUKernel() {
  if (library)
    dlclose(library);
  if (memfd >= 0)
    close(memfd);
}

bool CPUKernel::launch(const Args &args, const LaunchOptions &options,
                       std::string &error) {
  if (options.device != ATTN_DEVICE_CPU || options.deviceId != 0) {
    error = "kernel '" + name() +
            "' runs on the CPU (the host device, id "
            "0); it cannot launch on another device";
    return false;
  }
  if (options.stream) {
    error = "kernel '" + name() +
            "' runs on the CPU, which takes no "
            "stream; pass none";
    return false;
  }
  std::lock_guard<std::mutex> lock(launchMutex);
  if (!pool || poolThreads != options.numThreads) {
    pool = std::make_unique<ThreadPool>(options.numThreads);
    poolThreads = options.numThreads;
  }
  return launch(args, *pool, options.kvSplits, error);
}

int64_t CPUKernel::kvSplits(const Args &args,
                            const LaunchOptions &options) const {
  if (m.numKVSplits == 1)
    return 1;               // no partial rows, no combine
  if (options.kvSplits > 0) // forced by the caller: used as given
    return std::min<int64_t>(options.kvSplits, 256);
  // More chunks than kv tiles would only add empty ones.
  int64_t kvTiles = (longestKV(args) + m.blockKV - 1) / m.blockKV;
  if (m.numKVSplits)
    return std::max<int64_t>(1, std::min(m.numKVSplits, kvTiles));
  unsigned numThreads = resolveThreads(options.numThreads);
  // Per launch: split only when the work items leave threads idle, into
  // chunks of at least 4 kv tiles, aiming at two chunks per thread.
  int64_t items = numItems(args);
  if (items == 0 || items >= numThreads)
    return 1;
  int64_t wanted = (2 * int64_t(numThreads) + items - 1) / items;
  return std::max<int64_t>(1, std::min({wanted, kvTiles / 4, int64_t(64)}));
}

bool CPUKernel::launch(const Args &args, ThreadPool &pool, int64_t forcedSplits,
                       std::string &error) {
  if (!validate(args, error))
    return false;
  std::vector<int32_t> table;
  attn_tensor tableView{};
  if (m.tableMask && !computeTileTable(args, pool, table, tableView, error))
    return false;
  int64_t items = numItems(args);
  LaunchOptions options;
  options.numThreads = pool.numThreads();
  options.kvSplits = forcedSplits;
  int64_t splits = kvSplits(args, options);
  // A split launch gives each chunk its partial rows (the item's rows at
  // most: a tile's, or fewer for a short q); an unsplit one writes the
  // output directly and the partial buffers stay empty.
  int64_t rows = std::min(m.blockQ, longestQ(args)) * m.headGroup;
  int64_t partials = splits > 1 ? items * splits : 0;
  int64_t outFloats = 0, lseFloats = 0;
  if (__builtin_mul_overflow(partials, rows, &lseFloats) ||
      __builtin_mul_overflow(lseFloats, m.headDimV, &outFloats) ||
      outFloats > (int64_t(1) << 40)) {
    error = "kernel '" + name() +
            "': the split-KV partial rows of this "
            "launch (" +
            std::to_string(items) + " items x " + std::to_string(splits) +
            " chunks) do not fit in memory";
    return false;
  }
  bool hasLseRows =
      std::any_of(m.params.begin(), m.params.end(),
                  [](const ParamSpec &p) { return p.name == "partial_lse"; });
  if (!hasLseRows)
    lseFloats = 0;
  // Every chunk writes every row the combine reads, so the scratch is not
  // cleared; it grows to the largest launch and is reused.
  try {
    if (scratchSize < size_t(outFloats + lseFloats)) {
      scratch.reset(new float[outFloats + lseFloats]);
      scratchSize = size_t(outFloats + lseFloats);
    }
  } catch (const std::bad_alloc &) {
    error = "kernel '" + name() +
            "': out of memory for the split-KV "
            "partial rows (" +
            std::to_string(4 * (outFloats + lseFloats)) + " bytes)";
    return false;
  }
  static float none;
  float *base = outFloats ? scratch.get() : &none;
  attn_tensor outView = denseF32(base, {partials, rows, m.headDimV});
  attn_tensor lseView =
      denseF32(lseFloats ? base + outFloats : &none, {partials, rows});
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(m.params.size());
  for (const ParamSpec &p : m.params)
    descriptors.push_back(descriptor(p.name == "tile_kinds"    ? tableView
                                     : p.name == "partial_out" ? outView
                                     : p.name == "partial_lse"
                                         ? lseView
                                         : args.at(p.name)));
  std::vector<void *> pointers;
  for (auto &d : descriptors)
    pointers.push_back(d.data());
  Caller call = kCallers[pointers.size()];
  void *fn = entry;
  pool.parallelFor(items * splits, [&](int64_t item) {
    call(fn, pointers.data(), splits, item);
  });
  if (splits > 1) {
    void *merge = combine;
    pool.parallelFor(items, [&](int64_t item) {
      call(merge, pointers.data(), splits, item);
    });
  }
  return true;
}
