//===- KernelCAPITest.cpp - The runtime C API over a compiled kernel ------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Compiles a block-sparse spec for the host CPU, then drives the runtime's C
// API: a valid launch, and each kind of bad argument, whose error must name
// the argument.
//
//===----------------------------------------------------------------------===//

#include "attn/Driver/Driver.h"
#include "attn/runtime/attn_runtime.h"
#include "llvm/Support/FileSystem.h"
#include "gtest/gtest.h"

#include <fstream>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Launch options for `n` CPU threads.
const attn_launch_options *threads(int32_t n) {
  static thread_local attn_launch_options options;
  options = attn_launch_options{};
  options.num_threads = n;
  return &options;
}

const char *kSpec = R"yaml(
name: sparse_capi
dtype: f32
head_dim: 32
heads: {q: 2, kv: 1}
mask: {block_sparse: {block: [16, 16]}}
outputs: [out, lse]
)yaml";

/// Compiles `spec` for the host CPU into `directory`/`name`.so with its
/// manifest beside it (as attn-compile --emit=so does).
void compileKernel(const char *spec, const std::string &directory,
                   const std::string &name) {
  SpecCompiler compiler(llvm::errs());
  ASSERT_TRUE(succeeded(compiler.import(
      llvm::MemoryBuffer::getMemBufferCopy(spec, name + ".yaml"))));
  llvm::Expected<Artifact> artifact =
      compiler.compile(EmitKind::SharedLibrary, TargetOptions());
  ASSERT_TRUE(!!artifact) << llvm::toString(artifact.takeError());
  std::ofstream(directory + "/" + name + ".so", std::ios::binary)
      << artifact->bytes;
  std::ofstream(directory + "/" + name + ".so.json") << artifact->manifest;
}

/// A contiguous CPU tensor argument.
attn_arg makeArg(const char *name, void *data, attn_dtype dtype,
                 std::vector<int64_t> shape) {
  attn_arg a{};
  a.name = name;
  a.tensor.data = data;
  a.tensor.dtype = dtype;
  a.tensor.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  for (int32_t i = a.tensor.rank - 1; i >= 0; --i) {
    a.tensor.shape[i] = shape[i];
    a.tensor.strides[i] = stride;
    stride *= shape[i];
  }
  a.tensor.device = ATTN_DEVICE_CPU;
  return a;
}

/// A kernel compiled from a spec into a fresh directory and loaded through
/// the C API; freed and removed at the end of the test.
struct LoadedKernel {
  LoadedKernel(const char *spec, const std::string &name) { load(spec, name); }
  ~LoadedKernel() {
    attn_kernel_free(kernel);
    if (!directory.empty())
      llvm::sys::fs::remove_directories(directory);
  }
  attn_kernel *kernel = nullptr;
  std::string directory;

private:
  void load(const char *spec, const std::string &name) {
    llvm::SmallString<128> dir;
    ASSERT_FALSE(
        llvm::sys::fs::createUniqueDirectory("attn-capi-" + name, dir));
    directory = dir.str().str();
    compileKernel(spec, directory, name);
    ASSERT_EQ(attn_kernel_load((directory + "/" + name + ".so").c_str(),
                               (directory + "/" + name + ".so.json").c_str(),
                               &kernel),
              ATTN_OK)
        << attn_last_error();
  }
};

/// Builds the kernel once for all tests.
class KernelCAPITest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    llvm::SmallString<128> dir;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("attn-capi", dir));
    directory = dir.str().str();
    libraryPath = directory + "/kernel.so";
    manifestPath = directory + "/kernel.so.json";
    compileKernel(kSpec, directory, "kernel");
  }

  static void TearDownTestSuite() {
    llvm::sys::fs::remove_directories(directory);
  }

  void SetUp() override {
    ASSERT_EQ(
        attn_kernel_load(libraryPath.c_str(), manifestPath.c_str(), &kernel),
        ATTN_OK)
        << attn_last_error();
    // B = 1, L = 40: 3 q blocks and 3 kv blocks of 16.
    q.assign(1 * 40 * 2 * 32, 0.5f);
    k.assign(1 * 40 * 1 * 32, 0.25f);
    v.assign(1 * 40 * 1 * 32, 1.0f);
    out.assign(1 * 40 * 2 * 32, 0.0f);
    lse.assign(1 * 2 * 40, 0.0f);
    counts.assign(1 * 2 * 3, 1);
    indices.assign(1 * 2 * 3 * 3, 0);
    args = {arg("q", q.data(), ATTN_F32, {1, 40, 2, 32}),
            arg("k", k.data(), ATTN_F32, {1, 40, 1, 32}),
            arg("v", v.data(), ATTN_F32, {1, 40, 1, 32}),
            arg("kv_num_blocks", counts.data(), ATTN_I32, {1, 2, 3}),
            arg("kv_indices", indices.data(), ATTN_I32, {1, 2, 3, 3}),
            arg("out", out.data(), ATTN_F32, {1, 40, 2, 32}),
            arg("lse", lse.data(), ATTN_F32, {1, 2, 40})};
  }

  void TearDown() override { attn_kernel_free(kernel); }

  static attn_arg arg(const char *name, void *data, attn_dtype dtype,
                      std::vector<int64_t> shape) {
    return makeArg(name, data, dtype, std::move(shape));
  }

  attn_arg &byName(const std::string &name) {
    for (attn_arg &a : args)
      if (name == a.name)
        return a;
    static attn_arg none{};
    return none;
  }

  std::string launchError() {
    EXPECT_EQ(attn_kernel_launch(kernel, args.data(),
                                 static_cast<int32_t>(args.size()), threads(2)),
              ATTN_ERROR_INVALID_ARGUMENT);
    return attn_last_error();
  }

  static std::string directory, libraryPath, manifestPath;
  attn_kernel *kernel = nullptr;
  std::vector<float> q, k, v, out, lse;
  std::vector<int32_t> counts, indices;
  std::vector<attn_arg> args;
};

std::string KernelCAPITest::directory;
std::string KernelCAPITest::libraryPath;
std::string KernelCAPITest::manifestPath;

TEST_F(KernelCAPITest, ListsParametersAndLaunches) {
  ASSERT_EQ(attn_kernel_num_params(kernel), 7);
  EXPECT_STREQ(attn_kernel_param_name(kernel, 0), "q");
  EXPECT_STREQ(attn_kernel_param_name(kernel, 3), "kv_num_blocks");
  EXPECT_EQ(attn_kernel_param_name(kernel, 7), nullptr);
  ASSERT_EQ(attn_kernel_launch(kernel, args.data(),
                               static_cast<int32_t>(args.size()), threads(2)),
            ATTN_OK)
      << attn_last_error();
  // Every query sees kv block 0 (16 keys with equal scores): out = v = 1 and
  // lse = log(16) + s with s = 0.5 * 0.25 * 32 / sqrt(32).
  EXPECT_NEAR(out[0], 1.0f, 1e-6);
  EXPECT_NEAR(lse[0], std::log(16.0) + 4.0 / std::sqrt(32.0), 1e-5);
}

TEST_F(KernelCAPITest, LoadsFromBytesAndGivesItsManifest) {
  std::ifstream library(libraryPath, std::ios::binary), json(manifestPath);
  std::string bytes((std::istreambuf_iterator<char>(library)),
                    std::istreambuf_iterator<char>());
  std::string manifest((std::istreambuf_iterator<char>(json)),
                       std::istreambuf_iterator<char>());
  attn_kernel *fromBytes = nullptr;
  ASSERT_EQ(attn_kernel_load_bytes(bytes.data(), bytes.size(), manifest.c_str(),
                                   &fromBytes),
            ATTN_OK)
      << attn_last_error();
  EXPECT_EQ(std::string(attn_kernel_manifest(fromBytes)), manifest);
  EXPECT_EQ(attn_kernel_manifest(nullptr), nullptr);
  ASSERT_EQ(attn_kernel_launch(fromBytes, args.data(),
                               static_cast<int32_t>(args.size()), nullptr),
            ATTN_OK)
      << attn_last_error();
  EXPECT_NEAR(out[0], 1.0f, 1e-6);
  attn_kernel_free(fromBytes);

  attn_kernel *none = nullptr;
  EXPECT_EQ(attn_kernel_load_bytes(nullptr, 4, manifest.c_str(), &none),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(attn_kernel_load_bytes(bytes.data(), 0, manifest.c_str(), &none),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "attn_kernel_load_bytes: the artifact is empty");
  // Bytes that are no shared library fail to load, with the loader's word.
  EXPECT_EQ(attn_kernel_load_bytes("not an ELF", 10, manifest.c_str(), &none),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(attn_last_error()).find("cannot load the artifact"),
            std::string::npos)
      << attn_last_error();
  // A manifest of another target is refused before anything is loaded.
  std::string gpu = manifest;
  gpu.replace(gpu.find("\"target\": \"cpu\""), 15, "\"target\": \"gpu\"");
  EXPECT_EQ(
      attn_kernel_load_bytes(bytes.data(), bytes.size(), gpu.c_str(), &none),
      ATTN_ERROR_NOT_FOUND);
  EXPECT_EQ(std::string(attn_last_error()),
            "the manifest is for target 'gpu', which this runtime cannot "
            "launch (it knows: cpu, cuda)");
  EXPECT_EQ(none, nullptr);
}

TEST_F(KernelCAPITest, TheCPUTakesTheHostDeviceAndNoStream) {
  attn_launch_options options{};
  options.device = ATTN_DEVICE_CUDA;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(),
                               static_cast<int32_t>(args.size()), &options),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "kernel 'sparse_capi' runs on the CPU (the host device, id 0); it "
            "cannot launch on another device");
  options = attn_launch_options{};
  int stream = 0;
  options.stream = &stream;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(),
                               static_cast<int32_t>(args.size()), &options),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "kernel 'sparse_capi' runs on the CPU, which takes no stream; pass "
            "none");
  options = attn_launch_options{};
  options.num_threads = -1;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(),
                               static_cast<int32_t>(args.size()), &options),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "num_threads must be non-negative, got -1");
}

TEST_F(KernelCAPITest, ErrorsNameTheArgument) {
  byName("k").tensor.dtype = ATTN_F16;
  EXPECT_EQ(launchError(), "operand 'k' has dtype f16, expected f32");
  byName("k").tensor.dtype = ATTN_F32;

  byName("v").tensor.shape[0] = 2;
  EXPECT_EQ(launchError(),
            "operand 'v' has shape [2, 40, 1, 32], expected [1, 40, 1, 32]");
  byName("v").tensor.shape[0] = 1;

  byName("q").tensor.strides[3] = 2;
  EXPECT_EQ(launchError(), "operand 'q' must be contiguous in its last "
                           "dimension (stride 1), got stride 2");
  byName("q").tensor.strides[3] = 1;

  byName("out").tensor.device = ATTN_DEVICE_CUDA;
  EXPECT_EQ(launchError(), "operand 'out' is on the cuda device, expected cpu");
  byName("out").tensor.device = ATTN_DEVICE_CPU;

  indices[4] = 7;
  counts[1] = 2;
  EXPECT_EQ(launchError(), "operand 'kv_indices' holds block 7 at [0, 0, 1, "
                           "1], outside [0, 3)");
  indices[4] = 0;
  counts[1] = 1;

  indices[3] = 0;
  counts[1] = 2;
  EXPECT_EQ(launchError(), "operand 'kv_indices' lists block 0 twice at "
                           "[0, 0, 1]; a block is visible or not");
  counts[1] = 1;

  byName("kv_num_blocks").tensor.shape[2] = 1;
  EXPECT_EQ(launchError(), "operand 'kv_num_blocks' has 1 q blocks in "
                           "dimension 2, expected 3 (q_len 40 in blocks of "
                           "16)");
  byName("kv_num_blocks").tensor.shape[2] = 3;

  attn_arg lseArg = args.back();
  args.pop_back();
  EXPECT_EQ(launchError(), "operand 'lse' is missing");
  args.push_back(lseArg);

  args.push_back(arg("bias", q.data(), ATTN_F32, {1}));
  EXPECT_EQ(launchError().rfind("'bias' is not a parameter of kernel "
                                "'sparse_capi' (parameters: q, k, v, ",
                                0),
            0u);
  args.pop_back();

  args.push_back(args.front());
  EXPECT_EQ(launchError(), "operand 'q' is given twice");
  args.pop_back();

  EXPECT_EQ(attn_kernel_validate(kernel, args.data(),
                                 static_cast<int32_t>(args.size())),
            ATTN_OK)
      << attn_last_error();
}

TEST_F(KernelCAPITest, OutputsMayNotOverlapInputs) {
  // Writing over k while other work items still read it.
  byName("out").tensor =
      arg("out", k.data() + 32, ATTN_F32, {1, 40, 2, 32}).tensor;
  EXPECT_EQ(launchError(), "operand 'out' overlaps 'k' in memory; give the "
                           "kernel a separate output buffer");
  byName("out").tensor =
      arg("out", out.data(), ATTN_F32, {1, 40, 2, 32}).tensor;
  byName("lse").tensor.data = out.data() + 100;
  EXPECT_EQ(launchError(), "operand 'out' overlaps 'lse' in memory; give the "
                           "kernel a separate output buffer");
  byName("lse").tensor.data = lse.data();
}

TEST_F(KernelCAPITest, InconsistentManifestsAreRejected) {
  std::ifstream in(manifestPath);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Loads the manifest with the value of `key` (the first after `within`)
  // replaced.
  auto loadEdited = [&](const std::string &key, const std::string &value,
                        const std::string &within = "tile") {
    size_t at = text.find("\"" + key + "\":",
                          within.empty() ? 0 : text.find("\"" + within + "\""));
    EXPECT_NE(at, std::string::npos) << key;
    size_t start = text.find(':', at) + 1;
    size_t end = text.find_first_of(",\n}", start);
    std::string edited = text.substr(0, start) + value + text.substr(end);
    std::string path = directory + "/bad.json";
    std::ofstream(path) << edited;
    attn_kernel *bad = nullptr;
    EXPECT_NE(attn_kernel_load(libraryPath.c_str(), path.c_str(), &bad),
              ATTN_OK);
    return std::string(attn_last_error());
  };
  EXPECT_EQ(loadEdited("query_positions", "0"),
            "the manifest is inconsistent: 'tile.query_positions' must be "
            "positive, got 0");
  EXPECT_EQ(loadEdited("head_group", "3"),
            "the manifest is inconsistent: 'heads.q' (2) must be a multiple "
            "of 'tile.head_group' (3)");
  EXPECT_EQ(loadEdited("head_groups", "1", "work"),
            "the manifest is inconsistent: 'work.head_groups' (1) must be "
            "'heads.q' / 'tile.head_group' (2)");
  EXPECT_EQ(loadEdited("query_positions", "8", "q_tiles"),
            "the manifest is inconsistent: 'work.q_tiles.query_positions' "
            "differs from 'tile.query_positions'");
  EXPECT_EQ(loadEdited("kv_splits", "1", "work"),
            "the manifest is inconsistent: a kernel that splits its kv range "
            "('work.kv_splits' not 1) and the 'partial_out' parameter (and "
            "'partial_lse' for the softmax family) go together");
  EXPECT_EQ(loadEdited("kv_splits", "257", "work"),
            "the manifest is inconsistent: 'work.kv_splits' must be in "
            "[1, 256] or \"per_launch\", got 257");
  EXPECT_EQ(loadEdited("kv_tiles", "\"tile_table\""),
            "the manifest is inconsistent: 'tile.kv_tiles' = 'tile_table' "
            "needs a 'mask_model' and goes with the 'tile_kinds' parameter");
  EXPECT_EQ(loadEdited("kv_tiles", "\"spiral\""),
            "the manifest has an unknown 'tile.kv_tiles' 'spiral'");
  EXPECT_EQ(loadEdited("rows", "7"),
            "the manifest is inconsistent: 'tile.rows' must be "
            "'tile.query_positions' x 'tile.head_group' (16)");
  EXPECT_EQ(loadEdited("of", "\"longest_q_sequence\"", "q_tiles"),
            "the manifest is inconsistent: 'work.q_tiles.of' is "
            "'longest_q_sequence', expected 'q_len' for contiguous storage");
  EXPECT_EQ(loadEdited("block_q", "0", "block_sparse"),
            "the manifest is inconsistent: 'checks.block_sparse' sizes must "
            "be positive");
  EXPECT_EQ(loadEdited("name", "\"qq\"", "params"),
            "the manifest lists no parameter 'q'; every kernel takes q, k, v "
            "and out (and its storage's operands)");
  EXPECT_EQ(loadEdited("format", "2", ""),
            "the manifest has format 2, expected 4; recompile the kernel "
            "with this version of Attn");
  EXPECT_EQ(loadEdited("kv_storage", "\"striped\"", ""),
            "the manifest has an unknown kv_storage 'striped'");
}

TEST_F(KernelCAPITest, LoadFailuresAreReported) {
  attn_kernel *missing = nullptr;
  EXPECT_EQ(attn_kernel_load("/nonexistent/kernel.so", manifestPath.c_str(),
                             &missing),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(attn_last_error()).find("cannot load"),
            std::string::npos);
  EXPECT_EQ(
      attn_kernel_load(libraryPath.c_str(), "/nonexistent.json", &missing),
      ATTN_ERROR_NOT_FOUND);
  EXPECT_EQ(attn_kernel_load("", manifestPath.c_str(), &missing),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "attn_kernel_load: the artifact path is empty");
  EXPECT_EQ(attn_kernel_launch(nullptr, nullptr, 0, threads(0)),
            ATTN_ERROR_INVALID_ARGUMENT);
}

TEST(KernelCAPIValues, VerticalSlashIndicesAreChecked) {
  LoadedKernel loaded(
      "name: vs\nhead_dim: 32\nheads: 2\nmask: vertical_slash\n", "vs");
  ASSERT_NE(loaded.kernel, nullptr);
  attn_kernel *kernel = loaded.kernel;
  std::vector<float> q(1 * 20 * 2 * 32, 0.1f), out(q.size());
  std::vector<int32_t> vertical = {0, 3, 19, 0}, slash = {0, 1, 2, 0};
  auto arg = makeArg;
  std::vector<attn_arg> args = {
      arg("q", q.data(), ATTN_F32, {1, 20, 2, 32}),
      arg("k", q.data(), ATTN_F32, {1, 20, 2, 32}),
      arg("v", q.data(), ATTN_F32, {1, 20, 2, 32}),
      arg("vertical", vertical.data(), ATTN_I32, {1, 2, 2}),
      arg("slash", slash.data(), ATTN_I32, {1, 2, 2}),
      arg("out", out.data(), ATTN_F32, {1, 20, 2, 32})};
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)), ATTN_OK)
      << attn_last_error();
  vertical[2] = 20;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'vertical' holds 20 at [0, 1, 0], "
                                  "expected a key index in [0, 20)");
  vertical[2] = 19;
  slash[1] = -1;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'slash' holds -1 at [0, 0, 1], "
                                  "expected a non-negative diagonal offset");
}

TEST(KernelCAPIValues, PagedOperandsAreChecked) {
  LoadedKernel loaded("name: paged\nhead_dim: 32\nheads: 2\nmask: causal\n"
                      "kv_storage: {paged: {page_size: 4}}\n",
                      "paged");
  ASSERT_NE(loaded.kernel, nullptr);
  attn_kernel *kernel = loaded.kernel;
  // Two sequences of up to 3 pages of 4 keys in a cache of 5 pages.
  std::vector<float> q(2 * 1 * 2 * 32, 0.1f), out(q.size()),
      cache(5 * 4 * 2 * 32, 0.2f);
  std::vector<int32_t> table = {4, 0, 2, 1, 3, 0}, seqlens = {12, 5};
  auto arg = makeArg;
  std::vector<attn_arg> args = {
      arg("q", q.data(), ATTN_F32, {2, 1, 2, 32}),
      arg("k", cache.data(), ATTN_F32, {5, 4, 2, 32}),
      arg("v", cache.data(), ATTN_F32, {5, 4, 2, 32}),
      arg("block_table", table.data(), ATTN_I32, {2, 3}),
      arg("cache_seqlens", seqlens.data(), ATTN_I32, {2}),
      arg("out", out.data(), ATTN_F32, {2, 1, 2, 32})};
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)), ATTN_OK)
      << attn_last_error();
  // The output of a uniform cache is its value.
  EXPECT_NEAR(out[0], 0.2f, 1e-6);
  seqlens[1] = 13;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'cache_seqlens' holds 13 at [1], outside [0, 12] "
               "(block_table's 3 pages of 4 keys)");
  seqlens[1] = 5;
  table[4] = 5;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'block_table' holds page 5 at [1, 1], outside [0, 5) "
               "(the pages of k and v)");
  table[4] = 3;
  args[2] = arg("v", cache.data(), ATTN_F32, {4, 4, 2, 32});
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 6, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'v' has shape [4, 4, 2, 32], expected [5, 4, 2, 32]");
}

TEST(KernelCAPIValues, RaggedOperandsAreChecked) {
  LoadedKernel loaded("name: ragged\nhead_dim: 32\nheads: 2\nmask: causal\n"
                      "kv_storage: ragged\noutputs: [out, lse]\n",
                      "ragged");
  ASSERT_NE(loaded.kernel, nullptr);
  attn_kernel *kernel = loaded.kernel;
  // Sequences of 3 and 7 tokens packed back to back.
  std::vector<float> x(10 * 2 * 32, 0.3f), out(x.size()), lse(2 * 10);
  std::vector<int32_t> cu = {0, 3, 10};
  auto arg = makeArg;
  std::vector<attn_arg> args = {arg("q", x.data(), ATTN_F32, {10, 2, 32}),
                                arg("k", x.data(), ATTN_F32, {10, 2, 32}),
                                arg("v", x.data(), ATTN_F32, {10, 2, 32}),
                                arg("cu_seqlens_q", cu.data(), ATTN_I32, {3}),
                                arg("cu_seqlens_kv", cu.data(), ATTN_I32, {3}),
                                arg("out", out.data(), ATTN_F32, {10, 2, 32}),
                                arg("lse", lse.data(), ATTN_F32, {2, 10})};
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 7, threads(1)), ATTN_OK)
      << attn_last_error();
  // Token 3 starts the second sequence: it sees one key, so lse = its score.
  EXPECT_NEAR(lse[3], 0.3f * 0.3f * 32 / std::sqrt(32.0f), 1e-5);
  cu[1] = 11;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 7, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'cu_seqlens_q' must be non-decreasing within [0, 10] "
               "(the packed tokens), got 11 at [1]");
  cu[1] = 3;
  args[6] = arg("lse", lse.data(), ATTN_F32, {2, 9});
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 7, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'lse' has shape [2, 9], expected [2, 10]");
  args[6] = arg("lse", lse.data(), ATTN_F32, {2, 10});
  args[3] = arg("cu_seqlens_q", cu.data(), ATTN_I32, {0});
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 7, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'cu_seqlens_q' has shape [0], "
                                  "expected [batch + 1] (at least one entry)");
}

TEST(KernelCAPIValues, PagedDocumentIdsCoverTheLongestSequence) {
  LoadedKernel loaded("name: pdoc\nhead_dim: 32\nheads: 2\n"
                      "mask: [causal, document]\n"
                      "kv_storage: {paged: {page_size: 8}}\n",
                      "pdoc");
  ASSERT_NE(loaded.kernel, nullptr);
  attn_kernel *kernel = loaded.kernel;
  // Two sequences of one query over 13 and 4 keys in pages of 8.
  std::vector<float> q(2 * 1 * 2 * 32, 0.1f), out(q.size()),
      cache(4 * 8 * 2 * 32, 0.2f);
  std::vector<int32_t> table = {0, 1, 2, 3}, seqlens = {13, 4};
  std::vector<int32_t> docQ = {0, 0}, docKV(2 * 16, 0);
  auto arg = makeArg;
  std::vector<attn_arg> args = {
      arg("q", q.data(), ATTN_F32, {2, 1, 2, 32}),
      arg("k", cache.data(), ATTN_F32, {4, 8, 2, 32}),
      arg("v", cache.data(), ATTN_F32, {4, 8, 2, 32}),
      arg("doc_q", docQ.data(), ATTN_I32, {2, 1}),
      arg("doc_kv", docKV.data(), ATTN_I32, {2, 16}),
      arg("block_table", table.data(), ATTN_I32, {2, 2}),
      arg("cache_seqlens", seqlens.data(), ATTN_I32, {2}),
      arg("out", out.data(), ATTN_F32, {2, 1, 2, 32})};
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 8, threads(1)), ATTN_OK)
      << attn_last_error();
  EXPECT_NEAR(out[0], 0.2f, 1e-6);
  // Ids for 12 keys cannot cover a sequence of 13.
  args[4] = arg("doc_kv", docKV.data(), ATTN_I32, {2, 12});
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 8, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "operand 'doc_kv' has shape [2, 12], expected [2, L] with L at "
               "least 13 (the longest cache_seqlens)");
}

TEST(KernelCAPIValues, PagedVerticalSlashOperandsAreChecked) {
  LoadedKernel loaded("name: pvs\nhead_dim: 32\nheads: 2\n"
                      "mask: [causal, vertical_slash]\n"
                      "kv_storage: {paged: {page_size: 8}}\n",
                      "pvs");
  ASSERT_NE(loaded.kernel, nullptr);
  attn_kernel *kernel = loaded.kernel;
  // Three sequences of one query over up to 2 pages of 8 keys.
  std::vector<float> q(3 * 1 * 2 * 32, 0.1f), out(q.size()),
      cache(6 * 8 * 2 * 32, 0.2f);
  std::vector<int32_t> table = {0, 1, 2, 3, 4, 5}, seqlens = {16, 9, 3};
  std::vector<int32_t> vertical(3 * 2 * 2, 1), slash(3 * 2 * 2, 0);
  auto arg = makeArg;
  std::vector<attn_arg> args = {
      arg("q", q.data(), ATTN_F32, {3, 1, 2, 32}),
      arg("k", cache.data(), ATTN_F32, {6, 8, 2, 32}),
      arg("v", cache.data(), ATTN_F32, {6, 8, 2, 32}),
      arg("vertical", vertical.data(), ATTN_I32, {3, 2, 2}),
      arg("slash", slash.data(), ATTN_I32, {3, 2, 2}),
      arg("block_table", table.data(), ATTN_I32, {3, 2}),
      arg("cache_seqlens", seqlens.data(), ATTN_I32, {3}),
      arg("out", out.data(), ATTN_F32, {3, 1, 2, 32})};
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 8, threads(1)), ATTN_OK)
      << attn_last_error();
  // A batch axis of 2 for 3 sequences would be read out of bounds.
  args[3] = arg("vertical", vertical.data(), ATTN_I32, {2, 2, 2});
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 8, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'vertical' has size 2 in "
                                  "dimension 0, expected 1 or 3");
  args[3] = arg("vertical", vertical.data(), ATTN_I32, {3, 2, 2});
  slash[5] = -2;
  EXPECT_EQ(attn_kernel_launch(kernel, args.data(), 8, threads(1)),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'slash' holds -2 at [1, 0, 1], "
                                  "expected a non-negative diagonal offset");
}

} // namespace

/// The mask model of a tile-table manifest is checked before it runs: the
/// operands it reads are parameters (found by attn-manifest-fuzzer: a mask
/// reading cu_seqlens that no parameter gave indexed an empty view), and the
/// sizes it divides by are positive.
TEST(KernelCAPIValues, ManifestMaskModelsAreChecked) {
  LoadedKernel loaded("name: docs\nhead_dim: 16\nheads: 2\n"
                      "mask: [{chunked: 4}, {document: cu_seqlens}]\n",
                      "docs");
  ASSERT_NE(loaded.kernel, nullptr);
  std::string text = attn_kernel_manifest(loaded.kernel);
  auto loadEdited = [&](const std::string &from, const std::string &to) {
    std::string edited = text;
    size_t at = edited.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    edited.replace(at, from.size(), to);
    std::string path = loaded.directory + "/bad.json";
    std::ofstream(path) << edited;
    attn_kernel *bad = nullptr;
    EXPECT_NE(attn_kernel_load((loaded.directory + "/docs.so").c_str(),
                               path.c_str(), &bad),
              ATTN_OK);
    return std::string(attn_last_error());
  };
  EXPECT_EQ(
      loadEdited("\"name\": \"cu_seqlens_q\"", "\"name\": \"cu_seqlens_x\""),
      "the manifest's mask reads the operand 'cu_seqlens_q' (int32, "
      "rank 2), which its parameters do not list");
  EXPECT_EQ(loadEdited("\"count\": 4", "\"count\": 0"),
            "the manifest's chunked mask has a chunk size of 0");
  EXPECT_EQ(loadEdited("\"kind\": \"chunked\"", "\"kind\": \"not\""),
            "the manifest's not mask takes one operand, not 0");
}
