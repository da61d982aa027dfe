//===- attn-gpu-check.cpp - Run and check a compiled CUDA kernel ----------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-gpu-check --kernel DIR [--device N] [--bench R] [--split-kv N]
//                [--write-out]
// attn-gpu-check --kernel DIR --random batch=B,q_len=S[,kv_len=S2]
//                [--device N] [--bench R] [--split-kv N]
//
// DIR holds a CUDA kernel (kernel.ptx, or kernel.cubin, and its manifest
// kernel.json) and what `attn-run --save DIR` writes: every input and
// operand as .npy, the float64 reference_out.npy (and reference_lse.npy
// when the spec has lse) and tolerance.txt. The tool uploads the inputs
// and operands to the GPU, allocates out (and lse) there, launches the
// kernel through the runtime, and compares out (and lse) with the
// reference as attn-run --check does: it prints
// `max_rel_err=E tolerance=T PASS|FAIL` and exits with 1 on FAIL. With
// --bench R it then times R launches on a stream (CUDA events) and prints
// their mean. --write-out writes what the kernel computed as
// gpu_out.npy (and gpu_lse.npy) into DIR. --split-kv N (1 to 256) makes
// every launch of a kernel that can split its kv range use N chunks
// instead of the runtime's choice; the `ran ...` line prints the count
// the launch used (kv_splits=N).
//
// With --random the tool checks nothing and needs no reference: it
// allocates q, k, v, out (and lse) on the GPU in the manifest's shapes,
// the dynamic sizes taken from batch, q_len and kv_len (kv_len defaults to
// q_len; with paged storage k and v hold enough pages for batch sequences
// of kv_len keys and for every page block_table names), fills q, k and v
// with uniform(-1, 1) values of their dtype and reads every other operand
// (doc_q, block_table, cache_seqlens, ...) from DIR/<name>.npy. It launches
// once and, with --bench R, times R launches: a speed run on sizes too
// large to save.
//
// The tool needs only the runtime: no LLVM, and no CUDA to build.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Compare.h"
#include "attn/runtime/Kernel.h"
#include "attn/runtime/Npy.h"
#include "attn/runtime/Tensor.h"
#include "cuda/CUDADriver.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace attnrt;
using namespace attnrt::cuda;

namespace {

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

bool readFile(const std::string &path, std::string &bytes) {
  // Only regular files: a directory would fail the stream, a FIFO block.
  struct stat status;
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode))
    return false;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  bytes.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  return true;
}

bool exists(const std::string &path) {
  struct stat status;
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode);
}

//===----------------------------------------------------------------------===//
// Host <-> device values
//===----------------------------------------------------------------------===//

size_t elementBytes(attn_dtype dtype) {
  return dtype == ATTN_F16 || dtype == ATTN_BF16 ? 2 : 4;
}

/// The bytes of `values` in `dtype` (floats rounded to nearest even, as
/// attn-run rounds its inputs; integers must be int32 values).
bool encode(const std::vector<double> &values, attn_dtype dtype,
            const std::string &name, std::vector<char> &bytes,
            std::string &error) {
  bytes.resize(values.size() * elementBytes(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    char *p = bytes.data() + i * elementBytes(dtype);
    double x = values[i];
    switch (dtype) {
    case ATTN_F32: {
      float f = static_cast<float>(x);
      std::memcpy(p, &f, 4);
      break;
    }
    case ATTN_F16: {
      uint16_t h = attnrt::floatToF16(static_cast<float>(x));
      std::memcpy(p, &h, 2);
      break;
    }
    case ATTN_BF16: {
      uint16_t h = attnrt::floatToBF16(static_cast<float>(x));
      std::memcpy(p, &h, 2);
      break;
    }
    case ATTN_I32: {
      if (!(x >= -2147483648.0 && x <= 2147483647.0) || x != std::trunc(x)) {
        error = "'" + name + ".npy' element " + std::to_string(i) + " (" +
                std::to_string(x) + ") is not an int32 value";
        return false;
      }
      int32_t v = static_cast<int32_t>(x);
      std::memcpy(p, &v, 4);
      break;
    }
    case ATTN_DTYPE_FORCE_INT32: // manifests hold none
      break;
    }
  }
  return true;
}

std::vector<double> decode(const std::vector<char> &bytes, attn_dtype dtype) {
  size_t n = bytes.size() / elementBytes(dtype);
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) {
    const char *p = bytes.data() + i * elementBytes(dtype);
    switch (dtype) {
    case ATTN_F32: {
      float f;
      std::memcpy(&f, p, 4);
      values[i] = f;
      break;
    }
    case ATTN_F16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      values[i] = attnrt::f16ToFloat(h);
      break;
    }
    case ATTN_BF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      values[i] = attnrt::bf16ToFloat(h);
      break;
    }
    case ATTN_I32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      values[i] = v;
      break;
    }
    case ATTN_DTYPE_FORCE_INT32: // manifests hold none
      break;
    }
  }
  return values;
}

//===----------------------------------------------------------------------===//
// The run
//===----------------------------------------------------------------------===//

int fail(const std::string &message) {
  std::fprintf(stderr, "attn-gpu-check: error: %s\n", message.c_str());
  return 1;
}

/// A device buffer of the tool's, freed at the end.
struct Buffer {
  const Driver *api = nullptr;
  CUdeviceptr pointer = 0;
  size_t bytes = 0;
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() {
    if (pointer)
      api->cuMemFree(pointer);
  }
};

/// The sizes of a --random run.
struct RandomSizes {
  int64_t batch = 0, qLen = 0, kvLen = -1; ///< kvLen -1: q_len's
};

struct Options {
  std::string dir;
  int device = 0;
  int bench = 0;
  int splitKV = 0; ///< 0: the runtime's choice
  bool writeOut = false;
  bool random = false;
  RandomSizes sizes;
};

const char kUsage[] =
    "usage: attn-gpu-check --kernel DIR [--device N] [--bench R] "
    "[--split-kv N]\n"
    "                      [--write-out]\n"
    "       attn-gpu-check --kernel DIR --random batch=B,q_len=S[,kv_len=S2]\n"
    "                      [--device N] [--bench R] [--split-kv N]\n"
    "\n"
    "Runs the CUDA kernel in DIR (kernel.ptx or kernel.cubin, and "
    "kernel.json)\n"
    "on the inputs attn-run --save wrote there and compares out (and lse) "
    "with\n"
    "reference_out.npy (and reference_lse.npy) within tolerance.txt.\n"
    "\n"
    "  --kernel DIR   the directory\n"
    "  --device N     the CUDA device (default 0)\n"
    "  --bench R      then time R launches and print their mean in ms\n"
    "  --split-kv N   split each work item's kv range into N chunks (1 to\n"
    "                 256; the kernel must be able to split) instead of the\n"
    "                 runtime's choice\n"
    "  --write-out    write the kernel's out (and lse) as gpu_out.npy\n"
    "                 (gpu_lse.npy) into DIR\n"
    "  --random SIZES no check: random q, k, v of these sizes (kv_len\n"
    "                 defaults to q_len), the other operands from\n"
    "                 DIR/<name>.npy; for timing with --bench\n";

/// Parses `batch=B,q_len=S[,kv_len=S2]`; returns false and sets `error`.
bool parseSizes(const std::string &text, RandomSizes &sizes,
                std::string &error) {
  std::stringstream items(text);
  std::string item;
  std::map<std::string, int64_t *> fields = {{"batch", &sizes.batch},
                                             {"q_len", &sizes.qLen},
                                             {"kv_len", &sizes.kvLen}};
  std::map<std::string, bool> seen;
  while (std::getline(items, item, ',')) {
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    auto field = fields.find(key);
    if (eq == std::string::npos || field == fields.end()) {
      error = "--random expects batch=B,q_len=S[,kv_len=S2], got '" + item +
              "' in '" + text + "'";
      return false;
    }
    if (seen[key]) {
      error = "--random gives '" + key + "' twice in '" + text + "'";
      return false;
    }
    seen[key] = true;
    std::string value = item.substr(eq + 1);
    char *end = nullptr;
    long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end || parsed < 1 || parsed > (1ll << 40)) {
      error = "--random: " + key + " expects a positive integer, got '" +
              value + "'";
      return false;
    }
    *field->second = parsed;
  }
  if (!seen["batch"] || !seen["q_len"]) {
    error = "--random needs batch and q_len (batch=B,q_len=S[,kv_len=S2]), "
            "got '" +
            text + "'";
    return false;
  }
  if (!seen["kv_len"])
    sizes.kvLen = sizes.qLen;
  return true;
}

/// Parses the command line; returns false (after printing why) to exit.
bool parseOptions(int argc, char **argv, Options &options, int &status) {
  auto integer = [&](const std::string &flag, const std::string &text, int low,
                     int &value, long high = INT32_MAX) {
    char *end = nullptr;
    long parsed = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || parsed < low || parsed > high) {
      status =
          fail(flag + " expects an integer of at least " + std::to_string(low) +
               (high < INT32_MAX ? " and at most " + std::to_string(high)
                                 : std::string()) +
               ", got '" + text + "'");
      return false;
    }
    value = static_cast<int>(parsed);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      status = 0;
      return false;
    }
    if (arg == "--write-out") {
      options.writeOut = true;
      continue;
    }
    size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq);
    if (flag != "--kernel" && flag != "--device" && flag != "--bench" &&
        flag != "--split-kv" && flag != "--random") {
      status = fail("unknown argument '" + arg + "'\n" + kUsage);
      return false;
    }
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      status = fail(flag + " needs a value");
      return false;
    }
    if (flag == "--kernel")
      options.dir = value;
    else if (flag == "--device" && !integer(flag, value, 0, options.device))
      return false;
    else if (flag == "--bench" && !integer(flag, value, 1, options.bench))
      return false;
    else if (flag == "--split-kv" &&
             !integer(flag, value, 1, options.splitKV, 256))
      return false;
    else if (flag == "--random") {
      std::string error;
      if (!parseSizes(value, options.sizes, error)) {
        status = fail(error);
        return false;
      }
      options.random = true;
    }
  }
  if (options.dir.empty()) {
    status = fail(std::string("--kernel DIR is required\n") + kUsage);
    return false;
  }
  if (options.random && options.writeOut) {
    status = fail("--write-out needs a check run (it cannot be used with "
                  "--random)");
    return false;
  }
  return true;
}

/// The shape of q, k, v, out or lse for a --random run: the manifest's
/// shape with each dynamic size taken from `sizes` (and `pages`, the pages
/// of paged k and v). Returns false and sets `error` when a static size
/// disagrees or a size stays unknown.
bool randomShape(const Manifest &m, const ParamSpec &p,
                 const RandomSizes &sizes, int64_t pages,
                 std::vector<int64_t> &shape, std::string &error) {
  shape = p.shape;
  bool ok = true;
  auto set = [&](size_t axis, int64_t size, const char *what) {
    if (axis >= shape.size())
      return;
    if (shape[axis] < 0) {
      shape[axis] = size;
    } else if (shape[axis] != size && ok) {
      error = "parameter '" + p.name + "' has the static size " +
              std::to_string(shape[axis]) + " in dimension " +
              std::to_string(axis) + " (" + what + "), but --random gives " +
              std::to_string(size);
      ok = false;
    }
  };
  bool ragged = m.kvStorage == "ragged", paged = m.kvStorage == "paged";
  size_t seq = static_cast<size_t>(m.seqAxis());
  bool isKV = p.name == "k" || p.name == "v";
  int64_t len = isKV ? sizes.kvLen : sizes.qLen;
  const char *lenName = isKV ? "kv_len" : "q_len";
  if (p.name == "lse") {
    // [B, Hq, Lq]; ragged: [Hq, tokens_q].
    if (ragged) {
      set(1, sizes.batch * sizes.qLen, "the packed query tokens");
    } else {
      set(0, sizes.batch, "batch");
      set(2, sizes.qLen, "q_len");
    }
  } else if (ragged) {
    set(0, sizes.batch * len, "the packed tokens");
  } else if (paged && isKV) {
    set(0, pages, "the pages"); // the page size is static
  } else {
    set(0, sizes.batch, "batch");
    set(seq, len, lenName);
  }
  if (!ok)
    return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] < 0) {
      error = "cannot size dimension " + std::to_string(i) + " of '" + p.name +
              "' from --random";
      return false;
    }
  return true;
}

/// Fills `bytes` with uniform(-1, 1) values of `dtype`, element `first`
/// onwards of the stream of `seed` (a splitmix64 counter: any chunking
/// gives the same values).
void fillRandom(std::vector<char> &bytes, attn_dtype dtype, uint64_t seed,
                uint64_t first) {
  size_t width = elementBytes(dtype), n = bytes.size() / width;
  for (size_t i = 0; i < n; ++i) {
    uint64_t z = seed + (first + i + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    float x = static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
    char *p = bytes.data() + i * width;
    if (dtype == ATTN_BF16) {
      uint16_t h = attnrt::floatToBF16(x);
      std::memcpy(p, &h, 2);
    } else if (dtype == ATTN_F16) {
      uint16_t h = attnrt::floatToF16(x);
      std::memcpy(p, &h, 2);
    } else {
      std::memcpy(p, &x, 4);
    }
  }
}

int run(const Options &options) {
  const std::string &dir = options.dir;
  std::string error, manifestText;
  if (!readFile(dir + "/kernel.json", manifestText))
    return fail("cannot read '" + dir + "/kernel.json' (the manifest)");
  std::string artifact = dir + "/kernel.ptx";
  if (!exists(artifact) && exists(dir + "/kernel.cubin"))
    artifact = dir + "/kernel.cubin";
  if (!exists(artifact))
    return fail("'" + dir + "' has no kernel.ptx or kernel.cubin");
  std::unique_ptr<Kernel> kernel =
      loadKernel(artifact, "", manifestText, error);
  if (!kernel)
    return fail(error);
  if (kernel->device() != ATTN_DEVICE_CUDA)
    return fail("the manifest in '" + dir + "' is for target '" +
                kernel->manifest().target + "', not cuda");
  if (options.splitKV > 1 && kernel->manifest().numKVSplits == 1)
    return fail("--split-kv " + std::to_string(options.splitKV) + ": kernel '" +
                kernel->name() +
                "' cannot split its kv range (its manifest's "
                "'work.kv_splits' is 1); compile it with schedule.split_kv "
                "other than 1");

  // The kernel opened the driver; the tool uses it for its buffers, in the
  // device's primary context (the one the kernel launches in).
  const Driver *api = driver(error);
  if (!api)
    return fail(error);
  if (options.device >= api->numDevices)
    return fail("there is no CUDA device " + std::to_string(options.device) +
                " (this machine has " + std::to_string(api->numDevices) + ")");
  std::string at = "CUDA device " + std::to_string(options.device);
  CUdevice device = 0;
  CUcontext context = nullptr;
  char deviceName[256] = {};
  if (!api->check(api->cuDeviceGet(&device, options.device), "cuDeviceGet", at,
                  error) ||
      !api->check(
          api->cuDeviceGetName(deviceName, sizeof(deviceName) - 1, device),
          "cuDeviceGetName", at, error) ||
      !api->check(api->cuDevicePrimaryCtxRetain(&context, device),
                  "cuDevicePrimaryCtxRetain", at, error))
    return fail(error);
  struct Release {
    const Driver *api;
    CUdevice device;
    ~Release() { api->cuDevicePrimaryCtxRelease(device); }
  } release{api, device};
  ScopedContext current(*api, context);
  if (!api->check(current.result(), "cuCtxSetCurrent", at, error))
    return fail(error);

  // The tool's device buffers, by parameter name.
  std::map<std::string, std::unique_ptr<Buffer>> buffers;
  std::map<std::string, std::vector<int64_t>> shapes;
  Args args;
  auto allocate = [&](const std::string &name, size_t bytes) -> Buffer * {
    auto buffer = std::make_unique<Buffer>();
    buffer->api = api;
    buffer->bytes = bytes;
    if (bytes &&
        !api->check(api->cuMemAlloc(&buffer->pointer, bytes), "cuMemAlloc",
                    at + ": '" + name + "' (" + std::to_string(bytes) +
                        " bytes)",
                    error))
      return nullptr;
    Buffer *result = buffer.get();
    buffers[name] = std::move(buffer);
    return result;
  };
  // A dense row-major view of `buffer` of `shape` on the device.
  auto view = [&](const Buffer &buffer, attn_dtype dtype,
                  const std::vector<int64_t> &shape) {
    return denseView(reinterpret_cast<void *>(buffer.pointer), dtype, shape,
                     ATTN_DEVICE_CUDA, options.device);
  };
  // A zeroed output, and an uploaded operand, in `shape`.
  auto zeroed = [&](const ParamSpec &p, const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t size : shape)
      n *= size;
    size_t bytes = static_cast<size_t>(n) * elementBytes(p.dtype);
    Buffer *buffer = allocate(p.name, bytes);
    if (!buffer ||
        (bytes && !api->check(api->cuMemsetD8(buffer->pointer, 0, bytes),
                              "cuMemsetD8", at, error)))
      return false;
    shapes[p.name] = shape;
    args[p.name] = view(*buffer, p.dtype, shape);
    return true;
  };
  auto upload = [&](const ParamSpec &p, const NpyArray &array) {
    std::vector<char> bytes;
    if (!encode(array.values(), p.dtype, p.name, bytes, error))
      return false;
    Buffer *buffer = allocate(p.name, bytes.size());
    if (!buffer ||
        (!bytes.empty() &&
         !api->check(
             api->cuMemcpyHtoD(buffer->pointer, bytes.data(), bytes.size()),
             "cuMemcpyHtoD", at + ": '" + p.name + "'", error)))
      return false;
    shapes[p.name] = array.shape;
    args[p.name] = view(*buffer, p.dtype, array.shape);
    return true;
  };
  bool hasLse = false;
  attn_dtype outDtype = ATTN_F32, lseDtype = ATTN_F32, qDtype = ATTN_F32;
  if (options.random) {
    // Operands first (paged k and v hold every page block_table names),
    // then random q, k, v and zeroed outputs in the sizes asked for.
    auto isTensor = [](const std::string &name) {
      return name == "q" || name == "k" || name == "v" || name == "out" ||
             name == "lse";
    };
    const Manifest &m = kernel->manifest();
    int64_t pages = 0;
    for (const ParamSpec &p : kernel->params()) {
      if (p.internal || isTensor(p.name))
        continue;
      std::string path = dir + "/" + p.name + ".npy";
      if (!exists(path))
        return fail("kernel '" + kernel->name() + "' takes operand '" + p.name +
                    "': --random reads it from '" + path +
                    "', which does not exist");
      NpyArray array;
      if (!readNpy(path, array, error) || !upload(p, array))
        return fail(error);
      if (p.name == "block_table")
        for (double page : array.values())
          pages = std::max(pages, static_cast<int64_t>(page) + 1);
    }
    if (m.kvStorage == "paged") {
      // Enough pages for batch sequences of kv_len keys too.
      int64_t pageSize = 0;
      for (const ParamSpec &p : kernel->params())
        if (p.name == "k" && p.shape.size() > size_t(m.seqAxis()))
          pageSize = p.shape[m.seqAxis()];
      if (pageSize > 0)
        pages = std::max(pages,
                         options.sizes.batch *
                             ((options.sizes.kvLen + pageSize - 1) / pageSize));
    }
    uint64_t seed = 0x5eed;
    for (const ParamSpec &p : kernel->params()) {
      if (p.internal || !isTensor(p.name))
        continue;
      std::vector<int64_t> shape;
      if (!randomShape(m, p, options.sizes, pages, shape, error))
        return fail(error);
      if (p.name == "out" || p.name == "lse") {
        if (!zeroed(p, shape))
          return fail(error);
        continue;
      }
      // q, k, v: uniform(-1, 1), made on the host in chunks.
      int64_t n = 1;
      for (int64_t size : shape)
        n *= size;
      size_t width = elementBytes(p.dtype);
      Buffer *buffer = allocate(p.name, static_cast<size_t>(n) * width);
      if (!buffer)
        return fail(error);
      const int64_t chunk = int64_t(1) << 22;
      std::vector<char> bytes;
      seed += 0x9e3779b97f4a7c15ull;
      for (int64_t first = 0; first < n; first += chunk) {
        int64_t count = std::min(chunk, n - first);
        bytes.resize(static_cast<size_t>(count) * width);
        fillRandom(bytes, p.dtype, seed, static_cast<uint64_t>(first));
        if (!api->check(api->cuMemcpyHtoD(buffer->pointer + first * width,
                                          bytes.data(), bytes.size()),
                        "cuMemcpyHtoD", at + ": '" + p.name + "'", error))
          return fail(error);
      }
      shapes[p.name] = shape;
      args[p.name] = view(*buffer, p.dtype, shape);
    }
  } else {
    // Inputs and operands from their .npy files; out and lse on the device
    // in the reference's shapes, zeroed (ragged rows outside every sequence
    // stay untouched and are not compared).
    for (const ParamSpec &p : kernel->params()) {
      if (p.internal)
        continue;
      NpyArray array;
      if (p.name == "q")
        qDtype = p.dtype;
      if (p.name == "out" || p.name == "lse") {
        // The reference's shape (lse.npy's when no reference lse is saved).
        std::string reference = dir + "/reference_" + p.name + ".npy";
        std::string path = exists(reference) || p.name == "out"
                               ? reference
                               : dir + "/" + p.name + ".npy";
        if (!readNpy(path, array, error))
          return fail(error + (p.name == "out" ? " (attn-run --save writes the "
                                                 "reference)"
                                               : ""));
        if (p.name == "out") {
          outDtype = p.dtype;
        } else {
          lseDtype = p.dtype;
          hasLse = true;
        }
        if (!zeroed(p, array.shape))
          return fail(error);
        continue;
      }
      std::string path = dir + "/" + p.name + ".npy";
      if (!readNpy(path, array, error) || !upload(p, array))
        return fail(error);
    }
  }

  if (options.random) {
    std::string text;
    for (const auto &[name, shape] : shapes) {
      text += (text.empty() ? "" : ", ") + name + " [";
      for (size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
      text += "]";
    }
    std::printf("random inputs: %s\n", text.c_str());
  }

  LaunchOptions launch;
  launch.device = ATTN_DEVICE_CUDA;
  launch.deviceId = options.device;
  launch.kvSplits = options.splitKV;
  if (!kernel->launch(args, launch, error))
    return fail(error);
  std::printf("ran %s on CUDA device %d (%s) kv_splits=%lld\n",
              kernel->name().c_str(), options.device, deviceName,
              static_cast<long long>(kernel->kvSplits(args, launch)));

  // Out (and lse) back, against the reference (not in a --random run).
  int status = 0;
  if (!options.random) {
    auto readBack = [&](const std::string &name, attn_dtype dtype,
                        std::vector<double> &values) {
      const Buffer &buffer = *buffers.at(name);
      std::vector<char> bytes(buffer.bytes);
      if (!bytes.empty() &&
          !api->check(
              api->cuMemcpyDtoH(bytes.data(), buffer.pointer, bytes.size()),
              "cuMemcpyDtoH", at + ": '" + name + "'", error))
        return false;
      values = decode(bytes, dtype);
      return true;
    };
    std::vector<double> out, lse;
    if (!readBack("out", outDtype, out) ||
        (hasLse && !readBack("lse", lseDtype, lse)))
      return fail(error);
    if (options.writeOut) {
      // As <f4 values.
      auto write = [&](const std::string &name,
                       const std::vector<double> &values) {
        std::vector<float> single(values.begin(), values.end());
        return writeNpy(dir + "/gpu_" + name + ".npy", "<f4", shapes[name],
                        single.data(), single.size() * sizeof(float), error);
      };
      if (!write("out", out) || (hasLse && !write("lse", lse)))
        return fail(error);
    }
    NpyArray refOut, refLse;
    if (!readNpy(dir + "/reference_out.npy", refOut, error))
      return fail(error);
    bool mismatch = false;
    double err = relativeError(out, refOut.values(), mismatch);
    if (hasLse) {
      if (!readNpy(dir + "/reference_lse.npy", refLse, error))
        return fail(error);
      std::vector<double> want = refLse.values();
      if (want.size() != lse.size())
        return fail("reference_lse.npy holds " + std::to_string(want.size()) +
                    " values, lse " + std::to_string(lse.size()));
      err = std::max(err, relativeError(lse, want, mismatch));
    }
    // The tolerance: tolerance.txt's, else attn-run's default.
    double tolerance = qDtype == ATTN_F32 ? 1e-5 : 1e-2;
    std::string toleranceText;
    if (readFile(dir + "/tolerance.txt", toleranceText)) {
      char *end = nullptr;
      tolerance = std::strtod(toleranceText.c_str(), &end);
      while (end && *end && std::isspace(static_cast<unsigned char>(*end)))
        ++end;
      if (end == toleranceText.c_str() || (end && *end) || !(tolerance >= 0))
        return fail("'" + dir + "/tolerance.txt' does not hold one number");
    }
    bool ok = !mismatch && err <= tolerance;
    std::printf("max_rel_err=%e tolerance=%e %s\n", err, tolerance,
                ok ? "PASS" : "FAIL");
    if (mismatch)
      std::printf("error: NaN or a misplaced infinity in the output\n");
    status = ok ? 0 : 1;
  }

  if (options.bench) {
    // On a stream of the tool's, so that launches queue without waiting;
    // events around the timed ones, after warm-up launches.
    CUstream stream = nullptr;
    CUevent start = nullptr, stop = nullptr;
    if (!api->check(api->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
                    "cuStreamCreate", at, error) ||
        !api->check(api->cuEventCreate(&start, CU_EVENT_DEFAULT),
                    "cuEventCreate", at, error) ||
        !api->check(api->cuEventCreate(&stop, CU_EVENT_DEFAULT),
                    "cuEventCreate", at, error))
      return fail(error);
    struct Cleanup {
      const Driver *api;
      CUstream stream;
      CUevent start, stop;
      ~Cleanup() {
        api->cuEventDestroy(start);
        api->cuEventDestroy(stop);
        api->cuStreamDestroy(stream);
      }
    } cleanup{api, stream, start, stop};
    launch.stream = stream;
    for (int r = 0; r < 3; ++r)
      if (!kernel->launch(args, launch, error))
        return fail(error);
    float ms = 0;
    if (!api->check(api->cuStreamSynchronize(stream), "cuStreamSynchronize",
                    at + " (warm-up)", error) ||
        !api->check(api->cuEventRecord(start, stream), "cuEventRecord", at,
                    error))
      return fail(error);
    for (int r = 0; r < options.bench; ++r)
      if (!kernel->launch(args, launch, error))
        return fail(error);
    if (!api->check(api->cuEventRecord(stop, stream), "cuEventRecord", at,
                    error) ||
        !api->check(api->cuEventSynchronize(stop), "cuEventSynchronize",
                    at + " (the timed launches)", error) ||
        !api->check(api->cuEventElapsedTime(&ms, start, stop),
                    "cuEventElapsedTime", at, error))
      return fail(error);
    std::printf("mean_ms=%.4f (%d launches)\n", ms / options.bench,
                options.bench);
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  int status = 0;
  if (!parseOptions(argc, argv, options, status))
    return status;
  return run(options);
}
