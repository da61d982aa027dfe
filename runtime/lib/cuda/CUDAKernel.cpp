//===- CUDAKernel.cpp - Load and launch compiled CUDA kernels -------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CUDAKernel.h"
#include "CUDADriver.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <sys/stat.h>

using namespace attnrt;
using namespace attnrt::cuda;

/// What the runtime keeps per device: the retained primary context, the
/// module (loaded at the first launch) and the tile-table buffer.
struct CUDAKernel::Device {
  int32_t ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string name; ///< "NVIDIA H200"
  int major = 0, minor = 0;
  int maxSharedBytes = 0; ///< per block, opted in
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  /// The tile table on the device, what it holds, and an event recorded
  /// after the last launch that reads it (pending until waited for), on
  /// `tableStream`.
  CUdeviceptr table = 0;
  size_t tableBytes = 0;
  std::vector<int32_t> tableContents;
  CUevent tableDone = nullptr;
  bool tablePending = false;
  void *tableStream = nullptr;
};

/// The arguments as the host-side checks read them: the index operands
/// point to host copies, every other tensor is as given.
struct CUDAKernel::HostArgs {
  Args args;
  std::vector<std::vector<int32_t>> copies;
};

namespace {

const char *deviceKindName(attn_device_kind kind) {
  return kind == ATTN_DEVICE_CPU    ? "cpu"
         : kind == ATTN_DEVICE_CUDA ? "cuda"
                                    : "unknown";
}

/// A cubin (ELF) or a fatbin, which the driver takes as they are.
bool isBinaryImage(const std::string &image) {
  static const char elf[] = {0x7f, 'E', 'L', 'F'};
  static const unsigned char fatbin[] = {0x50, 0xed, 0x55, 0xba};
  return image.size() >= 4 && (std::memcmp(image.data(), elf, 4) == 0 ||
                               std::memcmp(image.data(), fatbin, 4) == 0);
}

/// The kernels (`.entry NAME`) a PTX text defines.
std::vector<std::string> ptxEntries(const std::string &ptx) {
  std::vector<std::string> names;
  for (size_t at = ptx.find(".entry"); at != std::string::npos;
       at = ptx.find(".entry", at + 6)) {
    size_t begin = at + 6;
    if (begin >= ptx.size() ||
        !std::isspace(static_cast<unsigned char>(ptx[begin])))
      continue;
    while (begin < ptx.size() &&
           std::isspace(static_cast<unsigned char>(ptx[begin])))
      ++begin;
    size_t end = begin;
    while (end < ptx.size() &&
           (std::isalnum(static_cast<unsigned char>(ptx[end])) ||
            ptx[end] == '_' || ptx[end] == '$' || ptx[end] == '.'))
      ++end;
    if (end > begin)
      names.push_back(ptx.substr(begin, end - begin));
  }
  return names;
}

/// Whether code compiled for `chip` ("sm_90a", "sm_100f", "sm_80") runs on
/// a device of compute capability major.minor: arch-specific code ("a")
/// only on its own chip, family code ("f") and cubins on later minor
/// versions of its major, PTX on every later chip (the driver compiles it).
/// An unrecognized chip name is left to the driver.
bool chipRuns(const std::string &chip, bool binary, int major, int minor) {
  if (chip.compare(0, 3, "sm_") != 0)
    return true;
  size_t end = 3;
  while (end < chip.size() &&
         std::isdigit(static_cast<unsigned char>(chip[end])))
    ++end;
  if (end - 3 < 2 || end - 3 > 4)
    return true;
  std::string suffix = chip.substr(end);
  if (!suffix.empty() && suffix != "a" && suffix != "f")
    return true;
  int number = std::stoi(chip.substr(3, end - 3));
  int chipMajor = number / 10, chipMinor = number % 10;
  if (suffix == "a")
    return major == chipMajor && minor == chipMinor;
  if (suffix == "f" || binary)
    return major == chipMajor && minor >= chipMinor;
  return major * 10 + minor >= number;
}

bool isEmpty(const attn_tensor &t) {
  for (int32_t i = 0; i < t.rank; ++i)
    if (t.shape[i] == 0)
      return true;
  return false;
}

} // namespace

CUDAKernel::CUDAKernel(Manifest manifest) : Kernel(std::move(manifest)) {}

std::string CUDAKernel::where(int32_t ordinal) const {
  return "kernel '" + m.name + "' on CUDA device " + std::to_string(ordinal);
}

size_t CUDAKernel::numKernelParams() const {
  size_t count = 1; // the kv chunks
  for (const ParamSpec &p : m.params)
    count += 3 + 2 * p.shape.size();
  return count;
}

int64_t CUDAKernel::kvSplits(const Args &, const LaunchOptions &) const {
  return 1;
}

std::unique_ptr<CUDAKernel> CUDAKernel::load(const std::string &artifactPath,
                                             const std::string &bytes,
                                             Manifest manifest,
                                             std::string &error) {
  std::string name = "CUDA kernel '" + manifest.name + "'";
  if (manifest.target != "cuda") {
    error = "the manifest is for target '" + manifest.target + "', not cuda";
    return nullptr;
  }
  // The launch passes one kv chunk and no partial rows; the combine of a
  // split kernel has no launch here yet.
  bool partials = std::any_of(
      manifest.params.begin(), manifest.params.end(), [](const ParamSpec &p) {
        return p.name == "partial_out" || p.name == "partial_lse";
      });
  if (manifest.numKVSplits != 1 || partials) {
    error = "cannot load " + name +
            ": split-KV kernels are not supported on the CUDA target yet "
            "(the manifest's 'work.kv_splits' is " +
            (manifest.numKVSplits ? std::to_string(manifest.numKVSplits)
                                  : std::string("\"per_launch\"")) +
            "); compile the spec with schedule.split_kv: 1";
    return nullptr;
  }
  for (const ParamSpec &p : manifest.params)
    if (p.name == "tile_kinds" && p.shape.size() != 4) {
      error = "cannot load " + name +
              ": the manifest's 'tile_kinds' has rank " +
              std::to_string(p.shape.size()) +
              ", expected 4 ([B|1, H|1, q tiles, kv tiles])";
      return nullptr;
    }

  std::unique_ptr<CUDAKernel> kernel(new CUDAKernel(std::move(manifest)));
  if (!artifactPath.empty()) {
    // Only regular files: a directory would fail the stream, a FIFO block.
    struct stat status;
    std::ifstream in;
    bool regular =
        ::stat(artifactPath.c_str(), &status) == 0 && S_ISREG(status.st_mode);
    if (regular)
      in.open(artifactPath, std::ios::binary);
    if (!regular || !in) {
      error = "cannot load " + name + ": cannot read '" + artifactPath + "'";
      return nullptr;
    }
    kernel->image.assign(std::istreambuf_iterator<char>(in),
                         std::istreambuf_iterator<char>());
  } else {
    kernel->image = bytes;
  }
  if (kernel->image.empty()) {
    error = "cannot load " + name + ": the artifact is empty";
    return nullptr;
  }
  kernel->binary = isBinaryImage(kernel->image);
  if (!kernel->binary) {
    // PTX text: the entry must be one of its kernels, and the driver reads
    // it up to a NUL.
    std::vector<std::string> entries = ptxEntries(kernel->image);
    if (entries.empty()) {
      error = "cannot load " + name +
              ": the artifact is neither PTX text (it defines no '.entry') "
              "nor a cubin or fatbin";
      return nullptr;
    }
    const std::string &entry = kernel->m.entry;
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) {
      std::string known;
      for (const std::string &e : entries)
        known += (known.empty() ? "" : ", ") + e;
      error = "cannot load " + name + ": the PTX has no kernel '" + entry +
              "' (the manifest's entry); it defines: " + known;
      return nullptr;
    }
    if (kernel->image.back() != '\0')
      kernel->image.push_back('\0');
  }
  kernel->api = cuda::driver(error);
  if (!kernel->api) {
    error = "cannot load " + name + ": " + error;
    return nullptr;
  }
  return kernel;
}

CUDAKernel::~CUDAKernel() {
  if (!api)
    return;
  for (auto &[ordinal, dev] : devices) {
    (void)ordinal;
    {
      ScopedContext current(*api, dev->context);
      // A launch may still read the table; the caller's tensors are the
      // caller's to keep alive.
      if (dev->tablePending)
        api->cuEventSynchronize(dev->tableDone);
      if (dev->tableDone)
        api->cuEventDestroy(dev->tableDone);
      if (dev->table)
        api->cuMemFree(dev->table);
      if (dev->module)
        api->cuModuleUnload(dev->module);
    }
    api->cuDevicePrimaryCtxRelease(dev->device);
  }
}

CUDAKernel::Device *CUDAKernel::deviceState(int32_t ordinal,
                                            std::string &error) const {
  std::lock_guard<std::mutex> lock(devicesMutex);
  auto it = devices.find(ordinal);
  if (it != devices.end())
    return it->second.get();
  if (ordinal < 0 || ordinal >= api->numDevices) {
    error = "kernel '" + m.name + "': there is no CUDA device " +
            std::to_string(ordinal) + " (this machine has " +
            std::to_string(api->numDevices) + ": 0 to " +
            std::to_string(api->numDevices - 1) + ")";
    return nullptr;
  }
  auto dev = std::make_unique<Device>();
  dev->ordinal = ordinal;
  std::string at = where(ordinal);
  char name[256] = {};
  if (!api->check(api->cuDeviceGet(&dev->device, ordinal), "cuDeviceGet", at,
                  error) ||
      !api->check(api->cuDeviceGetName(name, sizeof(name) - 1, dev->device),
                  "cuDeviceGetName", at, error) ||
      !api->check(api->cuDeviceGetAttribute(
                      &dev->major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                      dev->device),
                  "cuDeviceGetAttribute", at, error) ||
      !api->check(api->cuDeviceGetAttribute(
                      &dev->minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                      dev->device),
                  "cuDeviceGetAttribute", at, error) ||
      !api->check(api->cuDeviceGetAttribute(
                      &dev->maxSharedBytes,
                      CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                      dev->device),
                  "cuDeviceGetAttribute", at, error) ||
      !api->check(api->cuDevicePrimaryCtxRetain(&dev->context, dev->device),
                  "cuDevicePrimaryCtxRetain", at, error))
    return nullptr;
  dev->name = name;
  Device *result = dev.get();
  devices.emplace(ordinal, std::move(dev));
  return result;
}

bool CUDAKernel::loadModule(Device &dev, std::string &error) {
  if (dev.function)
    return true;
  std::string at = where(dev.ordinal);
  std::string deviceChip =
      "sm_" + std::to_string(dev.major) + std::to_string(dev.minor);
  if (!m.chip.empty() && !chipRuns(m.chip, binary, dev.major, dev.minor)) {
    error = "kernel '" + m.name + "' was compiled for " + m.chip +
            ", which CUDA device " + std::to_string(dev.ordinal) + " (" +
            dev.name + ", " + deviceChip + ") cannot run; compile it for " +
            deviceChip;
    return false;
  }
  if (m.sharedBytes > dev.maxSharedBytes) {
    error = "kernel '" + m.name + "' needs " + std::to_string(m.sharedBytes) +
            " bytes of shared memory per block, but CUDA device " +
            std::to_string(dev.ordinal) + " (" + dev.name + ") offers " +
            std::to_string(dev.maxSharedBytes);
    return false;
  }
  // The JIT's messages (PTX that does not assemble) go into the error.
  std::vector<char> log(16384, '\0');
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(
                                    static_cast<uintptr_t>(log.size() - 1))};
  CUmodule module = nullptr;
  CUresult result =
      api->cuModuleLoadDataEx(&module, image.data(), 2, options, values);
  if (!api->check(result, "cuModuleLoadDataEx", at, error)) {
    std::string text(log.data());
    while (!text.empty() &&
           std::isspace(static_cast<unsigned char>(text.back())))
      text.pop_back();
    if (!text.empty())
      error += "\n" + text;
    return false;
  }
  auto fail = [&](const std::string &message) {
    api->cuModuleUnload(module);
    error = message;
    return false;
  };
  CUfunction function = nullptr;
  result = api->cuModuleGetFunction(&function, module, m.entry.c_str());
  if (result == CUDA_ERROR_NOT_FOUND)
    return fail("kernel '" + m.name + "': the module has no kernel '" +
                m.entry + "' (the manifest's entry)");
  if (!api->check(result, "cuModuleGetFunction", at, error))
    return fail(error);
  // The parameters the compiled kernel takes must be the manifest's ABI:
  // 8-byte words, as many as the descriptors and the kv chunks make
  // (drivers from CUDA 12.4 tell). Only the expected ones are asked for,
  // so that a matching kernel raises no driver error (compute-sanitizer
  // reports every one): a kernel with more parameters goes unnoticed.
  size_t expected = numKernelParams();
  for (size_t i = 0; api->cuFuncGetParamInfo && i < expected; ++i) {
    size_t offset = 0, size = 0;
    result = api->cuFuncGetParamInfo(function, i, &offset, &size);
    if (result == CUDA_ERROR_INVALID_VALUE && i > 0)
      return fail("kernel '" + m.name + "': the compiled kernel takes " +
                  std::to_string(i) +
                  " parameters, but the manifest's parameters expand to " +
                  std::to_string(expected) +
                  " (a memref descriptor per tensor, then the kv chunks); "
                  "the artifact and its manifest do not match");
    if (result != CUDA_SUCCESS)
      break; // the driver cannot tell
    if (size != 8 || offset != 8 * i)
      return fail("kernel '" + m.name + "': parameter " + std::to_string(i) +
                  " of the compiled kernel has " + std::to_string(size) +
                  " bytes at offset " + std::to_string(offset) +
                  ", but the manifest's ABI passes 8-byte words (pointers "
                  "and int64 offsets, sizes and strides) one after the "
                  "other; the artifact and its manifest do not match");
  }
  // Without the opt-in, dynamic shared memory is limited to 48 KiB minus
  // the kernel's static shared memory (a kernel with exactly 48 KiB of
  // dynamic memory and one static byte fails to launch), so always opt in.
  if (m.sharedBytes > 0 &&
      !api->check(api->cuFuncSetAttribute(
                      function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                      static_cast<int>(m.sharedBytes)),
                  "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", at,
                  error))
    return fail(error);
  if (m.tableMask && !dev.tableDone &&
      !api->check(api->cuEventCreate(&dev.tableDone, CU_EVENT_DEFAULT),
                  "cuEventCreate", at, error))
    return fail(error);
  dev.module = module;
  dev.function = function;
  return true;
}

bool CUDAKernel::checkArgs(const Args &args, const Device &dev, void *stream,
                           HostArgs &host, std::string &error) const {
  // Where each tensor is: CUDA device memory of the launch's device. A
  // malformed tensor (rank) is left to Kernel's checks.
  for (const ParamSpec &p : m.params) {
    auto it = p.internal ? args.end() : args.find(p.name);
    if (it == args.end())
      continue;
    const attn_tensor &t = it->second;
    if (t.device != ATTN_DEVICE_CUDA) {
      error = "operand '" + p.name + "' is on the " + deviceKindName(t.device) +
              " device, expected cuda";
      return false;
    }
    if (t.device_id != dev.ordinal) {
      error = "operand '" + p.name + "' is on CUDA device " +
              std::to_string(t.device_id) + ", but the launch runs on " +
              "CUDA device " + std::to_string(dev.ordinal);
      return false;
    }
    if (t.rank < 0 || t.rank > ATTN_MAX_RANK || !t.data || isEmpty(t))
      continue;
    auto pointer = reinterpret_cast<CUdeviceptr>(t.data);
    unsigned type = 0;
    int ordinal = -1;
    CUresult result = api->cuPointerGetAttribute(
        &type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, pointer);
    if (result == CUDA_SUCCESS)
      result = api->cuPointerGetAttribute(
          &ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, pointer);
    if (result != CUDA_SUCCESS) {
      error = "operand '" + p.name +
              "' is not CUDA device memory (the driver does not know its "
              "pointer: cuPointerGetAttribute failed: " +
              api->describe(result) + ")";
      return false;
    }
    if (type == CU_MEMORYTYPE_HOST) {
      error = "operand '" + p.name +
              "' is host memory (pinned or registered with CUDA); the "
              "kernel takes CUDA device memory";
      return false;
    }
    if (ordinal != dev.ordinal) {
      error = "operand '" + p.name + "' is memory of CUDA device " +
              std::to_string(ordinal) + ", but the launch runs on CUDA " +
              "device " + std::to_string(dev.ordinal);
      return false;
    }
  }

  // The checks, the work count and the tile table read the index
  // operands' values: copy each one's span to the host, on the launch's
  // stream (the copy to pageable memory returns once done).
  host.args = args;
  for (const ParamSpec &p : m.params) {
    auto it =
        p.internal || p.dtype != ATTN_I32 ? args.end() : args.find(p.name);
    if (it == args.end())
      continue;
    const attn_tensor &t = it->second;
    if (t.dtype != ATTN_I32 || t.rank < 0 || t.rank > ATTN_MAX_RANK ||
        !t.data || isEmpty(t))
      continue;
    // The elements the view reaches: [lo, hi] around its first.
    int64_t lo = 0, hi = 0;
    bool overflow = false;
    for (int32_t i = 0; i < t.rank; ++i) {
      int64_t reach = 0;
      overflow |= __builtin_mul_overflow(t.shape[i] - 1, t.strides[i], &reach);
      overflow |= __builtin_add_overflow(reach < 0 ? lo : hi, reach,
                                         reach < 0 ? &lo : &hi);
    }
    int64_t count = 0;
    if (overflow || __builtin_sub_overflow(hi, lo, &count) ||
        count >= (int64_t(1) << 31)) {
      error = "operand '" + p.name +
              "' spans more than 2^31 elements; index operands must be "
              "smaller";
      return false;
    }
    count += 1;
    std::vector<int32_t> copy;
    try {
      copy.resize(static_cast<size_t>(count));
    } catch (const std::bad_alloc &) {
      error = "out of host memory for a copy of operand '" + p.name + "'";
      return false;
    }
    auto from = reinterpret_cast<CUdeviceptr>(t.data) +
                static_cast<CUdeviceptr>(lo * int64_t(sizeof(int32_t)));
    if (!api->check(api->cuMemcpyDtoHAsync(copy.data(), from,
                                           copy.size() * sizeof(int32_t),
                                           static_cast<CUstream>(stream)),
                    "cuMemcpyDtoHAsync",
                    where(dev.ordinal) + ": reading operand '" + p.name +
                        "' for the checks",
                    error))
      return false;
    host.copies.push_back(std::move(copy));
    host.args[p.name].data = host.copies.back().data() + (-lo);
  }
  // Kernel's checks on the copies; out and lse must not overlap the index
  // operands where they really are either.
  return Kernel::validate(host.args, error) && checkNoOverlap(args, error);
}

bool CUDAKernel::validate(const Args &args, std::string &error) const {
  // The device of the first operand on a CUDA device (checkArgs refuses
  // the others).
  int32_t ordinal = 0;
  for (const ParamSpec &p : m.params) {
    auto it = p.internal ? args.end() : args.find(p.name);
    if (it != args.end() && it->second.device == ATTN_DEVICE_CUDA) {
      ordinal = it->second.device_id;
      break;
    }
  }
  Device *dev = deviceState(ordinal, error);
  if (!dev)
    return false;
  ScopedContext current(*api, dev->context);
  if (!api->check(current.result(), "cuCtxSetCurrent", where(ordinal), error))
    return false;
  HostArgs host;
  return checkArgs(args, *dev, nullptr, host, error);
}

bool CUDAKernel::uploadTable(Device &dev, const std::vector<int32_t> &table,
                             void *stream, std::string &error) {
  std::string at = where(dev.ordinal);
  bool same = table == dev.tableContents;
  // The last launch may still read the buffer: wait for it before the
  // buffer changes, or before another stream reads it (its copy may not
  // have landed yet). On one stream, the stream orders them.
  if (dev.tablePending && (!same || stream != dev.tableStream)) {
    if (!api->check(api->cuEventSynchronize(dev.tableDone),
                    "cuEventSynchronize", at + " (the tile table)", error))
      return false;
    dev.tablePending = false;
  }
  if (same)
    return true;
  dev.tableContents.clear();
  size_t bytes = table.size() * sizeof(int32_t);
  if (bytes > dev.tableBytes) {
    if (dev.table)
      api->cuMemFree(dev.table);
    dev.table = 0;
    dev.tableBytes = 0;
    if (!api->check(api->cuMemAlloc(&dev.table, bytes), "cuMemAlloc",
                    at + " (the tile table, " + std::to_string(bytes) +
                        " bytes)",
                    error))
      return false;
    dev.tableBytes = bytes;
  }
  if (!api->check(api->cuMemcpyHtoDAsync(dev.table, table.data(), bytes,
                                         static_cast<CUstream>(stream)),
                  "cuMemcpyHtoDAsync", at + " (the tile table)", error))
    return false;
  dev.tableContents = table;
  return true;
}

bool CUDAKernel::launch(const Args &args, const LaunchOptions &options,
                        std::string &error) {
  if (options.device != ATTN_DEVICE_CUDA) {
    error = "kernel '" + m.name + "' runs on CUDA devices; it cannot launch " +
            "on the " + deviceKindName(options.device) + " device";
    return false;
  }
  std::lock_guard<std::mutex> lock(launchMutex);
  Device *dev = deviceState(options.deviceId, error);
  if (!dev)
    return false;
  std::string at = where(dev->ordinal);
  ScopedContext current(*api, dev->context);
  if (!api->check(current.result(), "cuCtxSetCurrent", at, error))
    return false;
  HostArgs host;
  if (!checkArgs(args, *dev, options.stream, host, error) ||
      !loadModule(*dev, error))
    return false;

  int64_t items = numItems(host.args);
  if (items == 0)
    return true; // no query rows: nothing to compute
  if (items > INT32_MAX) {
    error = at + ": this launch has " + std::to_string(items) +
            " work items, more than the 2^31 - 1 blocks of a CUDA grid; "
            "launch fewer or shorter sequences";
    return false;
  }
  attn_tensor tableView{};
  if (m.tableMask) {
    if (!pool || poolThreads != options.numThreads) {
      pool = std::make_unique<ThreadPool>(options.numThreads);
      poolThreads = options.numThreads;
    }
    std::vector<int32_t> table;
    if (!computeTileTable(host.args, *pool, table, tableView, error) ||
        !uploadTable(*dev, table, options.stream, error))
      return false;
    tableView.data = reinterpret_cast<void *>(dev->table);
  }

  // The parameters: per tensor its memref descriptor's fields, then the kv
  // chunks. Every field is an 8-byte word; the driver copies each from the
  // address in `params`.
  std::vector<int64_t> words;
  words.reserve(numKernelParams());
  for (const ParamSpec &p : m.params) {
    const attn_tensor *t = nullptr;
    if (p.name == "tile_kinds")
      t = &tableView;
    else if (!p.internal)
      t = &args.at(p.name);
    if (!t || static_cast<size_t>(t->rank) != p.shape.size()) {
      error = at + ": cannot pass parameter '" + p.name + "'";
      return false;
    }
    auto data = reinterpret_cast<int64_t>(t->data);
    words.push_back(data); // allocated
    words.push_back(data); // aligned
    words.push_back(0);    // offset
    words.insert(words.end(), t->shape, t->shape + t->rank);
    words.insert(words.end(), t->strides, t->strides + t->rank);
  }
  words.push_back(1); // kv chunks
  std::vector<void *> params;
  params.reserve(words.size());
  for (int64_t &word : words)
    params.push_back(&word);

  auto stream = static_cast<CUstream>(options.stream);
  if (!api->check(api->cuLaunchKernel(dev->function,
                                      static_cast<unsigned>(items), 1, 1,
                                      static_cast<unsigned>(m.blockDim[0]),
                                      static_cast<unsigned>(m.blockDim[1]),
                                      static_cast<unsigned>(m.blockDim[2]),
                                      static_cast<unsigned>(m.sharedBytes),
                                      stream, params.data(), nullptr),
                  "cuLaunchKernel",
                  at + " (grid " + std::to_string(items) + ", block " +
                      std::to_string(m.blockDim[0]) + "x" +
                      std::to_string(m.blockDim[1]) + "x" +
                      std::to_string(m.blockDim[2]) + ", " +
                      std::to_string(m.sharedBytes) + " bytes shared)",
                  error))
    return false;
  if (m.tableMask) {
    if (!api->check(api->cuEventRecord(dev->tableDone, stream), "cuEventRecord",
                    at + " (the tile table)", error))
      return false;
    dev->tablePending = true;
    dev->tableStream = options.stream;
  }
  // No stream: wait, so that a failing kernel fails this call.
  if (!stream) {
    if (!api->check(api->cuStreamSynchronize(nullptr), "cuStreamSynchronize",
                    at + ": the kernel failed while running", error))
      return false;
    dev->tablePending = false;
  }
  return true;
}
