//===- AttnAttrs.cpp - Attn attributes: syntax and verifiers --------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// Custom syntax of the mask algebra (nested masks print without the `#attn.`
// prefix), the attribute verifiers and the interface methods that tell the
// op verifier which operands a component reads.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

using namespace mlir;
using namespace mlir::attn;

#define GET_ATTRDEF_CLASSES
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Shared syntax helpers
//===----------------------------------------------------------------------===//

FailureOr<APFloat> mlir::attn::parseF64(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

FailureOr<SmallVector<bool>> mlir::attn::parseBoolList(AsmParser &parser) {
  SmallVector<bool> values;
  auto parseOne = [&]() -> ParseResult {
    if (succeeded(parser.parseOptionalKeyword("true"))) {
      values.push_back(true);
      return success();
    }
    if (succeeded(parser.parseOptionalKeyword("false"))) {
      values.push_back(false);
      return success();
    }
    return parser.emitError(parser.getCurrentLocation(),
                            "expected 'true' or 'false'");
  };
  if (parser.parseCommaSeparatedList(parseOne))
    return failure();
  return values;
}

void mlir::attn::printBoolList(AsmPrinter &printer, ArrayRef<bool> values) {
  llvm::interleaveComma(values, printer,
                        [&](bool v) { printer << (v ? "true" : "false"); });
}

void mlir::attn::printAttnAttrStripped(AsmPrinter &printer, Attribute attr) {
  if (failed(generatedAttributePrinter(attr, printer)))
    printer.printAttribute(attr);
}

/// Parses an attn attribute without its `#attn.` prefix and checks that it is
/// a `T`; `what` names the expected kind in the diagnostic.
template <typename T>
static ParseResult parseStrippedAttr(AsmParser &parser, T &result,
                                     StringRef what, StringRef allowed) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef mnemonic;
  Attribute attr;
  OptionalParseResult parsed =
      generatedAttributeParser(parser, &mnemonic, Type(), attr);
  if (!parsed.has_value()) {
    if (mnemonic.empty())
      return parser.emitError(loc)
             << "expected " << what << " (" << allowed << ")";
    return parser.emitError(loc) << "unknown " << what << " '" << mnemonic
                                 << "'; expected one of " << allowed;
  }
  if (failed(*parsed))
    return failure();
  result = dyn_cast<T>(attr);
  if (!result)
    return parser.emitError(loc) << "'" << attr << "' is not a " << what
                                 << "; expected one of " << allowed;
  return success();
}

static constexpr StringLiteral kMaskNames =
    "causal, sliding_window, sinks, chunked, prefix_lm, document, "
    "neighborhood, block_sparse, vertical_slash, and, or, not, on_heads";
static constexpr StringLiteral kScoreModNames =
    "softcap, alibi, bias, score_mod";

ParseResult mlir::attn::parseMaskExpr(AsmParser &parser,
                                      MaskAttrInterface &mask) {
  return parseStrippedAttr(parser, mask, "mask", kMaskNames);
}

ParseResult mlir::attn::parseScoreModExpr(AsmParser &parser,
                                          ScoreModAttrInterface &mod) {
  return parseStrippedAttr(parser, mod, "score modifier", kScoreModNames);
}

ParseResult mlir::attn::parseNormalizerExpr(AsmParser &parser,
                                            Attribute &normalizer) {
  NormalizerAttr attr;
  if (parseStrippedAttr(parser, attr, "normalizer", "normalizer<...>"))
    return failure();
  normalizer = attr;
  return success();
}

/// Parses `<mask, mask, ...>`.
static ParseResult parseMaskList(AsmParser &parser,
                                 SmallVectorImpl<MaskAttrInterface> &masks) {
  return parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                        [&]() -> ParseResult {
                                          MaskAttrInterface mask;
                                          if (parseMaskExpr(parser, mask))
                                            return failure();
                                          masks.push_back(mask);
                                          return success();
                                        });
}

static void printMaskList(AsmPrinter &printer,
                          ArrayRef<MaskAttrInterface> masks) {
  printer << '<';
  llvm::interleaveComma(masks, printer, [&](MaskAttrInterface mask) {
    printAttnAttrStripped(printer, mask);
  });
  printer << '>';
}

static void collectOperands(ArrayRef<MaskAttrInterface> masks,
                            SmallVectorImpl<OperandKind> &kinds) {
  for (MaskAttrInterface mask : masks)
    mask.getRequiredOperands(kinds);
}

static LogicalResult
verifyShapes(ArrayRef<MaskAttrInterface> masks, const ProblemShape &shape,
             function_ref<InFlightDiagnostic()> emitError) {
  for (MaskAttrInterface mask : masks)
    if (failed(mask.verifyShape(shape, emitError)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Mask primitives
//===----------------------------------------------------------------------===//

/// Sizes in masks are bounded by the 32-bit lengths of the operands, which
/// also keeps position arithmetic (p + right, ...) clear of overflow.
static constexpr int64_t kMaxLength = 2147483647;

LogicalResult
SlidingWindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          int64_t left, int64_t right, Align) {
  if (left < 0 || right < 0)
    return emitError()
           << "sliding_window bounds must be non-negative (got left = " << left
           << ", right = " << right << "); use 0 for no keys on that side";
  if (left > kMaxLength || right > kMaxLength)
    return emitError() << "sliding_window bounds must be at most " << kMaxLength
                       << " (sequence lengths are 32-bit); leave the window "
                          "out for an unbounded side, or use causal";
  return success();
}

LogicalResult SinksAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t count) {
  if (count <= 0)
    return emitError() << "sinks count must be positive, got " << count;
  if (count > kMaxLength)
    return emitError() << "sinks count must be at most " << kMaxLength
                       << ", got " << count;
  return success();
}

LogicalResult ChunkedAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t size) {
  if (size <= 0)
    return emitError() << "chunked size must be positive, got " << size;
  if (size > kMaxLength)
    return emitError() << "chunked size must be at most " << kMaxLength
                       << ", got " << size;
  return success();
}

Attribute PrefixLMAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  std::optional<int64_t> length;
  if (parser.parseLess())
    return {};
  if (failed(parser.parseOptionalKeyword("operand"))) {
    int64_t value;
    if (parser.parseInteger(value))
      return {};
    length = value;
  }
  if (parser.parseGreater())
    return {};
  return PrefixLMAttr::getChecked([&] { return parser.emitError(loc); },
                                  parser.getContext(), length);
}

void PrefixLMAttr::print(AsmPrinter &printer) const {
  printer << '<';
  if (getLength())
    printer << *getLength();
  else
    printer << "operand";
  printer << '>';
}

LogicalResult PrefixLMAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   std::optional<int64_t> length) {
  if (length && (*length <= 0 || *length > kMaxLength))
    return emitError() << "prefix_lm length must be positive (at most "
                       << kMaxLength << "), got " << *length
                       << "; use 'operand' for a per-batch length";
  return success();
}

void PrefixLMAttr::getRequiredOperands(
    SmallVectorImpl<OperandKind> &kinds) const {
  if (isFromOperand())
    kinds.push_back(OperandKind::prefix_len);
}

void DocumentAttr::getRequiredOperands(
    SmallVectorImpl<OperandKind> &kinds) const {
  if (getSource() == DocumentSource::ids) {
    kinds.push_back(OperandKind::doc_q);
    kinds.push_back(OperandKind::doc_kv);
  } else {
    kinds.push_back(OperandKind::cu_seqlens_q);
    kinds.push_back(OperandKind::cu_seqlens_kv);
  }
}

LogicalResult
NeighborhoodAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         ArrayRef<int64_t> grid, ArrayRef<int64_t> kernel,
                         ArrayRef<int64_t> dilation, ArrayRef<bool> causal) {
  size_t rank = grid.size();
  if (rank < 1 || rank > 3)
    return emitError() << "neighborhood grid must have 1 to 3 dimensions, got "
                       << rank;
  if (kernel.size() != rank)
    return emitError() << "neighborhood kernel has " << kernel.size()
                       << " dimensions but the grid has " << rank;
  if (!dilation.empty() && dilation.size() != rank)
    return emitError() << "neighborhood dilation has " << dilation.size()
                       << " dimensions but the grid has " << rank;
  if (!causal.empty() && causal.size() != rank)
    return emitError() << "neighborhood causal has " << causal.size()
                       << " entries but the grid has " << rank << " dimensions";
  for (size_t d = 0; d < rank; ++d) {
    int64_t dil = dilation.empty() ? 1 : dilation[d];
    if (grid[d] <= 0)
      return emitError() << "neighborhood grid dimension " << d
                         << " must be positive, got " << grid[d];
    if (kernel[d] <= 0)
      return emitError() << "neighborhood kernel dimension " << d
                         << " must be positive, got " << kernel[d];
    if (dil <= 0)
      return emitError() << "neighborhood dilation dimension " << d
                         << " must be positive, got " << dil;
    // kernel * dil <= grid, written so that it cannot overflow.
    if (kernel[d] > grid[d] / dil)
      return emitError() << "neighborhood kernel " << kernel[d]
                         << " with dilation " << dil
                         << " spans more positions in dimension " << d
                         << " than the grid's " << grid[d]
                         << "; shrink the kernel or the dilation";
  }
  int64_t tokens = 1;
  for (int64_t g : grid)
    if (llvm::MulOverflow(tokens, g, tokens))
      return emitError() << "neighborhood grid holds more than 2^63 tokens";
  return success();
}

/// Parses `[i, j, ...]`.
static ParseResult parseIntList(AsmParser &parser,
                                SmallVectorImpl<int64_t> &v) {
  return parser.parseCommaSeparatedList(
      AsmParser::Delimiter::Square,
      [&]() -> ParseResult { return parser.parseInteger(v.emplace_back()); });
}

Attribute NeighborhoodAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> grid, kernel, dilation;
  SmallVector<bool> causal;
  if (parser.parseLess() || parser.parseKeyword("grid") ||
      parser.parseEqual() || parseIntList(parser, grid) ||
      parser.parseComma() || parser.parseKeyword("kernel") ||
      parser.parseEqual() || parseIntList(parser, kernel))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "dilation") {
      if (parseIntList(parser, dilation))
        return {};
    } else if (key == "causal") {
      FailureOr<SmallVector<bool>> list;
      if (parser.parseLSquare() || failed(list = parseBoolList(parser)) ||
          parser.parseRSquare())
        return {};
      causal = *list;
    } else {
      parser.emitError(keyLoc) << "unknown neighborhood field '" << key
                               << "'; expected dilation or causal";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return NeighborhoodAttr::getChecked([&] { return parser.emitError(loc); },
                                      parser.getContext(), grid, kernel,
                                      dilation, causal);
}

void NeighborhoodAttr::print(AsmPrinter &printer) const {
  printer << "<grid = [";
  llvm::interleaveComma(getGrid(), printer);
  printer << "], kernel = [";
  llvm::interleaveComma(getKernel(), printer);
  printer << ']';
  if (!getDilation().empty()) {
    printer << ", dilation = [";
    llvm::interleaveComma(getDilation(), printer);
    printer << ']';
  }
  if (!getCausal().empty()) {
    printer << ", causal = [";
    printBoolList(printer, getCausal());
    printer << ']';
  }
  printer << '>';
}

int64_t NeighborhoodAttr::getNumTokens() const {
  int64_t n = 1;
  for (int64_t g : getGrid())
    n *= g;
  return n;
}

LogicalResult NeighborhoodAttr::verifyShape(
    const ProblemShape &shape,
    function_ref<InFlightDiagnostic()> emitError) const {
  int64_t tokens = getNumTokens();
  for (auto [name, len] : {std::pair<StringRef, int64_t>{"query", shape.qLen},
                           {"key", shape.kvLen}}) {
    if (ProblemShape::isKnown(len) && len != tokens)
      return emitError() << "neighborhood grid holds " << tokens
                         << " tokens but the " << name << " length is " << len
                         << "; the sequence length must be the grid's product";
  }
  return success();
}

LogicalResult
BlockSparseAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t blockQ, int64_t blockKV) {
  if (blockQ <= 0 || blockKV <= 0 || blockQ > kMaxLength ||
      blockKV > kMaxLength)
    return emitError() << "block_sparse block sizes must be positive (at most "
                       << kMaxLength << "), got " << blockQ << " x " << blockKV;
  return success();
}

void BlockSparseAttr::getRequiredOperands(
    SmallVectorImpl<OperandKind> &kinds) const {
  kinds.push_back(OperandKind::kv_num_blocks);
  kinds.push_back(OperandKind::kv_indices);
}

void VerticalSlashAttr::getRequiredOperands(
    SmallVectorImpl<OperandKind> &kinds) const {
  kinds.push_back(OperandKind::vertical);
  kinds.push_back(OperandKind::slash);
}

//===----------------------------------------------------------------------===//
// Mask combinators
//===----------------------------------------------------------------------===//

#define ATTN_DEFINE_MASK_LIST_ATTR(CLASS, NAME)                                \
  Attribute CLASS::parse(AsmParser &parser, Type) {                            \
    SMLoc loc = parser.getCurrentLocation();                                   \
    SmallVector<MaskAttrInterface> masks;                                      \
    if (parseMaskList(parser, masks))                                          \
      return {};                                                               \
    return CLASS::getChecked([&] { return parser.emitError(loc); },            \
                             parser.getContext(), masks);                      \
  }                                                                            \
  void CLASS::print(AsmPrinter &printer) const {                               \
    printMaskList(printer, getOperands());                                     \
  }                                                                            \
  LogicalResult CLASS::verify(function_ref<InFlightDiagnostic()> emitError,    \
                              ArrayRef<MaskAttrInterface> masks) {             \
    if (masks.empty())                                                         \
      return emitError() << "'" NAME "' needs at least one mask operand";      \
    return success();                                                          \
  }                                                                            \
  void CLASS::getRequiredOperands(SmallVectorImpl<OperandKind> &kinds) const { \
    collectOperands(getOperands(), kinds);                                     \
  }                                                                            \
  LogicalResult CLASS::verifyShape(                                            \
      const ProblemShape &shape, function_ref<InFlightDiagnostic()> emitError) \
      const {                                                                  \
    return verifyShapes(getOperands(), shape, emitError);                      \
  }

ATTN_DEFINE_MASK_LIST_ATTR(AndAttr, "and")
ATTN_DEFINE_MASK_LIST_ATTR(OrAttr, "or")
#undef ATTN_DEFINE_MASK_LIST_ATTR

Attribute NotAttr::parse(AsmParser &parser, Type) {
  MaskAttrInterface mask;
  if (parser.parseLess() || parseMaskExpr(parser, mask) ||
      parser.parseGreater())
    return {};
  return NotAttr::get(parser.getContext(), mask);
}

void NotAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printAttnAttrStripped(printer, getOperand());
  printer << '>';
}

void NotAttr::getRequiredOperands(SmallVectorImpl<OperandKind> &kinds) const {
  getOperand().getRequiredOperands(kinds);
}

LogicalResult
NotAttr::verifyShape(const ProblemShape &shape,
                     function_ref<InFlightDiagnostic()> emitError) const {
  return getOperand().verifyShape(shape, emitError);
}

Attribute OnHeadsAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> heads;
  MaskAttrInterface mask;
  if (parser.parseLess() || parser.parseKeyword("heads") ||
      parser.parseEqual() || parseIntList(parser, heads) ||
      parser.parseComma() || parser.parseKeyword("mask") ||
      parser.parseEqual() || parseMaskExpr(parser, mask) ||
      parser.parseGreater())
    return {};
  return OnHeadsAttr::getChecked([&] { return parser.emitError(loc); },
                                 parser.getContext(), heads, mask);
}

void OnHeadsAttr::print(AsmPrinter &printer) const {
  printer << "<heads = [";
  llvm::interleaveComma(getHeads(), printer);
  printer << "], mask = ";
  printAttnAttrStripped(printer, getMask());
  printer << '>';
}

LogicalResult OnHeadsAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> heads,
                                  MaskAttrInterface mask) {
  if (heads.empty())
    return emitError() << "on_heads needs at least one head";
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t h : heads) {
    if (h < 0)
      return emitError() << "on_heads head index must be non-negative, got "
                         << h;
    if (!seen.insert(h).second)
      return emitError() << "on_heads lists head " << h << " twice";
  }
  if (!mask)
    return emitError() << "on_heads needs a mask";
  return success();
}

void OnHeadsAttr::getRequiredOperands(
    SmallVectorImpl<OperandKind> &kinds) const {
  getMask().getRequiredOperands(kinds);
}

LogicalResult
OnHeadsAttr::verifyShape(const ProblemShape &shape,
                         function_ref<InFlightDiagnostic()> emitError) const {
  if (ProblemShape::isKnown(shape.numQHeads)) {
    for (int64_t h : getHeads())
      if (h >= shape.numQHeads)
        return emitError() << "on_heads lists head " << h
                           << " but there are only " << shape.numQHeads
                           << " query heads (valid: 0.." << shape.numQHeads - 1
                           << ")";
  }
  return getMask().verifyShape(shape, emitError);
}

//===----------------------------------------------------------------------===//
// Score modifiers
//===----------------------------------------------------------------------===//

LogicalResult SoftcapAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  APFloat capValue) {
  double cap = capValue.convertToDouble();
  if (!(cap > 0.0) || !std::isfinite(cap))
    return emitError() << "softcap must be a positive finite number, got "
                       << cap;
  return success();
}

void AlibiAttr::getRequiredOperands(SmallVectorImpl<OperandKind> &kinds) const {
  if (getSlopes() == SlopeSource::operand)
    kinds.push_back(OperandKind::alibi_slopes);
}

Attribute BiasAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<BiasDim> dims;
  auto parseDim = [&]() -> ParseResult {
    SMLoc dimLoc = parser.getCurrentLocation();
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return failure();
    std::optional<BiasDim> dim = symbolizeBiasDim(keyword);
    if (!dim)
      return parser.emitError(dimLoc)
             << "unknown bias axis '" << keyword << "'; expected b, h, q or k";
    dims.push_back(*dim);
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseDim) ||
      parser.parseGreater())
    return {};
  return BiasAttr::getChecked([&] { return parser.emitError(loc); },
                              parser.getContext(), dims);
}

void BiasAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getDims(), printer,
                        [&](BiasDim d) { printer << stringifyBiasDim(d); });
  printer << "]>";
}

LogicalResult BiasAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<BiasDim> dims) {
  if (dims.empty())
    return emitError() << "bias needs at least one axis out of [b, h, q, k]";
  for (size_t i = 1; i < dims.size(); ++i)
    if (static_cast<int>(dims[i]) <= static_cast<int>(dims[i - 1]))
      return emitError() << "bias axes must be a subset of [b, h, q, k] in "
                            "that order, without repeats";
  return success();
}

void BiasAttr::getRequiredOperands(SmallVectorImpl<OperandKind> &kinds) const {
  kinds.push_back(OperandKind::bias);
}

//===----------------------------------------------------------------------===//
// Normalizer and schedule
//===----------------------------------------------------------------------===//

Attribute NormalizerAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  double bias = 0.0;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<NormalizerKind> kind = symbolizeNormalizerKind(keyword);
  if (!kind) {
    parser.emitError(loc) << "unknown normalizer '" << keyword
                          << "'; expected softmax, softmax_with_sink, "
                             "softmax_off_by_one, sigmoid or none";
    return {};
  }
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("bias") || parser.parseEqual() ||
        parser.parseFloat(bias))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return NormalizerAttr::getChecked([&] { return parser.emitError(loc); },
                                    parser.getContext(), *kind, APFloat(bias));
}

void NormalizerAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyNormalizerKind(getKind());
  if (!getBias().isZero()) {
    printer << ", bias = ";
    printer.printFloat(getBias());
  }
  printer << '>';
}

LogicalResult
NormalizerAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       NormalizerKind kind, APFloat biasValue) {
  double bias = biasValue.convertToDouble();
  if (!std::isfinite(bias))
    return emitError() << "normalizer bias must be finite";
  if (bias != 0.0 && kind != NormalizerKind::sigmoid)
    return emitError() << "only the sigmoid normalizer takes a bias; '"
                       << stringifyNormalizerKind(kind) << "' does not";
  return success();
}

bool NormalizerAttr::hasLse() const {
  return getKind() == NormalizerKind::softmax ||
         getKind() == NormalizerKind::softmax_with_sink ||
         getKind() == NormalizerKind::softmax_off_by_one;
}

LogicalResult ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t blockQ, int64_t blockKV,
                                   int64_t warps, int64_t stages,
                                   int64_t splitKV) {
  // Fields no target reads yet are refused rather than ignored (the CPU
  // target has no warps or pipeline stages).
  for (auto [name, value] :
       {std::pair<StringRef, int64_t>{"warps", warps}, {"stages", stages}})
    if (value != 0)
      return emitError() << "schedule " << name
                         << " is not read by any target yet; remove it";
  for (auto [name, value] : {std::pair<StringRef, int64_t>{"block_q", blockQ},
                             {"block_kv", blockKV}}) {
    if (value < 0 || value > kMaxTileSize ||
        (value != 0 && !llvm::isPowerOf2_64(value)))
      return emitError() << "schedule " << name
                         << " must be a power of two up to " << kMaxTileSize
                         << " (or 0 to let the compiler choose), got " << value;
  }
  if (splitKV < 0 || splitKV > kMaxKVSplits)
    return emitError() << "schedule split_kv must be in [1, " << kMaxKVSplits
                       << "] (or 0 to let the compiler choose), got "
                       << splitKV;
  return success();
}

LogicalResult TilingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t rows, int64_t headGroup,
                                 int64_t blockKV, KVTileWalk kvTiles,
                                 int64_t splitKV) {
  (void)kvTiles;
  for (auto [name, value] : {std::pair<StringRef, int64_t>{"rows", rows},
                             {"head_group", headGroup},
                             {"block_kv", blockKV}})
    if (value < 1 || value > kMaxTileSize)
      return emitError() << "tiling " << name << " must be in [1, "
                         << kMaxTileSize << "], got " << value;
  if (splitKV < 0 || splitKV > kMaxKVSplits)
    return emitError() << "tiling split_kv must be a chunk count in [1, "
                       << kMaxKVSplits
                       << "], or 0 for one the runtime picks per launch; got "
                       << splitKV;
  if (rows % headGroup != 0)
    return emitError() << "tiling rows (" << rows
                       << ") must be a multiple of head_group (" << headGroup
                       << "): a q tile holds whole groups of query heads";
  return success();
}

SmallVector<double> AlibiAttr::getStandardSlopes(int64_t numHeads) {
  auto powerOfTwo = [](int64_t n) {
    SmallVector<double> slopes;
    double start = std::exp2(-8.0 / double(n));
    for (int64_t i = 0; i < n; ++i)
      slopes.push_back(std::pow(start, double(i + 1)));
    return slopes;
  };
  if (numHeads < 1)
    return {};
  int64_t closest = int64_t(1) << int(std::floor(std::log2(double(numHeads))));
  SmallVector<double> slopes = powerOfTwo(closest);
  if (closest != numHeads) {
    SmallVector<double> extra = powerOfTwo(2 * closest);
    for (size_t i = 0; int64_t(slopes.size()) < numHeads; i += 2)
      slopes.push_back(extra[i]);
  }
  return slopes;
}
