//===- Manifest.cpp - What a compiled kernel expects ----------------------===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/Manifest.h"
#include "attn/Analysis/MaskAnalysis.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::attn;

/// The manifest's format: 3 names the tile's units (rows, query positions,
/// keys) and gives the work items as counts instead of formulas.
static constexpr int kManifestFormat = 4;

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

/// A parameter record of attn.interface as the manifest's JSON.
static llvm::json::Object paramToJson(DictionaryAttr record) {
  auto type =
      cast<RankedTensorType>(cast<TypeAttr>(record.get("type")).getValue());
  llvm::json::Array shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? int64_t(-1) : d);
  llvm::json::Object param{
      {"name", cast<StringAttr>(record.get("name")).getValue()},
      {"dtype", dtypeName(type.getElementType())},
      {"shape", std::move(shape)},
      {"inner_contiguous",
       cast<BoolAttr>(record.get("inner_contiguous")).getValue()}};
  if (cast<BoolAttr>(record.get("internal")).getValue())
    param["internal"] = true;
  return param;
}

/// The mask model as JSON, read back by the runtime (runtime/lib/common).
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

llvm::Expected<llvm::json::Object>
mlir::attn::buildManifest(ModuleOp module, const ManifestInfo &info) {
  FunctionOpInterface kernel;
  unsigned found = 0;
  module.walk([&](FunctionOpInterface func) {
    // The C interface wrapper (_mlir_ciface_) carries the same attributes.
    if (func->hasAttr("attn.interface") &&
        !func.getName().starts_with("_mlir_ciface_")) {
      kernel = func;
      ++found;
    }
  });
  if (found != 1)
    return llvm::createStringError(
        "the module must hold exactly one attention kernel (a function with "
        "attn.tiling and attn.interface, as attn-tile builds), found " +
        std::to_string(found));
  auto tiling = kernel->getAttrOfType<TilingAttr>("attn.tiling");
  auto iface = kernel->getAttrOfType<DictionaryAttr>("attn.interface");
  if (!tiling || !iface)
    return llvm::createStringError("kernel '" + kernel.getName().str() +
                                   "' has a malformed attn.tiling or "
                                   "attn.interface");

  llvm::json::Array params;
  std::string dtype;
  for (Attribute param : cast<ArrayAttr>(iface.get("params"))) {
    auto record = cast<DictionaryAttr>(param);
    params.push_back(paramToJson(record));
    if (cast<StringAttr>(record.get("name")).getValue() == "q")
      dtype = dtypeName(
          cast<RankedTensorType>(cast<TypeAttr>(record.get("type")).getValue())
              .getElementType());
  }
  auto mask = dyn_cast_or_null<MaskAttrInterface>(iface.get("mask"));
  std::string maskText;
  if (mask) {
    llvm::raw_string_ostream os(maskText);
    mask.print(os);
  }
  // What the runtime needs to check operand values and broadcasts.
  llvm::json::Object checks;
  if (auto mods = dyn_cast_or_null<ArrayAttr>(iface.get("score_mods")))
    for (Attribute mod : mods)
      if (auto bias = dyn_cast<BiasAttr>(mod)) {
        llvm::json::Array axes;
        for (BiasDim d : bias.getDims())
          axes.push_back(stringifyBiasDim(d));
        checks["bias_axes"] = std::move(axes);
      }
  if (mask)
    mask.walk([&](BlockSparseAttr sparse) {
      checks["block_sparse"] = llvm::json::Object{
          {"block_q", sparse.getBlockQ()}, {"block_kv", sparse.getBlockKv()}};
    });

  auto heads = cast<DenseI64ArrayAttr>(iface.get("heads"));
  auto headDims = cast<DenseI64ArrayAttr>(iface.get("head_dims"));
  auto storage = cast<KVStorageAttr>(iface.get("kv_storage")).getValue();
  std::string name = kernel.getName().str();
  // A kernel that can split its kv range has a combine entry.
  // A GPU kernel (and its combine) is launched by its own name, with the
  // block and shared memory its lowering chose (attn.launch).
  bool gpu = info.target == "cuda";
  std::string combine;
  if (auto ref = dyn_cast_or_null<FlatSymbolRefAttr>(iface.get("combine")))
    combine = (gpu ? "" : "_mlir_ciface_") + ref.getValue().str();
  llvm::json::Object launch;
  if (auto record = kernel->getAttrOfType<DictionaryAttr>("attn.launch")) {
    auto block = cast<DenseI64ArrayAttr>(record.get("block"));
    launch = llvm::json::Object{
        {"block", llvm::json::Array(block.asArrayRef())},
        {"shared_bytes",
         cast<IntegerAttr>(record.get("shared_bytes")).getInt()},
        {"chip", info.targetDetail}};
  } else if (gpu) {
    return llvm::createStringError("GPU kernel '" + name +
                                   "' has no attn.launch record");
  }
  llvm::json::Object manifest{
      {"combine_entry", combine},
      {"format", kManifestFormat},
      {"name", name},
      {"entry", gpu ? name : "_mlir_ciface_" + name},
      {"target", info.target},
      {"target_detail", info.targetDetail},
      {"spec_hash", info.specHash},
      {"layout",
       stringifyLayout(cast<LayoutAttr>(iface.get("layout")).getValue())},
      {"kv_storage", stringifyKVStorage(storage)},
      {"dtype", dtype},
      {"heads", llvm::json::Object{{"q", heads[0]}, {"kv", heads[1]}}},
      {"head_dim", llvm::json::Object{{"qk", headDims[0]}, {"v", headDims[1]}}},
      {"normalizer",
       stringifyNormalizerKind(
           cast<NormalizerAttr>(iface.get("normalizer")).getKind())},
      {"mask", maskText},
      {"mask_model",
       mask ? maskToJson(buildMaskModel(mask)) : llvm::json::Value(nullptr)},
      {"params", std::move(params)},
      {"checks", std::move(checks)},
      {"abi",
       gpu ? "kernel parameters: each parameter's MLIR strided memref "
             "descriptor expanded {allocated, aligned, offset, sizes[rank], "
             "strides[rank]}; then int64 kv chunks; the work item is "
             "blockIdx.x"
           : "each parameter is a pointer to an MLIR strided memref "
             "descriptor {allocated, aligned, offset, sizes[rank], "
             "strides[rank]}; then int64 kv chunks, int64 work item"},
      {"tile",
       llvm::json::Object{
           {"rows", tiling.getRows()},
           {"query_positions", tiling.getQueryPositions()},
           {"head_group", tiling.getHeadGroup()},
           {"keys", tiling.getBlockKv()},
           {"kv_tiles", stringifyKVTileWalk(tiling.getKvTiles())}}},
      // Work items are the row-major grid of these axes; q_tiles is
      // ceil(sequence / query_positions) of the q sequence (the longest
      // one with ragged storage).
      {"work",
       llvm::json::Object{
           {"grid",
            llvm::json::Array{"batch", "head_groups", "q_tiles", "kv_splits"}},
           {"head_groups", heads[0] / tiling.getHeadGroup()},
           {"q_tiles",
            llvm::json::Object{
                {"of",
                 storage == KVStorage::ragged ? "longest_q_sequence" : "q_len"},
                {"query_positions", tiling.getQueryPositions()}}},
           // A number, or "per_launch": the runtime picks the count.
           {"kv_splits", tiling.getSplitKv()
                             ? llvm::json::Value(tiling.getSplitKv())
                             : llvm::json::Value("per_launch")}}}};
  if (!launch.empty())
    manifest["launch"] = std::move(launch);
  return manifest;
}
