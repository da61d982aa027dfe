//===- AttnTileOps.td - Attn tile-level ops ----------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The tile level: the target-neutral FlashAttention loop that `attn-tile`
// produces from `attn.attention` and each target lowers. Tiles are f32
// buffers (memrefs with static shapes: the tile sizes); views of the global
// tensors are 2-D strided memrefs (`memref.subview`s of the kernel's
// arguments). Row counts are operands because the last q tile may be short;
// rows past them are left unspecified, so a target may compute on padding.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNTILEOPS_TD
#define ATTN_DIALECT_ATTN_ATTNTILEOPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_F32Tile : MemRefRankOf<[F32], [2]>;
def Attn_F32Row : MemRefRankOf<[F32], [1]>;
def Attn_TensorView : MemRefRankOf<[F32, F16, BF16], [2]>;
// Query rows: [positions, D], or [positions, heads, D] when a q tile packs
// the query heads of a GQA group (row = position * heads + head).
def Attn_QueryView : MemRefRankOf<[F32, F16, BF16], [2, 3]>;
def Attn_LseView : MemRefRankOf<[F32], [1, 2]>;

class Attn_TileOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<"tile." # mnemonic, traits> {
  let hasVerifier = 1;
}

def Attn_TileLoadQOp : Attn_TileOp<"load_q"> {
  let summary = "loads and scales a q tile into an f32 tile";
  let description = [{
    `tile[i, d] = f32(source[i, d]) * scale` for the `dim(source, 0)` rows of
    the view; the tile's later rows are unspecified. The view's columns are
    the head dim and must equal the tile's. A rank-3 view
    `[positions, heads, D]` (a GQA group packed into one tile) fills row
    `p * heads + h` from `source[p, h]`.

    ```mlir
    attn.tile.load_q %view, %qs {scale = 1.250000e-01 : f64}
        : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<128x64xf32>
    ```
  }];
  let arguments = (ins Arg<Attn_QueryView, "q rows", [MemRead]>:$source,
                       Arg<Attn_F32Tile, "q tile", [MemWrite]>:$tile,
                       F64Attr:$scale);
  let assemblyFormat = [{
    $source `,` $tile attr-dict `:` type($source) `,` type($tile)
  }];
}

def Attn_TileInitOp : Attn_TileOp<"init"> {
  let summary = "starts the online-softmax state of a q tile";
  let description = [{
    For the first `rows` rows: the accumulator and the row sum become 0; the
    row max becomes -inf for the normalizers with a log-sum-exp (the softmax
    family) and 0 for the others.

    ```mlir
    attn.tile.init %acc, %max, %sum rows(%rows) normalizer<softmax>
        : memref<128x64xf32>, memref<128xf32>, memref<128xf32>
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "accumulator", [MemWrite]>:$acc,
                       Arg<Attn_F32Row, "row max", [MemWrite]>:$max,
                       Arg<Attn_F32Row, "row sum", [MemWrite]>:$sum,
                       Index:$rows, Attn_NormalizerAttr:$normalizer);
  let assemblyFormat = [{
    $acc `,` $max `,` $sum `rows` `(` $rows `)` `normalizer` `` $normalizer
    attr-dict `:` type($acc) `,` type($max) `,` type($sum)
  }];
}

def Attn_TileQKOp : Attn_TileOp<"qk"> {
  let summary = "scores of a q tile against a kv tile: S = Q K^T";
  let description = [{
    `scores[i, j] = sum_d q[i, d] * k[j, d]` for the first `rows` rows and
    the `dim(k, 0)` keys of the view; columns past the view's keys (an edge
    tile) become -inf, so that later ops see them as masked.

    ```mlir
    attn.tile.qk %qs, %kview, %s rows(%rows)
        : memref<128x64xf32>, memref<?x64xf16, strided<[?, 1], offset: ?>>,
          memref<128x64xf32>
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "q tile", [MemRead]>:$q,
                       Arg<Attn_TensorView, "k rows", [MemRead]>:$k,
                       Arg<Attn_F32Tile, "score tile", [MemWrite]>:$scores,
                       Index:$rows);
  let assemblyFormat = [{
    $q `,` $k `,` $scores `rows` `(` $rows `)` attr-dict `:` type($q) `,`
    type($k) `,` type($scores)
  }];
}

def Attn_TileScoreModOp : Attn_TileOp<"score_mod", [
    SingleBlock]> {
  let summary = "applies score modifiers element by element to a score tile";
  let description = [{
    For `i < rows` and `j < cols`, `scores[i, j]` becomes the value the
    region yields for `(scores[i, j], q_start + i / group, k_start + j)`:
    the score, the query index and the key index (`group` rows share a
    query position when a tile packs a GQA group's heads; 1 otherwise). The region holds the score modifiers
    of the spec (softcap, ALiBi, bias, the user's `score_mod`) as scalar
    arith/math ops; it may read values defined above it.

    ```mlir
    attn.tile.score_mod %s q(%q0) k(%k0) rows(%rows) cols(%cols) : memref<128x64xf32> {
    ^bb0(%score: f32, %qi: index, %ki: index):
      ...
      attn.yield %new : f32
    }
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "score tile", [MemRead, MemWrite]>:$scores,
                       Index:$q_start, Index:$k_start, Index:$rows,
                       Index:$cols,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $scores `q` `(` $q_start `)` `k` `(` $k_start `)` `rows` `(` $rows `)`
    `cols` `(` $cols `)` attr-dict `:` type($scores) $body
  }];
}

def Attn_TileMaskOp : Attn_TileOp<"mask", [
    SingleBlock]> {
  let summary = "masks a partial score tile element by element";
  let description = [{
    For `i < rows` and `j < cols`, `scores[i, j]` becomes -inf where the
    region yields false for `(q_start + i / group, k_start + j)`. `attn-tile` emits
    it only on tiles the analysis cannot prove full (under an `scf.if` when
    that is decided at run time).

    ```mlir
    attn.tile.mask %s q(%q0) k(%k0) rows(%rows) cols(%cols) : memref<128x64xf32> {
    ^bb0(%qi: index, %ki: index):
      %visible = arith.cmpi sle, %ki, %qi : index
      attn.yield %visible : i1
    }
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "score tile", [MemRead, MemWrite]>:$scores,
                       Index:$q_start, Index:$k_start, Index:$rows,
                       Index:$cols,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $scores `q` `(` $q_start `)` `k` `(` $k_start `)` `rows` `(` $rows `)`
    `cols` `(` $cols `)` attr-dict `:` type($scores) $body
  }];
}

def Attn_TileNormalizeOp : Attn_TileOp<"normalize"> {
  let summary = "turns a score tile into weights, updating the online state";
  let description = [{
    For the first `rows` rows, by the normalizer:
    - the softmax family (online softmax): `m' = max(m, max_j s)`; with
      `r = m'` (or 0 while every score so far is -inf),
      `p = exp(s - r)` (0 for -inf scores), `l = l * exp(m - r) + sum_j p`,
      `acc *= exp(m - r)` (0 while m is -inf), `m = m'`;
    - `sigmoid`: `p = sigmoid(s + bias)`; `none`: `p = s` (0 for -inf
      scores, the state untouched).
    The weights `p` replace the scores.

    ```mlir
    attn.tile.normalize %s, %max, %sum, %acc rows(%rows) normalizer<softmax>
        : memref<128x64xf32>, memref<128xf32>, memref<128xf32>, memref<128x64xf32>
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "score tile", [MemRead, MemWrite]>:$scores,
                       Arg<Attn_F32Row, "row max", [MemRead, MemWrite]>:$max,
                       Arg<Attn_F32Row, "row sum", [MemRead, MemWrite]>:$sum,
                       Arg<Attn_F32Tile, "accumulator", [MemRead, MemWrite]>:$acc,
                       Index:$rows, Attn_NormalizerAttr:$normalizer);
  let assemblyFormat = [{
    $scores `,` $max `,` $sum `,` $acc `rows` `(` $rows `)` `normalizer` ``
    $normalizer attr-dict `:` type($scores) `,` type($max) `,` type($sum) `,`
    type($acc)
  }];
}

def Attn_TilePVOp : Attn_TileOp<"pv"> {
  let summary = "accumulates weights times values: O += P V";
  let description = [{
    `acc[i, d] += sum_j p[i, j] * v[j, d]` for the first `rows` rows, over
    the `dim(v, 0)` keys of the view.

    ```mlir
    attn.tile.pv %p, %vview, %acc rows(%rows)
        : memref<128x64xf32>, memref<?x64xf16, strided<[?, 1], offset: ?>>,
          memref<128x64xf32>
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "weight tile", [MemRead]>:$p,
                       Arg<Attn_TensorView, "v rows", [MemRead]>:$v,
                       Arg<Attn_F32Tile, "accumulator", [MemRead, MemWrite]>:$acc,
                       Index:$rows);
  let assemblyFormat = [{
    $p `,` $v `,` $acc `rows` `(` $rows `)` attr-dict `:` type($p) `,`
    type($v) `,` type($acc)
  }];
}

def Attn_TileFinalizeOp : Attn_TileOp<"finalize", [AttrSizedOperandSegments]> {
  let summary = "writes a q tile's output rows and log-sum-exp";
  let description = [{
    For the rows of the output view (`[positions, Dv]`, or
    `[positions, heads, Dv]` for a packed GQA group: row `p * heads + h`;
    the lse view is `[positions]` or `[positions, heads]` alike): `softmax`
    writes
    `acc / l` and `lse = m + log l`; the sink normalizers add `exp(z - m)`
    to the denominator first (`z` is the `sink` operand for
    `softmax_with_sink`, 0 for `softmax_off_by_one`); `sigmoid` and `none`
    write `acc`. A row whose scores were all -inf writes 0 and lse -inf
    (`z` for the sink normalizers, whose sink is then the only term).

    ```mlir
    attn.tile.finalize %acc, %max, %sum into %oview lse(%lview) normalizer<softmax>
        : memref<128x64xf32>, memref<128xf32>, memref<128xf32>,
          memref<?x64xbf16, strided<[?, 1], offset: ?>>,
          memref<?xf32, strided<[?], offset: ?>>
    ```
  }];
  let arguments = (ins Arg<Attn_F32Tile, "accumulator", [MemRead]>:$acc,
                       Arg<Attn_F32Row, "row max", [MemRead]>:$max,
                       Arg<Attn_F32Row, "row sum", [MemRead]>:$sum,
                       Arg<Attn_QueryView, "output rows", [MemWrite]>:$out,
                       Arg<Optional<Attn_LseView>, "lse rows", [MemWrite]>:$lse,
                       Optional<F32>:$sink,
                       Attn_NormalizerAttr:$normalizer);
  let assemblyFormat = [{
    $acc `,` $max `,` $sum `into` $out (`lse` `(` $lse^ `)`)?
    (`sink` `(` $sink^ `)`)? `normalizer` `` $normalizer attr-dict `:`
    type($acc) `,` type($max) `,` type($sum) `,` type($out)
    (`,` type($lse)^)?
  }];
}

#endif // ATTN_DIALECT_ATTN_ATTNTILEOPS_TD
