//===- AttnTileOps.td - Attn tile-level ops ----------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The tile level: the target-neutral FlashAttention loop that `attn-tile`
// produces from `attn.attention` and each target lowers.
//
// Tiles have static shapes (the tile sizes) and come in two forms, as linalg
// ops do (destination-passing style, `DestinationStyleOpInterface`):
// - the tensor form, which `attn-tile` emits: each op takes its tiles as
//   tensors and returns the tiles it writes (one result per `into` operand);
//   the kv loop carries the online-softmax state (row max, row sum,
//   accumulator) as `scf.for` iter_args, so a target that keeps tiles in
//   registers (a GPU's tensor-core fragments) lowers values, not buffers;
// - the memref form, which `attn-bufferize-tile` produces: the same ops on
//   buffers, without results (the CPU lowering reads it).
// Q, K, V and P tiles have the input dtype (f32, f16 or bf16), as the
// operands of a tensor-core product; scores, the row state and the
// accumulator are f32. Views of the global tensors are 2-D or 3-D strided
// memrefs (`memref.subview`s of the kernel's arguments) in both forms. Row
// and column counts are operands because edge tiles are short; rows past
// them are unspecified, so a target may compute on padding.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNTILEOPS_TD
#define ATTN_DIALECT_ATTN_ATTNTILEOPS_TD

include "attn/AttnBase.td"
include "attn/AttnAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// A tile: a static-shaped tensor or memref of `types` and `rank`.
class Attn_Tile<list<Type> types, int rank>
    : AnyTypeOf<[TensorRankOf<types, [rank]>, MemRefRankOf<types, [rank]>]>;
def Attn_F32Tile : Attn_Tile<[F32], 2>;
def Attn_F32Row : Attn_Tile<[F32], 1>;
def Attn_OperandTile : Attn_Tile<[F32, F16, BF16], 2>;
def Attn_TensorView : MemRefRankOf<[F32, F16, BF16], [2]>;
// Query rows: [positions, D], or [positions, heads, D] when a q tile packs
// the query heads of a GQA group (row = position * heads + head).
def Attn_QueryView : MemRefRankOf<[F32, F16, BF16], [2, 3]>;
def Attn_LseView : MemRefRankOf<[F32], [1, 2]>;

class Attn_TileOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<"tile." # mnemonic, !listconcat(traits, [
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>])> {
  let hasVerifier = 1;
}

/// A tile op in destination-passing style: its last `numInits` operands
/// (after `into`) are the tiles it writes; in the tensor form it returns
/// them, in the memref form it writes them.
class Attn_DpsTileOp<string mnemonic, int numInits, list<Trait> traits = []>
    : Attn_TileOp<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface])> {
  let results = (outs Variadic<AnyRankedTensor>:$results);
  code dpsInits = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(
          getOperation(), getOperation()->getNumOperands() - }] # numInits #
      [{, }] # numInits # [{);
    }
  }];
  let extraClassDeclaration = dpsInits;
}

class Attn_TileLoadOp<string mnemonic, string role>
    : Attn_DpsTileOp<mnemonic, 1> {
  let summary = "loads the " # role # " rows of a view into a tile";
  let arguments = (ins Attn_QueryView:$source, Attn_OperandTile:$tile);
  let assemblyFormat = [{
    $source `into` $tile attr-dict `:` type($source) `,` type($tile)
    (`->` type($results)^)?
  }];
}

def Attn_TileLoadQOp : Attn_TileLoadOp<"load_q", "query"> {
  let description = [{
    `tile[i, d] = source[i, d]` for the `dim(source, 0)` rows of the view;
    the tile's later rows are unspecified. The tile has the view's dtype and
    head dim. A rank-3 view `[positions, heads, D]` (a GQA group packed into
    one tile) fills row `p * heads + h` from `source[p, h]`.

    ```mlir
    %qt = attn.tile.load_q %view into %empty
        : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<128x64xbf16>
        -> tensor<128x64xbf16>
    ```
  }];
}

def Attn_TileLoadKOp : Attn_TileLoadOp<"load_k", "key"> {
  let description = [{
    `tile[j, d] = source[j, d]` for the `dim(source, 0)` keys of a kv tile;
    later rows are unspecified. A separate op from `load_v` and `load_q` so
    that a target can stage each role its own way (K transposed for the CPU's
    outer products, a pipelined shared-memory copy on a GPU).

    ```mlir
    %kt = attn.tile.load_k %view into %empty
        : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<64x64xbf16>
        -> tensor<64x64xbf16>
    ```
  }];
}

def Attn_TileLoadVOp : Attn_TileLoadOp<"load_v", "value"> {
  let description = [{
    `tile[j, d] = source[j, d]` for the `dim(source, 0)` keys of a kv tile;
    later rows are unspecified.

    ```mlir
    %vt = attn.tile.load_v %view into %empty
        : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<64x64xbf16>
        -> tensor<64x64xbf16>
    ```
  }];
}

def Attn_TileInitOp : Attn_DpsTileOp<"init", 3> {
  let summary = "starts the online-softmax state of a q tile";
  let description = [{
    For the first `rows` rows: the accumulator and the row sum become 0; the
    row max becomes -inf for the normalizers with a log-sum-exp (the softmax
    family) and 0 for the others.

    ```mlir
    %m, %l, %acc = attn.tile.init rows(%rows) normalizer<softmax>
        into %m0, %l0, %acc0
        : tensor<128xf32>, tensor<128xf32>, tensor<128x64xf32>
        -> tensor<128xf32>, tensor<128xf32>, tensor<128x64xf32>
    ```
  }];
  let arguments = (ins Index:$rows, Attn_NormalizerAttr:$normalizer,
                       Attn_F32Row:$max, Attn_F32Row:$sum,
                       Attn_F32Tile:$acc);
  let assemblyFormat = [{
    `rows` `(` $rows `)` `normalizer` `` $normalizer `into` $max `,` $sum `,`
    $acc attr-dict `:` type($max) `,` type($sum) `,` type($acc)
    (`->` type($results)^)?
  }];
}

def Attn_TileQKOp : Attn_DpsTileOp<"qk", 1> {
  let summary = "scores of a q tile against a k tile: S = Q K^T";
  let description = [{
    `scores[i, j] = sum_d f32(q[i, d]) * f32(k[j, d])` (accumulated in f32)
    for the first `rows` rows and `cols` keys; columns from `cols` on (past
    the keys of an edge tile) become -inf, so that later ops see them as
    masked. The scores are not scaled: `normalize` and `score_mod` apply
    the scale.

    ```mlir
    %s = attn.tile.qk %qt, %kt rows(%rows) cols(%cols) into %empty
        : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>
        -> tensor<128x64xf32>
    ```
  }];
  let arguments = (ins Attn_OperandTile:$q, Attn_OperandTile:$k, Index:$rows,
                       Index:$cols, Attn_F32Tile:$scores);
  let assemblyFormat = [{
    $q `,` $k `rows` `(` $rows `)` `cols` `(` $cols `)` `into` $scores
    attr-dict `:` type($q) `,` type($k) `,` type($scores)
    (`->` type($results)^)?
  }];
}

def Attn_TileScoreModOp : Attn_DpsTileOp<"score_mod", 1, [SingleBlock]> {
  let summary = "applies score modifiers element by element to a score tile";
  let description = [{
    For `i < rows` and `j < cols`, `scores[i, j]` becomes the value the
    region yields for `(scores[i, j], q_start + i / group, k_start + j)`:
    the score, the query index and the key index (`group` rows share a
    query position when a tile packs a GQA group's heads; 1 otherwise). The
    region holds the scale and the score modifiers of the spec (softcap,
    ALiBi, bias, the user's `score_mod`) as scalar arith/math ops; it may
    read values defined above it.

    ```mlir
    %s2 = attn.tile.score_mod %s q(%q0) k(%k0) rows(%rows) cols(%cols)
        : tensor<128x64xf32> -> tensor<128x64xf32> {
    ^bb0(%score: f32, %qi: index, %ki: index):
      ...
      attn.yield %new : f32
    }
    ```
  }];
  let arguments = (ins Index:$q_start, Index:$k_start, Index:$rows,
                       Index:$cols, DefaultValuedAttr<I64Attr, "1">:$group,
                       Attn_F32Tile:$scores);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $scores `q` `(` $q_start `)` `k` `(` $k_start `)` `rows` `(` $rows `)`
    `cols` `(` $cols `)` attr-dict `:` type($scores) (`->` type($results)^)?
    $body
  }];
}

def Attn_TileMaskOp : Attn_DpsTileOp<"mask", 1, [SingleBlock]> {
  let summary = "masks a partial score tile element by element";
  let description = [{
    For `i < rows` and `j < cols`, `scores[i, j]` becomes -inf where the
    region yields false for `(q_start + i / group, k_start + j)`. `attn-tile`
    emits it only on tiles the analysis cannot prove full (under an `scf.if`
    when that is decided at run time).

    ```mlir
    %s2 = attn.tile.mask %s q(%q0) k(%k0) rows(%rows) cols(%cols)
        : tensor<128x64xf32> -> tensor<128x64xf32> {
    ^bb0(%qi: index, %ki: index):
      %visible = arith.cmpi sle, %ki, %qi : index
      attn.yield %visible : i1
    }
    ```
  }];
  let arguments = (ins Index:$q_start, Index:$k_start, Index:$rows,
                       Index:$cols, DefaultValuedAttr<I64Attr, "1">:$group,
                       Attn_F32Tile:$scores);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $scores `q` `(` $q_start `)` `k` `(` $k_start `)` `rows` `(` $rows `)`
    `cols` `(` $cols `)` attr-dict `:` type($scores) (`->` type($results)^)?
    $body
  }];
}

def Attn_TileNormalizeOp : Attn_DpsTileOp<"normalize", 4> {
  let summary = "turns a score tile into weights, updating the online state";
  let description = [{
    For the first `rows` rows, with `c = scale * log2(e)` (rounded once to
    f32), by the normalizer:
    - the softmax family (online softmax): `m' = max(m, max_j s)`; with
      `r = m'` (or 0 while every score so far is -inf),
      `p = exp2(s c - r c)` (0 for -inf scores), `alpha = exp2(m c - r c)`
      (0 while m is -inf), `l' = l * alpha + sum_j p`;
    - `sigmoid`: `p = sigmoid(scale * s + bias)`; `none`: `p = scale * s`
      (0 for -inf scores); m and l stay, alpha is 1.
    The row max is kept in score units (unscaled). `p` has the dtype of the
    weight tile: a bf16/f16 tile rounds each weight (as the operand of a
    tensor-core P V), while `l` sums the unrounded weights. `alpha` is the
    factor `pv` rescales the accumulator by. The op is element-wise from
    the scores to the weights: every lowering reads a score before it
    writes the weight at its position and never after, so the weight tile
    may be the score tile itself (f32 kernels write their weights over
    their scores).

    ```mlir
    %p, %m2, %l2, %alpha = attn.tile.normalize %s rows(%rows)
        normalizer<softmax> scale(1.250000e-01) into %p0, %m, %l, %a0
        : tensor<128x64xf32>, tensor<128x64xbf16>, tensor<128xf32>,
          tensor<128xf32>, tensor<128xf32>
        -> tensor<128x64xbf16>, tensor<128xf32>, tensor<128xf32>,
           tensor<128xf32>
    ```
  }];
  let arguments = (ins Attn_F32Tile:$scores, Index:$rows,
                       Attn_NormalizerAttr:$normalizer, F64Attr:$scale,
                       Attn_OperandTile:$p, Attn_F32Row:$max,
                       Attn_F32Row:$sum, Attn_F32Row:$alpha);
  let assemblyFormat = [{
    $scores `rows` `(` $rows `)` `normalizer` `` $normalizer `scale` `(`
    $scale `)` `into` $p `,` $max `,` $sum `,` $alpha attr-dict `:`
    type($scores) `,` type($p) `,` type($max) `,` type($sum) `,`
    type($alpha) (`->` type($results)^)?
  }];
}

def Attn_TilePVOp : Attn_DpsTileOp<"pv", 1> {
  let summary = "accumulates weights times values: O = alpha O + P V";
  let description = [{
    `acc[i, d] = alpha[i] * acc[i, d] + sum_{j < cols} f32(p[i, j]) *
    f32(v[j, d])` for the first `rows` rows (alpha is 1 when absent); the
    v tile's rows from `cols` on are not read.

    ```mlir
    %acc2 = attn.tile.pv %p, %vt rescale(%alpha : tensor<128xf32>)
        rows(%rows) cols(%cols) into %acc
        : tensor<128x64xbf16>, tensor<64x64xbf16>, tensor<128x64xf32>
        -> tensor<128x64xf32>
    ```
  }];
  let arguments = (ins Attn_OperandTile:$p, Attn_OperandTile:$v,
                       Optional<Attn_F32Row>:$alpha, Index:$rows, Index:$cols,
                       Attn_F32Tile:$acc);
  let assemblyFormat = [{
    $p `,` $v (`rescale` `(` $alpha^ `:` type($alpha) `)`)? `rows` `(` $rows
    `)` `cols` `(` $cols `)` `into` $acc attr-dict `:` type($p) `,` type($v)
    `,` type($acc) (`->` type($results)^)?
  }];
}

def Attn_TileFinalizeOp : Attn_TileOp<"finalize", [AttrSizedOperandSegments]> {
  let summary = "writes a q tile's output rows and log-sum-exp";
  let description = [{
    For the rows of the output view (`[positions, Dv]`, or
    `[positions, heads, Dv]` for a packed GQA group: row `p * heads + h`;
    the lse view is `[positions]` or `[positions, heads]` alike), with the
    row max in logits `M = scale * m`: `softmax` writes `acc / l` and
    `lse = M + log l`; the sink normalizers add `exp(z - M)` to the
    denominator first (`z` is the `sink` operand for `softmax_with_sink`, 0
    for `softmax_off_by_one`); `sigmoid` and `none` write `acc`. A row whose
    scores were all -inf writes 0 and lse -inf (`z` for the sink
    normalizers, whose sink is then the only term). The state is read as
    tensors or buffers; the views are always written.

    ```mlir
    attn.tile.finalize %acc, %m, %l into %oview lse(%lview)
        normalizer<softmax> scale(1.250000e-01)
        : tensor<128x64xf32>, tensor<128xf32>, tensor<128xf32>,
          memref<?x64xbf16, strided<[?, 1], offset: ?>>,
          memref<?xf32, strided<[?], offset: ?>>
    ```
  }];
  let arguments = (ins Attn_F32Tile:$acc, Attn_F32Row:$max, Attn_F32Row:$sum,
                       Attn_QueryView:$out, Optional<Attn_LseView>:$lse,
                       Optional<F32>:$sink, Attn_NormalizerAttr:$normalizer,
                       F64Attr:$scale);
  let assemblyFormat = [{
    $acc `,` $max `,` $sum `into` $out (`lse` `(` $lse^ `)`)?
    (`sink` `(` $sink^ `)`)? `normalizer` `` $normalizer `scale` `(` $scale
    `)` attr-dict `:` type($acc) `,` type($max) `,` type($sum) `,` type($out)
    (`,` type($lse)^)?
  }];
}

#endif // ATTN_DIALECT_ATTN_ATTNTILEOPS_TD
