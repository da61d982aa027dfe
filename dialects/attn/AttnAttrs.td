//===- AttnAttrs.td - Attn attributes ----------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The mask algebra, the score modifiers, the normalizer and the schedule.
// Inside a mask or a score list the `#attn.` prefix is dropped:
//   mask = #attn.and<causal, sliding_window<left = 4096>>
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNATTRS_TD
#define ATTN_DIALECT_ATTN_ATTNATTRS_TD

include "attn/AttnBase.td"
include "attn/AttnEnums.td"
include "attn/AttnInterfaces.td"
include "mlir/IR/AttrTypeBase.td"

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class Attn_MaskAttr<string name, string attrMnemonic,
                    list<string> overridden = []>
    : Attn_Attr<name, attrMnemonic, [
        DeclareAttrInterfaceMethods<Attn_MaskAttrInterface, overridden>]>;

class Attn_ScoreModAttr<string name, string attrMnemonic,
                        list<string> overridden = []>
    : Attn_Attr<name, attrMnemonic, [
        DeclareAttrInterfaceMethods<Attn_ScoreModAttrInterface, overridden>]>;

// A 64-bit float, printed as MLIR prints float attributes.
def Attn_F64Param : AttrParameter<"::llvm::APFloat", "a 64-bit float"> {
  let parser = "::mlir::attn::parseF64($_parser)";
  let printer = "$_printer.printFloat($_self)";
}

def Attn_AlignParam : DefaultValuedParameter<"::mlir::attn::Align",
    "::mlir::attn::Align::bottom_right",
    "query alignment: bottom_right (p = q + Lkv - Lq) or top_left (p = q)">;

// A list of `true`/`false`, empty when absent.
def Attn_BoolListParam : OptionalArrayRefParameter<"bool", "booleans"> {
  let parser = "::mlir::attn::parseBoolList($_parser)";
  let printer = "::mlir::attn::printBoolList($_printer, $_self)";
}

def Attn_MaskListParam
    : ArrayRefParameter<"::mlir::attn::MaskAttrInterface", "mask operands">;

//===----------------------------------------------------------------------===//
// Mask primitives
//===----------------------------------------------------------------------===//

def Attn_CausalAttr : Attn_MaskAttr<"Causal", "causal"> {
  let summary = "causal mask: a query sees the keys at or before its position";
  let description = [{
    Visible iff `k <= p`, where `p = q + (Lkv - Lq)` with `bottom_right`
    alignment (the default; FlashAttention >= 2.1) or `p = q` with
    `top_left` (PyTorch SDPA's `is_causal`).

    ```mlir
    #attn.causal
    #attn.causal<top_left>
    ```
  }];
  let parameters = (ins Attn_AlignParam:$align);
  let assemblyFormat = "(`<` $align^ `>`)?";
}

def Attn_SlidingWindowAttr : Attn_MaskAttr<"SlidingWindow", "sliding_window"> {
  let summary = "sliding window: keys within [p - left, p + right]";
  let description = [{
    Visible iff `p - left <= k <= p + right` (both ends inclusive, as
    FlashAttention's `window_size`). `right` defaults to 0, which makes the
    window causal. Both bounds must be non-negative.

    ```mlir
    #attn.sliding_window<left = 4096>
    #attn.sliding_window<left = 128, right = 128, align = top_left>
    ```
  }];
  let parameters = (ins "int64_t":$left,
                        DefaultValuedParameter<"int64_t", "0">:$right,
                        Attn_AlignParam:$align);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_SinksAttr : Attn_MaskAttr<"Sinks", "sinks"> {
  let summary = "attention sinks: the first N keys are always visible";
  let description = [{
    Visible iff `k < count` (StreamingLLM). Usually OR-ed with a window:
    `#attn.or<sinks<4>, sliding_window<left = 1024>>`.
  }];
  let parameters = (ins "int64_t":$count);
  let assemblyFormat = "`<` $count `>`";
  let genVerifyDecl = 1;
}

def Attn_ChunkedAttr : Attn_MaskAttr<"Chunked", "chunked"> {
  let summary = "chunked (local) attention: keys in the query's own chunk";
  let description = [{
    Visible iff `floor(p / size) == floor(k / size)` (Llama 4's chunked
    attention). Combine with `causal` for causal chunks.
  }];
  let parameters = (ins "int64_t":$size);
  let assemblyFormat = "`<` $size `>`";
  let genVerifyDecl = 1;
}

def Attn_PrefixLMAttr : Attn_MaskAttr<"PrefixLM", "prefix_lm",
                                      ["getRequiredOperands"]> {
  let summary = "prefix-LM: the first N keys are visible to every query";
  let description = [{
    Visible iff `k < N`, with `N` a constant or, with `operand`, the
    per-batch `prefix_len` operand (int32 [B]). OR it with `causal` for the
    usual prefix-LM mask.

    ```mlir
    #attn.prefix_lm<256>
    #attn.prefix_lm<operand>
    ```
  }];
  let parameters = (ins "std::optional<int64_t>":$length);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the prefix length comes from the `prefix_len` operand.
    bool isFromOperand() const { return !getLength().has_value(); }
  }];
}

def Attn_DocumentAttr : Attn_MaskAttr<"Document", "document",
                                      ["getRequiredOperands"]> {
  let summary = "document mask: queries see only keys of their own document";
  let description = [{
    Visible iff `doc_q[b, q] == doc_kv[b, k]`: with `ids` (the default) the
    ids come from the int32 [B, L] operands `doc_q` and `doc_kv`; with
    `cu_seqlens` the documents are the ranges of the cumulative lengths
    `cu_seqlens_q` and `cu_seqlens_kv` (int32 [B, D + 1]).
  }];
  let parameters = (ins DefaultValuedParameter<"::mlir::attn::DocumentSource",
                            "::mlir::attn::DocumentSource::ids">:$source);
  let assemblyFormat = "(`<` $source^ `>`)?";
}

def Attn_NeighborhoodAttr : Attn_MaskAttr<"Neighborhood", "neighborhood",
                                          ["verifyShape"]> {
  let summary = "neighborhood attention over a 1-3 dimensional token grid";
  let description = [{
    Tokens are laid out row-major over `grid`. Per dimension a query sees the
    keys of its own dilation group (same coordinate mod `dilation`) inside a
    window of `kernel` group positions, shifted at the borders so that it
    always holds `kernel` positions (NATTEN). A `causal` dimension sees the
    `kernel` group positions ending at its own. A key is visible when every
    dimension admits it. `dilation` defaults to 1 and `causal` to false in
    every dimension. The sequence length must be the product of `grid`.

    ```mlir
    #attn.neighborhood<grid = [32, 32], kernel = [7, 7]>
    #attn.neighborhood<grid = [8, 16, 16], kernel = [3, 5, 5], dilation = [1, 2, 2], causal = [true, false, false]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$grid,
                        ArrayRefParameter<"int64_t">:$kernel,
                        OptionalArrayRefParameter<"int64_t">:$dilation,
                        Attn_BoolListParam:$causal);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The dilation of dimension `dim` (1 when not given).
    int64_t getDilationAt(unsigned dim) const {
      return getDilation().empty() ? 1 : getDilation()[dim];
    }
    /// Whether dimension `dim` is causal (false when not given).
    bool isCausalAt(unsigned dim) const {
      return getCausal().empty() ? false : getCausal()[dim];
    }
    /// The number of tokens: the product of the grid.
    int64_t getNumTokens() const;
  }];
}

def Attn_BlockSparseAttr : Attn_MaskAttr<"BlockSparse", "block_sparse",
                                         ["getRequiredOperands"]> {
  let summary = "dynamic block-sparse layout (FlexAttention's BlockMask)";
  let description = [{
    Visible iff `floor(k / block_kv)` is among
    `kv_indices[b, h, floor(q / block_q), :kv_num_blocks[b, h, floor(q / block_q)]]`.
    The operands are int32; their batch and head dims may be 1 (broadcast).
  }];
  let parameters = (ins "int64_t":$block_q, "int64_t":$block_kv);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_VerticalSlashAttr : Attn_MaskAttr<"VerticalSlash", "vertical_slash",
                                           ["getRequiredOperands"]> {
  let summary = "MInference's vertical-slash sparse pattern";
  let description = [{
    Visible iff `k` is in the head's `vertical` key-index list or `p - k` is
    in its `slash` diagonal-offset list (int32 [B?, H, n] operands).
  }];
}

//===----------------------------------------------------------------------===//
// Mask combinators
//===----------------------------------------------------------------------===//

def Attn_AndAttr : Attn_MaskAttr<"And", "and",
                                 ["getRequiredOperands", "verifyShape"]> {
  let summary = "intersection of masks: visible when every operand holds";
  let description = [{
    ```mlir
    #attn.and<causal, sliding_window<left = 4096>>
    ```
  }];
  let parameters = (ins Attn_MaskListParam:$operands);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_OrAttr : Attn_MaskAttr<"Or", "or",
                                ["getRequiredOperands", "verifyShape"]> {
  let summary = "union of masks: visible when any operand holds";
  let description = [{
    ```mlir
    #attn.or<sinks<4>, sliding_window<left = 1024>>
    ```
  }];
  let parameters = (ins Attn_MaskListParam:$operands);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_NotAttr : Attn_MaskAttr<"Not", "not",
                                 ["getRequiredOperands", "verifyShape"]> {
  let summary = "complement of a mask";
  let description = [{
    ```mlir
    #attn.not<chunked<1024>>
    ```
  }];
  let parameters = (ins "::mlir::attn::MaskAttrInterface":$operand);
  let hasCustomAssemblyFormat = 1;
}

def Attn_OnHeadsAttr : Attn_MaskAttr<"OnHeads", "on_heads",
                                     ["getRequiredOperands", "verifyShape"]> {
  let summary = "a mask that applies only on the listed query heads";
  let description = [{
    The inner mask on the listed query heads, all-true on the others
    (DuoAttention: streaming heads get sinks + window, retrieval heads see
    everything).

    ```mlir
    #attn.on_heads<heads = [0, 3, 5], mask = or<sinks<4>, sliding_window<left = 256>>>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$heads,
                        "::mlir::attn::MaskAttrInterface":$mask);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Score modifiers
//===----------------------------------------------------------------------===//

def Attn_SoftcapAttr : Attn_ScoreModAttr<"Softcap", "softcap"> {
  let summary = "soft capping: s -> cap * tanh(s / cap)";
  let description = [{
    Gemma 2 / Grok soft capping of the attention logits; `cap` > 0.
    ```mlir
    #attn.softcap<50.0>
    ```
  }];
  let parameters = (ins Attn_F64Param:$cap);
  let assemblyFormat = "`<` $cap `>`";
  let genVerifyDecl = 1;
}

def Attn_AlibiAttr : Attn_ScoreModAttr<"Alibi", "alibi",
                                       ["getRequiredOperands"]> {
  let summary = "ALiBi: s -> s - slope_h * |p - k|";
  let description = [{
    Slopes are the ALiBi paper's standard ones (`2^(-8(h+1)/H)` for H a power
    of two, interpolated otherwise) or, with `operand`, the f32 [Hq]
    `alibi_slopes` operand.
    ```mlir
    #attn.alibi
    #attn.alibi<operand>
    ```
  }];
  let parameters = (ins DefaultValuedParameter<"::mlir::attn::SlopeSource",
                            "::mlir::attn::SlopeSource::standard">:$slopes);
  let assemblyFormat = "(`<` $slopes^ `>`)?";
  let extraClassDeclaration = [{
    /// The ALiBi paper's standard slopes for `numHeads` heads: 2^(-8(h+1)/H)
    /// for H a power of two; else those of the nearest smaller power of two,
    /// then every other slope of the next larger one.
    static ::llvm::SmallVector<double> getStandardSlopes(int64_t numHeads);
  }];
}

def Attn_BiasAttr : Attn_ScoreModAttr<"Bias", "bias",
                                      ["getRequiredOperands"]> {
  let summary = "additive bias: s -> s + bias[...]";
  let description = [{
    Adds the `bias` operand, whose axes are the listed subset of
    `[b, h, q, k]` in that order; an axis of size 1 broadcasts.
    ```mlir
    #attn.bias<[b, h, q, k]>
    #attn.bias<[h, q, k]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"::mlir::attn::BiasDim">:$dims);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_ScoreModMarkerAttr : Attn_ScoreModAttr<"ScoreModMarker", "score_mod"> {
  let summary = "applies the op's `score_mod` region at this position";
  let description = [{
    Marks where in the modifier list the custom `score_mod` region runs. An
    op with this marker must have the region and vice versa; at most one
    marker per op.
  }];
}

//===----------------------------------------------------------------------===//
// Normalizer and schedule
//===----------------------------------------------------------------------===//

def Attn_NormalizerAttr : Attn_Attr<"Normalizer", "normalizer"> {
  let summary = "how scores become weights";
  let description = [{
    - `softmax`: out = sum e^s v / sum e^s, lse = log sum e^s;
    - `softmax_with_sink`: a per-head logit z_h (operand `sink`, f32 [Hq])
      joins the denominator;
    - `softmax_off_by_one`: the same with z = 0;
    - `sigmoid`: out = sum sigmoid(s + bias) v (no lse);
    - `none`: out = sum s v (no lse).

    ```mlir
    #attn.normalizer<softmax>
    #attn.normalizer<sigmoid, bias = -8.0>
    ```
  }];
  let parameters = (ins "::mlir::attn::NormalizerKind":$kind,
                        DefaultValuedParameter<"::llvm::APFloat",
                                               "::llvm::APFloat(0.0)">:$bias);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether this normalizer defines a log-sum-exp output.
    bool hasLse() const;
  }];
}

def Attn_ScheduleAttr : Attn_Attr<"Schedule", "schedule"> {
  let summary = "how the attention is tiled and launched (0 = pass chooses)";
  let description = [{
    Tile sizes along queries and keys, warps per block (GPU), pipeline stages
    and the number of KV splits. Tile sizes and warps are powers of two;
    stages and splits are positive; 0 leaves a field to the scheduling pass.
    ```mlir
    #attn.schedule<block_q = 128, block_kv = 64, warps = 8, stages = 2>
    ```
  }];
  let parameters = (ins DefaultValuedParameter<"int64_t", "0">:$block_q,
                        DefaultValuedParameter<"int64_t", "0">:$block_kv,
                        DefaultValuedParameter<"int64_t", "0">:$warps,
                        DefaultValuedParameter<"int64_t", "0">:$stages,
                        DefaultValuedParameter<"int64_t", "0">:$split_kv);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_TilingAttr : Attn_Attr<"Tiling", "tiling"> {
  let summary = "the schedule's decisions for one attention kernel";
  let description = [{
    What `attn-schedule` decided, once, for an `attn.attention`; `attn-tile`,
    the target lowerings, the manifest and the runtime read it and recompute
    nothing. Units are named:
    - `rows`: rows of a q tile, `query positions x head_group`;
    - `head_group`: query heads packed into one q tile (a GQA group whose
      heads share every kv tile, or 1);
    - `block_kv`: keys per kv tile;
    - `kv_tiles`: how a work item finds its kv tiles (`bounds`, `disjuncts`,
      `listed_blocks`, `vertical_slash`, `tile_table`);
    - `split_kv`: chunks a work item's kv range is split into (1: none; 0:
      the kernel can split and the runtime picks the count per launch).

    Work items are `(batch, head group, q tile[, kv chunk])` in row-major
    order: `batch x (heads.q / head_group) x ceil(Lq / (rows / head_group))
    [x chunks]` (Lq: the longest sequence with ragged storage).

    ```mlir
    #attn.tiling<rows = 128, head_group = 4, block_kv = 64, kv_tiles = bounds, split_kv = 0>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$head_group,
                        "int64_t":$block_kv,
                        "::mlir::attn::KVTileWalk":$kv_tiles,
                        "int64_t":$split_kv);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Query positions per q tile: rows / head_group.
    int64_t getQueryPositions() const { return getRows() / getHeadGroup(); }
    /// Whether the kernel takes the runtime's `tile_kinds` table.
    bool usesTileTable() const {
      return getKvTiles() == ::mlir::attn::KVTileWalk::tile_table;
    }
  }];
}

#endif // ATTN_DIALECT_ATTN_ATTNATTRS_TD
