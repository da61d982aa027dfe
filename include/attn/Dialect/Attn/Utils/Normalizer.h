//===- Normalizer.h - The normalizers' arithmetic, for every target -*- C++
//-*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The semantics of the normalizers (DESIGN.md, "Semantics") as IR builders
// that every lowering calls instead of writing the formulas again: the
// online-softmax step (running max, the rescale of the old state), the
// weight of one score, and a row's final output factor and log-sum-exp.
// They work on f32 scalars or vectors of f32 ("rows" of any width), so the
// CPU conversion, the split-KV combine and a GPU conversion on fragment
// registers share them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_UTILS_NORMALIZER_H
#define ATTN_DIALECT_ATTN_UTILS_NORMALIZER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include <limits>

namespace mlir::attn::norm {

/// `value` as a constant of `type` (f32, or a vector of f32 splat).
inline Value constantLike(ImplicitLocOpBuilder &b, Type type, double value) {
  Value scalar = arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  if (auto vector = dyn_cast<VectorType>(type))
    return vector::BroadcastOp::create(b, vector, scalar);
  return scalar;
}

inline Value isNegInf(ImplicitLocOpBuilder &b, Value x) {
  return arith::CmpFOp::create(
      b, arith::CmpFPredicate::OEQ, x,
      constantLike(b, x.getType(), -std::numeric_limits<double>::infinity()));
}

/// The exponent coefficient of the softmax family for scores in units of
/// `scale`: c = scale * log2(e), rounded once to f32, so that a weight is
/// exp2(s c - r c) = e^(scale (s - r)).
inline float exp2CoefficientValue(double scale) {
  return static_cast<float>(scale * 1.4426950408889634);
}
inline Value exp2Coefficient(ImplicitLocOpBuilder &b, Type type, double scale) {
  return constantLike(b, type, exp2CoefficientValue(scale));
}

/// One step of the online softmax for a row whose running max (in score
/// units) was `mOld` and whose new scores peak at `tileMax`: the new max,
/// the row's exponent offset `-r c` against the reference point r (the new
/// max, or 0 while every key so far is masked, so that no -inf - -inf
/// appears), and the factor `alpha` that rescales the old sum and
/// accumulator (0 while the old max was -inf).
struct MaxStep {
  Value max, offset, alpha;
};
inline MaxStep maxStep(ImplicitLocOpBuilder &b, Value mOld, Value tileMax,
                       double scale) {
  Type type = mOld.getType();
  Value zero = constantLike(b, type, 0.0);
  Value c = exp2Coefficient(b, type, scale);
  Value mNew = arith::MaximumFOp::create(b, mOld, tileMax);
  Value ref = arith::SelectOp::create(b, isNegInf(b, mNew), zero, mNew);
  Value offset = arith::NegFOp::create(b, arith::MulFOp::create(b, ref, c));
  // Operands built one statement at a time: the IR's op order must not
  // depend on the C++ compiler's order of evaluating arguments.
  Value rescale =
      math::Exp2Op::create(b, math::FmaOp::create(b, mOld, c, offset));
  Value oldMasked = isNegInf(b, mOld);
  Value alpha = arith::SelectOp::create(b, oldMasked, zero, rescale);
  return {mNew, offset, alpha};
}

/// The weight of score `s` (in units of `scale`; `offset` is its row's
/// MaxStep offset, splat like `s`, for the softmax family):
/// exp2(s c + offset) for the softmax family, sigmoid(scale s + bias) for
/// sigmoid, scale s for none; a masked key (-inf) weighs 0. A target whose
/// exp2 gives exactly 0 at -inf (PTX's ex2.approx; c > 0 and the offset is
/// finite) passes `exactExp2` to drop the softmax family's select.
inline Value weight(ImplicitLocOpBuilder &b, NormalizerAttr normalizer, Value s,
                    double scale, Value offset, bool exactExp2 = false) {
  Type type = s.getType();
  Value p;
  switch (normalizer.getKind()) {
  case NormalizerKind::sigmoid: {
    Value factor = constantLike(b, type, scale);
    Value bias = constantLike(b, type, normalizer.getBias().convertToDouble());
    Value x = math::FmaOp::create(b, s, factor, bias);
    Value e = math::ExpOp::create(b, arith::NegFOp::create(b, x));
    Value one = constantLike(b, type, 1.0);
    p = arith::DivFOp::create(b, one, arith::AddFOp::create(b, one, e));
    break;
  }
  case NormalizerKind::none:
    p = scale == 1.0 ? s
                     : arith::MulFOp::create(b, s, constantLike(b, type, scale))
                           .getResult();
    break;
  default:
    p = math::Exp2Op::create(
        b, math::FmaOp::create(b, s, exp2Coefficient(b, type, scale), offset));
    if (exactExp2)
      return p;
    break;
  }
  Value masked = isNegInf(b, s);
  return arith::SelectOp::create(b, masked, constantLike(b, type, 0.0), p);
}

/// A row's output factor (out = acc * factor) and log-sum-exp from its
/// running max `m` (in units of `scale`: the logit is M = scale m) and sum
/// `l`. softmax: 1/l and M + log l; the sink
/// normalizers add e^(z - M) to the denominator first (`sink` is z for
/// softmax_with_sink, null for softmax_off_by_one, where z = 0); a row
/// whose scores were all -inf gets factor 0 and lse -inf (z with a sink).
/// sigmoid and none: factor 1, no lse.
struct Final {
  Value factor, lse;
};
inline Final finalize(ImplicitLocOpBuilder &b, NormalizerAttr normalizer,
                      Value m, Value l, Value sink, double scale) {
  Type type = m.getType();
  if (!normalizer.hasLse())
    return {constantLike(b, type, 1.0), Value()};
  // The max in logits (-inf stays -inf: the scale is positive).
  if (scale != 1.0)
    m = arith::MulFOp::create(b, m, constantLike(b, type, scale));
  Value zero = constantLike(b, type, 0.0);
  Value masked = isNegInf(b, m);
  if (normalizer.getKind() == NormalizerKind::softmax) {
    Value inverse = arith::DivFOp::create(b, constantLike(b, type, 1.0), l);
    Value factor = arith::SelectOp::create(b, masked, zero, inverse);
    Value logSum = arith::AddFOp::create(b, m, math::LogOp::create(b, l));
    Value negInf =
        constantLike(b, type, -std::numeric_limits<double>::infinity());
    Value lse = arith::SelectOp::create(b, masked, negInf, logSum);
    return {factor, lse};
  }
  // A sink logit z joins the denominator (z = 0 for off-by-one):
  // lse = log(e^z + l e^m). Against the larger of z and m:
  //   z >= m: lse = z + log1p(l e^(m - z))  (log1p keeps a tiny l e^(m - z))
  //   z <  m: lse = m + log(l + e^(z - m))
  Value z = sink ? sink : zero;
  Value m2 = arith::MaximumFOp::create(b, m, z);
  Value shift = math::ExpOp::create(b, arith::SubFOp::create(b, m, m2));
  Value scaleOld = arith::SelectOp::create(b, masked, zero, shift);
  Value rest = arith::MulFOp::create(b, l, scaleOld);
  // A sink of -inf adds nothing (e^(-inf - -inf) would be NaN).
  Value sinkWeight = math::ExpOp::create(b, arith::SubFOp::create(b, z, m2));
  Value noSink = isNegInf(b, z);
  Value sinkTerm = arith::SelectOp::create(b, noSink, zero, sinkWeight);
  Value l2 = arith::AddFOp::create(b, rest, sinkTerm);
  Value sinkDominates =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGE, z, m);
  Value fromSink = arith::AddFOp::create(b, z, math::Log1pOp::create(b, rest));
  Value fromMax = arith::AddFOp::create(b, m2, math::LogOp::create(b, l2));
  Value lse = arith::SelectOp::create(b, sinkDominates, fromSink, fromMax);
  Value quotient = arith::DivFOp::create(b, scaleOld, l2);
  Value factor = arith::SelectOp::create(b, masked, zero, quotient);
  return {factor, lse};
}

} // namespace mlir::attn::norm

#endif // ATTN_DIALECT_ATTN_UTILS_NORMALIZER_H
