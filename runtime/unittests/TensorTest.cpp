//===- TensorTest.cpp - Tests of the runtime's tensor checks --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/attn_runtime.h"
#include "gtest/gtest.h"
#include <string>

namespace {

attn_tensor makeTensor(void *data, attn_dtype dtype,
                       std::initializer_list<int64_t> shape) {
  attn_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.rank = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  int i = t.rank - 1;
  for (auto it = shape.end(); it != shape.begin();) {
    --it;
    t.shape[i] = *it;
    t.strides[i] = stride;
    stride *= *it;
    --i;
  }
  t.device = ATTN_DEVICE_CPU;
  return t;
}

attn_tensor_spec qSpec() {
  return attn_tensor_spec{"q", ATTN_BF16, 4, {-1, -1, 16, 128}, 1};
}

TEST(RuntimeTensor, AcceptsAMatchingTensor) {
  float dummy;
  attn_tensor q = makeTensor(&dummy, ATTN_BF16, {2, 100, 16, 128});
  attn_tensor_spec spec = qSpec();
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU), ATTN_OK);
  EXPECT_STREQ(attn_last_error(), "");
}

TEST(RuntimeTensor, ErrorsNameTheOperandAndTheField) {
  float dummy;
  attn_tensor_spec spec = qSpec();
  attn_tensor q = makeTensor(&dummy, ATTN_F16, {2, 100, 16, 128});
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' has dtype f16, expected bf16");

  q = makeTensor(&dummy, ATTN_BF16, {2, 100, 8, 128});
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' has shape [2, 100, 8, 128], expected [?, ?, 16, 128] "
            "(dimension 2)");

  q = makeTensor(&dummy, ATTN_BF16, {2, 100, 16, 128});
  q.strides[3] = 2;
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attn_last_error()).find("contiguous"),
            std::string::npos);

  q = makeTensor(&dummy, ATTN_BF16, {2, 100, 16, 128});
  q.device = ATTN_DEVICE_CUDA;
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' is on the cuda device, expected cpu");

  // Codes outside the C enums (a C caller may pass any int).
  q = makeTensor(&dummy, static_cast<attn_dtype>(7), {2, 100, 16, 128});
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' has an unknown dtype code (7), expected bf16");
  q = makeTensor(&dummy, ATTN_BF16, {2, 100, 16, 128});
  q.device = static_cast<attn_device_kind>(-3);
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' is on an unknown device kind (-3), expected cpu");

  EXPECT_EQ(attn_check_tensor(nullptr, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()), "operand 'q' is missing");
}

TEST(RuntimeTensor, RankMismatchShowsTheExpectedShape) {
  float dummy;
  attn_tensor_spec spec = qSpec();
  attn_tensor q = makeTensor(&dummy, ATTN_BF16, {100, 16, 128});
  EXPECT_EQ(attn_check_tensor(&q, &spec, ATTN_DEVICE_CPU),
            ATTN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(attn_last_error()),
            "operand 'q' has rank 3, expected 4 [?, ?, 16, 128]");
}

} // namespace
