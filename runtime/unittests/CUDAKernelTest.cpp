//===- CUDAKernelTest.cpp - Tests of the CUDA target without a GPU --------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// What the CUDA target does before any GPU work: its manifest fields, the
// kernels it refuses (a split-KV kernel without its combine entry, partial
// rows of another shape), and a clear error (never a crash) where the
// machine has no NVIDIA driver or no device. On a GPU machine the same
// tests check that a launch with host tensors is refused instead, and the
// split counts that need no tensors.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/CUDAKernel.h"
#include "cuda/CUDADriver.h"
#include "gtest/gtest.h"

#include <string>

using namespace attnrt;

namespace {

/// A format-4 manifest of a plain bf16 kernel (q, k, v, out, lse) for
/// `target`, with `launch` (a JSON object, or empty for none) and
/// `kvSplits` (a JSON value).
std::string manifestJson(const std::string &target, const std::string &launch,
                         const std::string &kvSplits = "1") {
  bool split = kvSplits != "1";
  auto param = [](const char *name, const char *dtype, const char *shape,
                  bool internal = false) {
    return std::string("{\"name\": \"") + name + "\", \"dtype\": \"" + dtype +
           "\", \"shape\": " + shape + ", \"inner_contiguous\": true" +
           (internal ? ", \"internal\": true" : "") + "}";
  };
  std::string params = param("q", "bf16", "[-1, -1, 8, 64]") + ", " +
                       param("k", "bf16", "[-1, -1, 8, 64]") + ", " +
                       param("v", "bf16", "[-1, -1, 8, 64]") + ", " +
                       param("out", "bf16", "[-1, -1, 8, 64]") + ", " +
                       param("lse", "f32", "[-1, 8, -1]");
  if (split)
    params += ", " + param("partial_out", "f32", "[-1, -1, 64]", true) + ", " +
              param("partial_lse", "f32", "[-1, -1]", true);
  std::string text =
      "{\"format\": 4, \"name\": \"attn_test\", \"entry\": \"attn_test\", "
      "\"target\": \"" +
      target +
      "\", \"layout\": \"bshd\", \"normalizer\": \"softmax\", "
      "\"kv_storage\": \"contiguous\", \"heads\": {\"q\": 8, \"kv\": 8}, "
      "\"head_dim\": {\"qk\": 64, \"v\": 64}, "
      "\"tile\": {\"rows\": 64, \"query_positions\": 64, \"head_group\": 1, "
      "\"keys\": 64, \"kv_tiles\": \"bounds\"}, "
      "\"work\": {\"head_groups\": 8, \"kv_splits\": " +
      kvSplits +
      ", \"q_tiles\": {\"of\": \"q_len\", \"query_positions\": 64}}, " +
      (split ? "\"combine_entry\": \"attn_test_combine\", " : "") +
      "\"checks\": {}, \"params\": [" + params + "]";
  if (!launch.empty())
    text += ", \"launch\": " + launch;
  return text + "}";
}

const char kLaunch[] =
    "{\"block\": [128, 1, 1], \"shared_bytes\": 65536, \"chip\": \"sm_90a\"}";

/// PTX that defines the manifest's entry (and nothing the tests launch).
const char kPTX[] = ".version 8.0\n"
                    ".target sm_80\n"
                    ".address_size 64\n"
                    ".visible .entry attn_test()\n"
                    "{\n"
                    "  ret;\n"
                    "}\n";

/// PTX that defines the entry of a split manifest and its combine.
const char kSplitPTX[] = ".version 8.0\n"
                         ".target sm_80\n"
                         ".address_size 64\n"
                         ".visible .entry attn_test()\n"
                         "{\n"
                         "  ret;\n"
                         "}\n"
                         ".visible .entry attn_test_combine()\n"
                         "{\n"
                         "  ret;\n"
                         "}\n";

bool mentions(const std::string &text, const char *word) {
  return text.find(word) != std::string::npos;
}

TEST(CUDAManifest, ReadsTheLaunch) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(manifestJson("cuda", kLaunch), m, error)) << error;
  EXPECT_EQ(m.target, "cuda");
  EXPECT_EQ(m.blockDim[0], 128);
  EXPECT_EQ(m.blockDim[1], 1);
  EXPECT_EQ(m.blockDim[2], 1);
  EXPECT_EQ(m.sharedBytes, 65536);
  EXPECT_EQ(m.chip, "sm_90a");
}

TEST(CUDAManifest, CPUManifestsNeedNoLaunch) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(manifestJson("cpu", ""), m, error)) << error;
  EXPECT_EQ(m.blockDim[0] * m.blockDim[1] * m.blockDim[2], 1);
  EXPECT_EQ(m.sharedBytes, 0);
  EXPECT_TRUE(m.chip.empty());
}

TEST(CUDAManifest, RefusesAMissingOrBadLaunch) {
  Manifest m;
  std::string error;
  EXPECT_FALSE(parseManifest(manifestJson("cuda", ""), m, error));
  EXPECT_TRUE(mentions(error, "'launch'")) << error;

  for (const char *launch : {"{\"block\": [128, 1], \"shared_bytes\": 0}",
                             "{\"block\": [0, 1, 1], \"shared_bytes\": 0}",
                             "{\"block\": [64, 32, 1], \"shared_bytes\": 0}",
                             "{\"block\": [128, 1, 1], \"shared_bytes\": -1}",
                             "{\"block\": [128, 1, 1]}"}) {
    Manifest bad;
    error.clear();
    EXPECT_FALSE(parseManifest(manifestJson("cuda", launch), bad, error))
        << launch;
    EXPECT_TRUE(mentions(error, "launch")) << error;
  }
}

TEST(CUDAManifest, RefusesNumbersThatAreNoIntegers) {
  // Found by attn-manifest-fuzzer: 4.4e50 read as int64 was undefined
  // behavior.
  for (const char *launch :
       {"{\"block\": [128, 1, 1], \"shared_bytes\": 4.4e50}",
        "{\"block\": [128.5, 1, 1], \"shared_bytes\": 0}",
        "{\"block\": [128, 1, 1], \"shared_bytes\": 0.0}"}) {
    Manifest bad;
    std::string error;
    EXPECT_FALSE(parseManifest(manifestJson("cuda", launch), bad, error))
        << launch;
    EXPECT_TRUE(mentions(error, "not an integer")) << error;
  }
}

TEST(CUDAManifest, ReadsASplitManifest) {
  for (auto [splits, count] :
       {std::pair<const char *, int64_t>{"4", 4}, {"\"per_launch\"", 0}}) {
    Manifest m;
    std::string error;
    ASSERT_TRUE(parseManifest(manifestJson("cuda", kLaunch, splits), m, error))
        << error;
    EXPECT_EQ(m.numKVSplits, count);
    EXPECT_EQ(m.combineEntry, "attn_test_combine");
    ASSERT_EQ(m.params.size(), 7u);
    EXPECT_EQ(m.params[5].name, "partial_out");
    EXPECT_TRUE(m.params[5].internal);
    EXPECT_EQ(m.params[6].name, "partial_lse");
    EXPECT_TRUE(m.params[6].internal);
  }
}

TEST(CUDAKernel, NeedsTheCombineEntry) {
  // The PTX is read before the driver is opened: no GPU needed.
  for (const char *splits : {"4", "\"per_launch\""}) {
    std::string error;
    std::unique_ptr<Kernel> kernel =
        loadKernel("", kPTX, manifestJson("cuda", kLaunch, splits), error);
    EXPECT_FALSE(kernel);
    EXPECT_TRUE(mentions(error, "no kernel 'attn_test_combine'")) << error;
    EXPECT_TRUE(mentions(error, "combine_entry")) << error;
  }
}

TEST(CUDAKernel, RefusesPartialRowsOfAnotherShape) {
  // partial_out must be f32 [?, tile.rows (64), head_dim.v (64)].
  std::string manifest = manifestJson("cuda", kLaunch, "4");
  for (auto [from, to] :
       {std::pair<const char *, const char *>{"[-1, -1, 64]", "[-1, 32, 64]"},
        {"[-1, -1, 64]", "[-1, -1, 32]"},
        {"[-1, -1, 64]", "[-1, 64]"},
        {"\"partial_out\", \"dtype\": \"f32\"",
         "\"partial_out\", \"dtype\": \"f16\""}}) {
    std::string text = manifest;
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), std::string(from).size(), to);
    std::string error;
    EXPECT_FALSE(loadKernel("", kSplitPTX, text, error)) << to;
    EXPECT_TRUE(mentions(error, "'partial_out'")) << error;
  }
}

TEST(CUDAKernel, LoadsASplitKernelOrSaysWhyNot) {
  // With both entries in the PTX the load gets as far as the driver; with
  // a GPU it succeeds, and a forced split count is used as given (at most
  // 256) without any tensor or device work.
  for (const char *splits : {"4", "\"per_launch\""}) {
    std::string error;
    std::unique_ptr<Kernel> kernel =
        loadKernel("", kSplitPTX, manifestJson("cuda", kLaunch, splits), error);
    if (!kernel) {
      EXPECT_TRUE(mentions(error, "libcuda") || mentions(error, "CUDA device"))
          << error;
      EXPECT_FALSE(mentions(error, "split")) << error;
      continue;
    }
    LaunchOptions options;
    options.device = ATTN_DEVICE_CUDA;
    options.kvSplits = 8;
    EXPECT_EQ(kernel->kvSplits({}, options), 8);
    options.kvSplits = 1000;
    EXPECT_EQ(kernel->kvSplits({}, options), 256);
  }
  // A kernel that cannot split ignores a forced count.
  std::string error;
  std::unique_ptr<Kernel> kernel =
      loadKernel("", kPTX, manifestJson("cuda", kLaunch), error);
  if (kernel) {
    LaunchOptions options;
    options.device = ATTN_DEVICE_CUDA;
    options.kvSplits = 8;
    EXPECT_EQ(kernel->kvSplits({}, options), 1);
  }
}

TEST(CUDAKernel, RefusesPTXWithoutTheEntry) {
  std::string ptx = kPTX;
  ptx.replace(ptx.find("attn_test"), 9, "other_one");
  std::string error;
  EXPECT_FALSE(loadKernel("", ptx, manifestJson("cuda", kLaunch), error));
  EXPECT_TRUE(mentions(error, "no kernel 'attn_test'")) << error;
  EXPECT_TRUE(mentions(error, "other_one")) << error;

  error.clear();
  EXPECT_FALSE(
      loadKernel("", "not a kernel", manifestJson("cuda", kLaunch), error));
  EXPECT_TRUE(mentions(error, "neither PTX")) << error;
}

TEST(CUDAKernel, RefusesAMissingArtifact) {
  std::string error;
  EXPECT_FALSE(loadKernel("/nonexistent/kernel.ptx", "",
                          manifestJson("cuda", kLaunch), error));
  EXPECT_TRUE(mentions(error, "/nonexistent/kernel.ptx")) << error;
}

TEST(CUDADriver, MissingLibraryIsAnError) {
  cuda::Driver driver;
  std::string error;
  EXPECT_FALSE(driver.open("libcuda-attn-test-missing.so.1", error));
  EXPECT_TRUE(mentions(error, "cannot open libcuda-attn-test-missing.so.1"))
      << error;
  EXPECT_TRUE(mentions(error, "no NVIDIA driver")) << error;
}

TEST(CUDAKernel, LoadsOrSaysWhyNot) {
  // Without libcuda or a device the load fails and says which; with a GPU
  // it succeeds, and a launch on host tensors is refused by name.
  std::string error;
  std::unique_ptr<Kernel> kernel =
      loadKernel("", kPTX, manifestJson("cuda", kLaunch), error);
  if (!kernel) {
    EXPECT_TRUE(mentions(error, "libcuda") || mentions(error, "CUDA device"))
        << error;
    return;
  }
  EXPECT_EQ(kernel->device(), ATTN_DEVICE_CUDA);
  static uint16_t host[4 * 8 * 64];
  attn_tensor t{};
  t.data = host;
  t.dtype = ATTN_BF16;
  t.rank = 4;
  int64_t shape[4] = {1, 4, 8, 64}, strides[4] = {4 * 8 * 64, 8 * 64, 64, 1};
  std::copy(shape, shape + 4, t.shape);
  std::copy(strides, strides + 4, t.strides);
  t.device = ATTN_DEVICE_CPU;
  Args args = {{"q", t}, {"k", t}, {"v", t}, {"out", t}};
  LaunchOptions options;
  options.device = ATTN_DEVICE_CUDA;
  EXPECT_FALSE(kernel->launch(args, options, error));
  EXPECT_TRUE(mentions(error, "operand 'q'")) << error;
  // Host memory that claims to be on the device is not device memory.
  for (auto &[name, tensor] : args) {
    (void)name;
    tensor.device = ATTN_DEVICE_CUDA;
  }
  EXPECT_FALSE(kernel->validate(args, error));
  EXPECT_TRUE(mentions(error, "not CUDA device memory")) << error;
}

} // namespace
