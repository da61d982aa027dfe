//===- Reference.cpp - A float64 reference of attn.attention --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/Reference.h"
#include "attn/Analysis/MaskAnalysis.h"
#include "attn/runtime/Tensor.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>
#include <limits>

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
    }
  }
}

//===----------------------------------------------------------------------===//
// The score_mod region, interpreted in float64
//===----------------------------------------------------------------------===//

static FailureOr<double> interpretScoreMod(Block &body,
                                           ArrayRef<double> arguments) {
  llvm::DenseMap<Value, double> env;
  for (auto [arg, value] : llvm::zip(body.getArguments(), arguments))
    env[arg] = value;
  for (Operation &op : body) {
    if (auto yield = dyn_cast<YieldOp>(op))
      return env.lookup(yield.getValues()[0]);
    auto in = [&](unsigned i) { return env.lookup(op.getOperand(i)); };
    std::optional<double> result =
        llvm::TypeSwitch<Operation *, std::optional<double>>(&op)
            .Case([&](arith::ConstantOp c) -> std::optional<double> {
              if (auto f = dyn_cast<FloatAttr>(c.getValue()))
                return f.getValueAsDouble();
              if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
                return static_cast<double>(i.getValue().getSExtValue() != 0 &&
                                                   i.getType().isInteger(1)
                                               ? 1
                                               : i.getInt());
              return std::nullopt;
            })
            .Case([&](arith::AddFOp) { return in(0) + in(1); })
            .Case([&](arith::SubFOp) { return in(0) - in(1); })
            .Case([&](arith::MulFOp) { return in(0) * in(1); })
            .Case([&](arith::DivFOp) { return in(0) / in(1); })
            .Case([&](arith::NegFOp) { return -in(0); })
            .Case([&](arith::MaximumFOp) { return std::fmax(in(0), in(1)); })
            .Case([&](arith::MinimumFOp) { return std::fmin(in(0), in(1)); })
            .Case([&](arith::SelectOp) { return in(0) != 0 ? in(1) : in(2); })
            .Case([&](arith::AndIOp) {
              return double((in(0) != 0) && (in(1) != 0));
            })
            .Case([&](arith::OrIOp) {
              return double((in(0) != 0) || (in(1) != 0));
            })
            .Case([&](arith::XOrIOp) {
              return double((in(0) != 0) != (in(1) != 0));
            })
            .Case([&](arith::IndexCastOp) { return in(0); })
            .Case([&](arith::SIToFPOp) { return in(0); })
            .Case([&](arith::CmpFOp c) -> std::optional<double> {
              double a = in(0), b = in(1);
              switch (c.getPredicate()) {
              case arith::CmpFPredicate::OLT:
                return double(a < b);
              case arith::CmpFPredicate::OLE:
                return double(a <= b);
              case arith::CmpFPredicate::OGT:
                return double(a > b);
              case arith::CmpFPredicate::OGE:
                return double(a >= b);
              case arith::CmpFPredicate::OEQ:
                return double(a == b);
              case arith::CmpFPredicate::UNE:
                return double(a != b);
              default:
                return std::nullopt;
              }
            })
            .Case([&](math::AbsFOp) { return std::fabs(in(0)); })
            .Case([&](math::ExpOp) { return std::exp(in(0)); })
            .Case([&](math::LogOp) { return std::log(in(0)); })
            .Case([&](math::SqrtOp) { return std::sqrt(in(0)); })
            .Case([&](math::TanhOp) { return std::tanh(in(0)); })
            .Default([](Operation *) { return std::nullopt; });
    if (!result)
      return op.emitOpError() << "is not supported by the float64 reference";
    env[op.getResult(0)] = *result;
  }
  return failure();
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

LogicalResult mlir::attn::computeReference(
    AttentionOp op, std::map<std::string, HostTensor> &tensors,
    std::vector<double> &out, std::vector<double> &lse) {
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
  // Element (b, s, h, d) of q/out (`isKV` false) or k/v (`isKV` true).
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
  auto at = [&](const HostTensor &t, int64_t b, int64_t s, int64_t h,
                int64_t d) {
    return t.values[index(t.shape, &t != &q, b, s, h, d)];
  };
  int64_t maxKVLen = 0, qRows = 0;
  for (int64_t b = 0; b < B; ++b) {
    maxKVLen = std::max(maxKVLen, kvLenOf(b));
    qRows += qLenOf(b);
  }

  double scale = op.getScaleOrDefault();
  NormalizerAttr normalizer = op.getNormalizerOrDefault();
  SmallVector<double> slopes = AlibiAttr::getStandardSlopes(Hq);

  mask::Node maskModel;
  MaskAttrInterface maskAttr = op.getMaskAttr();
  if (maskAttr)
    maskModel = buildMaskModel(maskAttr);
  mask::Data batchData = maskData(tensors, 0, 0);

  // Ragged storage: the packed rows that no sequence covers are left to the
  // caller (NaN here: not compared); q may hold more tokens than cu_seqlens
  // spans.
  if (ragged)
    qRows = q.shape[0];
  double uncovered = ragged ? std::numeric_limits<double>::quiet_NaN() : 0.0;
  out.assign(qRows * Hq * Dv, uncovered);
  lse.assign(qRows * Hq,
             ragged ? uncovered : -std::numeric_limits<double>::infinity());
  std::vector<double> scores(maxKVLen);
  std::vector<bool> visible(maxKVLen);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t Lq = qLenOf(b), Lkv = kvLenOf(b);
      int64_t offset = Lkv - Lq;
      // This sequence's lengths (and packed document ids, when ragged).
      mask::Data data =
          mask::sequenceData(batchData, Lq, Lkv, ragged ? cuQ->ints[b] : 0,
                             ragged ? cuKV->ints[b] : 0);
      int64_t kvh = h / (Hq / Hkv);
      for (int64_t qi = 0; qi < Lq; ++qi) {
        for (int64_t ki = 0; ki < Lkv; ++ki) {
          visible[ki] =
              !maskAttr || mask::isVisible(maskModel, data, b, h, qi, ki);
          if (!visible[ki])
            continue;
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += at(q, b, qi, h, d) * at(k, b, ki, kvh, d);
          s *= scale;
          if (ArrayAttr mods = op.getScoreModsAttr())
            for (Attribute mod : mods) {
              if (auto cap = dyn_cast<SoftcapAttr>(mod)) {
                double c = cap.getCap().convertToDouble();
                s = c * std::tanh(s / c);
              } else if (auto alibi = dyn_cast<AlibiAttr>(mod)) {
                double slope = alibi.getSlopes() == SlopeSource::operand
                                   ? find("alibi_slopes")->values[h]
                                   : slopes[h];
                s -= slope * std::fabs(double(qi + offset - ki));
              } else if (auto bias = dyn_cast<BiasAttr>(mod)) {
                const HostTensor *t = find("bias");
                SmallVector<int64_t> index;
                for (BiasDim dim : bias.getDims())
                  index.push_back(dim == BiasDim::b   ? b
                                  : dim == BiasDim::h ? h
                                  : dim == BiasDim::q ? qi
                                                      : ki);
                s += t->values[offsetOf(t->shape, index)];
              } else if (isa<ScoreModMarkerAttr>(mod)) {
                SmallVector<double> args = {s, double(b), double(h), double(qi),
                                            double(ki)};
                if (const HostTensor *p = find("head_params"))
                  for (int64_t i = 0; i < p->shape[1]; ++i)
                    args.push_back(p->values[h * p->shape[1] + i]);
                FailureOr<double> r =
                    interpretScoreMod(op.getScoreMod().front(), args);
                if (failed(r))
                  return failure();
                s = *r;
              }
            }
          scores[ki] = s;
        }
        // Normalize.
        std::vector<double> weights(Lkv, 0.0);
        double rowLse = -std::numeric_limits<double>::infinity();
        double denom = 1.0;
        NormalizerKind kind = normalizer.getKind();
        if (normalizer.hasLse()) {
          double m = -std::numeric_limits<double>::infinity();
          for (int64_t ki = 0; ki < Lkv; ++ki)
            if (visible[ki])
              m = std::max(m, scores[ki]);
          bool hasSink = kind != NormalizerKind::softmax;
          double z = kind == NormalizerKind::softmax_with_sink
                         ? find("sink")->values[h]
                         : 0.0;
          if (hasSink)
            m = std::max(m, z);
          if (std::isinf(m) && m < 0) {
            denom = 0;
          } else {
            double sum = hasSink ? std::exp(z - m) : 0.0;
            for (int64_t ki = 0; ki < Lkv; ++ki)
              if (visible[ki]) {
                weights[ki] = std::exp(scores[ki] - m);
                sum += weights[ki];
              }
            denom = sum;
            rowLse = m + std::log(sum);
          }
        } else {
          double bias = normalizer.getBias().convertToDouble();
          for (int64_t ki = 0; ki < Lkv; ++ki)
            if (visible[ki])
              weights[ki] = kind == NormalizerKind::sigmoid
                                ? 1.0 / (1.0 + std::exp(-(scores[ki] + bias)))
                                : scores[ki];
        }
        for (int64_t d = 0; d < Dv; ++d) {
          double acc = 0;
          if (denom != 0)
            for (int64_t ki = 0; ki < Lkv; ++ki)
              if (visible[ki])
                acc += weights[ki] * at(v, b, ki, kvh, d);
          std::vector<int64_t> outShape =
              ragged ? std::vector<int64_t>{qRows, Hq, Dv}
              : bhsd ? std::vector<int64_t>{B, Hq, Lq, Dv}
                     : std::vector<int64_t>{B, Lq, Hq, Dv};
          out[index(outShape, false, b, qi, h, d)] =
              denom != 0 ? acc / denom : 0.0;
        }
        // lse: [B, Hq, Lq], or [Hq, tokens_q] with ragged storage.
        lse[ragged ? h * qRows + cuQ->ints[b] + qi : (b * Hq + h) * Lq + qi] =
            rowLse;
      }
    }
  return success();
}
