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

def AttnTilePass : Pass<"attn-tile", "mlir::ModuleOp"> {
  let summary = "Tiles attn.attention into the flash loop of one work item";
  let description = [{
    Rewrites every function whose body is one `attn.attention` on its
    arguments (what `attn-compile` imports from a spec) into the tile-level
    kernel of one work item: a (batch, head group, q-tile) triple numbered
    `((b * Hq / G) + g) * ceil(Lq / (block_q / G)) + q_tile` (Lq: the
    longest sequence with ragged storage). `G` (getHeadGroup) packs the
    query heads of a GQA group into the rows of one tile, row
    `position * G + head`, when nothing depends on the head; the q, out and
    lse views are then `[positions, G, D]` (`memref.transpose`d for bhsd) and
    the element regions see `q_start + row / G`. Otherwise `G = 1`. Paged storage reads each sequence's
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

    Which kv tiles are visited comes from the mask analysis:
    - conjunctions of causal, sliding-window, chunked, sinks, constant
      prefix-LM and neighborhood masks give loop bounds, and all but
      neighborhoods give an analytic full-tile test: mask code runs only on
      tiles it cannot prove full;
    - an `or` of such interval conjunctions (StreamingLLM's sinks or
      window) walks each disjunct's range, skipping tiles an earlier range
      holds; a tile is full when some disjunct proves it full;
    - a vertical-slash mask (MInference) in such a conjunction visits the
      tiles that a listed vertical key lies in or a listed diagonal crosses,
      tested from its index operands per tile;
    - a block-sparse mask whose blocks the tiles divide walks the kv blocks
      listed for the q tile (`kv_num_blocks`, `kv_indices`), with no mask
      code (a listed block is fully visible);
    - every other mask reads each tile's kind from the `tile_kinds` table
      that the runtime computes (exactly, from the launch's operands): empty
      tiles are skipped, full ones take no mask code.
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"128",
           "rows per q tile (query positions x the GQA group it packs), "
           "unless the op's schedule says otherwise">,
    Option<"blockKV", "block-kv", "int64_t", /*default=*/"64",
           "keys per tile, unless the op's schedule says otherwise">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
