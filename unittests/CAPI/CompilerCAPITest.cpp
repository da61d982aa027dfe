//===- CompilerCAPITest.cpp - The compiler's C API ------------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Linked against libAttnC only, as a C or Python caller is: compiling
// through the cache, IR levels, targets, output shapes and every error the
// options and the spec can produce.
//
//===----------------------------------------------------------------------===//

#include "attn-c/Compiler.h"
#include "gtest/gtest.h"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

const char kSpec[] = "name: t\nhead_dim: 8\nheads: {q: 4, kv: 2}\n"
                     "mask: causal\noutputs: [out, lse]\n";

/// A fresh cache directory per test.
class CompilerCAPI : public ::testing::Test {
protected:
  void SetUp() override {
    cache = std::filesystem::temp_directory_path() /
            ("attn-capi-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(cache);
    cacheDir = cache.string();
    options.cache_dir = cacheDir.c_str();
  }
  void TearDown() override { std::filesystem::remove_all(cache); }

  attn_status compile(const std::string &text, attn_artifact **artifact) {
    return attn_compile(text.data(), text.size(), "spec.yaml", &options,
                        artifact);
  }
  std::string ir(const std::string &text, attn_ir_level level) {
    attn_artifact *artifact = nullptr;
    if (attn_compile_ir(text.data(), text.size(), "spec.yaml", &options, level,
                        &artifact) != ATTN_OK)
      return std::string("error: ") + attn_last_error();
    size_t size = 0;
    const void *data = attn_artifact_data(artifact, &size);
    std::string result(static_cast<const char *>(data), size);
    attn_artifact_free(artifact);
    return result;
  }

  std::filesystem::path cache;
  std::string cacheDir;
  attn_compile_options options{};
};

TEST_F(CompilerCAPI, CompilesThroughTheCache) {
  attn_artifact *first = nullptr, *second = nullptr;
  ASSERT_EQ(compile(kSpec, &first), ATTN_OK) << attn_last_error();
  EXPECT_FALSE(attn_artifact_from_cache(first));
  ASSERT_EQ(compile(kSpec, &second), ATTN_OK) << attn_last_error();
  EXPECT_TRUE(attn_artifact_from_cache(second));
  EXPECT_STREQ(attn_artifact_spec_hash(first), attn_artifact_spec_hash(second));
  EXPECT_NE(std::string(attn_artifact_manifest(first)).find("\"name\": \"t\""),
            std::string::npos);
  size_t size = 0;
  EXPECT_NE(attn_artifact_data(first, &size), nullptr);
  EXPECT_GT(size, 0u);

  // no_cache compiles again; a dtype override is another kernel.
  options.no_cache = 1;
  attn_artifact *fresh = nullptr;
  ASSERT_EQ(compile(kSpec, &fresh), ATTN_OK);
  EXPECT_FALSE(attn_artifact_from_cache(fresh));
  options.no_cache = 0;
  options.dtype = "bf16";
  attn_artifact *bf16 = nullptr;
  ASSERT_EQ(compile(kSpec, &bf16), ATTN_OK);
  EXPECT_STRNE(attn_artifact_spec_hash(bf16), attn_artifact_spec_hash(first));
  EXPECT_NE(std::string(attn_artifact_manifest(bf16)).find("\"bf16\""),
            std::string::npos);

  attn_kernel *kernel = nullptr;
  ASSERT_EQ(attn_artifact_load(first, &kernel), ATTN_OK) << attn_last_error();
  EXPECT_EQ(attn_kernel_num_params(kernel), 5);
  for (attn_artifact *a : {first, second, fresh, bf16})
    attn_artifact_free(a);

  // The outputs' shapes for a q of [2, 10, 4, 8].
  attn_tensor q{};
  q.rank = 4;
  int64_t qShape[] = {2, 10, 4, 8};
  std::copy(qShape, qShape + 4, q.shape);
  int32_t rank = 0;
  int64_t shape[ATTN_MAX_RANK] = {};
  ASSERT_EQ(attn_kernel_output_shape(kernel, &q, "out", &rank, shape), ATTN_OK);
  EXPECT_EQ(rank, 4);
  EXPECT_EQ(std::vector<int64_t>(shape, shape + 4),
            (std::vector<int64_t>{2, 10, 4, 8}));
  ASSERT_EQ(attn_kernel_output_shape(kernel, &q, "lse", &rank, shape), ATTN_OK);
  EXPECT_EQ(std::vector<int64_t>(shape, shape + rank),
            (std::vector<int64_t>{2, 4, 10}));
  // As a rule: q's axes 0 and 2 (as -1 - axis), and the head count.
  ASSERT_EQ(attn_kernel_output_dims(kernel, "lse", &rank, shape), ATTN_OK);
  EXPECT_EQ(std::vector<int64_t>(shape, shape + rank),
            (std::vector<int64_t>{-1, 4, -2}));
  EXPECT_EQ(attn_kernel_output_shape(kernel, &q, "k", &rank, shape),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "'k' is not an output of kernel 't' (outputs: out, lse)");
  q.rank = 3;
  EXPECT_EQ(attn_kernel_output_shape(kernel, &q, "out", &rank, shape),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "operand 'q' has rank 3, expected 4");
  attn_kernel_free(kernel);
}

TEST_F(CompilerCAPI, SpecErrorsAreLocated) {
  attn_artifact *artifact = nullptr;
  EXPECT_EQ(compile("name: t\nhead_dim: 8\nheads: 4\nscale: -1\n", &artifact),
            ATTN_ERROR_COMPILE);
  EXPECT_EQ(artifact, nullptr);
  std::string error = attn_last_error();
  EXPECT_EQ(error.rfind("spec.yaml:4:8: error: 'scale'", 0), 0u) << error;
  // The source line and the caret come with it.
  EXPECT_NE(error.find("scale: -1\n       ^"), std::string::npos) << error;

  // Not YAML at all, and no spec.
  EXPECT_EQ(compile("{{{", &artifact), ATTN_ERROR_COMPILE);
  EXPECT_EQ(std::string(attn_last_error()).rfind("spec.yaml:1:", 0), 0u);
  EXPECT_EQ(attn_compile(nullptr, 3, nullptr, nullptr, &artifact),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "the spec is NULL");
  EXPECT_EQ(attn_compile(kSpec, sizeof(kSpec) - 1, nullptr, nullptr, nullptr),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "the result pointer is NULL");
  EXPECT_EQ(attn_compile_file("/nonexistent/spec.yaml", &options, &artifact),
            ATTN_ERROR_NOT_FOUND);
  EXPECT_STREQ(attn_last_error(), "cannot read '/nonexistent/spec.yaml': No "
                                  "such file or directory");
}

TEST_F(CompilerCAPI, OptionsAreChecked) {
  attn_artifact *artifact = nullptr;
  options.target = "sm_70";
  EXPECT_EQ(compile(kSpec, &artifact), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(),
               "target: unknown target 'sm_70'; use cpu, cuda (the chip of "
               "the CUDA device) or a chip: sm_80, sm_86, sm_89, sm_90, "
               "sm_90a");
  options.target = "cpu";
  options.dtype = "f64";
  EXPECT_EQ(compile(kSpec, &artifact), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "dtype must be f32, f16 or bf16, got 'f64'");
  options.dtype = nullptr;
  options.split_kv = 257;
  EXPECT_EQ(compile(kSpec, &artifact), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "split_kv must be in [1, 256], got 257");
  options.split_kv = 0;
  EXPECT_EQ(ir(kSpec, static_cast<attn_ir_level>(9)),
            "error: unknown IR level 9 (ATTN_IR_MLIR ... ATTN_IR_PTX)");
}

TEST_F(CompilerCAPI, CudaTargetNeedsADevice) {
  // CI machines have no NVIDIA driver; where one is, this names its chip.
  options.target = "cuda";
  attn_artifact *artifact = nullptr;
  attn_status status = compile(kSpec, &artifact);
  if (status == ATTN_OK) {
    attn_artifact_free(artifact);
    GTEST_SKIP() << "this machine has a CUDA device";
  }
  std::string error = attn_last_error();
  EXPECT_EQ(error.rfind("target: target 'cuda' is the chip of CUDA device 0, "
                        "but ",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("; name the chip instead (sm_80, sm_86, sm_89, sm_90, "
                       "sm_90a)"),
            std::string::npos)
      << error;
}

TEST_F(CompilerCAPI, PrintsEachIRLevel) {
  EXPECT_NE(ir(kSpec, ATTN_IR_MLIR).find("attn.attention"), std::string::npos);
  EXPECT_NE(ir(kSpec, ATTN_IR_TILE).find("scf.for"), std::string::npos);
  EXPECT_NE(ir(kSpec, ATTN_IR_KERNEL).find("llvm.func"), std::string::npos);
  EXPECT_NE(ir(kSpec, ATTN_IR_LLVM).find("define"), std::string::npos);
  EXPECT_EQ(ir(kSpec, ATTN_IR_PTX).rfind("error: PTX and cubins are GPU", 0),
            0u);
  options.target = "sm_90a";
  std::string ptx =
      ir("name: t\ndtype: bf16\nhead_dim: 64\nheads: 2\n", ATTN_IR_PTX);
  EXPECT_NE(ptx.find(".target sm_90a"), std::string::npos)
      << ptx.substr(0, 200);

  // IR is no kernel.
  attn_artifact *artifact = nullptr;
  ASSERT_EQ(attn_compile_ir(kSpec, sizeof(kSpec) - 1, nullptr, &options,
                            ATTN_IR_MLIR, &artifact),
            ATTN_OK);
  EXPECT_STREQ(attn_artifact_manifest(artifact), "");
  attn_kernel *kernel = nullptr;
  EXPECT_EQ(attn_artifact_load(artifact, &kernel), ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "the artifact is IR text, not a kernel; "
                                  "compile it with attn_compile");
  attn_artifact_free(artifact);
}

TEST_F(CompilerCAPI, ClassifiesTilesAndDrawsTheMask) {
  attn_artifact *artifact = nullptr;
  ASSERT_EQ(compile(kSpec, &artifact), ATTN_OK) << attn_last_error();
  attn_kernel *kernel = nullptr;
  ASSERT_EQ(attn_artifact_load(artifact, &kernel), ATTN_OK);
  attn_artifact_free(artifact);
  // q [1, 300, 4, 8], k and v [1, 300, 2, 8], out, lse [1, 4, 300].
  std::vector<float> q(300 * 4 * 8), kv(300 * 2 * 8), out(q.size()),
      lse(4 * 300);
  auto view = [](std::vector<float> &data, std::vector<int64_t> shape) {
    attn_tensor t{};
    t.data = data.data();
    t.dtype = ATTN_F32;
    t.rank = static_cast<int32_t>(shape.size());
    int64_t stride = 1;
    for (int i = t.rank - 1; i >= 0; --i) {
      t.shape[i] = shape[i];
      t.strides[i] = stride;
      stride *= shape[i];
    }
    t.device = ATTN_DEVICE_CPU;
    return t;
  };
  std::vector<float> v(kv);
  attn_arg args[] = {{"q", view(q, {1, 300, 4, 8})},
                     {"k", view(kv, {1, 300, 2, 8})},
                     {"v", view(v, {1, 300, 2, 8})},
                     {"out", view(out, {1, 300, 4, 8})},
                     {"lse", view(lse, {1, 4, 300})}};
  int64_t qTiles = 0, kvTiles = 0;
  ASSERT_EQ(attn_kernel_tile_kinds(kernel, args, 5, 0, 3, nullptr, 0, &qTiles,
                                   &kvTiles),
            ATTN_OK)
      << attn_last_error();
  ASSERT_GT(qTiles, 1);
  std::vector<int32_t> kinds(qTiles * kvTiles, -1);
  ASSERT_EQ(attn_kernel_tile_kinds(kernel, args, 5, 0, 3, kinds.data(),
                                   int64_t(kinds.size()), &qTiles, &kvTiles),
            ATTN_OK);
  // Causal: the first row's last tile is empty, its first partial or full.
  EXPECT_EQ(kinds[kvTiles - 1], 0);
  EXPECT_NE(kinds[0], 0);
  EXPECT_EQ(attn_kernel_tile_kinds(kernel, args, 5, 1, 0, nullptr, 0, &qTiles,
                                   &kvTiles),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(attn_last_error(), "batch entry 1, head 0 is outside the "
                                  "launch (batch 1, 4 query heads)");

  size_t size = 0;
  ASSERT_EQ(attn_kernel_mask_svg(kernel, args, 5, 0, 0, nullptr, 0, &size),
            ATTN_OK);
  std::string svg(size + 1, 'x');
  ASSERT_EQ(attn_kernel_mask_svg(kernel, args, 5, 0, 0, svg.data(), svg.size(),
                                 &size),
            ATTN_OK);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(svg[size], '\0');
  attn_kernel_free(kernel);
}

TEST(CompilerCAPIVersion, NamesTheBuild) {
  std::string version = attn_compiler_version();
  EXPECT_NE(version.find("+llvm.22"), std::string::npos) << version;
}

} // namespace
