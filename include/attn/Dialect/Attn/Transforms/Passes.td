//===- Passes.td - Attn dialect passes ---------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnSimplifyMaskPass : Pass<"attn-simplify-mask"> {
  let summary = "Puts the mask algebra of every attn.attention in normal form";
  let description = [{
    Rewrites the `mask` of each `attn.attention` into an equivalent, simpler
    expression, so that analyses see one spelling of each mask:
    - nested `and` inside `and` (and `or` inside `or`) are flattened;
    - repeated operands of `and`/`or` are dropped (first occurrence kept);
    - `and`/`or` with one operand become that operand;
    - `not<not<m>>` becomes `m`;
    - `on_heads` with the same inner mask and heads merge into one (kept as
      written otherwise), and heads are sorted.

    Example:

    ```mlir
    // before
    mask(and<and<causal, causal>, not<not<sinks<4>>>>)
    // after
    mask(and<causal, sinks<4>>)
    ```
  }];
  let dependentDialects = [];
}

def AttnMaterializeDefaultsPass : Pass<"attn-materialize-defaults"> {
  let summary = "Writes the implied scale and normalizer of attn.attention out";
  let description = [{
    Sets the `scale` attribute to `1/sqrt(d_qk)` where it is absent (the head
    dim must be static) and the `normalizer` to `softmax` where it is absent,
    so later passes read every choice from the op.

    Example:

    ```mlir
    // before
    %o = attn.attention q(%q : tensor<1x128x8x64xf32>) ... -> tensor<1x128x8x64xf32>
    // after
    %o = attn.attention q(%q : tensor<1x128x8x64xf32>) ... normalizer<softmax>
        {scale = 1.250000e-01 : f64} -> tensor<1x128x8x64xf32>
    ```
  }];
  let dependentDialects = [];
}

def AttnSchedulePass : Pass<"attn-schedule"> {
  let summary = "Decides how each attn.attention is tiled, once";
  let description = [{
    The one owner of the tiling decisions. For every `attn.attention`
    without a `tiling` attribute it decides, for the target, and records as
    `#attn.tiling` on the op:
    - the tile sizes: `rows` per q tile and `block_kv` keys per kv tile,
      the op's `schedule` when given, else the pass options, shrunk to
      divide a block-sparse mask's blocks (so that the kernel can walk the
      listed blocks) and `block_kv` to divide a paged cache's page size;
    - `head_group`: the query heads of a GQA group packed into one q tile
      (row `position * G + head`) when nothing depends on the head (no
      on_heads, vertical-slash or block-sparse mask, no ALiBi, per-head
      bias, head-reading score_mod or sink normalizer) and the group divides
      `rows`; else 1;
    - `kv_tiles`, how a work item finds its kv tiles: `bounds` (loop bounds
      of interval and neighborhood conjuncts, every tile without a mask),
      `disjuncts` (an `or` of interval conjunctions), `listed_blocks` (a
      block-sparse mask whose blocks the tiles divide), `vertical_slash`
      (tiles a listed key or diagonal reaches) or `tile_table` (the
      runtime's per-launch `tile_kinds` table, for every other mask);
    - `split_kv` (FlashDecoding's split-KV): the op's schedule's count, else
      the pass option; 0 (the default) makes a kernel that can split and
      leaves the count to the runtime, which knows the batch, the lengths
      and the machine at launch (it splits when the work items would leave
      threads idle: decode, small batches, long caches), and 1 never
      splits. A kernel that can split takes partial-row buffers and a chunk
      count, and comes with a combine (see attn-tile).

    Schedule fields that no target reads (`warps`, `stages`) are errors,
    not silently ignored. The mask must be in normal
    form (run `attn-simplify-mask` first): the decisions read it as is.

    ```mlir
    // after attn-schedule{rows=128 block-kv=64}
    %o = attn.attention ... mask(causal) ...
        {tiling = #attn.tiling<rows = 128, head_group = 4, block_kv = 64,
                               kv_tiles = bounds, split_kv = 0>} -> ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "the target the schedule is for (named in its errors)">,
    Option<"rows", "rows", "int64_t",
           /*default=*/"::mlir::attn::TilingOptions().rows",
           "rows per q tile (query positions x the GQA group it packs), "
           "unless the op's schedule says otherwise">,
    Option<"blockKV", "block-kv", "int64_t",
           /*default=*/"::mlir::attn::TilingOptions().blockKV",
           "keys per kv tile, unless the op's schedule says otherwise">,
    Option<"splitKV", "split-kv", "int64_t",
           /*default=*/"::mlir::attn::TilingOptions().splitKV",
           "kv chunks per work item unless the op's schedule says otherwise "
           "(0: the runtime picks per launch, 1: never split)">
  ];
  let dependentDialects = [];
}

def AttnTilePass : Pass<"attn-tile", "mlir::ModuleOp"> {
  let summary = "Tiles attn.attention into the flash loop of one work item";
  let description = [{
    Rewrites every function whose body is one scheduled `attn.attention` on
    its arguments (what `attn-compile` imports from a spec, after
    `attn-schedule`) into the tile-level kernel of one work item, following
    the op's `#attn.tiling` and deciding nothing itself: a (batch, head
    group, q-tile) triple numbered
    `((b * Hq / G) + g) * ceil(Lq / (rows / G)) + q_tile` (Lq: the
    longest sequence with ragged storage), `G` the tiling's `head_group`.
    A packed tile holds the query heads of a GQA group in its rows, row
    `position * G + head`; the q, out and lse views are then
    `[positions, G, D]` (`memref.transpose`d for bhsd) and the element
    regions see `q_start + row / G`. The kernel function carries the
    tiling (`attn.tiling`) and its interface (`attn.interface`: layout,
    storage, heads, head dims, normalizer, mask, score modifiers and the
    parameters in call order), which survive lowering; the manifest is
    written from them. Paged storage reads each sequence's
    length from `cache_seqlens` and views each kv tile in the page
    `block_table` names (`block_kv` divides the page size); ragged storage
    views the packed tokens from `cu_seqlens`. Tensors become strided
    memrefs (inner dimension contiguous for q, k, v and out), followed by
    the work item's index:

    ```mlir
    func.func @name(%q: memref<?x?x16x128xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                    %k: ..., %v: ..., <optional operands>..., [%tile_kinds,]
                    %out: ..., [%lse: ...,] %item: index)
    ```

    The body is target neutral: scf loops, arith index math, `memref.subview`
    views of the tensors and the `attn.tile.*` ops on f32 tile buffers:

    ```mlir
    attn.tile.load_q %qview, %qs {scale = ...}
    attn.tile.init %acc, %max, %sum rows(%rows) normalizer<softmax>
    scf.for %kt = %lo to %hi step %c1 {        // only tiles that can be visible
      attn.tile.qk %qs, %kview, %s rows(%rows)
      attn.tile.score_mod %s ... { ... }       // when the spec has modifiers
      scf.if %partial {                         // mask code on partial tiles only
        attn.tile.mask %s ... { ... }
      }
      attn.tile.normalize %s, %max, %sum, %acc rows(%rows) normalizer<softmax>
      attn.tile.pv %s, %vview, %acc rows(%rows)
    }
    attn.tile.finalize %acc, %max, %sum into %oview lse(%lview) normalizer<softmax>
    ```

    Which kv tiles are visited is the tiling's `kv_tiles`:
    - `bounds`: conjunctions of causal, sliding-window, chunked, sinks,
      constant prefix-LM and neighborhood masks give loop bounds, and all
      but neighborhoods give an analytic full-tile test: mask code runs only
      on tiles it cannot prove full;
    - `disjuncts`: an `or` of such interval conjunctions (StreamingLLM's
      sinks or window) walks each disjunct's range, skipping tiles an
      earlier range holds; a tile is full when some disjunct proves it full;
    - `vertical_slash`: a vertical-slash mask (MInference) in such a
      conjunction visits the tiles that a listed vertical key lies in or a
      listed diagonal crosses, tested from its index operands per tile;
    - `listed_blocks`: a block-sparse mask whose blocks the tiles divide
      walks the kv blocks listed for the q tile (`kv_num_blocks`,
      `kv_indices`), with no mask code (a listed block is fully visible);
    - `tile_table`: every other mask reads each tile's kind from the
      `tile_kinds` table that the runtime computes (exactly, from the
      launch's operands) inside the loop bounds: empty tiles are skipped,
      full ones take no mask code.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
