// RUN: attn-opt %s -split-input-file --attn-schedule="rows=32 block-kv=16 split-kv=1" --attn-tile | FileCheck %s

// The kernel of one work item: memref arguments with run-time strides and a
// contiguous inner dimension, then the work item index.
// CHECK-LABEL: func.func @causal_gqa(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x4x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<?x?x2x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[V:[a-z0-9]+]]: memref<?x?x2x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x4x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[LSE:[a-z0-9]+]]: memref<?x4x?xf32, strided<[?, ?, ?], offset: ?>>,
// CHECK-SAME: %[[SPLITS:[a-z0-9]+]]: index, %[[ITEM:[a-z0-9]+]]: index) attributes {
// The kernel records what it is for the manifest: its interface and the
// schedule's decisions, which survive lowering.
// CHECK-SAME: attn.interface = {head_dims = array<i64: 64, 64>, heads = array<i64: 4, 2>, kv_storage = #attn.kv_storage<contiguous>, layout = #attn.layout<bshd>, mask = #attn.causal, normalizer = #attn.normalizer<softmax>, params = [{inner_contiguous = true, internal = false, name = "q", type = tensor<?x?x4x64xf32>}, {{.*}}, {inner_contiguous = false, internal = false, name = "lse", type = tensor<?x4x?xf32>}]},
// CHECK-SAME: attn.tiling = #attn.tiling<rows = 32, head_group = 2, block_kv = 16, kv_tiles = bounds, split_kv = 1>} {
// The tiles start empty at the entry (the tensor form): Q, K, V and P in
// the input dtype (f32 here), scores, rescale factors, accumulator and row
// state in f32.
// CHECK: %[[QE:.*]] = tensor.empty() : tensor<32x64xf32>
// CHECK: %[[KE:.*]] = tensor.empty() : tensor<16x64xf32>
// CHECK: %[[VE:.*]] = tensor.empty() : tensor<16x64xf32>
// CHECK: %[[SE:.*]] = tensor.empty() : tensor<32x16xf32>
// CHECK: %[[PE:.*]] = tensor.empty() : tensor<32x16xf32>
// CHECK: %[[AE:.*]] = tensor.empty() : tensor<32xf32>
// CHECK: %[[ACCE:.*]] = tensor.empty() : tensor<32x64xf32>
// CHECK: %[[MAXE:.*]] = tensor.empty() : tensor<32xf32>
// CHECK: %[[SUME:.*]] = tensor.empty() : tensor<32xf32>
// The work item splits into (batch, head group, q tile): the GQA group of
// 2 query heads sharing a kv head is packed into one tile of 16 query
// positions x 2 heads, so each kv tile is loaded once for both.
// CHECK: %[[NQT:.*]] = arith.ceildivsi %{{.*}}, %c16
// CHECK: arith.remsi %[[ITEM]], %[[NQT]]
// CHECK: %[[GROUP:.*]] = arith.remsi %{{.*}}, %c2
// CHECK: %[[HEAD:.*]] = arith.muli %[[GROUP]], %c2
// CHECK: %[[KVH:.*]] = arith.divsi %[[HEAD]], %c2
// CHECK: %[[POS:.*]] = arith.minsi %c16
// CHECK: %[[ROWS:.*]] = arith.muli %[[POS]], %c2
// CHECK: %[[QV:.*]] = memref.subview %[[Q]][%{{.*}}, %{{.*}}, %[[HEAD]], 0] [1, %[[POS]], 2, 64] [1, 1, 1, 1] {{.*}} to memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: %[[QT:.*]] = attn.tile.load_q %[[QV]] into %[[QE]]
// CHECK: %[[INIT:.*]]:3 = attn.tile.init rows(%[[ROWS]]) normalizer<softmax> into %[[MAXE]], %[[SUME]], %[[ACCE]]
// Causal loop bounds: the kv tiles stop at the last query's position.
// CHECK: %[[HI:.*]] = arith.select
// The kv loop carries the online-softmax state.
// CHECK: %[[LOOP:.*]]:3 = scf.for %[[KT:.*]] = %{{.*}} to %[[HI]] step %c1{{.*}} iter_args(%[[M:.*]] = %[[INIT]]#0, %[[L:.*]] = %[[INIT]]#1, %[[A:.*]] = %[[INIT]]#2)
// CHECK: %[[K0:.*]] = arith.muli %[[KT]], %c16
// CHECK: %[[COLS:.*]] = arith.minsi %c16
// CHECK: %[[KV:.*]] = memref.subview %[[K]][%{{.*}}, %[[K0]], %[[KVH]], 0]
// CHECK: %[[KTILE:.*]] = attn.tile.load_k %[[KV]] into %[[KE]]
// V is loaded with K (a GPU overlaps its copy with Q K^T).
// CHECK: %[[VV:.*]] = memref.subview %[[V]][%{{.*}}, %[[K0]], %[[KVH]], 0]
// CHECK: %[[VTILE:.*]] = attn.tile.load_v %[[VV]] into %[[VE]]
// CHECK: %[[S:.*]] = attn.tile.qk %[[QT]], %[[KTILE]] rows(%[[ROWS]]) cols(%[[COLS]]) into %[[SE]]
// The mask runs only where the tile is not provably full (its last key
// after the first query's position).
// CHECK: arith.cmpi sle
// CHECK: %[[PARTIAL:.*]] = arith.xori %{{.*}}, %true
// CHECK: %[[SM:.*]] = scf.if %[[PARTIAL]] -> (tensor<32x16xf32>) {
// CHECK: %[[MASKED:.*]] = attn.tile.mask %[[S]] q(%{{.*}}) k(%[[K0]]) rows(%[[ROWS]]) cols(%[[COLS]]) {group = 2 : i64} : tensor<32x16xf32> -> tensor<32x16xf32> {
// CHECK: ^bb0(%[[QI:.*]]: index, %[[KI:.*]]: index):
// CHECK: %[[P:.*]] = arith.addi %[[QI]], %{{.*}} : index
// CHECK: %[[VIS:.*]] = arith.cmpi sle, %[[KI]], %[[P]] : index
// CHECK: attn.yield %[[VIS]] : i1
// CHECK: scf.yield %[[MASKED]]
// CHECK: } else {
// CHECK: scf.yield %[[S]]
// No score modifiers: the scale goes to normalize (and finalize), not Q.
// f32 weights overwrite their scores (the weight tile is the score tile).
// CHECK: %[[N:.*]]:4 = attn.tile.normalize %[[SM]] rows(%[[ROWS]]) normalizer<softmax> scale(1.250000e-01) into %[[SM]], %[[M]], %[[L]], %[[AE]]
// CHECK: %[[ACC:.*]] = attn.tile.pv %[[N]]#0, %[[VTILE]] rescale(%[[N]]#3 : tensor<32xf32>) rows(%[[ROWS]]) cols(%[[COLS]]) into %[[A]]
// CHECK: scf.yield %[[N]]#1, %[[N]]#2, %[[ACC]]
// Finalize writes the output rows and lse of the q tile.
// CHECK: %[[OV:.*]] = memref.subview %[[O]]{{.*}} to memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>
// lse is [B, Hq, Lq]: the group's [2, positions] block, transposed to rows.
// CHECK: %[[LV:.*]] = memref.subview %[[LSE]][%{{.*}}, %[[HEAD]], %{{.*}}] [1, 2, %[[POS]]] [1, 1, 1] {{.*}} to memref<2x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[LVT:.*]] = memref.transpose %[[LV]] (d0, d1) -> (d1, d0)
// CHECK: attn.tile.finalize %[[LOOP]]#2, %[[LOOP]]#0, %[[LOOP]]#1 into %[[OV]] lse(%[[LVT]]) normalizer<softmax> scale(1.250000e-01)
func.func @causal_gqa(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x2x64xf32>, %v: tensor<?x?x2x64xf32>) -> (tensor<?x?x4x64xf32>, tensor<?x4x?xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x?x4x64xf32>) k(%k : tensor<?x?x2x64xf32>) v(%v : tensor<?x?x2x64xf32>) mask(causal) -> tensor<?x?x4x64xf32>, tensor<?x4x?xf32>
  return %out, %lse : tensor<?x?x4x64xf32>, tensor<?x4x?xf32>
}

// -----

// Score modifiers run element by element on every tile, with no mask (and
// so no partial-tile test); the region scales the score first, so normalize
// takes scale 1. Q, K, V and P tiles are bf16, the scores f32.
// CHECK-LABEL: func.func @softcap_bf16(
// CHECK: scf.for
// CHECK: %[[S:.*]] = attn.tile.qk %{{.*}} : tensor<32x32xbf16>, tensor<16x32xbf16>, tensor<32x16xf32> -> tensor<32x16xf32>
// CHECK-NEXT: attn.tile.score_mod %[[S]] q(%{{.*}}) k(%{{.*}}) rows(%{{.*}}) cols(%{{.*}}) : tensor<32x16xf32> -> tensor<32x16xf32> {
// CHECK-NEXT: ^bb0(%[[SC:.*]]: f32, %{{.*}}: index, %{{.*}}: index):
// CHECK: %[[SCALE:.*]] = arith.constant 0.176776692 : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK: arith.divf %[[SCALED]]
// CHECK: %[[T:.*]] = math.tanh
// CHECK: %[[NEW:.*]] = arith.mulf %{{.*}}, %[[T]] : f32
// CHECK: attn.yield %[[NEW]] : f32
// CHECK-NOT: scf.if
// CHECK: attn.tile.normalize {{.*}} scale(1.000000e+00) {{.*}} tensor<32x16xbf16>
func.func @softcap_bf16(%q: tensor<?x?x2x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>) -> tensor<?x?x2x32xbf16> {
  %out = attn.attention q(%q : tensor<?x?x2x32xbf16>) k(%k : tensor<?x?x2x32xbf16>) v(%v : tensor<?x?x2x32xbf16>) score(softcap<3.000000e+01>) -> tensor<?x?x2x32xbf16>
  return %out : tensor<?x?x2x32xbf16>
}

// -----

// The sink normalizer reads the head's sink logit for the finalize step.
// CHECK-LABEL: func.func @sink(
// CHECK-SAME: %[[SINK:[a-z0-9]+]]: memref<2xf32, strided<[?], offset: ?>>
// CHECK: %[[Z:.*]] = memref.load %[[SINK]]
// CHECK: attn.tile.finalize %{{.*}} sink(%[[Z]]) normalizer<softmax_with_sink> scale(
func.func @sink(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %s: tensor<2xf32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) sink(%s : tensor<2xf32>) normalizer<softmax_with_sink> -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// A block-sparse mask whose blocks the tiles divide: the kernel walks only
// the listed kv blocks (FlexAttention's BlockMask), without element masks
// on their full tiles.
// CHECK-LABEL: func.func @listed_blocks(
// CHECK-SAME: kv_tiles = listed_blocks
// CHECK: %[[COUNT:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[COUNT]] step %{{.*}} {
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[J]]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK: attn.tile.qk
// CHECK-NOT: attn.tile.mask
// CHECK: attn.tile.normalize
func.func @listed_blocks(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %n: tensor<?x?x?xi32>, %i: tensor<?x?x?x?xi32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) kv_num_blocks(%n : tensor<?x?x?xi32>) kv_indices(%i : tensor<?x?x?x?xi32>) mask(block_sparse<block_q = 64, block_kv = 64>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// A neighborhood bounds the kv tiles by the windows of the q tile's rows.
// CHECK-LABEL: func.func @neighborhood_bounds(
// CHECK-SAME: kv_tiles = tile_table
// CHECK: %[[RANGE:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (index, index)
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: arith.maxsi %{{.*}}, %[[RANGE]]#0
// CHECK: arith.minsi %{{.*}}, %[[RANGE]]#1
// Its tiles' kinds come from the tile table; partial ones run the mask.
// CHECK: scf.for
// CHECK: scf.if
// CHECK: attn.tile.qk
// CHECK: scf.if
// CHECK: attn.tile.mask
func.func @neighborhood_bounds(%q: tensor<?x256x2x32xf32>, %k: tensor<?x256x2x32xf32>, %v: tensor<?x256x2x32xf32>) -> tensor<?x256x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x256x2x32xf32>) k(%k : tensor<?x256x2x32xf32>) v(%v : tensor<?x256x2x32xf32>) mask(neighborhood<grid = [16, 16], kernel = [3, 3]>) -> tensor<?x256x2x32xf32>
  return %out : tensor<?x256x2x32xf32>
}

// -----

// A mask without loop bounds (document ids) takes the runtime's tile table:
// empty tiles are skipped, full ones run without mask code.
// CHECK-LABEL: func.func @tile_table(
// CHECK-SAME: %[[TABLE:[a-z0-9]+]]: memref<?x?x?x?xi32, strided<[?, ?, ?, ?], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<?x?x2x32xf32
// CHECK-SAME: {inner_contiguous = false, internal = true, name = "tile_kinds", type = tensor<?x?x?x?xi32>}
// CHECK-SAME: kv_tiles = tile_table
// CHECK: %[[KIND:.*]] = memref.load %[[TABLE]]
// CHECK: %[[K:.*]] = arith.index_cast %[[KIND]] : i32 to index
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi ne, %[[K]], %{{.*}}
// CHECK: scf.if %[[NONEMPTY]]
// CHECK: attn.tile.qk
// CHECK: %[[ISFULL:.*]] = arith.cmpi eq, %[[K]], %c1
// CHECK: %[[ISPARTIAL:.*]] = arith.xori %[[ISFULL]], %true
// CHECK: scf.if %[[ISPARTIAL]]
// CHECK: attn.tile.mask
// CHECK: memref.load
// CHECK: memref.load
// CHECK: arith.cmpi eq
func.func @tile_table(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %dq: tensor<?x?xi32>, %dk: tensor<?x?xi32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) doc_q(%dq : tensor<?x?xi32>) doc_kv(%dk : tensor<?x?xi32>) mask(document) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// Paged storage: the item's keys are cache_seqlens[b]; each kv tile (block_kv
// shrunk to divide the page size) is a view into the page that
// block_table[b, k0 / page_size] names.
// CHECK-LABEL: func.func @paged(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x1x4x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<?x8x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<?x8x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[TABLE:[a-z0-9]+]]: memref<?x?xi32, strided<[?, ?], offset: ?>>,
// CHECK-SAME: %[[LENS:[a-z0-9]+]]: memref<?xi32, strided<[?], offset: ?>>,
// CHECK: tensor.empty() : tensor<32x8xf32>
// CHECK: %[[BATCH:.*]] = arith.divsi %{{.*}}, %c2
// CHECK: %[[LEN:.*]] = memref.load %[[LENS]][%[[BATCH]]]
// CHECK: scf.for %[[KT:[a-z0-9]+]] =
// CHECK: %[[K0:.*]] = arith.muli %[[KT]], %c8
// CHECK: %[[PAGEIDX:.*]] = arith.divui %[[K0]], %c8
// CHECK: %[[PAGE:.*]] = memref.load %[[TABLE]][%[[BATCH]], %[[PAGEIDX]]]
// CHECK: %[[P:.*]] = arith.index_cast %[[PAGE]]
// CHECK: %[[SLOT:.*]] = arith.remui %[[K0]], %c8
// CHECK: memref.subview %[[K]][%[[P]], %[[SLOT]], %{{.*}}, 0]
func.func @paged(%q: tensor<?x1x4x32xf32>, %k: tensor<?x8x2x32xf32>, %v: tensor<?x8x2x32xf32>, %bt: tensor<?x?xi32>, %sl: tensor<?xi32>) -> tensor<?x1x4x32xf32> {
  %out = attn.attention q(%q : tensor<?x1x4x32xf32>) k(%k : tensor<?x8x2x32xf32>) v(%v : tensor<?x8x2x32xf32>) block_table(%bt : tensor<?x?xi32>) cache_seqlens(%sl : tensor<?xi32>) mask(causal) {kv_storage = #attn.kv_storage<paged>} -> tensor<?x1x4x32xf32>
  return %out : tensor<?x1x4x32xf32>
}

// -----

// Ragged storage: the q tiles cover the longest sequence; an item's
// sequence starts at cu_seqlens[b], and items past a short sequence's end
// do nothing. lse is [Hq, tokens].
// CHECK-LABEL: func.func @ragged(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x2x32xf32, strided<[?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[CUQ:[a-z0-9]+]]: memref<?xi32, strided<[?], offset: ?>>,
// CHECK-SAME: %[[CUKV:[a-z0-9]+]]: memref<?xi32, strided<[?], offset: ?>>,
// CHECK-SAME: %[[LSE:[a-z0-9]+]]: memref<2x?xf32, strided<[?, ?], offset: ?>>,
// CHECK: %[[LONGEST:.*]] = scf.for {{.*}} -> (index)
// CHECK: arith.ceildivsi %[[LONGEST]], %c32
// CHECK: %[[QBASE:.*]] = arith.index_cast
// CHECK: %[[ROWS:.*]] = arith.maxsi %{{.*}}, %c0
// CHECK: %[[ANY:.*]] = arith.cmpi sgt, %[[ROWS]], %c0
// CHECK: scf.if %[[ANY]] {
// CHECK: %[[TOKEN:.*]] = arith.addi %[[QBASE]], %{{.*}} : index
// CHECK: memref.subview %[[Q]][%[[TOKEN]], %{{.*}}, 0] [%[[ROWS]], 1, 32]
// CHECK: attn.tile.load_q
// CHECK: memref.subview %[[LSE]][%{{.*}}, %{{.*}}] [1, %[[ROWS]]] [1, 1]
// CHECK: attn.tile.finalize
// CHECK: }
// CHECK-NEXT: return
func.func @ragged(%q: tensor<?x2x32xf32>, %k: tensor<?x2x32xf32>, %v: tensor<?x2x32xf32>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> (tensor<?x2x32xf32>, tensor<2x?xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x2x32xf32>) k(%k : tensor<?x2x32xf32>) v(%v : tensor<?x2x32xf32>) cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_kv(%ck : tensor<?xi32>) mask(causal) {kv_storage = #attn.kv_storage<ragged>} -> tensor<?x2x32xf32>, tensor<2x?xf32>
  return %out, %lse : tensor<?x2x32xf32>, tensor<2x?xf32>
}

// -----

// A union of interval masks (StreamingLLM's sinks or window) needs no tile
// table: each disjunct's kv-tile range is walked, skipping the tiles an
// earlier range holds, and a tile is full when some disjunct proves it.
// CHECK-LABEL: func.func @union(
// CHECK-SAME: %{{[a-z0-9]+}}: memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>, %{{[a-z0-9]+}}: index, %{{[a-z0-9]+}}: index) attributes {{.*}}kv_tiles = disjuncts
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[HI0:.*]] step
// CHECK: attn.tile.qk
// CHECK: scf.if
// CHECK: attn.tile.mask
// CHECK: scf.for %[[KT:.*]] = %[[LO1:.*]] to %{{.*}} step
// CHECK: %[[AFTER:.*]] = arith.cmpi sge, %[[KT]], %{{.*}}
// CHECK: %[[BEFORE:.*]] = arith.cmpi slt, %[[KT]], %[[HI0]]
// CHECK: %[[IN:.*]] = arith.andi %[[AFTER]], %[[BEFORE]]
// CHECK: %[[SEEN:.*]] = arith.ori %{{.*}}, %[[IN]]
// CHECK: %[[NEW:.*]] = arith.xori %[[SEEN]], %true
// CHECK: scf.if %[[NEW]] -> (tensor<32xf32>, tensor<32xf32>, tensor<32x32xf32>) {
// CHECK: attn.tile.qk
func.func @union(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) mask(or<sinks<4>, sliding_window<left = 64>>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// Vertical-slash (MInference) finds its kv tiles from its index lists: a
// tile is visited when a listed vertical key lies in it or a listed
// diagonal crosses it; no tile table. Causal bounds the range first.
// CHECK-LABEL: func.func @vertical_slash(
// CHECK-SAME: %[[VERT:[a-z0-9]+]]: memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>,
// CHECK-SAME: %[[SLASH:[a-z0-9]+]]: memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: index) attributes {{.*}}kv_tiles = vertical_slash
// CHECK: scf.for %[[KT:.*]] =
// CHECK: %[[VHIT:.*]] = scf.for {{.*}} -> (i1)
// CHECK: memref.load %[[VERT]]
// CHECK: %[[SHIT:.*]] = scf.for {{.*}} -> (i1)
// CHECK: memref.load %[[SLASH]]
// CHECK: %[[HIT:.*]] = arith.ori %[[VHIT]], %[[SHIT]]
// CHECK: scf.if %[[HIT]] -> (tensor<32xf32>, tensor<32xf32>, tensor<32x32xf32>) {
// CHECK: attn.tile.qk
// A partial tile first marks its listed columns and diagonals, so that the
// element code reads two flags instead of searching the lists.
// CHECK: memref.store %{{.*}}, %[[COLS:.*]][%{{.*}}] : memref<16xi8>
// CHECK: memref.store %{{.*}}, %[[DIAGS:.*]][%{{.*}}] : memref<48xi8>
// CHECK: attn.tile.mask
// CHECK: memref.load %[[COLS]]
// CHECK: memref.load %[[DIAGS]]
func.func @vertical_slash(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %vert: tensor<?x?x?xi32>, %slash: tensor<?x?x?xi32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) vertical(%vert : tensor<?x?x?xi32>) slash(%slash : tensor<?x?x?xi32>) mask(and<causal, vertical_slash>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// MQA in bhsd: the 4 query heads share the kv head, so one tile holds 8
// positions of all 4 heads; the head-major q view is transposed to rows of
// (position, head).
// CHECK-LABEL: func.func @mqa_bhsd(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x4x?x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK: %[[QV:.*]] = memref.subview %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}, 0] [1, 4, %{{.*}}, 32] [1, 1, 1, 1] {{.*}} to memref<4x?x32xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: %[[QT:.*]] = memref.transpose %[[QV]] (d0, d1, d2) -> (d1, d0, d2) : memref<4x?x32xf32, strided<[?, ?, 1], offset: ?>> to memref<?x4x32xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: attn.tile.load_q %[[QT]] into %{{.*}} : memref<?x4x32xf32, strided<[?, ?, 1], offset: ?>>, tensor<32x32xf32>
// CHECK: attn.tile.mask {{.*}} {group = 4 : i64}
func.func @mqa_bhsd(%q: tensor<?x4x?x32xf32>, %k: tensor<?x1x?x32xf32>, %v: tensor<?x1x?x32xf32>) -> tensor<?x4x?x32xf32> {
  %out = attn.attention q(%q : tensor<?x4x?x32xf32>) k(%k : tensor<?x1x?x32xf32>) v(%v : tensor<?x1x?x32xf32>) mask(causal) {layout = #attn.layout<bhsd>} -> tensor<?x4x?x32xf32>
  return %out : tensor<?x4x?x32xf32>
}

// -----

// A per-head mask keeps one head per work item.
// CHECK-LABEL: func.func @per_head_mask(
// CHECK: memref.subview %{{.*}} to memref<?x32xf32, strided<[?, 1], offset: ?>>
// CHECK: attn.tile.load_q
// CHECK-NOT: group =
// CHECK: return
func.func @per_head_mask(%q: tensor<?x?x4x32xf32>, %k: tensor<?x?x1x32xf32>, %v: tensor<?x?x1x32xf32>) -> tensor<?x?x4x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x4x32xf32>) k(%k : tensor<?x?x1x32xf32>) v(%v : tensor<?x?x1x32xf32>) mask(and<causal, on_heads<heads = [0], mask = sliding_window<left = 8>>>) -> tensor<?x?x4x32xf32>
  return %out : tensor<?x?x4x32xf32>
}
