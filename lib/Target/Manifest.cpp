//===- Manifest.cpp - What a compiled kernel expects ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/Manifest.h"
#include "attn/Analysis/MaskAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::attn;

static std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isInteger(32))
    return "i32";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

static llvm::json::Object param(StringRef name, Value value,
                                bool innerContiguous) {
  auto type = cast<RankedTensorType>(value.getType());
  llvm::json::Array shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? int64_t(-1) : d);
  return llvm::json::Object{{"name", name},
                            {"dtype", dtypeName(type.getElementType())},
                            {"shape", std::move(shape)},
                            {"inner_contiguous", innerContiguous}};
}

/// The mask model as JSON, read back by the runtime (CPUKernel.cpp).
static llvm::json::Value maskToJson(const attnrt::mask::Node &node) {
  llvm::json::Array children;
  for (const attnrt::mask::Node &child : node.children)
    children.push_back(maskToJson(child));
  auto ints = [](const std::vector<int64_t> &v) {
    return llvm::json::Array(v);
  };
  llvm::json::Array causal;
  for (bool c : node.causalDims)
    causal.push_back(c);
  return llvm::json::Object{{"kind", attnrt::mask::kindName(node.kind)},
                            {"top_left", node.topLeft},
                            {"left", node.left},
                            {"right", node.right},
                            {"count", node.count},
                            {"cu_seqlens", node.fromCuSeqlens},
                            {"block_q", node.blockQ},
                            {"block_kv", node.blockKV},
                            {"grid", ints(node.grid)},
                            {"kernel", ints(node.kernel)},
                            {"dilation", ints(node.dilation)},
                            {"causal_dims", std::move(causal)},
                            {"heads", ints(node.heads)},
                            {"children", std::move(children)}};
}

llvm::json::Object mlir::attn::buildManifest(AttentionOp op,
                                             const ManifestInfo &info) {
  llvm::json::Array params;
  params.push_back(param("q", op.getQ(), true));
  params.push_back(param("k", op.getK(), true));
  params.push_back(param("v", op.getV(), true));
  for (unsigned i = 0, e = getMaxEnumValForOperandKind(); i <= e; ++i) {
    auto kind = static_cast<OperandKind>(i);
    if (Value operand = op.getOptionalOperand(kind))
      params.push_back(param(stringifyOperandKind(kind), operand, false));
  }
  if (info.tileTable) {
    llvm::json::Object table{{"name", "tile_kinds"},
                             {"dtype", "i32"},
                             {"shape", llvm::json::Array{-1, -1, -1, -1}},
                             {"inner_contiguous", false},
                             {"internal", true}};
    params.push_back(std::move(table));
  }
  params.push_back(param("out", op.getOut(), true));
  if (Value lse = op.getLse())
    params.push_back(param("lse", lse, false));

  ProblemShape shape = op.getProblemShape();
  std::string mask;
  if (MaskAttrInterface attr = op.getMaskAttr()) {
    llvm::raw_string_ostream os(mask);
    attr.print(os);
  }
  // What the runtime needs to check operand values and broadcasts.
  llvm::json::Object checks;
  if (ArrayAttr mods = op.getScoreModsAttr())
    for (Attribute mod : mods)
      if (auto bias = dyn_cast<BiasAttr>(mod)) {
        llvm::json::Array axes;
        for (BiasDim d : bias.getDims())
          axes.push_back(stringifyBiasDim(d));
        checks["bias_axes"] = std::move(axes);
      }
  if (info.tileTable)
    checks["tile_table_mask"] = maskToJson(buildMaskModel(op.getMaskAttr()));
  if (MaskAttrInterface attr = op.getMaskAttr())
    attr.walk([&](BlockSparseAttr sparse) {
      checks["block_sparse"] = llvm::json::Object{
          {"block_q", sparse.getBlockQ()}, {"block_kv", sparse.getBlockKv()}};
    });

  auto func = op->getParentOfType<func::FuncOp>();
  std::string name = func ? func.getName().str() : "attention";
  return llvm::json::Object{
      {"format", 2},
      {"name", name},
      {"entry", "_mlir_ciface_" + name},
      {"target", info.target},
      {"target_detail", info.targetDetail},
      {"spec_hash", info.specHash},
      {"layout", stringifyLayout(op.getLayout())},
      {"kv_storage", stringifyKVStorage(op.getKvStorage())},
      {"dtype", dtypeName(op.getQ().getType().getElementType())},
      {"heads",
       llvm::json::Object{{"q", shape.numQHeads}, {"kv", shape.numKVHeads}}},
      {"head_dim",
       llvm::json::Object{{"qk", shape.headDimQK}, {"v", shape.headDimV}}},
      {"normalizer",
       stringifyNormalizerKind(op.getNormalizerOrDefault().getKind())},
      {"mask", mask},
      {"params", std::move(params)},
      {"checks", std::move(checks)},
      {"abi", "each parameter is a pointer to an MLIR strided memref "
              "descriptor {allocated, aligned, offset, sizes[rank], "
              "strides[rank]}; a final int64 is the work item"},
      {"work",
       llvm::json::Object{
           {"block_q", info.blockQ},
           {"block_kv", info.blockKV},
           {"head_group", info.headGroup},
           {"items", op.getKvStorage() == KVStorage::ragged
                         ? "batch * (heads.q / head_group) * ceil(longest q "
                           "sequence / block_q), batch = len(cu_seqlens_q) - 1"
                         : "batch * (heads.q / head_group) * ceil(q_len / "
                           "block_q)"},
           {"item", "((b * (heads.q / head_group)) + g) * (items / (batch * "
                    "(heads.q / head_group))) + q_tile; item g computes "
                    "query heads g * head_group .. + head_group - 1, block_q "
                    "query positions each"}}}};
}
