//===- attn-capi-fuzzer.cpp - Fuzz the C API's argument checks ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The fuzzer compiles a few CPU kernels once (masks with index operands,
// paged and ragged storage, GQA, lse), then each input picks one and makes
// its arguments from the bytes: sizes drawn from a small pool so that
// consistent geometries occur, dtypes, ranks, strides, devices and null
// pointers changed now and then, arguments dropped, repeated or misnamed,
// int32 operands filled with small values and a few wild ones. Whatever
// attn_kernel_validate accepts is launched: each buffer ends at a guard
// page, so a check that lets the (uninstrumented) kernel read or write past
// a buffer shows as a crash.
//
//===----------------------------------------------------------------------===//

#include "attn/Driver/Driver.h"
#include "attn/runtime/Manifest.h"
#include "attn/runtime/attn_runtime.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace mlir::attn;

namespace {

const char *const kSpecs[] = {
    "name: causal\ndtype: bf16\nhead_dim: 16\nheads: {q: 4, kv: 2}\n"
    "mask: causal\noutputs: [out, lse]\n",
    "name: paged\ndtype: f16\nhead_dim: 16\nheads: {q: 2, kv: 1}\n"
    "mask: causal\nkv_storage: {paged: {page_size: 16}}\n",
    "name: ragged\nhead_dim: 16\nheads: 2\nmask: causal\n"
    "kv_storage: ragged\noutputs: [out, lse]\n",
    "name: sparse\nhead_dim: 16\nheads: 2\n"
    "mask: {block_sparse: {block: [16, 16]}}\n",
    "name: vs\nhead_dim: 16\nheads: 2\nmask: vertical_slash\n",
    "name: docs\nhead_dim: 16\nheads: 2\nmask: [causal, document]\n",
    "name: bias\nhead_dim: 16\nheads: 2\nlayout: bhsd\n"
    "score: [{bias: {broadcast: [h, q, k]}}]\n",
    "name: alibi\ndtype: f16\nhead_dim: 16\nheads: 2\nmask: causal\n"
    "score: [{alibi: {slopes: operand}}]\n",
};

struct LoadedKernel {
  attn_kernel *kernel = nullptr;
  attnrt::Manifest manifest;
};

/// The kernels, loaded once and freed at exit.
struct Kernels : std::vector<LoadedKernel> {
  ~Kernels() {
    for (LoadedKernel &loaded : *this)
      attn_kernel_free(loaded.kernel);
  }
};

Kernels &kernels() {
  static Kernels loaded;
  return loaded;
}

/// The input's bytes, read front to back; zeros once they run out.
class Bytes {
public:
  Bytes(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint8_t next() { return at < size ? data[at++] : 0; }
  /// An int in [0, n).
  int pick(int n) { return next() % n; }
  bool chance(int inN) { return pick(inN) == 0; }

private:
  const uint8_t *data;
  size_t size, at = 0;
};

/// A buffer of `bytes` that ends at an inaccessible page.
class GuardedBuffer {
public:
  explicit GuardedBuffer(size_t bytes) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t dataPages = (bytes + page - 1) / page;
    length = (dataPages + 1) * page;
    void *map = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
      perror("mmap");
      abort();
    }
    base = static_cast<char *>(map);
    mprotect(base + dataPages * page, page, PROT_NONE);
    data = base + dataPages * page - bytes;
  }
  ~GuardedBuffer() { munmap(base, length); }
  char *data;

private:
  char *base;
  size_t length;
};

size_t elementBytes(attn_dtype dtype) {
  return dtype == ATTN_F32 || dtype == ATTN_I32 ? 4 : 2;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  for (const char *spec : kSpecs) {
    SpecCompiler compiler(llvm::errs());
    if (failed(compiler.import(
            llvm::MemoryBuffer::getMemBufferCopy(spec, "capi-fuzzer.yaml"))))
      abort();
    TargetOptions target;
    target.tiling = defaultTilingFor("cpu");
    llvm::Expected<Artifact> artifact =
        compiler.compile(EmitKind::SharedLibrary, target);
    if (!artifact) {
      llvm::errs() << llvm::toString(artifact.takeError()) << "\n";
      abort();
    }
    LoadedKernel loaded;
    if (attn_kernel_load_bytes(artifact->bytes.data(), artifact->bytes.size(),
                               artifact->manifest.c_str(),
                               &loaded.kernel) != ATTN_OK) {
      fprintf(stderr, "%s\n", attn_last_error());
      abort();
    }
    std::string error;
    if (!attnrt::parseManifest(artifact->manifest, loaded.manifest, error))
      abort();
    kernels().push_back(std::move(loaded));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (kernels().empty())
    LLVMFuzzerInitialize(nullptr, nullptr);
  Bytes bytes(data, size);
  const LoadedKernel &loaded = kernels()[bytes.pick(kernels().size())];
  // Sizes the run-time dimensions are drawn from: batch, q_len, kv_len and
  // a few others, so that consistent geometries are likely.
  int64_t pool[] = {1 + bytes.pick(3),
                    bytes.pick(40),
                    bytes.pick(40),
                    bytes.pick(70),
                    1,
                    0,
                    16};
  std::vector<std::unique_ptr<GuardedBuffer>> buffers;
  std::vector<std::string> names;
  std::vector<attn_arg> args;
  names.reserve(loaded.manifest.params.size() + 1);
  for (const attnrt::ParamSpec &param : loaded.manifest.params) {
    if (param.internal)
      continue;
    if (bytes.chance(32)) // dropped
      continue;
    names.push_back(bytes.chance(64) ? param.name + "_" : param.name);
    attn_arg arg = {};
    attn_tensor &tensor = arg.tensor;
    tensor.dtype = bytes.chance(16) ? static_cast<attn_dtype>(bytes.pick(6) - 1)
                                    : param.dtype;
    tensor.device = bytes.chance(32)
                        ? static_cast<attn_device_kind>(bytes.pick(5) - 1)
                        : ATTN_DEVICE_CPU;
    tensor.device_id = bytes.chance(32) ? 1 : 0;
    int rank = static_cast<int>(param.shape.size());
    if (bytes.chance(32))
      rank = bytes.pick(ATTN_MAX_RANK + 2) - 1;
    tensor.rank = rank;
    if (rank < 0 || rank > ATTN_MAX_RANK)
      rank = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t fixed = d < static_cast<int>(param.shape.size()) ? param.shape[d]
                                                               : int64_t(-1);
      tensor.shape[d] = fixed >= 0 && !bytes.chance(32)
                            ? fixed
                            : pool[bytes.pick(std::size(pool))];
      if (bytes.chance(128))
        tensor.shape[d] = bytes.chance(2) ? -1 : (int64_t(1) << 62);
    }
    // Row-major strides, now and then padded, broadcast or negative.
    int64_t dense = 1;
    for (int d = rank - 1; d >= 0; --d) {
      tensor.strides[d] = dense;
      int choice = bytes.pick(64);
      if (choice == 0)
        tensor.strides[d] = 0;
      else if (choice == 1)
        tensor.strides[d] = -1;
      else if (choice == 2)
        tensor.strides[d] += 1;
      int64_t extent = tensor.shape[d] > 0 ? tensor.shape[d] : 1;
      if (extent > (int64_t(1) << 20))
        return 0; // too large to be interesting
      dense = tensor.strides[d] > 0 ? tensor.strides[d] * extent : dense;
      if (dense > (int64_t(1) << 20))
        return 0;
    }
    // The elements the view spans, [lowest, highest] offset from `data`
    // (negative strides reach below it).
    int64_t lowest = 0, highest = 0;
    for (int d = 0; d < rank; ++d)
      if (tensor.shape[d] > 0)
        (tensor.strides[d] < 0 ? lowest : highest) +=
            (tensor.shape[d] - 1) * tensor.strides[d];
    int64_t elements = highest - lowest + 1;
    if (elements > (int64_t(1) << 21))
      return 0;
    if (!bytes.chance(64)) {
      size_t width =
          elementBytes(tensor.dtype == ATTN_I32 ? ATTN_I32 : tensor.dtype);
      buffers.push_back(std::make_unique<GuardedBuffer>(elements * width));
      char *start = buffers.back()->data;
      tensor.data = start - lowest * static_cast<int64_t>(width);
      if (tensor.dtype == ATTN_I32) {
        auto *values = reinterpret_cast<int32_t *>(start);
        for (int64_t i = 0; i < elements; ++i)
          values[i] = bytes.chance(64)
                          ? static_cast<int32_t>(0x80000000u >> bytes.pick(32))
                          : bytes.pick(48) - 2;
      } else {
        memset(start, 0, elements * width);
      }
    }
    args.push_back(arg);
  }
  for (size_t i = 0; i < args.size(); ++i)
    args[i].name = names[i].c_str();
  if (!args.empty() && bytes.chance(32))
    args.push_back(args[bytes.pick(args.size())]); // repeated
  int32_t numArgs = static_cast<int32_t>(args.size());
  if (bytes.chance(64))
    numArgs = -1;
  const attn_arg *argPtr = bytes.chance(128) ? nullptr : args.data();
  if (attn_kernel_validate(loaded.kernel, argPtr, numArgs) != ATTN_OK)
    return 0;
  attn_launch_options options = {};
  options.num_threads = 1;
  (void)attn_kernel_launch(loaded.kernel, argPtr, numArgs, &options);
  return 0;
}
