//===- attn-run.cpp - Compile, run and check an attention spec ------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// attn-run SPEC.yaml [--check] [--bench] [--explain] [--batch N]
//                    [--q-len N] [--kv-len N] [--seed N] [--threads N]
//
// Compiles the spec for the CPU (through the on-disk cache), creates random
// inputs and valid random operands, runs the kernel through the runtime and
// optionally compares it with a float64 reference, times it, or prints the
// tile classification of its mask.
//
//===----------------------------------------------------------------------===//

#include "NpyIO.h"
#include "attn/Driver/Driver.h"
#include "attn/Reference/RandomInputs.h"
#include "attn/Reference/Reference.h"
#include "attn/runtime/ArtifactCache.h"
#include "attn/runtime/Compare.h"
#include "attn/runtime/Kernel.h"
#include "attn/runtime/ThreadPool.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::attn;
namespace cl = llvm::cl;

namespace {
cl::OptionCategory category("attn-run options");
cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<spec.yaml>"),
                                   cl::Required, cl::cat(category));
cl::opt<bool> check("check", cl::desc("Compare with a float64 reference"),
                    cl::cat(category));
cl::opt<bool> bench("bench", cl::desc("Time the kernel and print GFLOP/s"),
                    cl::cat(category));
cl::opt<bool> explain("explain",
                      cl::desc("Print the mask's tile classification"),
                      cl::cat(category));
cl::opt<int64_t> batchSize("batch", cl::desc("Batch size"), cl::init(2),
                           cl::cat(category));
cl::opt<int64_t> qLenOpt("q-len",
                         cl::desc("Query length (default 256, or "
                                  "what the spec pins)"),
                         cl::init(-1), cl::cat(category));
cl::opt<int64_t> kvLenOpt("kv-len",
                          cl::desc("Key length (default: the query length)"),
                          cl::init(-1), cl::cat(category));
cl::opt<unsigned> seed("seed", cl::desc("Random seed"), cl::init(0),
                       cl::cat(category));
// `--threads N`: LLVM already registers a hidden option named `threads`,
// so this one is taken out of argv before the command line is parsed.
unsigned threads = 0;
cl::opt<int> repeats("repeats", cl::desc("Timed runs for --bench"),
                     cl::init(10), cl::cat(category));
cl::opt<std::string>
    saveDir("save",
            cl::desc("Write the spec, every input, operand and output as "
                     ".npy files into this directory (with --check also the "
                     "reference out/lse and the tolerance)"),
            cl::value_desc("dir"), cl::init(""), cl::cat(category));
cl::opt<std::string>
    loadDir("load",
            cl::desc("Run on the inputs and operands in this directory (as "
                     "--save writes them) instead of random ones"),
            cl::value_desc("dir"), cl::init(""), cl::cat(category));
cl::opt<std::string>
    maskSvg("mask-svg",
            cl::desc("Draw the mask (batch 0, head 0) with its tile grid"),
            cl::value_desc("file.svg"), cl::init(""), cl::cat(category));
cl::opt<int64_t> splitKVOverride(
    "split-kv",
    cl::desc("kv chunks per work item, instead of the spec's "
             "schedule.split_kv (1: no split; default: the spec's, else "
             "picked per launch)"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> dtypeOverride(
    "dtype", cl::desc("Run with this dtype instead of the spec's"),
    cl::value_desc("f32|f16|bf16"), cl::init(""), cl::cat(category));
cl::opt<bool> independentDocuments(
    "independent-documents",
    cl::desc("Draw the document ids (or cu_seqlens) of q and kv "
             "independently of each other; by default both are one packed "
             "sequence of documents, q the last tokens of kv when shorter"),
    cl::cat(category));
cl::opt<std::string> cacheDir("cache-dir",
                              cl::desc("Artifact cache (default: "
                                       "$ATTN_CACHE_DIR or ~/.cache/attn)"),
                              cl::init(""), cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "attn-run") << message << "\n";
  return 1;
}

/// Compiles the spec for the host CPU or takes it from the cache, and loads
/// it.
std::unique_ptr<attnrt::Kernel> compile(SpecCompiler &compiler,
                                        std::string &error) {
  attnrt::ArtifactCache cache(cacheDir);
  std::string warning;
  llvm::Expected<Artifact> artifact =
      compiler.compileCached(TargetOptions(), cache, &warning);
  if (!artifact) {
    error = llvm::toString(artifact.takeError());
    return nullptr;
  }
  if (!warning.empty())
    llvm::WithColor::warning(llvm::errs(), "attn-run") << warning << "\n";
  return attnrt::loadKernel("", artifact->bytes, artifact->manifest, error);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  std::vector<char *> kept;
  for (int i = 0; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    llvm::StringRef value;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 >= argc)
        return fail("--threads needs a value");
      value = argv[++i];
    } else if (arg.consume_front("--threads=") ||
               arg.consume_front("-threads=")) {
      value = arg;
    } else {
      kept.push_back(argv[i]);
      continue;
    }
    if (value.getAsInteger(10, threads))
      return fail("--threads expects a non-negative integer, got '" + value +
                  "'");
  }
  int keptCount = static_cast<int>(kept.size());
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      keptCount, kept.data(),
      "Attn: compile, run and check a spec on the CPU\n\n"
      "  --threads N   worker threads (default: all hardware threads)\n");

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &error);
  if (!input)
    return fail(error);
  std::string specText = input->getBuffer().str();

  SpecOverrides overrides;
  overrides.dtype = dtypeOverride;
  overrides.splitKV = splitKVOverride;
  if (splitKVOverride.getNumOccurrences() && splitKVOverride == 0)
    return fail("--split-kv must be in [1, " + llvm::Twine(kMaxKVSplits) +
                "], got 0");
  if (llvm::Error error = checkOverrides(overrides, "--dtype", "--split-kv"))
    return fail(llvm::toString(std::move(error)));
  SpecCompiler compiler(llvm::errs());
  if (failed(compiler.import(std::move(input), overrides)))
    return 1;
  AttentionOp op = compiler.op();

  // With --load, the sizes come from the saved q and k.
  if (!loadDir.empty()) {
    HostTensor q, k;
    if (!readNpy(loadDir + "/q.npy", q, error) ||
        !readNpy(loadDir + "/k.npy", k, error))
      return fail(error);
    int seqAxis = op.getLayout() == Layout::bhsd ? 2 : 1;
    KVStorage storage = op.getKvStorage();
    if (q.shape.size() != (storage == KVStorage::ragged ? 3u : 4u))
      return fail("--load: q.npy has rank " + llvm::Twine(q.shape.size()) +
                  ", expected " +
                  llvm::Twine(storage == KVStorage::ragged ? 3 : 4));
    if (storage == KVStorage::ragged) {
      // The longest sequences, from the cumulative lengths.
      HostTensor cuQ, cuKV;
      cuQ.dtype = cuKV.dtype = ATTN_I32;
      if (!readNpy(loadDir + "/cu_seqlens_q.npy", cuQ, error) ||
          !readNpy(loadDir + "/cu_seqlens_kv.npy", cuKV, error))
        return fail(error);
      if (cuQ.ints.size() < 1 || cuKV.ints.size() != cuQ.ints.size())
        return fail("--load: cu_seqlens_q.npy and cu_seqlens_kv.npy must "
                    "hold batch + 1 entries each");
      batchSize = int64_t(cuQ.ints.size()) - 1;
      int64_t longestQ = 0, longestKV = 0;
      for (size_t b = 0; b + 1 < cuQ.ints.size(); ++b) {
        longestQ = std::max<int64_t>(longestQ, cuQ.ints[b + 1] - cuQ.ints[b]);
        longestKV =
            std::max<int64_t>(longestKV, cuKV.ints[b + 1] - cuKV.ints[b]);
      }
      qLenOpt = longestQ;
      kvLenOpt = longestKV;
    } else if (storage == KVStorage::paged) {
      HostTensor seqlens;
      seqlens.dtype = ATTN_I32;
      if (!readNpy(loadDir + "/cache_seqlens.npy", seqlens, error))
        return fail(error);
      batchSize = q.shape[0];
      qLenOpt = q.shape[seqAxis];
      int64_t longest = 0;
      for (int32_t len : seqlens.ints)
        longest = std::max<int64_t>(longest, len);
      kvLenOpt = longest;
    } else {
      if (k.shape.size() != 4)
        return fail("--load: k.npy must have rank 4");
      batchSize = q.shape[0];
      qLenOpt = q.shape[seqAxis];
      kvLenOpt = k.shape[seqAxis];
    }
  }

  // Lengths: the options, or what the spec pins.
  ProblemShape shape = op.getProblemShape();
  int64_t pinned = shape.qLen;
  int64_t Lq = qLenOpt >= 0 ? qLenOpt.getValue()
                            : (ProblemShape::isKnown(pinned) ? pinned : 256);
  int64_t Lkv = kvLenOpt >= 0 ? kvLenOpt.getValue() : Lq;
  if (ProblemShape::isKnown(pinned) && (Lq != pinned || Lkv != pinned))
    return fail("the spec's neighborhood grid pins the sequence length to " +
                llvm::Twine(pinned) + "; --q-len and --kv-len must be " +
                llvm::Twine(pinned) + " or left out");
  if (batchSize < 1 || Lq < 1 || Lkv < 0)
    return fail("--batch and --q-len must be positive and --kv-len "
                "non-negative");
  // The inputs are held in float64 as well as in their dtype: bound the
  // largest tensor before anything is allocated.
  {
    constexpr int64_t kMaxElements = int64_t(1) << 30;
    int64_t elements = 0, len = std::max(Lq, Lkv);
    int64_t heads = std::max(shape.numQHeads, shape.numKVHeads);
    int64_t dim = std::max(shape.headDimQK, shape.headDimV);
    if (__builtin_mul_overflow(batchSize.getValue(), len, &elements) ||
        __builtin_mul_overflow(elements, heads, &elements) ||
        __builtin_mul_overflow(elements, dim, &elements) ||
        elements > kMaxElements)
      return fail("a run of batch " + llvm::Twine(batchSize.getValue()) +
                  " and length " + llvm::Twine(len) +
                  " needs tensors of more than 2^30 elements; use a smaller "
                  "--batch, --q-len or --kv-len");
  }

  std::unique_ptr<attnrt::Kernel> loaded = compile(compiler, error);
  if (!loaded)
    return error.empty() ? 1 : fail(error);
  attnrt::Kernel &kernel = *loaded;

  // Inputs.
  std::mt19937 rng(seed);
  InputOptions inputOptions;
  inputOptions.independentDocuments = independentDocuments;
  Geometry geometry = makeGeometry(op, batchSize, Lq, Lkv, rng, inputOptions);
  std::map<std::string, HostTensor> tensors;
  for (const attnrt::ParamSpec &p : kernel.params())
    if (!p.internal)
      tensors[p.name] = makeInput(p, op, geometry, rng);
  if (tensors.count("kv_num_blocks"))
    fillBlockSparse(tensors["kv_num_blocks"], tensors["kv_indices"], rng);
  if (!loadDir.empty())
    for (auto &[name, t] : tensors) {
      if (name == "out" || name == "lse")
        continue;
      if (!readNpy(loadDir + "/" + name + ".npy", t, error))
        return fail(error);
    }
  if (!loadDir.empty() && op.getKvStorage() != KVStorage::contiguous) {
    // The loaded sequences' lengths, for the work count of --bench; the
    // lists must cover the batch before they are read.
    bool paged = op.getKvStorage() == KVStorage::paged;
    static const std::vector<int32_t> none;
    auto ints = [&](const char *name) -> const std::vector<int32_t> & {
      auto it = tensors.find(name);
      return it == tensors.end() ? none : it->second.ints;
    };
    const std::vector<int32_t> &seqlens = ints("cache_seqlens"),
                               &cuQ = ints("cu_seqlens_q"),
                               &cuKV = ints("cu_seqlens_kv");
    size_t need = size_t(batchSize) + (paged ? 0 : 1);
    if ((paged ? seqlens.size() : std::min(cuQ.size(), cuKV.size())) < need)
      return fail("--load: " +
                  llvm::Twine(paged
                                  ? "cache_seqlens.npy"
                                  : "cu_seqlens_q.npy and cu_seqlens_kv.npy") +
                  " must hold " + llvm::Twine(need) + " entries");
    for (int64_t b = 0; b < batchSize; ++b) {
      if (paged) {
        geometry.kvLens[b] = seqlens[b];
        continue;
      }
      geometry.qLens[b] = int64_t(cuQ[b + 1]) - cuQ[b];
      geometry.kvLens[b] = int64_t(cuKV[b + 1]) - cuKV[b];
    }
  }
  std::map<std::string, attn_tensor> args;
  for (auto &[name, t] : tensors) {
    args[name] = t.view();
    if (t.dtype == ATTN_I32 && !t.ints.empty())
      args[name].data = t.ints.data();
  }

  attnrt::LaunchOptions launch;
  launch.numThreads = threads;
  if (!kernel.launch(args, launch, error))
    return fail(error);
  llvm::outs() << "ran " << kernel.name() << ": batch=" << batchSize
               << " q_len=" << Lq << " kv_len=" << Lkv;
  if (op.getKvStorage() != KVStorage::contiguous)
    llvm::outs() << " (longest; " << stringifyKVStorage(op.getKvStorage())
                 << " storage)";
  llvm::outs() << " threads=" << attnrt::resolveThreads(threads)
               << " kv_splits=" << kernel.kvSplits(args, launch) << "\n";

  if (explain) {
    // Batch entry 0, head 0: operand-dependent masks differ per entry.
    std::vector<int32_t> kinds;
    int64_t qTiles = 0, kvTiles = 0;
    if (!kernel.tileKinds(args, 0, 0, kinds, qTiles, kvTiles, error))
      return fail(error);
    int64_t counts[3] = {0, 0, 0};
    for (int32_t kind : kinds)
      ++counts[kind];
    double skipped = kinds.empty() ? 0 : double(counts[0]) / kinds.size();
    llvm::outs() << llvm::formatv(
        "tiles (batch 0, head 0): empty={0} full={1} partial={2} "
        "skipped={3:P}\n",
        counts[0], counts[1], counts[2], skipped);
  }

  if (!maskSvg.empty()) {
    if (!op.getMaskAttr())
      return fail("--mask-svg: the spec has no mask");
    std::string svg;
    if (!kernel.maskSvg(args, 0, 0, svg, error))
      return fail(error);
    std::error_code ec;
    llvm::raw_fd_ostream file(maskSvg, ec);
    if (ec)
      return fail("cannot write '" + maskSvg + "': " + ec.message());
    file << svg;
  }

  if (!saveDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(saveDir))
      return fail("cannot create '" + saveDir + "': " + ec.message());
    for (auto &[name, t] : tensors) {
      if (name == "out" || name == "lse")
        t.readBack();
      if (!writeNpy(saveDir + "/" + name + ".npy", t, error))
        return fail(error);
    }
    // --dtype and --split-kv change the kernel: the saved spec has them in
    // its fields, so that it describes the kernel that ran.
    FailureOr<std::string> savedSpec =
        writeOverridesIntoSpec(specText, overrides, error);
    if (failed(savedSpec))
      return fail("--save: " + error);
    std::error_code ec;
    llvm::raw_fd_ostream spec(saveDir + "/spec.yaml", ec);
    if (ec)
      return fail("cannot write the spec into '" + saveDir + "'");
    spec << *savedSpec;
    if (!overrides.dtype.empty() || overrides.splitKV) {
      if (!llvm::StringRef(*savedSpec).ends_with("\n"))
        spec << "\n";
      spec << "# attn-run";
      if (!overrides.dtype.empty())
        spec << " --dtype " << overrides.dtype;
      if (overrides.splitKV)
        spec << " --split-kv " << overrides.splitKV;
      spec << ": written into the fields above\n";
    }
  }

  int status = 0;
  if (check) {
    std::vector<double> refOut, refLse;
    ReferenceOptions referenceOptions;
    referenceOptions.numThreads = threads;
    if (failed(computeReference(op, tensors, refOut, refLse, referenceOptions)))
      return 1;
    double tolerance = tensors["q"].dtype == ATTN_F32 ? 1e-5 : 1e-2;
    if (!saveDir.empty()) {
      // The float64 reference (stored as f32) and the tolerance, for
      // checking another target's kernel on these inputs (attn-gpu-check).
      auto saveReference = [&](const char *name, const HostTensor &like,
                               const std::vector<double> &values) {
        HostTensor ref;
        ref.dtype = ATTN_F32;
        ref.shape = like.shape;
        ref.values = values;
        return writeNpy(saveDir + "/" + name, ref, error);
      };
      if (!saveReference("reference_out.npy", tensors["out"], refOut) ||
          (tensors.count("lse") &&
           !saveReference("reference_lse.npy", tensors["lse"], refLse)))
        return fail(error);
      std::error_code ec;
      llvm::raw_fd_ostream file(saveDir + "/tolerance.txt", ec);
      if (ec)
        return fail("cannot write the tolerance into '" + saveDir + "'");
      file << llvm::formatv("{0:e}\n", tolerance);
    }
    tensors["out"].readBack();
    bool mismatch = false;
    double err = attnrt::relativeError(tensors["out"].values, refOut, mismatch);
    if (tensors.count("lse")) {
      tensors["lse"].readBack();
      err = std::max(
          err, attnrt::relativeError(tensors["lse"].values, refLse, mismatch));
    }
    bool ok = !mismatch && err <= tolerance;
    llvm::outs() << llvm::formatv("max_rel_err={0:e} tolerance={1:e} {2}\n",
                                  err, tolerance, ok ? "PASS" : "FAIL");
    if (mismatch)
      llvm::outs() << "error: NaN or a misplaced infinity in the output\n";
    if (!ok)
      status = 1;
  }

  if (bench) {
    // Warm up caches, page tables and clocks before timing.
    for (int r = 0; r < 3; ++r)
      kernel.launch(args, launch, error);
    std::vector<double> ms;
    for (int r = 0; r < std::max(1, repeats.getValue()); ++r) {
      auto start = std::chrono::steady_clock::now();
      kernel.launch(args, launch, error);
      auto stop = std::chrono::steady_clock::now();
      ms.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    // Only visible (unmasked) query-key pairs count as work, summed over
    // batch entries and heads with this run's operands.
    double pairs = countVisiblePairs(op, tensors, geometry);
    double flops = 2.0 * pairs * double(shape.headDimQK + shape.headDimV);
    llvm::outs() << llvm::formatv(
        "median_ms={0:f3} gflops={1:f2} (visible query-key pairs only)\n",
        median, flops / (median * 1e6));
  }
  return status;
}
