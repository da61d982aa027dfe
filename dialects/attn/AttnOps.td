//===- AttnOps.td - Attn op definitions --------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_ATTNOPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_ScoreModListAttr
    : TypedArrayAttrBase<Attn_ScoreModAttrInterface, "list of score modifiers">;

def Attn_AttentionOp : Attn_Op<"attention", [
    Pure, AttrSizedOperandSegments, IsolatedFromAbove]> {
  let summary = "attention, described once: masks, score modifiers, normalizer";
  let description = [{
    Computes, for every batch `b`, query head `h` (reading kv head
    `h / (Hq / Hkv)`) and query `q`, over the keys `k` that `mask` leaves
    visible:

    ```
    s      = mods(scale * q[b, q, h] . k[b, k, h'])     // in the order listed
    out    = normalize(s) . v                            // per `normalizer`
    lse    = log(sum_k exp(s))                           // softmax family only
    ```

    `scale` defaults to `1/sqrt(d_qk)`. Positions seen by masks and position
    dependent modifiers are aligned bottom-right (`p = q + Lkv - Lq`) unless
    a primitive says `top_left`. A row with no visible key gives `out = 0`
    and `lse = -inf`.

    Shapes (layout `bshd`; `bhsd` swaps the sequence and head axes):
    q [B, Lq, Hq, Dqk], k [B, Lkv, Hkv, Dqk], v [B, Lkv, Hkv, Dv],
    out [B, Lq, Hq, Dv], lse [B, Hq, Lq] (f32). With `paged` storage k and v
    are pages laid out like the layout says, [pages, page_size, Hkv, D] for
    `bshd` and [pages, Hkv, page_size, D] for `bhsd`, and
    `block_table`/`cache_seqlens` map sequences to pages; with `ragged`
    storage q, k, v and out drop the batch axis ([tokens, H, D]),
    `cu_seqlens_q`/`cu_seqlens_kv` split them, lse is [Hq, tokens] and
    document ids are per token ([tokens]).
    q, k, v and out share one element type (f32, f16 or bf16); accumulation
    is f32.

    Optional operands, present exactly when a mask primitive, score
    modifier or normalizer reads them:
    - `bias`: additive bias, element type f32 or the q/k/v type, axes per `#attn.bias`
    - `doc_q`: document id per query token, int32 [B, Lq]
    - `doc_kv`: document id per key token, int32 [B, Lkv]
    - `cu_seqlens_q`: cumulative query lengths, int32 [B + 1] (ragged) or [B, D + 1] (documents)
    - `cu_seqlens_kv`: cumulative key lengths, like cu_seqlens_q
    - `prefix_len`: per-batch prefix length, int32 [B]
    - `kv_num_blocks`: visible kv blocks per q block, int32 [B|1, H|1, nQB]
    - `kv_indices`: visible kv block indices per q block, int32 [B|1, H|1, nQB, nKB]
    - `vertical`: vertical key indices, int32 [B|1, H|1, nv]
    - `slash`: slash diagonal offsets, int32 [B|1, H|1, ns]
    - `alibi_slopes`: ALiBi slopes, f32 [Hq]
    - `sink`: per-head sink logits, f32 [Hq]
    - `head_params`: per-head values for score_mod, f32 [Hq, N]
    - `block_table`: paged KV: page index per (sequence, logical page), int32 [B, max_pages]
    - `cache_seqlens`: paged KV: valid keys per sequence, int32 [B]

    The `score_mod` region, present exactly when the score list holds
    `score_mod`, computes a new score from `(score: f32, b: index, h: index,
    q: index, kv: index, p_0: f32, ..., p_{N-1}: f32)` where the `p_i` are
    `head_params[h, i]`, and yields one f32.

    Example (Gemma 2 local layer):

    ```mlir
    %out = attn.attention q(%q : tensor<?x?x16x256xbf16>)
        k(%k : tensor<?x?x8x256xbf16>) v(%v : tensor<?x?x8x256xbf16>)
        mask(and<causal, sliding_window<left = 4095>>)
        score(softcap<50.0>)
        {scale = 0.0625 : f64} -> tensor<?x?x16x256xbf16>
    ```
  }];

  let arguments = (ins
      AnyRankedTensor:$q,
      AnyRankedTensor:$k,
      AnyRankedTensor:$v,
      Optional<AnyRankedTensor>:$bias,
      Optional<AnyRankedTensor>:$doc_q,
      Optional<AnyRankedTensor>:$doc_kv,
      Optional<AnyRankedTensor>:$cu_seqlens_q,
      Optional<AnyRankedTensor>:$cu_seqlens_kv,
      Optional<AnyRankedTensor>:$prefix_len,
      Optional<AnyRankedTensor>:$kv_num_blocks,
      Optional<AnyRankedTensor>:$kv_indices,
      Optional<AnyRankedTensor>:$vertical,
      Optional<AnyRankedTensor>:$slash,
      Optional<AnyRankedTensor>:$alibi_slopes,
      Optional<AnyRankedTensor>:$sink,
      Optional<AnyRankedTensor>:$head_params,
      Optional<AnyRankedTensor>:$block_table,
      Optional<AnyRankedTensor>:$cache_seqlens,
      OptionalAttr<Attn_MaskAttrInterface>:$mask,
      OptionalAttr<Attn_ScoreModListAttr>:$score_mods,
      OptionalAttr<Attn_NormalizerAttr>:$normalizer,
      OptionalAttr<F64Attr>:$scale,
      DefaultValuedAttr<Attn_LayoutAttr, "::mlir::attn::Layout::bshd">:$layout,
      DefaultValuedAttr<Attn_KVStorageAttr,
                        "::mlir::attn::KVStorage::contiguous">:$kv_storage,
      OptionalAttr<Attn_ScheduleAttr>:$schedule,
      OptionalAttr<Attn_TilingAttr>:$tiling);
  let results = (outs AnyRankedTensor:$out, Optional<AnyRankedTensor>:$lse);
  let regions = (region AnyRegion:$score_mod);

  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)`
    `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`doc_q` `(` $doc_q^ `:` type($doc_q) `)`)?
    (`doc_kv` `(` $doc_kv^ `:` type($doc_kv) `)`)?
    (`cu_seqlens_q` `(` $cu_seqlens_q^ `:` type($cu_seqlens_q) `)`)?
    (`cu_seqlens_kv` `(` $cu_seqlens_kv^ `:` type($cu_seqlens_kv) `)`)?
    (`prefix_len` `(` $prefix_len^ `:` type($prefix_len) `)`)?
    (`kv_num_blocks` `(` $kv_num_blocks^ `:` type($kv_num_blocks) `)`)?
    (`kv_indices` `(` $kv_indices^ `:` type($kv_indices) `)`)?
    (`vertical` `(` $vertical^ `:` type($vertical) `)`)?
    (`slash` `(` $slash^ `:` type($slash) `)`)?
    (`alibi_slopes` `(` $alibi_slopes^ `:` type($alibi_slopes) `)`)?
    (`sink` `(` $sink^ `:` type($sink) `)`)?
    (`head_params` `(` $head_params^ `:` type($head_params) `)`)?
    (`block_table` `(` $block_table^ `:` type($block_table) `)`)?
    (`cache_seqlens` `(` $cache_seqlens^ `:` type($cache_seqlens) `)`)?
    `` custom<Clauses>($mask, $score_mods, $normalizer)
    (`score_mod` $score_mod^)?
    attr-dict `->` type($out) (`,` type($lse)^)?
  }];

  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// The normalizer; softmax when none is given.
    ::mlir::attn::NormalizerAttr getNormalizerOrDefault();
    /// The score scale; 1/sqrt(d_qk) when none is given.
    double getScaleOrDefault();
    /// The optional operand of the given kind, or null.
    ::mlir::Value getOptionalOperand(::mlir::attn::OperandKind kind);
    /// Sizes of the problem as far as the types tell them.
    ::mlir::attn::ProblemShape getProblemShape();
    /// The number of per-head parameters the score_mod region receives.
    int64_t getNumHeadParams();
  }];
}

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["AttentionOp", "TileScoreModOp", "TileMaskOp"]>]> {
  let summary = "returns the value of a score_mod or tile mask region";
  let description = [{
    Ends the `score_mod` region of `attn.attention` and the element regions
    of `attn.tile.score_mod` (the new score) and `attn.tile.mask` (whether
    the element is visible).

    ```mlir
    attn.yield %new_score : f32
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

include "attn/AttnTileOps.td"

#endif // ATTN_DIALECT_ATTN_ATTNOPS_TD
