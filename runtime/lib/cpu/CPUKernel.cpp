//===- CPUKernel.cpp - Load and launch compiled CPU kernels ---------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CPUKernel.h"

#include <array>
#include <dlfcn.h>
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

} // namespace

std::unique_ptr<CPUKernel> CPUKernel::load(const std::string &libraryPath,
                                           const std::string &bytes,
                                           Manifest manifest,
                                           std::string &error) {
  if (manifest.target != "cpu") {
    error = "the manifest is for target '" + manifest.target + "', not cpu";
    return nullptr;
  }
  if (manifest.numKVSplits != 1) {
    error = "the manifest splits the kv range (work.kv_splits = " +
            std::to_string(manifest.numKVSplits) +
            "), which the CPU launch does not do";
    return nullptr;
  }
  if (manifest.params.size() >= kCallers.size()) {
    error = "the kernel has too many parameters";
    return nullptr;
  }
  std::string entry = manifest.entry;
  std::unique_ptr<CPUKernel> kernel(new CPUKernel(std::move(manifest)));
  std::string path = libraryPath;
  if (path.empty()) {
    // Load from memory: an anonymous file holds the library for dlopen.
    kernel->memfd = memfd_create("attn-kernel", MFD_CLOEXEC);
    if (kernel->memfd < 0 ||
        write(kernel->memfd, bytes.data(), bytes.size()) !=
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
  kernel->entry = dlsym(kernel->library, entry.c_str());
  if (!kernel->entry) {
    error = "the library has no symbol '" + entry + "'";
    return nullptr;
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
    error = "kernel '" + name() + "' runs on the CPU (the host device, id "
            "0); it cannot launch on another device";
    return false;
  }
  if (options.stream) {
    error = "kernel '" + name() + "' runs on the CPU, which takes no "
            "stream; pass none";
    return false;
  }
  std::lock_guard<std::mutex> lock(launchMutex);
  if (!pool || poolThreads != options.numThreads) {
    pool = std::make_unique<ThreadPool>(options.numThreads);
    poolThreads = options.numThreads;
  }
  return launch(args, *pool, error);
}

bool CPUKernel::launch(const Args &args, ThreadPool &pool,
                       std::string &error) {
  if (!validate(args, error))
    return false;
  std::vector<int32_t> table;
  attn_tensor tableView{};
  if (m.tableMask)
    computeTileTable(args, pool, table, tableView);
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(m.params.size());
  for (const ParamSpec &p : m.params)
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

