//===- NpyTest.cpp - Tests of .npy files, views and the error measure -----===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/runtime/Npy.h"
#include "attn/runtime/Compare.h"
#include "attn/runtime/Tensor.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace attnrt;

namespace {

/// A fresh directory under /tmp, removed with everything in it at the end.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/attn-npy-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(RuntimeNpy, RoundTripsEveryDtype) {
  TempDir dir;
  std::string error;
  std::vector<float> f4 = {1.5f, -2.0f, 0.25f, 3.0f, -0.5f, 8.0f};
  ASSERT_TRUE(writeNpy(dir.path + "/f4.npy", "<f4", {2, 3}, f4.data(),
                       f4.size() * sizeof(float), error))
      << error;
  NpyArray array;
  ASSERT_TRUE(readNpy(dir.path + "/f4.npy", array, error)) << error;
  EXPECT_EQ(array.descr, "<f4");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(array.numElements(), 6);
  EXPECT_EQ(array.values(), std::vector<double>(f4.begin(), f4.end()));

  std::vector<int64_t> i8 = {-3, int64_t(1) << 40};
  ASSERT_TRUE(writeNpy(dir.path + "/i8.npy", "<i8", {2}, i8.data(),
                       i8.size() * sizeof(int64_t), error))
      << error;
  ASSERT_TRUE(readNpy(dir.path + "/i8.npy", array, error)) << error;
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(array.value(0), -3.0);
  EXPECT_EQ(array.value(1), std::ldexp(1.0, 40));

  // A scalar: the empty shape holds one value.
  double f8 = 0.1;
  ASSERT_TRUE(writeNpy(dir.path + "/f8.npy", "<f8", {}, &f8, sizeof(f8), error))
      << error;
  ASSERT_TRUE(readNpy(dir.path + "/f8.npy", array, error)) << error;
  EXPECT_TRUE(array.shape.empty());
  EXPECT_EQ(array.values(), std::vector<double>{0.1});
}

TEST(RuntimeNpy, WritesNumPyHeaders) {
  TempDir dir;
  std::string error;
  int32_t values[3] = {1, 2, 3};
  ASSERT_TRUE(
      writeNpy(dir.path + "/a.npy", "<i4", {3}, values, sizeof(values), error));
  std::ifstream in(dir.path + "/a.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  // The header is padded with spaces and a newline to a multiple of 64.
  size_t dataStart = bytes.size() - sizeof(values);
  ASSERT_EQ(dataStart % 64, 0u);
  EXPECT_EQ(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)), 0);
  EXPECT_NE(bytes.find("{'descr': '<i4', 'fortran_order': False, "
                       "'shape': (3,), }"),
            std::string::npos);
  EXPECT_EQ(bytes[dataStart - 1], '\n');
}

TEST(RuntimeNpy, RefusesWhatItCannotRead) {
  TempDir dir;
  std::string error;
  NpyArray array;
  EXPECT_FALSE(readNpy(dir.path, array, error));
  EXPECT_EQ(error, "cannot read '" + dir.path + "': not a regular file");

  std::string path = dir.path + "/bad.npy";
  std::ofstream(path, std::ios::binary) << "no magic here";
  EXPECT_FALSE(readNpy(path, array, error));
  EXPECT_EQ(error,
            "'" + path + "' is not a supported .npy file: no NumPy magic");

  // Fewer values than the shape holds.
  float values[4] = {};
  ASSERT_TRUE(writeNpy(path, "<f4", {4}, values, sizeof(values), error));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);
  EXPECT_FALSE(readNpy(path, array, error));
  EXPECT_EQ(error, "'" + path +
                       "' is not a supported .npy file: fewer values than the "
                       "shape holds");

  // writeNpy checks its arguments.
  EXPECT_FALSE(writeNpy(path, "<f4", {5}, values, sizeof(values), error));
  EXPECT_FALSE(writeNpy(path, "<u1", {4}, values, sizeof(values), error));
}

TEST(RuntimeTensor, DenseViewIsRowMajor) {
  float data[24];
  attn_tensor t = denseView(data, ATTN_F32, {2, 3, 4}, ATTN_DEVICE_CUDA, 1);
  EXPECT_EQ(t.data, data);
  EXPECT_EQ(t.dtype, ATTN_F32);
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.shape[0], 2);
  EXPECT_EQ(t.shape[2], 4);
  EXPECT_EQ(t.strides[0], 12);
  EXPECT_EQ(t.strides[1], 4);
  EXPECT_EQ(t.strides[2], 1);
  EXPECT_EQ(t.device, ATTN_DEVICE_CUDA);
  EXPECT_EQ(t.device_id, 1);
}

TEST(RuntimeCompare, RelativeErrorSkipsNaNReferencesAndMatchesInfinities) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  bool mismatch = false;
  EXPECT_DOUBLE_EQ(relativeError({3, 4, 7}, {3, 4, nan}, mismatch), 0.0);
  EXPECT_FALSE(mismatch);
  EXPECT_DOUBLE_EQ(relativeError({3, 5}, {3, 4}, mismatch), 1.0 / 5.0);
  EXPECT_FALSE(mismatch);
  EXPECT_DOUBLE_EQ(relativeError({-inf, 1}, {-inf, 1}, mismatch), 0.0);
  EXPECT_FALSE(mismatch);
  relativeError({inf, 1}, {-inf, 1}, mismatch);
  EXPECT_TRUE(mismatch);
  mismatch = false;
  relativeError({nan, 1}, {0, 1}, mismatch);
  EXPECT_TRUE(mismatch);
}

} // namespace
