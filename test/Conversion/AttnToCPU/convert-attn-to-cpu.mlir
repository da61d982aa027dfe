// RUN: attn-opt %s -split-input-file --convert-attn-to-cpu="vector-width=8" | FileCheck %s

// Every tile op of a kernel, as attn-tile emits them (bf16 views, f32
// tiles of 32 rows, 16 keys and head dim 64).
// CHECK-LABEL: func.func @kernel(
// CHECK-SAME: attributes {llvm.emit_c_interface}
// Staging buffers for K^T and V in f32.
// CHECK-DAG: %[[KT:.*]] = memref.alloca() : memref<64x16xf32>
// CHECK-DAG: %[[VS:.*]] = memref.alloca() : memref<16x64xf32>
// load_q: convert, scale, and zero the padding rows of the row blocking.
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: %[[PADDED:.*]] = arith.muli %{{.*}}, %c4{{(_[0-9]+)?}} : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[PADDED]] step
// init: -inf row max for softmax, zero vectors for the accumulator.
// CHECK: memref.store %cst{{.*}}, %{{.*}}[%{{.*}}] : memref<32xf32>
// CHECK: vector.store %{{.*}} : memref<32x64xf32>, vector<8xf32>
// qk: K^T staging, then 4 rows x 2 key vectors of FMAs per step.
// CHECK: memref.store %{{.*}}, %[[KT]]
// CHECK: scf.for %{{.*}} step %c4{{(_[0-9]+)?}} {
// CHECK: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %c16{{(_[0-9]+)?}} step %c16{{(_[0-9]+)?}} {
// CHECK: vector.load %[[KT]]
// CHECK-COUNT-8: vector.fma
// Edge columns past the keys become -inf.
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} {
// CHECK: memref.store %cst{{.*}} : memref<32x16xf32>
// score_mod: the region, cloned per element.
// CHECK: math.tanh %{{.*}} : f32
// mask: under the tile's partial test, masked elements become -inf.
// CHECK: scf.if
// CHECK: %[[VIS:.*]] = arith.cmpi sle
// CHECK: arith.select %[[VIS]], %{{.*}}, %cst
// normalize: vector max, exp and sum over the keys, rescale of the state.
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp %{{.*}} : vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8xf32>
// pv: V staging, then 4 rows x 2 head-dim vectors over the tile's keys.
// CHECK: memref.store %{{.*}}, %[[VS]]
// CHECK: vector.load %[[VS]]
// CHECK-COUNT-8: vector.fma
// finalize: 1/l, lse = m + log l, output truncated back to bf16.
// CHECK: arith.divf
// CHECK: math.log
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xf32, strided<[?], offset: ?>>
func.func @kernel(%q: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                  %k: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                  %v: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                  %out: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                  %lse: memref<?xf32, strided<[?], offset: ?>>,
                  %rows: index, %q0: index, %k0: index, %cols: index,
                  %partial: i1) {
  %qs = memref.alloca() : memref<32x64xf32>
  %s = memref.alloca() : memref<32x16xf32>
  %acc = memref.alloca() : memref<32x64xf32>
  %max = memref.alloca() : memref<32xf32>
  %sum = memref.alloca() : memref<32xf32>
  attn.tile.load_q %q, %qs {scale = 1.250000e-01 : f64} : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<32x64xf32>
  attn.tile.init %acc, %max, %sum rows(%rows) normalizer<softmax> : memref<32x64xf32>, memref<32xf32>, memref<32xf32>
  attn.tile.qk %qs, %k, %s rows(%rows) : memref<32x64xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<32x16xf32>
  attn.tile.score_mod %s q(%q0) k(%k0) rows(%rows) cols(%cols) : memref<32x16xf32> {
  ^bb0(%x: f32, %i: index, %j: index):
    %cap = arith.constant 3.000000e+01 : f32
    %d = arith.divf %x, %cap : f32
    %t = math.tanh %d : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  }
  scf.if %partial {
    attn.tile.mask %s q(%q0) k(%k0) rows(%rows) cols(%cols) : memref<32x16xf32> {
    ^bb0(%i: index, %j: index):
      %visible = arith.cmpi sle, %j, %i : index
      attn.yield %visible : i1
    }
  }
  attn.tile.normalize %s, %max, %sum, %acc rows(%rows) normalizer<softmax> : memref<32x16xf32>, memref<32xf32>, memref<32xf32>, memref<32x64xf32>
  attn.tile.pv %s, %v, %acc rows(%rows) : memref<32x16xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<32x64xf32>
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>
  return
}

// -----

// Sigmoid weights are elementwise (no running max or rescale); the sink
// normalizer folds the sink logit into the denominator.
// CHECK-LABEL: func.func @sigmoid(
// CHECK: arith.negf %{{.*}} : vector<8xf32>
// CHECK: math.exp %{{.*}} : vector<8xf32>
// CHECK-NOT: vector.reduction
// CHECK: return
func.func @sigmoid(%s: memref<32x16xf32>, %acc: memref<32x64xf32>, %max: memref<32xf32>, %sum: memref<32xf32>, %rows: index) {
  attn.tile.normalize %s, %max, %sum, %acc rows(%rows) normalizer<sigmoid, bias = -2.000000e+00> : memref<32x16xf32>, memref<32xf32>, memref<32xf32>, memref<32x64xf32>
  return
}

// CHECK-LABEL: func.func @sink(
// CHECK-SAME: %[[Z:[a-z0-9]+]]: f32)
// CHECK: %[[M2:.*]] = arith.maximumf %{{.*}}, %[[Z]] : f32
// CHECK: arith.subf %[[Z]], %[[M2]] : f32
// CHECK: math.log
func.func @sink(%acc: memref<32x64xf32>, %max: memref<32xf32>, %sum: memref<32xf32>, %out: memref<?x64xf32, strided<[?, 1], offset: ?>>, %lse: memref<?xf32, strided<[?], offset: ?>>, %z: f32) {
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) sink(%z) normalizer<softmax_with_sink> : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x64xf32, strided<[?, 1], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>
  return
}

// -----

// Tiles beyond 512 KiB move to the heap, freed before the return.
// CHECK-LABEL: func.func @large_tiles(
// CHECK-NOT: memref.alloca
// CHECK: %[[A:.*]] = memref.alloc() : memref<256x256xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<256x256xf32>
// CHECK: %[[C:.*]] = memref.alloc() : memref<256xf32>
// CHECK: %[[D:.*]] = memref.alloc() : memref<256xf32>
// CHECK: memref.dealloc %[[A]]
// CHECK: memref.dealloc %[[B]]
// CHECK: memref.dealloc %[[C]]
// CHECK: memref.dealloc %[[D]]
// CHECK-NEXT: return
func.func @large_tiles(%rows: index) {
  %s = memref.alloca() : memref<256x256xf32>
  %acc = memref.alloca() : memref<256x256xf32>
  %max = memref.alloca() : memref<256xf32>
  %sum = memref.alloca() : memref<256xf32>
  attn.tile.init %acc, %max, %sum rows(%rows) normalizer<softmax> : memref<256x256xf32>, memref<256xf32>, memref<256xf32>
  attn.tile.normalize %s, %max, %sum, %acc rows(%rows) normalizer<softmax> : memref<256x256xf32>, memref<256xf32>, memref<256xf32>, memref<256x256xf32>
  return
}

// -----

// A packed GQA group: rank-3 q/out views [positions, 2, D], row p * 2 + h;
// the element regions see query position q_start + row / 2; lse rows are
// [positions, 2].
// CHECK-LABEL: func.func @group(
// CHECK: %[[ROW:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: memref.load %{{.*}} : memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW]], %{{.*}}] : memref<32x64xf32>
// CHECK: %[[POS:.*]] = arith.divui %{{.*}}, %c2{{(_[0-9]+)?}} : index
// CHECK: arith.addi %{{.*}}, %[[POS]] : index
// CHECK: memref.store %{{.*}} : memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>
// CHECK: memref.store %{{.*}} : memref<?x2xf32, strided<[?, ?], offset: ?>>
func.func @group(%q: memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>,
                 %out: memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>,
                 %lse: memref<?x2xf32, strided<[?, ?], offset: ?>>,
                 %rows: index, %q0: index, %k0: index, %cols: index) {
  %qs = memref.alloca() : memref<32x64xf32>
  %s = memref.alloca() : memref<32x16xf32>
  %acc = memref.alloca() : memref<32x64xf32>
  %max = memref.alloca() : memref<32xf32>
  %sum = memref.alloca() : memref<32xf32>
  attn.tile.load_q %q, %qs {scale = 1.0 : f64} : memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>, memref<32x64xf32>
  attn.tile.mask %s q(%q0) k(%k0) rows(%rows) cols(%cols) {group = 2 : i64} : memref<32x16xf32> {
  ^bb0(%i: index, %j: index):
    %visible = arith.cmpi sle, %j, %i : index
    attn.yield %visible : i1
  }
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>, memref<?x2xf32, strided<[?, ?], offset: ?>>
  return
}
