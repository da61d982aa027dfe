// RUN: attn-opt %s -split-input-file --convert-attn-to-cpu="vector-width=8 block-q=32 block-kv=16" | FileCheck %s

// The kernel of one work item: memref arguments with run-time strides and a
// contiguous inner dimension, then the work item index.
// CHECK-LABEL: func.func @causal_gqa(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x4x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<?x?x2x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[V:[a-z0-9]+]]: memref<?x?x2x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x4x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[LSE:[a-z0-9]+]]: memref<?x4x?xf32, strided<[?, ?, ?], offset: ?>>,
// CHECK-SAME: %[[ITEM:[a-z0-9]+]]: index) attributes {llvm.emit_c_interface}
// The work item splits into (batch, head, q tile); GQA maps the head.
// CHECK: %[[NQT:.*]] = arith.ceildivsi %{{.*}}, %c32
// CHECK: arith.remsi %[[ITEM]], %[[NQT]]
// CHECK: %[[HEAD:.*]] = arith.remsi %{{.*}}, %c4
// CHECK: arith.divsi %[[HEAD]], %c2
// f32 scratch tiles: Q, K^T, V, S, O, row max, row sum.
// CHECK: memref.alloca() : memref<32x64xf32>
// CHECK: memref.alloca() : memref<64x16xf32>
// CHECK: memref.alloca() : memref<16x64xf32>
// CHECK: memref.alloca() : memref<32x16xf32>
// CHECK: memref.alloca() : memref<32x64xf32>
// CHECK: memref.alloca() : memref<32xf32>
// CHECK: memref.alloca() : memref<32xf32>
// Causal loop bounds: the kv tiles stop at the last query's position.
// CHECK: %[[HI:.*]] = arith.select
// CHECK: scf.for %[[KT:.*]] = %{{.*}} to %[[HI]] step %c1
// S = Q K^T with vector FMAs over keys.
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf32>
// The mask runs only where a tile is not known to be full.
// CHECK: scf.if
// CHECK: arith.cmpi sle
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst
// Online softmax: row max, exp, rescale.
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp %{{.*}} : vector<8xf32>
// CHECK: vector.reduction <add>
// P V with vector FMAs over the head dim.
// CHECK: vector.fma
// Finalize: divide by the row sum, lse = m + log(l).
// CHECK: arith.divf
// CHECK: math.log
// CHECK: memref.store %{{.*}}, %[[LSE]]
func.func @causal_gqa(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x2x64xf32>, %v: tensor<?x?x2x64xf32>) -> (tensor<?x?x4x64xf32>, tensor<?x4x?xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x?x4x64xf32>) k(%k : tensor<?x?x2x64xf32>) v(%v : tensor<?x?x2x64xf32>) mask(causal) -> tensor<?x?x4x64xf32>, tensor<?x4x?xf32>
  return %out, %lse : tensor<?x?x4x64xf32>, tensor<?x4x?xf32>
}

// -----

// Score modifiers run element by element on every tile; bf16 loads extend
// to f32 and the output truncates back.
// CHECK-LABEL: func.func @softcap_bf16(
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: math.tanh
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @softcap_bf16(%q: tensor<?x?x2x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>) -> tensor<?x?x2x32xbf16> {
  %out = attn.attention q(%q : tensor<?x?x2x32xbf16>) k(%k : tensor<?x?x2x32xbf16>) v(%v : tensor<?x?x2x32xbf16>) score(softcap<3.000000e+01>) -> tensor<?x?x2x32xbf16>
  return %out : tensor<?x?x2x32xbf16>
}

// -----

// The sink normalizer reads the sink logit in the finalize step.
// CHECK-LABEL: func.func @sink(
// CHECK-SAME: %{{.*}}: memref<2xf32, strided<[?], offset: ?>>
// CHECK: arith.maximumf
// CHECK: math.log
func.func @sink(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %s: tensor<2xf32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) sink(%s : tensor<2xf32>) normalizer<softmax_with_sink> -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// A block-sparse mask whose blocks the tiles divide: the kernel walks only
// the listed kv blocks (FlexAttention's BlockMask), without element masks
// on their full tiles.
// CHECK-LABEL: func.func @listed_blocks(
// CHECK: %[[COUNT:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[COUNT]] step %{{.*}} {
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[J]]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK: vector.fma
func.func @listed_blocks(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %n: tensor<?x?x?xi32>, %i: tensor<?x?x?x?xi32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) kv_num_blocks(%n : tensor<?x?x?xi32>) kv_indices(%i : tensor<?x?x?x?xi32>) mask(block_sparse<block_q = 64, block_kv = 64>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}

// -----

// A neighborhood bounds the kv tiles by the windows of the q tile's rows.
// CHECK-LABEL: func.func @neighborhood_bounds(
// CHECK: %[[RANGE:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (index, index)
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: arith.maxsi %{{.*}}, %[[RANGE]]#0
// CHECK: arith.minsi %{{.*}}, %[[RANGE]]#1
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
// CHECK: %[[KIND:.*]] = memref.load %[[TABLE]]
// CHECK: %[[K:.*]] = arith.index_cast %[[KIND]] : i32 to index
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi ne, %[[K]], %{{.*}}
// CHECK: scf.if %[[NONEMPTY]]
func.func @tile_table(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %dq: tensor<?x?xi32>, %dk: tensor<?x?xi32>) -> tensor<?x?x2x32xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) doc_q(%dq : tensor<?x?xi32>) doc_kv(%dk : tensor<?x?xi32>) mask(document) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}
