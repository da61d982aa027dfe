//===- Reference.cpp - A float64 reference of attn.attention --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/Reference.h"
#include "attn/Analysis/MaskAnalysis.h"
#include "attn/runtime/Tensor.h"
#include "attn/runtime/ThreadPool.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>

using namespace mlir;
using namespace mlir::attn;
namespace mask = attnrt::mask;

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

double mlir::attn::roundTo(attn_dtype dtype, double x) {
  switch (dtype) {
  case ATTN_F32:
    return static_cast<float>(x);
  case ATTN_F16:
    return attnrt::f16ToFloat(attnrt::floatToF16(static_cast<float>(x)));
  case ATTN_BF16:
    return attnrt::bf16ToFloat(attnrt::floatToBF16(static_cast<float>(x)));
  case ATTN_I32:
    return std::nearbyint(x);
  case ATTN_DTYPE_FORCE_INT32: // not a dtype
    break;
  }
  return x;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

attn_tensor HostTensor::view() {
  int64_t n = numElements();
  void *data = nullptr;
  switch (dtype) {
  case ATTN_F32:
    single.resize(n);
    for (int64_t i = 0; i < n && !values.empty(); ++i)
      single[i] = static_cast<float>(values[i]);
    data = single.data();
    break;
  case ATTN_F16:
  case ATTN_BF16:
    half.resize(n);
    for (int64_t i = 0; i < n && !values.empty(); ++i)
      half[i] = dtype == ATTN_F16
                    ? attnrt::floatToF16(static_cast<float>(values[i]))
                    : attnrt::floatToBF16(static_cast<float>(values[i]));
    data = half.data();
    break;
  case ATTN_I32:
    ints.resize(n);
    data = ints.data();
    break;
  case ATTN_DTYPE_FORCE_INT32: // not a dtype
    break;
  }
  // A tensor with no elements still needs a valid pointer.
  if (!data) {
    static int32_t dummy;
    data = &dummy;
  }
  return attnrt::denseView(data, dtype, shape, ATTN_DEVICE_CPU);
}

void HostTensor::readBack() {
  int64_t n = numElements();
  values.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
    case ATTN_F32:
      values[i] = single[i];
      break;
    case ATTN_F16:
      values[i] = attnrt::f16ToFloat(half[i]);
      break;
    case ATTN_BF16:
      values[i] = attnrt::bf16ToFloat(half[i]);
      break;
    case ATTN_I32:
      values[i] = ints[i];
      break;
    case ATTN_DTYPE_FORCE_INT32: // not a dtype
      break;
    }
  }
}

//===----------------------------------------------------------------------===//
// The score_mod region, interpreted in float64
//===----------------------------------------------------------------------===//

namespace {

/// The score_mod region as straight-line code over numbered slots, built
/// once before the rows are computed (so that no diagnostic comes from a
/// worker thread, and no map is built per pair). Slot 0 holds 0, the value
/// of anything the region does not define; the block's arguments follow.
class ScoreModProgram {
public:
  /// Fails with an error on the first operation the reference does not
  /// interpret.
  static FailureOr<ScoreModProgram> compile(Block &body);

  /// The region's result for `arguments` (score, b, h, q, k, head
  /// parameters), with `slots` as scratch.
  double run(ArrayRef<double> arguments, std::vector<double> &slots) const;

private:
  enum class Code {
    Constant,
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Maximum,
    Minimum,
    Select,
    And,
    Or,
    Xor,
    Copy,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    Abs,
    Exp,
    Log,
    Sqrt,
    Tanh,
  };
  struct Instruction {
    Code code;
    unsigned result;
    unsigned operands[3] = {0, 0, 0};
    double constant = 0;
  };

  std::vector<Instruction> instructions;
  unsigned numArguments = 0, numSlots = 0, resultSlot = 0;
};

} // namespace

FailureOr<ScoreModProgram> ScoreModProgram::compile(Block &body) {
  ScoreModProgram program;
  llvm::DenseMap<Value, unsigned> slotOf;
  unsigned next = 1;
  for (BlockArgument arg : body.getArguments())
    slotOf[arg] = next++;
  program.numArguments = body.getNumArguments();
  for (Operation &op : body) {
    if (auto yield = dyn_cast<YieldOp>(op)) {
      program.resultSlot = slotOf.lookup(yield.getValues()[0]);
      program.numSlots = next;
      return program;
    }
    Instruction inst;
    std::optional<Code> code =
        llvm::TypeSwitch<Operation *, std::optional<Code>>(&op)
            .Case([&](arith::ConstantOp c) -> std::optional<Code> {
              if (auto f = dyn_cast<FloatAttr>(c.getValue())) {
                inst.constant = f.getValueAsDouble();
                return Code::Constant;
              }
              if (auto i = dyn_cast<IntegerAttr>(c.getValue())) {
                inst.constant = static_cast<double>(
                    i.getValue().getSExtValue() != 0 && i.getType().isInteger(1)
                        ? 1
                        : i.getInt());
                return Code::Constant;
              }
              return std::nullopt;
            })
            .Case([](arith::AddFOp) { return Code::Add; })
            .Case([](arith::SubFOp) { return Code::Sub; })
            .Case([](arith::MulFOp) { return Code::Mul; })
            .Case([](arith::DivFOp) { return Code::Div; })
            .Case([](arith::NegFOp) { return Code::Neg; })
            .Case([](arith::MaximumFOp) { return Code::Maximum; })
            .Case([](arith::MinimumFOp) { return Code::Minimum; })
            .Case([](arith::SelectOp) { return Code::Select; })
            .Case([](arith::AndIOp) { return Code::And; })
            .Case([](arith::OrIOp) { return Code::Or; })
            .Case([](arith::XOrIOp) { return Code::Xor; })
            .Case([](arith::IndexCastOp) { return Code::Copy; })
            .Case([](arith::SIToFPOp) { return Code::Copy; })
            .Case([](arith::CmpFOp c) -> std::optional<Code> {
              switch (c.getPredicate()) {
              case arith::CmpFPredicate::OLT:
                return Code::Less;
              case arith::CmpFPredicate::OLE:
                return Code::LessEqual;
              case arith::CmpFPredicate::OGT:
                return Code::Greater;
              case arith::CmpFPredicate::OGE:
                return Code::GreaterEqual;
              case arith::CmpFPredicate::OEQ:
                return Code::Equal;
              case arith::CmpFPredicate::UNE:
                return Code::NotEqual;
              default:
                return std::nullopt;
              }
            })
            .Case([](math::AbsFOp) { return Code::Abs; })
            .Case([](math::ExpOp) { return Code::Exp; })
            .Case([](math::LogOp) { return Code::Log; })
            .Case([](math::SqrtOp) { return Code::Sqrt; })
            .Case([](math::TanhOp) { return Code::Tanh; })
            .Default([](Operation *) { return std::nullopt; });
    if (!code || op.getNumResults() != 1 || op.getNumOperands() > 3)
      return op.emitOpError() << "is not supported by the float64 reference";
    inst.code = *code;
    for (auto [i, operand] : llvm::enumerate(op.getOperands()))
      inst.operands[i] = slotOf.lookup(operand); // 0 (the value 0) if unknown
    inst.result = next;
    slotOf[op.getResult(0)] = next++;
    program.instructions.push_back(inst);
  }
  return emitError(body.getParent()->getLoc())
         << "the score_mod region has no terminator";
}

double ScoreModProgram::run(ArrayRef<double> arguments,
                            std::vector<double> &slots) const {
  slots.assign(numSlots, 0.0);
  for (unsigned i = 0; i < numArguments && i < arguments.size(); ++i)
    slots[i + 1] = arguments[i];
  for (const Instruction &inst : instructions) {
    double a = slots[inst.operands[0]], b = slots[inst.operands[1]],
           c = slots[inst.operands[2]];
    double &r = slots[inst.result];
    switch (inst.code) {
    case Code::Constant:
      r = inst.constant;
      break;
    case Code::Add:
      r = a + b;
      break;
    case Code::Sub:
      r = a - b;
      break;
    case Code::Mul:
      r = a * b;
      break;
    case Code::Div:
      r = a / b;
      break;
    case Code::Neg:
      r = -a;
      break;
    case Code::Maximum:
      r = std::fmax(a, b);
      break;
    case Code::Minimum:
      r = std::fmin(a, b);
      break;
    case Code::Select:
      r = a != 0 ? b : c;
      break;
    case Code::And:
      r = double((a != 0) && (b != 0));
      break;
    case Code::Or:
      r = double((a != 0) || (b != 0));
      break;
    case Code::Xor:
      r = double((a != 0) != (b != 0));
      break;
    case Code::Copy:
      r = a;
      break;
    case Code::Less:
      r = double(a < b);
      break;
    case Code::LessEqual:
      r = double(a <= b);
      break;
    case Code::Greater:
      r = double(a > b);
      break;
    case Code::GreaterEqual:
      r = double(a >= b);
      break;
    case Code::Equal:
      r = double(a == b);
      break;
    case Code::NotEqual:
      r = double(a != b);
      break;
    case Code::Abs:
      r = std::fabs(a);
      break;
    case Code::Exp:
      r = std::exp(a);
      break;
    case Code::Log:
      r = std::log(a);
      break;
    case Code::Sqrt:
      r = std::sqrt(a);
      break;
    case Code::Tanh:
      r = std::tanh(a);
      break;
    }
  }
  return slots[resultSlot];
}

//===----------------------------------------------------------------------===//
// The reference
//===----------------------------------------------------------------------===//

mask::Data
mlir::attn::maskData(const std::map<std::string, HostTensor> &tensors,
                     int64_t Lq, int64_t Lkv) {
  // Views of the int32 operands, as a launch would pass them.
  attnrt::Args args;
  for (const auto &[name, t] : tensors) {
    if (t.dtype != ATTN_I32)
      continue;
    args[name] = attnrt::denseView(const_cast<int32_t *>(t.ints.data()),
                                   ATTN_I32, t.shape, ATTN_DEVICE_CPU);
  }
  return attnrt::maskData(args, Lq, Lkv);
}

/// Row-major offset of `index` in `shape`, broadcasting size-1 axes.
static int64_t offsetOf(ArrayRef<int64_t> shape, ArrayRef<int64_t> index) {
  int64_t offset = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    offset = offset * shape[i] + (shape[i] == 1 ? 0 : index[i]);
  return offset;
}

namespace {
/// One entry of the op's score modifier list, resolved before the rows are
/// computed.
struct ScoreMod {
  enum class Kind { Softcap, Alibi, Bias, Region } kind;
  double cap = 0;              ///< softcap
  bool slopeOperand = false;   ///< alibi: slopes from `alibi_slopes`
  SmallVector<BiasDim> dims{}; ///< bias: the axes of the `bias` operand
};
} // namespace

LogicalResult
mlir::attn::computeReference(AttentionOp op,
                             std::map<std::string, HostTensor> &tensors,
                             std::vector<double> &out, std::vector<double> &lse,
                             const ReferenceOptions &options) {
  const HostTensor &q = tensors.at("q"), &k = tensors.at("k"),
                   &v = tensors.at("v");
  auto find = [&](StringRef name) -> const HostTensor * {
    auto it = tensors.find(name.str());
    return it == tensors.end() ? nullptr : &it->second;
  };
  bool bhsd = op.getLayout() == Layout::bhsd;
  KVStorage storage = op.getKvStorage();
  bool ragged = storage == KVStorage::ragged,
       paged = storage == KVStorage::paged;
  ProblemShape shape = op.getProblemShape();
  int64_t Hq = shape.numQHeads, Hkv = shape.numKVHeads;
  int64_t D = shape.headDimQK, Dv = shape.headDimV;
  const HostTensor *cuQ = find("cu_seqlens_q"), *cuKV = find("cu_seqlens_kv");
  const HostTensor *blockTable = find("block_table"),
                   *cacheSeqlens = find("cache_seqlens");
  // Batch size, and every sequence's lengths and first token.
  int64_t B = ragged ? cuQ->shape[0] - 1 : q.shape[0];
  auto qLenOf = [&](int64_t b) -> int64_t {
    if (ragged)
      return cuQ->ints[b + 1] - cuQ->ints[b];
    return q.shape[bhsd ? 2 : 1];
  };
  auto kvLenOf = [&](int64_t b) -> int64_t {
    if (ragged)
      return cuKV->ints[b + 1] - cuKV->ints[b];
    if (paged)
      return cacheSeqlens->ints[b];
    return k.shape[bhsd ? 2 : 1];
  };
  // Element (b, s, h, d) of q/out (`isKV` false) or k/v (`isKV` true); the
  // head dimension d is contiguous.
  auto index = [&](const std::vector<int64_t> &tshape, bool isKV, int64_t b,
                   int64_t s, int64_t h, int64_t d) -> int64_t {
    if (ragged) {
      int64_t token = (isKV ? cuKV : cuQ)->ints[b] + s;
      return (token * tshape[1] + h) * tshape[2] + d;
    }
    if (paged && isKV) {
      int64_t pageSize = tshape[bhsd ? 2 : 1];
      int64_t maxPages = blockTable->shape[1];
      b = blockTable->ints[b * maxPages + s / pageSize];
      s %= pageSize;
    }
    int64_t H = bhsd ? tshape[1] : tshape[2];
    int64_t L = bhsd ? tshape[2] : tshape[1];
    int64_t Dim = tshape[3];
    return bhsd ? ((b * H + h) * L + s) * Dim + d
                : ((b * L + s) * H + h) * Dim + d;
  };
  int64_t maxQLen = 0, qRows = 0;
  for (int64_t b = 0; b < B; ++b) {
    maxQLen = std::max(maxQLen, qLenOf(b));
    qRows += qLenOf(b);
  }

  double scale = op.getScaleOrDefault();
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  NormalizerKind kind = normalizer.getKind();
  SmallVector<double> slopes = AlibiAttr::getStandardSlopes(Hq);
  const HostTensor *alibiSlopes = find("alibi_slopes"), *bias = find("bias"),
                   *headParams = find("head_params"), *sink = find("sink");

  // The score modifiers in order; the score_mod region is compiled once.
  SmallVector<ScoreMod> mods;
  std::optional<ScoreModProgram> region;
  if (ArrayAttr list = op.getScoreModsAttr())
    for (Attribute mod : list) {
      if (auto cap = dyn_cast<SoftcapAttr>(mod)) {
        mods.push_back({ScoreMod::Kind::Softcap});
        mods.back().cap = cap.getCap().convertToDouble();
      } else if (auto alibi = dyn_cast<AlibiAttr>(mod)) {
        mods.push_back({ScoreMod::Kind::Alibi});
        mods.back().slopeOperand = alibi.getSlopes() == SlopeSource::operand;
      } else if (auto biasMod = dyn_cast<BiasAttr>(mod)) {
        mods.push_back({ScoreMod::Kind::Bias});
        mods.back().dims.assign(biasMod.getDims().begin(),
                                biasMod.getDims().end());
      } else if (isa<ScoreModMarkerAttr>(mod)) {
        mods.push_back({ScoreMod::Kind::Region});
        if (!region) {
          FailureOr<ScoreModProgram> program =
              ScoreModProgram::compile(op.getScoreMod().front());
          if (failed(program))
            return failure();
          region = std::move(*program);
        }
      }
    }

  mask::Node maskModel;
  MaskAttrInterface maskAttr = op.getMaskAttr();
  if (maskAttr)
    maskModel = buildMaskModel(maskAttr);
  mask::Data batchData = maskData(tensors, 0, 0);
  // Each sequence's lengths (and packed document ids, when ragged).
  std::vector<mask::Data> sequences;
  for (int64_t b = 0; b < B; ++b)
    sequences.push_back(mask::sequenceData(batchData, qLenOf(b), kvLenOf(b),
                                           ragged ? cuQ->ints[b] : 0,
                                           ragged ? cuKV->ints[b] : 0));

  // Ragged storage: the packed rows that no sequence covers are left to the
  // caller (NaN here: not compared); q may hold more tokens than cu_seqlens
  // spans.
  if (ragged)
    qRows = q.shape[0];
  double uncovered = ragged ? std::numeric_limits<double>::quiet_NaN() : 0.0;
  out.assign(qRows * Hq * Dv, uncovered);
  lse.assign(qRows * Hq,
             ragged ? uncovered : -std::numeric_limits<double>::infinity());

  // Work items of kRowBlock rows of one (batch entry, head). Rows are
  // independent and each sums over its keys in increasing order, so the
  // result does not depend on the threads.
  constexpr int64_t kRowBlock = 64;
  int64_t rowBlocks = (maxQLen + kRowBlock - 1) / kRowBlock;
  int64_t items = B * Hq * rowBlocks;
  // The first (lowest) item whose visible runs disagree with isVisible,
  // and where.
  std::mutex disagreementMutex;
  int64_t disagreement = items, badQuery = 0, badKey = 0;

  auto computeItem = [&](int64_t item) {
    int64_t b = item / (Hq * rowBlocks), h = item / rowBlocks % Hq;
    int64_t Lq = qLenOf(b), Lkv = kvLenOf(b);
    int64_t q0 = item % rowBlocks * kRowBlock;
    int64_t q1 = std::min(Lq, q0 + kRowBlock);
    int64_t offset = Lkv - Lq;
    const mask::Data &data = sequences[b];
    int64_t kvh = h / (Hq / Hkv);
    std::vector<int64_t> outShape = ragged ? std::vector<int64_t>{qRows, Hq, Dv}
                                    : bhsd
                                        ? std::vector<int64_t>{B, Hq, Lq, Dv}
                                        : std::vector<int64_t>{B, Lq, Hq, Dv};
    std::vector<int64_t> keys; // the row's visible keys, increasing
    std::vector<double> scores, weights, acc(Dv), slots, arguments;
    std::vector<mask::Run> runs;
    for (int64_t qi = q0; qi < q1; ++qi) {
      keys.clear();
      if (!maskAttr) {
        for (int64_t ki = 0; ki < Lkv; ++ki)
          keys.push_back(ki);
      } else if (options.pairByPair) {
        for (int64_t ki = 0; ki < Lkv; ++ki)
          if (mask::isVisible(maskModel, data, b, h, qi, ki))
            keys.push_back(ki);
      } else {
        mask::visibleRuns(maskModel, data, b, h, qi, 0, Lkv, runs);
        for (const mask::Run &run : runs)
          for (int64_t ki = run.begin; ki < run.end; ++ki)
            keys.push_back(ki);
        // The first row of each item is also checked pair by pair against
        // the definition, isVisible.
        if (qi == q0) {
          size_t listed = 0;
          for (int64_t ki = 0; ki < Lkv; ++ki) {
            bool inRuns = listed < keys.size() && keys[listed] == ki;
            listed += inRuns;
            if (inRuns == mask::isVisible(maskModel, data, b, h, qi, ki))
              continue;
            std::lock_guard<std::mutex> lock(disagreementMutex);
            if (item < disagreement) {
              disagreement = item;
              badQuery = qi;
              badKey = ki;
            }
            return;
          }
        }
      }

      // q . k for each key, four keys at a time (independent sums, each
      // over d in increasing order).
      const double *qRow = &q.values[index(q.shape, false, b, qi, h, 0)];
      auto kRow = [&](size_t j) {
        return &k.values[index(k.shape, true, b, keys[j], kvh, 0)];
      };
      scores.resize(keys.size());
      size_t j = 0;
      for (; j + 4 <= keys.size(); j += 4) {
        const double *k0 = kRow(j), *k1 = kRow(j + 1), *k2 = kRow(j + 2),
                     *k3 = kRow(j + 3);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int64_t d = 0; d < D; ++d) {
          s0 += qRow[d] * k0[d];
          s1 += qRow[d] * k1[d];
          s2 += qRow[d] * k2[d];
          s3 += qRow[d] * k3[d];
        }
        scores[j] = s0;
        scores[j + 1] = s1;
        scores[j + 2] = s2;
        scores[j + 3] = s3;
      }
      for (; j < keys.size(); ++j) {
        const double *k0 = kRow(j);
        double s = 0;
        for (int64_t d = 0; d < D; ++d)
          s += qRow[d] * k0[d];
        scores[j] = s;
      }
      for (size_t j = 0; j < keys.size(); ++j) {
        int64_t ki = keys[j];
        double s = scores[j] * scale;
        for (const ScoreMod &mod : mods) {
          switch (mod.kind) {
          case ScoreMod::Kind::Softcap:
            s = mod.cap * std::tanh(s / mod.cap);
            break;
          case ScoreMod::Kind::Alibi: {
            double slope =
                mod.slopeOperand ? alibiSlopes->values[h] : slopes[h];
            s -= slope * std::fabs(double(qi + offset - ki));
            break;
          }
          case ScoreMod::Kind::Bias: {
            SmallVector<int64_t, 4> at;
            for (BiasDim dim : mod.dims)
              at.push_back(dim == BiasDim::b   ? b
                           : dim == BiasDim::h ? h
                           : dim == BiasDim::q ? qi
                                               : ki);
            s += bias->values[offsetOf(bias->shape, at)];
            break;
          }
          case ScoreMod::Kind::Region:
            arguments = {s, double(b), double(h), double(qi), double(ki)};
            if (headParams)
              for (int64_t i = 0; i < headParams->shape[1]; ++i)
                arguments.push_back(
                    headParams->values[h * headParams->shape[1] + i]);
            s = region->run(arguments, slots);
            break;
          }
        }
        scores[j] = s;
      }

      // Normalize.
      weights.assign(keys.size(), 0.0);
      double rowLse = -std::numeric_limits<double>::infinity();
      double denom = 1.0;
      if (normalizer.hasLse()) {
        double m = -std::numeric_limits<double>::infinity();
        for (double s : scores)
          m = std::max(m, s);
        bool hasSink = kind != NormalizerKind::softmax;
        double z =
            kind == NormalizerKind::softmax_with_sink ? sink->values[h] : 0.0;
        if (hasSink)
          m = std::max(m, z);
        if (std::isinf(m) && m < 0) {
          denom = 0;
        } else {
          double sum = hasSink ? std::exp(z - m) : 0.0;
          for (size_t j = 0; j < keys.size(); ++j) {
            weights[j] = std::exp(scores[j] - m);
            sum += weights[j];
          }
          denom = sum;
          rowLse = m + std::log(sum);
        }
      } else {
        double shift = normalizer.getBias().convertToDouble();
        for (size_t j = 0; j < keys.size(); ++j)
          weights[j] = kind == NormalizerKind::sigmoid
                           ? 1.0 / (1.0 + std::exp(-(scores[j] + shift)))
                           : scores[j];
      }
      // Each output element sums over the keys in increasing order.
      std::fill(acc.begin(), acc.end(), 0.0);
      if (denom != 0)
        for (size_t j = 0; j < keys.size(); ++j) {
          const double *vRow =
              &v.values[index(v.shape, true, b, keys[j], kvh, 0)];
          for (int64_t d = 0; d < Dv; ++d)
            acc[d] += weights[j] * vRow[d];
        }
      double *outRow = &out[index(outShape, false, b, qi, h, 0)];
      for (int64_t d = 0; d < Dv; ++d)
        outRow[d] = denom != 0 ? acc[d] / denom : 0.0;
      // lse: [B, Hq, Lq], or [Hq, tokens_q] with ragged storage.
      lse[ragged ? h * qRows + cuQ->ints[b] + qi : (b * Hq + h) * Lq + qi] =
          rowLse;
    }
  };
  attnrt::ThreadPool pool(options.numThreads);
  pool.parallelFor(items, computeItem);

  if (disagreement < items) {
    int64_t b = disagreement / (Hq * rowBlocks),
            h = disagreement / rowBlocks % Hq;
    return op.emitError() << "the mask model's visible runs disagree with "
                             "its pair-by-pair definition at batch "
                          << b << ", head " << h << ", query " << badQuery
                          << ", key " << badKey;
  }
  return success();
}
