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
                unsigned seed, const InputOptions &options = {}) {
  AttentionOp op = problem.compiler->op();
  ProblemShape shape = op.getProblemShape();
  if (ProblemShape::isKnown(shape.qLen))
    Lq = Lkv = shape.qLen;
  std::mt19937 rng(seed);
  problem.geometry = makeGeometry(op, B, Lq, Lkv, rng, options);
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

/// The spec `name` of examples/ or of the CPU tests' inputs.
std::string specPath(StringRef name) {
  for (const std::string &path : specPaths())
    if (llvm::sys::path::stem(path) == name)
      return path;
  ADD_FAILURE() << "no spec named " << name.str();
  return "";
}

/// Row `b` of the [B, L] int32 tensor `t`.
std::vector<int32_t> rowOf(const HostTensor &t, int64_t b) {
  int64_t width = t.shape[1];
  return std::vector<int32_t>(t.ints.begin() + b * width,
                              t.ints.begin() + (b + 1) * width);
}

// Packed documents by default: equal lengths give q and kv the same ids, a
// shorter side holds the last tokens' ids (q the tail of kv when decoding);
// each batch entry has its own, with more than one document.
TEST(ReferenceTest, DocumentIdsArePackedSequences) {
  std::unique_ptr<Problem> problem = load(specPath("document_ids"));
  ASSERT_TRUE(problem);
  int64_t documents = 0;
  for (auto [Lq, Lkv] :
       {std::pair<int64_t, int64_t>{100, 100}, {30, 100}, {1, 77}, {100, 30}}) {
    SCOPED_TRACE("q_len " + std::to_string(Lq) + " kv_len " +
                 std::to_string(Lkv));
    makeInputs(*problem, 3, Lq, Lkv, /*seed=*/7);
    const HostTensor &docQ = problem->tensors["doc_q"],
                     &docKV = problem->tensors["doc_kv"];
    ASSERT_EQ(docQ.shape, (std::vector<int64_t>{3, Lq}));
    ASSERT_EQ(docKV.shape, (std::vector<int64_t>{3, Lkv}));
    for (int64_t b = 0; b < 3; ++b) {
      std::vector<int32_t> q = rowOf(docQ, b), kv = rowOf(docKV, b);
      EXPECT_TRUE(std::is_sorted(q.begin(), q.end()));
      EXPECT_TRUE(std::is_sorted(kv.begin(), kv.end()));
      const std::vector<int32_t> &shorter = Lq <= Lkv ? q : kv,
                                 &longer = Lq <= Lkv ? kv : q;
      EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(),
                             longer.end() - shorter.size()))
          << "batch " << b;
      documents += longer.back() - longer.front() + 1;
    }
    EXPECT_NE(rowOf(docKV, 0), rowOf(docKV, 1));
  }
  EXPECT_GT(documents, 4 * 3);

  // --independent-documents: each side draws its own.
  InputOptions independent;
  independent.independentDocuments = true;
  makeInputs(*problem, 1, 100, 100, /*seed=*/7, independent);
  EXPECT_NE(problem->tensors["doc_q"].ints, problem->tensors["doc_kv"].ints);
}

// The same for documents by cumulative lengths: q's bounds are kv's shifted
// by Lkv - Lq and clamped to [0, Lq].
TEST(ReferenceTest, DocumentBoundsArePackedSequences) {
  std::unique_ptr<Problem> problem = load(specPath("document_cu_seqlens"));
  ASSERT_TRUE(problem);
  for (auto [Lq, Lkv] :
       {std::pair<int64_t, int64_t>{100, 100}, {30, 100}, {100, 30}}) {
    SCOPED_TRACE("q_len " + std::to_string(Lq) + " kv_len " +
                 std::to_string(Lkv));
    makeInputs(*problem, 3, Lq, Lkv, /*seed=*/5);
    const HostTensor &cuQ = problem->tensors["cu_seqlens_q"],
                     &cuKV = problem->tensors["cu_seqlens_kv"];
    ASSERT_EQ(cuQ.shape, (std::vector<int64_t>{3, 4}));
    // The longer side holds the sequence's bounds, the shorter side them
    // shifted to its end.
    bool qShorter = Lq <= Lkv;
    const HostTensor &shorter = qShorter ? cuQ : cuKV,
                     &longer = qShorter ? cuKV : cuQ;
    int64_t len = std::min(Lq, Lkv), shift = std::max(Lq, Lkv) - len;
    for (int64_t i = 0; i < 3 * 4; ++i)
      EXPECT_EQ(shorter.ints[i],
                std::clamp<int64_t>(longer.ints[i] - shift, 0, len));
  }
  InputOptions independent;
  independent.independentDocuments = true;
  makeInputs(*problem, 2, 100, 100, /*seed=*/5, independent);
  EXPECT_NE(problem->tensors["cu_seqlens_q"].ints,
            problem->tensors["cu_seqlens_kv"].ints);
}

// Ragged storage: each packed sequence's ids are shared by its q and kv
// tokens (equal lengths per sequence).
TEST(ReferenceTest, RaggedDocumentIdsArePackedPerSequence) {
  std::unique_ptr<Problem> problem = load(specPath("ragged_documents"));
  ASSERT_TRUE(problem);
  makeInputs(*problem, 4, 90, 90, /*seed=*/3);
  EXPECT_EQ(problem->tensors["cu_seqlens_q"].ints,
            problem->tensors["cu_seqlens_kv"].ints);
  EXPECT_EQ(problem->tensors["doc_q"].ints, problem->tensors["doc_kv"].ints);
  EXPECT_EQ(problem->tensors["doc_q"].ints.size(),
            size_t(problem->geometry.tokensQ));
}
