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
/// module (loaded at the first launch), the tile-table buffer and the
/// split-KV partial rows.
struct CUDAKernel::Device {
  int32_t ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string name; ///< "NVIDIA H200"
  int major = 0, minor = 0;
  int maxSharedBytes = 0;  ///< per block, opted in
  int multiprocessors = 0; ///< SMs, for the per-launch split count
  /// Blocks of the kernel an SM holds at once (the driver's occupancy
  /// for its block and shared memory); 0 until the module is loaded.
  int blocksPerSM = 0;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  CUfunction combine = nullptr; ///< the combine of a split kernel
  /// The tile table on the device, what it holds, and an event recorded
  /// after the last launch that reads it (pending until waited for), on
  /// `tableStream`.
  CUdeviceptr table = 0;
  size_t tableBytes = 0;
  std::vector<int32_t> tableContents;
  CUevent tableDone = nullptr;
  bool tablePending = false;
  void *tableStream = nullptr;
  /// The partial rows of split launches (partial_out, then partial_lse at
  /// a 256-byte boundary), grown to the largest launch, and an event
  /// recorded after the last launch that uses them (pending until waited
  /// for), on `partialStream`.
  CUdeviceptr partials = 0;
  size_t partialBytes = 0;
  CUevent partialsDone = nullptr;
  bool partialsPending = false;
  void *partialStream = nullptr;
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

/// A dense row-major f32 view of `shape` at `data` on CUDA device
/// `ordinal`.
attn_tensor denseF32(CUdeviceptr data, std::initializer_list<int64_t> shape,
                     int32_t ordinal) {
  attn_tensor t{};
  t.data = reinterpret_cast<void *>(data);
  t.dtype = ATTN_F32;
  t.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  for (int32_t i = t.rank - 1; i >= 0; --i) {
    t.shape[i] = shape.begin()[i];
    t.strides[i] = stride;
    stride *= shape.begin()[i];
  }
  t.device = ATTN_DEVICE_CUDA;
  t.device_id = ordinal;
  return t;
}

/// The most kv chunks a launch uses (the compiler's kMaxKVSplits).
constexpr int64_t kMaxKVSplits = 256;

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

bool CUDAKernel::canSplit() const { return m.numKVSplits != 1; }

int64_t CUDAKernel::splitsFor(const Args &args, const LaunchOptions &options,
                              int64_t residentBlocks) const {
  if (!canSplit())
    return 1;               // no partial rows, no combine
  if (options.kvSplits > 0) // forced: used as given
    return std::min(options.kvSplits, kMaxKVSplits);
  // More chunks than the longest sequence has kv tiles would only add
  // empty ones.
  int64_t kvTiles = (longestKV(args) + m.blockKV - 1) / m.blockKV;
  if (m.numKVSplits > 0)
    return std::max<int64_t>(1, std::min(m.numKVSplits, kvTiles));
  // Per launch: split only when the work items do not fill the GPU (every
  // block it holds at once), into the most chunks that still run in one
  // wave: a second, partial wave would cost as much as the first.
  int64_t items = numItems(args);
  int64_t slots = std::max<int64_t>(residentBlocks, 1);
  if (items == 0 || items >= slots)
    return 1;
  return std::max<int64_t>(1, std::min({slots / items, kMaxKVSplits, kvTiles}));
}

int64_t CUDAKernel::residentBlocks(Device &dev) const {
  std::string error;
  if (!dev.blocksPerSM && loadModule(dev, error)) {
    // Asked once; a driver that cannot tell counts one block per SM.
    int blocks = 0;
    if (api->cuOccupancyMaxActiveBlocksPerMultiprocessor(
            &blocks, dev.function, static_cast<int>(m.blockDim[0]),
            static_cast<size_t>(m.sharedBytes)) != CUDA_SUCCESS)
      blocks = 1;
    dev.blocksPerSM = std::max(blocks, 1);
  }
  // A module that does not load fails the launch anyway.
  return int64_t(std::max(dev.blocksPerSM, 1)) * dev.multiprocessors;
}

int64_t CUDAKernel::kvSplits(const Args &args,
                             const LaunchOptions &options) const {
  if (!canSplit())
    return 1;
  if (options.kvSplits > 0)
    return std::min(options.kvSplits, kMaxKVSplits);
  std::string error;
  Device *dev = deviceState(options.deviceId, error);
  if (!dev)
    return 1; // the launch fails too
  std::lock_guard<std::mutex> lock(launchMutex);
  // The tensors are on the device: paged and ragged sequence lengths are
  // read from host copies, as the launch reads them.
  ScopedContext current(*api, dev->context);
  if (current.result() != CUDA_SUCCESS)
    return 1; // the launch fails too
  if (m.kvStorage == "contiguous")
    return splitsFor(args, options, residentBlocks(*dev));
  HostArgs host;
  if (!checkArgs(args, *dev, options.stream, host, error))
    return 1; // the launch fails too
  return splitsFor(host.args, options, residentBlocks(*dev));
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
  // The internal parameters are the runtime's to pass: their ranks, and
  // the partial rows' dtype and static sizes, must be what it passes.
  int64_t rows = manifest.blockQ * manifest.headGroup;
  for (const ParamSpec &p : manifest.params) {
    if (!p.internal)
      continue;
    bool partialOut = p.name == "partial_out";
    size_t rank = p.name == "tile_kinds" ? 4 : partialOut ? 3 : 2;
    const char *form = p.name == "tile_kinds" ? "[B|1, H|1, q tiles, kv tiles]"
                       : partialOut           ? "f32 [items x splits, rows, Dv]"
                                              : "f32 [items x splits, rows]";
    bool ok = p.shape.size() == rank;
    if (ok && p.name != "tile_kinds") {
      ok = p.dtype == ATTN_F32 && (p.shape[1] < 0 || p.shape[1] == rows) &&
           (!partialOut || p.shape[2] < 0 || p.shape[2] == manifest.headDimV);
    }
    if (!ok) {
      std::string shape;
      for (int64_t size : p.shape)
        shape += (shape.empty() ? "" : ", ") +
                 (size < 0 ? std::string("?") : std::to_string(size));
      error = "cannot load " + name + ": the manifest's '" + p.name +
              "' has the shape [" + shape + "], expected " + form +
              " (tile.rows " + std::to_string(rows) + ", head_dim.v " +
              std::to_string(manifest.headDimV) + ")";
      return nullptr;
    }
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
    for (auto [entry, field] : {std::pair<const std::string *, const char *>{
                                    &kernel->m.entry, "entry"},
                                {&kernel->m.combineEntry, "combine_entry"}}) {
      if (entry->empty() ||
          std::find(entries.begin(), entries.end(), *entry) != entries.end())
        continue;
      std::string known;
      for (const std::string &e : entries)
        known += (known.empty() ? "" : ", ") + e;
      error = "cannot load " + name + ": the PTX has no kernel '" + *entry +
              "' (the manifest's " + field + "); it defines: " + known;
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
      if (dev->partialsPending)
        api->cuEventSynchronize(dev->partialsDone);
      if (dev->partialsDone)
        api->cuEventDestroy(dev->partialsDone);
      if (dev->partials)
        api->cuMemFree(dev->partials);
      if (dev->module)
        api->cuModuleUnload(dev->module);
    }
    api->cuDevicePrimaryCtxRelease(dev->device);
  }
}

std::string attnrt::cudaDeviceChip(int ordinal, std::string &error) {
  const cuda::Driver *api = cuda::driver(error);
  if (!api)
    return "";
  if (ordinal < 0 || ordinal >= api->numDevices) {
    error = "there is no CUDA device " + std::to_string(ordinal) +
            " (this machine has " + std::to_string(api->numDevices) + ")";
    return "";
  }
  std::string at = "CUDA device " + std::to_string(ordinal);
  CUdevice device = 0;
  int major = 0, minor = 0;
  if (!api->check(api->cuDeviceGet(&device, ordinal), "cuDeviceGet", at,
                  error) ||
      !api->check(
          api->cuDeviceGetAttribute(
              &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
          "cuDeviceGetAttribute", at, error) ||
      !api->check(
          api->cuDeviceGetAttribute(
              &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
          "cuDeviceGetAttribute", at, error))
    return "";
  std::string chip = "sm_" + std::to_string(major) + std::to_string(minor);
  return major == 9 && minor == 0 ? chip + "a" : chip;
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
      !api->check(api->cuDeviceGetAttribute(
                      &dev->multiprocessors,
                      CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev->device),
                  "cuDeviceGetAttribute", at, error) ||
      !api->check(api->cuDevicePrimaryCtxRetain(&dev->context, dev->device),
                  "cuDevicePrimaryCtxRetain", at, error))
    return nullptr;
  dev->name = name;
  Device *result = dev.get();
  devices.emplace(ordinal, std::move(dev));
  return result;
}

bool CUDAKernel::loadModule(Device &dev, std::string &error) const {
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
  // The entry and, for a kernel that can split, its combine: the same
  // parameters. Those the compiled kernels take must be the manifest's
  // ABI: 8-byte words, as many as the descriptors and the kv chunks make
  // (drivers from CUDA 12.4 tell). Only the expected ones are asked for,
  // so that a matching kernel raises no driver error (compute-sanitizer
  // reports every one): a kernel with more parameters goes unnoticed.
  size_t expected = numKernelParams();
  auto lookUp = [&](const std::string &entry, const char *field,
                    CUfunction &function) {
    CUresult found = api->cuModuleGetFunction(&function, module, entry.c_str());
    if (found == CUDA_ERROR_NOT_FOUND)
      return fail("kernel '" + m.name + "': the module has no kernel '" +
                  entry + "' (the manifest's " + field + ")");
    if (!api->check(found, "cuModuleGetFunction", at, error))
      return fail(error);
    std::string which =
        "kernel '" + m.name + "': " +
        (entry == m.entry ? std::string("the compiled kernel")
                          : "the compiled combine '" + entry + "'");
    for (size_t i = 0; api->cuFuncGetParamInfo && i < expected; ++i) {
      size_t offset = 0, size = 0;
      CUresult info = api->cuFuncGetParamInfo(function, i, &offset, &size);
      if (info == CUDA_ERROR_INVALID_VALUE && i > 0)
        return fail(which + " takes " + std::to_string(i) +
                    " parameters, but the manifest's parameters expand to " +
                    std::to_string(expected) +
                    " (a memref descriptor per tensor, then the kv chunks); "
                    "the artifact and its manifest do not match");
      if (info != CUDA_SUCCESS)
        break; // the driver cannot tell
      if (size != 8 || offset != 8 * i)
        return fail(which + ": parameter " + std::to_string(i) + " has " +
                    std::to_string(size) + " bytes at offset " +
                    std::to_string(offset) +
                    ", but the manifest's ABI passes 8-byte words (pointers "
                    "and int64 offsets, sizes and strides) one after the "
                    "other; the artifact and its manifest do not match");
    }
    return true;
  };
  CUfunction function = nullptr, combine = nullptr;
  if (!lookUp(m.entry, "entry", function) ||
      (!m.combineEntry.empty() &&
       !lookUp(m.combineEntry, "combine_entry", combine)))
    return false;
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
  if (canSplit() && !dev.partialsDone &&
      !api->check(api->cuEventCreate(&dev.partialsDone, CU_EVENT_DEFAULT),
                  "cuEventCreate", at, error))
    return fail(error);
  dev.module = module;
  dev.function = function;
  dev.combine = combine;
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

bool CUDAKernel::reservePartials(Device &dev, size_t bytes, bool used,
                                 void *stream, std::string &error) {
  std::string at = where(dev.ordinal) + " (the split-KV partial rows, " +
                   std::to_string(bytes) + " bytes)";
  if (!used) {
    // An unsplit launch passes the buffer without touching it: any
    // allocation will do, even one a running launch writes.
    if (dev.partials)
      return true;
    bytes = std::max(bytes, sizeof(float));
  } else if (dev.partialsPending &&
             (bytes > dev.partialBytes || stream != dev.partialStream)) {
    // The last split launch may still use the buffer: wait for it before
    // the buffer is freed, or before a launch on another stream writes it.
    // On one stream, the stream orders them.
    if (!api->check(api->cuEventSynchronize(dev.partialsDone),
                    "cuEventSynchronize", at, error))
      return false;
    dev.partialsPending = false;
  }
  if (bytes <= dev.partialBytes)
    return true;
  if (dev.partials)
    api->cuMemFree(dev.partials);
  dev.partials = 0;
  dev.partialBytes = 0;
  if (!api->check(api->cuMemAlloc(&dev.partials, bytes), "cuMemAlloc", at,
                  error))
    return false;
  dev.partialBytes = bytes;
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
  // A split launch runs chunk c of item i as block i * splits + c, then
  // the combine as block i.
  int64_t splits = splitsFor(host.args, options, residentBlocks(*dev));
  int64_t blocks = 0;
  if (__builtin_mul_overflow(items, splits, &blocks) || blocks > INT32_MAX) {
    error = at + ": this launch has " + std::to_string(items) + " work items" +
            (splits > 1 ? " x " + std::to_string(splits) + " kv chunks" : "") +
            ", more than the 2^31 - 1 blocks of a CUDA grid; launch fewer "
            "or shorter sequences" +
            (splits > 1 ? " or fewer kv chunks" : "");
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

  // The partial rows of a kernel that can split: f32 [items x splits,
  // rows, Dv] and [items x splits, rows], dense, the tile's rows per
  // chunk. Every chunk writes every row the combine reads, so they are not
  // cleared. An unsplit launch (splits 1) passes [0, rows, Dv] and [0,
  // rows] views of an allocation the kernel does not touch.
  attn_tensor partialOut{}, partialLse{};
  if (canSplit()) {
    int64_t rows = m.blockQ * m.headGroup;
    int64_t partials = splits > 1 ? blocks : 0;
    bool hasLse =
        std::any_of(m.params.begin(), m.params.end(),
                    [](const ParamSpec &p) { return p.name == "partial_lse"; });
    int64_t lseFloats = 0, outFloats = 0;
    if (__builtin_mul_overflow(partials, rows, &lseFloats) ||
        __builtin_mul_overflow(lseFloats, m.headDimV, &outFloats) ||
        outFloats > (int64_t(1) << 40)) {
      error = at + ": the split-KV partial rows of this launch (" +
              std::to_string(items) + " items x " + std::to_string(splits) +
              " chunks) do not fit in memory";
      return false;
    }
    // partial_lse starts at a 256-byte boundary after partial_out.
    size_t lseOffset = (size_t(outFloats) * sizeof(float) + 255) & ~size_t(255);
    size_t bytes = lseOffset + (hasLse ? size_t(lseFloats) * sizeof(float) : 0);
    if (!reservePartials(*dev, bytes, splits > 1, options.stream, error))
      return false;
    partialOut =
        denseF32(dev->partials, {partials, rows, m.headDimV}, dev->ordinal);
    partialLse = denseF32(splits > 1 && hasLse ? dev->partials + lseOffset
                                               : dev->partials,
                          {partials, rows}, dev->ordinal);
  }

  // The parameters, the same for the kernel and its combine: per tensor
  // its memref descriptor's fields, then the kv chunks. Every field is an
  // 8-byte word; the driver copies each from the address in `params`.
  std::vector<int64_t> words;
  words.reserve(numKernelParams());
  for (const ParamSpec &p : m.params) {
    const attn_tensor *t = nullptr;
    if (p.name == "tile_kinds")
      t = &tableView;
    else if (p.name == "partial_out")
      t = &partialOut;
    else if (p.name == "partial_lse")
      t = &partialLse;
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
  words.push_back(splits); // kv chunks
  std::vector<void *> params;
  params.reserve(words.size());
  for (int64_t &word : words)
    params.push_back(&word);

  auto stream = static_cast<CUstream>(options.stream);
  auto run = [&](CUfunction function, int64_t grid, int64_t sharedBytes,
                 const std::string &what) {
    return api->check(
        api->cuLaunchKernel(function, static_cast<unsigned>(grid), 1, 1,
                            static_cast<unsigned>(m.blockDim[0]),
                            static_cast<unsigned>(m.blockDim[1]),
                            static_cast<unsigned>(m.blockDim[2]),
                            static_cast<unsigned>(sharedBytes), stream,
                            params.data(), nullptr),
        "cuLaunchKernel",
        at + what + " (grid " + std::to_string(grid) + ", block " +
            std::to_string(m.blockDim[0]) + "x" +
            std::to_string(m.blockDim[1]) + "x" +
            std::to_string(m.blockDim[2]) + ", " + std::to_string(sharedBytes) +
            " bytes shared" +
            (splits > 1 ? ", " + std::to_string(splits) + " kv chunks" : "") +
            ")",
        error);
  };
  if (!run(dev->function, blocks, m.sharedBytes, ""))
    return false;
  // The combine: one block per item, no dynamic shared memory. Once the
  // kernel is queued the buffers are in use, whether the combine queues
  // or not.
  bool combined = splits <= 1 || run(dev->combine, items, 0,
                                     ": the combine '" + m.combineEntry + "'");
  // Events after the last launch that reads the tile table or uses the
  // partial rows (a failed combine's error comes first).
  auto record = [&](CUevent event, const char *what, bool &pending,
                    void *&recordedOn) {
    std::string failure;
    if (!api->check(api->cuEventRecord(event, stream), "cuEventRecord",
                    at + " (" + what + ")", failure)) {
      if (combined)
        error = failure;
      return false;
    }
    pending = true;
    recordedOn = options.stream;
    return true;
  };
  if ((m.tableMask && !record(dev->tableDone, "the tile table",
                              dev->tablePending, dev->tableStream)) ||
      (splits > 1 && !record(dev->partialsDone, "the split-KV partial rows",
                             dev->partialsPending, dev->partialStream)) ||
      !combined)
    return false;
  // No stream: wait, so that a failing kernel fails this call.
  if (!stream) {
    if (!api->check(api->cuStreamSynchronize(nullptr), "cuStreamSynchronize",
                    at + ": the kernel failed while running", error))
      return false;
    dev->tablePending = false;
    dev->partialsPending = false;
  }
  return true;
}
