//===- AttnEnums.td - Attn enumerations --------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNENUMS_TD
#define ATTN_DIALECT_ATTN_ATTNENUMS_TD

include "attn/AttnBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Align : I32EnumAttr<"Align",
    "how query positions line up with key positions", [
      I32EnumAttrCase<"bottom_right", 0>,
      I32EnumAttrCase<"top_left", 1>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_Layout : I32EnumAttr<"Layout",
    "the order of the batch, sequence, head and head-dim axes", [
      I32EnumAttrCase<"bshd", 0>,
      I32EnumAttrCase<"bhsd", 1>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_LayoutAttr : EnumAttr<Attn_Dialect, Attn_Layout, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_KVStorage : I32EnumAttr<"KVStorage",
    "how the keys and values are stored", [
      I32EnumAttrCase<"contiguous", 0>,
      I32EnumAttrCase<"paged", 1>,
      I32EnumAttrCase<"ragged", 2>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_KVStorageAttr : EnumAttr<Attn_Dialect, Attn_KVStorage, "kv_storage"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_KVTileWalk : I32EnumAttr<"KVTileWalk",
    "how a work item finds the kv tiles it visits (decided by attn-schedule)", [
      // Loop bounds from the mask's interval and neighborhood conjuncts
      // (every tile when there is no mask), with an analytic full-tile test.
      I32EnumAttrCase<"bounds", 0>,
      // An `or` of interval conjunctions: each disjunct's range once.
      I32EnumAttrCase<"disjuncts", 1>,
      // The kv blocks a block-sparse mask lists for the q tile.
      I32EnumAttrCase<"listed_blocks", 2>,
      // Tiles a listed vertical key or slash diagonal reaches.
      I32EnumAttrCase<"vertical_slash", 3>,
      // Each tile's kind from the `tile_kinds` table the runtime computes.
      I32EnumAttrCase<"tile_table", 4>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_DocumentSource : I32EnumAttr<"DocumentSource",
    "where document boundaries come from", [
      I32EnumAttrCase<"ids", 0>,
      I32EnumAttrCase<"cu_seqlens", 1>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_SlopeSource : I32EnumAttr<"SlopeSource",
    "where ALiBi slopes come from", [
      I32EnumAttrCase<"standard", 0>,
      I32EnumAttrCase<"operand", 1>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_BiasDim : I32EnumAttr<"BiasDim",
    "an axis of the additive bias operand", [
      I32EnumAttrCase<"b", 0>,
      I32EnumAttrCase<"h", 1>,
      I32EnumAttrCase<"q", 2>,
      I32EnumAttrCase<"k", 3>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_NormalizerKind : I32EnumAttr<"NormalizerKind",
    "how scores become weights", [
      I32EnumAttrCase<"softmax", 0>,
      I32EnumAttrCase<"softmax_with_sink", 1>,
      I32EnumAttrCase<"softmax_off_by_one", 2>,
      I32EnumAttrCase<"sigmoid", 3>,
      I32EnumAttrCase<"none", 4>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

// The optional operands of `attn.attention`, by the names that the runtime,
// the C API, Python and `attn-run --save` share (DESIGN.md, "Operand names").
def Attn_OperandKind : I32EnumAttr<"OperandKind",
    "an optional operand of attn.attention", [
      I32EnumAttrCase<"bias", 0>,
      I32EnumAttrCase<"doc_q", 1>,
      I32EnumAttrCase<"doc_kv", 2>,
      I32EnumAttrCase<"cu_seqlens_q", 3>,
      I32EnumAttrCase<"cu_seqlens_kv", 4>,
      I32EnumAttrCase<"prefix_len", 5>,
      I32EnumAttrCase<"kv_num_blocks", 6>,
      I32EnumAttrCase<"kv_indices", 7>,
      I32EnumAttrCase<"vertical", 8>,
      I32EnumAttrCase<"slash", 9>,
      I32EnumAttrCase<"alibi_slopes", 10>,
      I32EnumAttrCase<"sink", 11>,
      I32EnumAttrCase<"head_params", 12>,
      I32EnumAttrCase<"block_table", 13>,
      I32EnumAttrCase<"cache_seqlens", 14>
    ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

#endif // ATTN_DIALECT_ATTN_ATTNENUMS_TD
