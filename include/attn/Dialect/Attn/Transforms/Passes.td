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
    views of the tensors and the `attn.tile.*` ops in their tensor form.
    The kv loop carries the online-softmax state as iter_args; the tiles
    start as `tensor.empty` at the function's entry (one per role); Q, K, V
    and P tiles have the input dtype. Without score modifiers the scale
    stays out of the scores (`normalize` folds it into its exp2); with them,
    the score_mod region multiplies by it first and `normalize` takes 1:

    ```mlir
    %qt = attn.tile.load_q %qview into %q0
    %m, %l, %acc = attn.tile.init rows(%rows) normalizer<softmax> into ...
    %st:3 = scf.for %kt = %lo to %hi step %c1
        iter_args(%m1 = %m, %l1 = %l, %acc1 = %acc) {  // tiles that can be visible
      %kt = attn.tile.load_k %kview into %k0
      %s = attn.tile.qk %qt, %kt rows(%rows) cols(%cols) into %s0
      %s2 = attn.tile.score_mod %s ... { ... }   // when the spec has modifiers
      %s3 = scf.if %partial {                     // mask code on partial tiles
        %sm = attn.tile.mask %s2 ... { ... }
        scf.yield %sm
      } else { scf.yield %s2 }
      %p, %m2, %l2, %alpha = attn.tile.normalize %s3 rows(%rows)
          normalizer<softmax> scale(...) into %p0, %m1, %l1, %a0
      %vt = attn.tile.load_v %vview into %v0
      %acc2 = attn.tile.pv %p, %vt rescale(%alpha : ...) rows(%rows)
          cols(%cols) into %acc1
      scf.yield %m2, %l2, %acc2
    }
    attn.tile.finalize %st#2, %st#0, %st#1 into %oview lse(%lview)
        normalizer<softmax> scale(...)
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
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def AttnBufferizeTilePass
    : Pass<"attn-bufferize-tile", "mlir::func::FuncOp"> {
  let summary = "Turns the tile level's tensor form into its memref form";
  let description = [{
    Runs One-Shot Bufferize on a kernel of the tile level: every
    `attn.tile.*` op (in destination-passing style), the `scf.for`
    iter_args and `scf.if` results that carry tiles, and the `tensor.empty`
    tiles, which become `memref.alloca`s (a work item's tiles live on its
    stack; the CPU lowering moves large ones to the heap). Function
    boundaries are not bufferized: a kernel takes buffers already.

    A tile level that needs a copy is an error, not a slower kernel: every
    state value must be used once, in a straight chain (read the old row
    max after `normalize` has replaced it, and bufferization would have to
    keep both). The pass reports the op where a copy would go.

    ```mlir
    // before
    %s = attn.tile.qk %qt, %kt rows(%r) cols(%c) into %s0
        : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>
        -> tensor<128x64xf32>
    // after
    attn.tile.qk %qb, %kb rows(%r) cols(%c) into %sb
        : memref<128x64xbf16>, memref<64x64xbf16>, memref<128x64xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
