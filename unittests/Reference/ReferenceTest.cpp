//===- ReferenceTest.cpp - Tests of the float64 reference and its inputs --===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/Reference.h"
#include "attn/Driver/Driver.h"
#include "attn/Reference/RandomInputs.h"
#include "attn/runtime/Manifest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "gtest/gtest.h"

#include <algorithm>
#include <cstring>

using namespace mlir;
using namespace mlir::attn;

namespace {

/// A spec imported, with random inputs for its kernel's parameters.
struct Problem {
  std::unique_ptr<SpecCompiler> compiler;
  std::vector<attnrt::ParamSpec> params;
  Geometry geometry;
  std::map<std::string, HostTensor> tensors;
};

/// The parameter `name` of type `type`, as a manifest lists it.
attnrt::ParamSpec paramOf(StringRef name, Type type) {
  attnrt::ParamSpec p;
  p.name = name.str();
  auto tensor = cast<RankedTensorType>(type);
  Type element = tensor.getElementType();
  p.dtype = element.isF16()    ? ATTN_F16
            : element.isBF16() ? ATTN_BF16
            : element.isF32()  ? ATTN_F32
                               : ATTN_I32;
  for (int64_t d : tensor.getShape())
    p.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return p;
}

/// Imports the spec at `path` and lists the parameters its kernel takes
/// from the caller (what attn-tile lists, without compiling); null on
/// failure (reported).
std::unique_ptr<Problem> load(const std::string &path) {
  auto problem = std::make_unique<Problem>();
  problem->compiler = std::make_unique<SpecCompiler>(llvm::errs());
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path;
    return nullptr;
  }
  if (failed(problem->compiler->import(std::move(*buffer)))) {
    ADD_FAILURE() << "cannot import " << path;
    return nullptr;
  }
  AttentionOp op = problem->compiler->op();
  std::vector<attnrt::ParamSpec> &params = problem->params;
  params = {paramOf("q", op.getQ().getType()),
            paramOf("k", op.getK().getType()),
            paramOf("v", op.getV().getType())};
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (Value operand = op.getOptionalOperand(kind))
      params.push_back(paramOf(stringifyOperandKind(kind), operand.getType()));
  }
  params.push_back(paramOf("out", op.getOut().getType()));
  if (Value lse = op.getLse())
    params.push_back(paramOf("lse", lse.getType()));
  return problem;
}

/// Fresh random inputs of batch `B` and lengths `Lq`, `Lkv` (or the lengths
/// the spec pins) from `seed`.
void makeInputs(Problem &problem, int64_t B, int64_t Lq, int64_t Lkv,
                unsigned seed) {
  AttentionOp op = problem.compiler->op();
  ProblemShape shape = op.getProblemShape();
  if (ProblemShape::isKnown(shape.qLen))
    Lq = Lkv = shape.qLen;
  std::mt19937 rng(seed);
  problem.geometry = makeGeometry(op, B, Lq, Lkv, rng);
  problem.tensors.clear();
  for (const attnrt::ParamSpec &p : problem.params)
    problem.tensors[p.name] = makeInput(p, op, problem.geometry, rng);
  if (problem.tensors.count("kv_num_blocks"))
    fillBlockSparse(problem.tensors["kv_num_blocks"],
                    problem.tensors["kv_indices"], rng);
}

/// Whether `a` and `b` hold the same bits (NaN included).
bool sameBits(const std::vector<double> &a, const std::vector<double> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// The specs of examples/ and of the CPU integration tests' inputs.
std::vector<std::string> specPaths() {
  std::vector<std::string> paths;
  for (const char *dir : {"examples", "test/Integration/CPU/Inputs"}) {
    llvm::SmallString<256> root(ATTN_SOURCE_DIR);
    llvm::sys::path::append(root, dir);
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(root, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".yaml"))
        paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

} // namespace

/// One spec of specPaths().
class ReferenceSpecTest : public ::testing::TestWithParam<std::string> {};

// The reference visits each row's visible runs on several threads; it must
// give the bits of the pair-by-pair definition on one thread, for every
// mask, storage, score modifier and normalizer of the examples, with
// lengths equal, decode-like and not multiples of anything.
TEST_P(ReferenceSpecTest, VisibleRunsOnThreadsMatchPairByPair) {
  std::unique_ptr<Problem> problem = load(GetParam());
  ASSERT_TRUE(problem);
  AttentionOp op = problem->compiler->op();
  std::vector<std::pair<int64_t, int64_t>> lengths = {
      {67, 67}, {5, 90}, {40, 23}, {3, 0}};
  int64_t batch = 2;
  // A neighborhood grid pins the lengths (up to 2048 tokens): one run.
  if (ProblemShape::isKnown(op.getProblemShape().qLen)) {
    lengths.resize(1);
    batch = 1;
  }
  for (auto [Lq, Lkv] : lengths) {
    SCOPED_TRACE("q_len " + std::to_string(Lq) + " kv_len " +
                 std::to_string(Lkv));
    makeInputs(*problem, batch, Lq, Lkv, /*seed=*/unsigned(Lq + Lkv));
    std::vector<double> out, lse, definitionOut, definitionLse;
    ReferenceOptions definition;
    definition.numThreads = 1;
    definition.pairByPair = true;
    ASSERT_TRUE(succeeded(computeReference(op, problem->tensors, definitionOut,
                                           definitionLse, definition)));
    for (unsigned threads : {1u, 3u}) {
      ReferenceOptions runs;
      runs.numThreads = threads;
      ASSERT_TRUE(
          succeeded(computeReference(op, problem->tensors, out, lse, runs)));
      EXPECT_TRUE(sameBits(out, definitionOut)) << threads << " threads";
      EXPECT_TRUE(sameBits(lse, definitionLse)) << threads << " threads";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Specs, ReferenceSpecTest,
                         ::testing::ValuesIn(specPaths()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           // The file's stem, as a test name: letters, digits
                           // and '_'.
                           std::string name =
                               llvm::sys::path::stem(info.param).str();
                           for (char &c : name)
                             if (!llvm::isAlnum(c))
                               c = '_';
                           return name;
                         });

TEST(ReferenceTest, TheExamplesAreFound) { EXPECT_GT(specPaths().size(), 30u); }
