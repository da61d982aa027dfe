// RUN: attn-opt %s -split-input-file --convert-attn-to-cpu="vector-width=8" | FileCheck %s

// Every tile op of a kernel in the memref form, as attn-bufferize-tile
// leaves it (bf16 views and Q/K/V/P tiles, f32 scores and state; 32 rows,
// 16 keys, head dim 64). The bf16 tiles live in f32 shadows (K transposed)
// that the micro-kernels read; the bf16 buffers themselves are dropped.
// CHECK-LABEL: func.func @kernel(
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK-NOT: memref<{{[0-9x]+}}xbf16>
// CHECK-DAG: %[[QS:.*]] = memref.alloca() : memref<32x64xf32>
// CHECK-DAG: %[[KT:.*]] = memref.alloca() : memref<64x16xf32>
// CHECK-DAG: %[[VS:.*]] = memref.alloca() : memref<16x64xf32>
// CHECK-DAG: %[[PS:.*]] = memref.alloca() : memref<32x16xf32>
// load_q: convert (no scale), and zero the padding rows of the row blocking.
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK-NOT: arith.mulf
// CHECK: memref.store %{{.*}}, %[[QS]]
// CHECK: %[[PADDED:.*]] = arith.muli %{{.*}}, %c4{{(_[0-9]+)?}} : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[PADDED]] step
// init: -inf row max for softmax, zero vectors for the accumulator.
// CHECK: memref.store %cst{{.*}}, %{{.*}}[%{{.*}}] : memref<32xf32>
// CHECK: vector.store %{{.*}} : memref<32x64xf32>, vector<8xf32>
// load_k: K^T staging, 8 x 8 blocks of rows turned by shuffles, then the
// rows past the last whole block one by one.
// CHECK: vector.load %{{.*}} : memref<{{.*}}bf16{{.*}}>, vector<8xbf16>
// CHECK: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK-COUNT-24: vector.shuffle
// CHECK: vector.store %{{.*}}, %[[KT]]
// CHECK: memref.store %{{.*}}, %[[KT]]
// qk: 4 rows x 2 key vectors of FMAs per step, on the shadows.
// CHECK: scf.for %{{.*}} step %c4{{(_[0-9]+)?}} {
// CHECK: scf.for %{{.*}} = %c0{{(_[0-9]+)?}} to %c16{{(_[0-9]+)?}} step %c16{{(_[0-9]+)?}} {
// CHECK: vector.load %[[KT]]
// CHECK: memref.load %[[QS]]
// CHECK-COUNT-8: vector.fma
// Edge columns from `cols` on become -inf.
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} {
// CHECK: memref.store %cst{{.*}} : memref<32x16xf32>
// score_mod: the region, cloned per element.
// CHECK: math.tanh %{{.*}} : f32
// mask: under the tile's partial test, masked elements become -inf.
// CHECK: scf.if
// CHECK: %[[VIS:.*]] = arith.cmpi sle
// CHECK: arith.select %[[VIS]], %{{.*}}, %cst
// normalize: vector max, exp2(s c - r c) with c = scale log2(e), P rounded
// to bf16 (kept in f32), the unrounded sum, alpha for pv.
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp2 %{{.*}} : f32
// CHECK: math.fma %{{.*}} : vector<8xf32>
// CHECK: %[[P:.*]] = math.exp2 %{{.*}} : vector<8xf32>
// CHECK: %[[W:.*]] = arith.select %{{.*}}, %{{.*}}, %[[P]] : vector<8xi1>, vector<8xf32>
// CHECK: %[[R:.*]] = arith.truncf %[[W]] : vector<8xf32> to vector<8xbf16>
// CHECK: %[[E:.*]] = arith.extf %[[R]] : vector<8xbf16> to vector<8xf32>
// CHECK: vector.store %[[E]], %[[PS]]
// CHECK: arith.addf %{{.*}}, %[[W]] : vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store
// CHECK: memref.store
// CHECK: memref.store %{{.*}}, %[[ALPHA:[a-z0-9_]+]][
// load_v: V staging, a vector per 8 elements of a row.
// CHECK: vector.store %{{.*}}, %[[VS]]
// pv: each row's accumulator scaled by its alpha, then 4 rows x 2 head-dim
// vectors of FMAs over the tile's keys.
// CHECK: memref.load %[[ALPHA]]
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: vector.load %[[VS]]
// CHECK: memref.load %[[PS]]
// CHECK-COUNT-8: vector.fma
// finalize: M = scale m, 1/l, lse = M + log l, output truncated to bf16.
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
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
  %qt = memref.alloca() : memref<32x64xbf16>
  %kt = memref.alloca() : memref<16x64xbf16>
  %vt = memref.alloca() : memref<16x64xbf16>
  %s = memref.alloca() : memref<32x16xf32>
  %p = memref.alloca() : memref<32x16xbf16>
  %acc = memref.alloca() : memref<32x64xf32>
  %max = memref.alloca() : memref<32xf32>
  %sum = memref.alloca() : memref<32xf32>
  %alpha = memref.alloca() : memref<32xf32>
  attn.tile.load_q %q into %qt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<32x64xbf16>
  attn.tile.init rows(%rows) normalizer<softmax> into %max, %sum, %acc : memref<32xf32>, memref<32xf32>, memref<32x64xf32>
  attn.tile.load_k %k into %kt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<16x64xbf16>
  attn.tile.qk %qt, %kt rows(%rows) cols(%cols) into %s : memref<32x64xbf16>, memref<16x64xbf16>, memref<32x16xf32>
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
  attn.tile.normalize %s rows(%rows) normalizer<softmax> scale(1.250000e-01) into %p, %max, %sum, %alpha : memref<32x16xf32>, memref<32x16xbf16>, memref<32xf32>, memref<32xf32>, memref<32xf32>
  attn.tile.load_v %v into %vt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<16x64xbf16>
  attn.tile.pv %p, %vt rescale(%alpha : memref<32xf32>) rows(%rows) cols(%cols) into %acc : memref<32x16xbf16>, memref<16x64xbf16>, memref<32x64xf32>
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> scale(1.250000e-01) : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>
  return
}

// -----

// f32 weights are not rounded, and an f32 P tile is its own shadow.
// CHECK-LABEL: func.func @f32_weights(
// CHECK-NOT: memref.alloca
// CHECK: math.exp2
// CHECK-NOT: arith.truncf
// CHECK: return
func.func @f32_weights(%s: memref<32x16xf32>, %p: memref<32x16xf32>, %max: memref<32xf32>, %sum: memref<32xf32>, %alpha: memref<32xf32>, %rows: index) {
  attn.tile.normalize %s rows(%rows) normalizer<softmax> scale(1.0) into %p, %max, %sum, %alpha : memref<32x16xf32>, memref<32x16xf32>, memref<32xf32>, memref<32xf32>, memref<32xf32>
  return
}

// -----

// Sigmoid weights are elementwise, sigmoid(scale s + bias) (no running max,
// alpha 1); without rescale, pv adds to the accumulator as it is.
// CHECK-LABEL: func.func @sigmoid(
// CHECK: math.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK: arith.negf %{{.*}} : vector<8xf32>
// CHECK: math.exp %{{.*}} : vector<8xf32>
// CHECK-NOT: vector.reduction
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<32xf32>
// CHECK-NOT: arith.mulf %{{.*}} : vector<8xf32>
// CHECK: vector.fma
// CHECK: return
func.func @sigmoid(%s: memref<32x16xf32>, %p: memref<32x16xf32>, %v: memref<16x64xf32>, %acc: memref<32x64xf32>, %max: memref<32xf32>, %sum: memref<32xf32>, %alpha: memref<32xf32>, %rows: index, %cols: index) {
  attn.tile.normalize %s rows(%rows) normalizer<sigmoid, bias = -2.000000e+00> scale(5.000000e-01) into %p, %max, %sum, %alpha : memref<32x16xf32>, memref<32x16xf32>, memref<32xf32>, memref<32xf32>, memref<32xf32>
  attn.tile.pv %p, %v rows(%rows) cols(%cols) into %acc : memref<32x16xf32>, memref<16x64xf32>, memref<32x64xf32>
  return
}

// CHECK-LABEL: func.func @sink(
// CHECK-SAME: %[[Z:[a-z0-9]+]]: f32)
// CHECK: %[[M:.*]] = arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[M2:.*]] = arith.maximumf %[[M]], %[[Z]] : f32
// CHECK: arith.subf %[[Z]], %[[M2]] : f32
// CHECK: math.log
func.func @sink(%acc: memref<32x64xf32>, %max: memref<32xf32>, %sum: memref<32xf32>, %out: memref<?x64xf32, strided<[?, 1], offset: ?>>, %lse: memref<?xf32, strided<[?], offset: ?>>, %z: f32) {
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) sink(%z) normalizer<softmax_with_sink> scale(2.500000e-01) : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x64xf32, strided<[?, 1], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>
  return
}

// -----

// Tiles beyond 512 KiB move to the heap, freed before the return.
// CHECK-LABEL: func.func @large_tiles(
// CHECK-NOT: memref.alloca
// CHECK: %[[A:.*]] = memref.alloc() : memref<256x256xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<256x256xf32>
// CHECK: %[[C:.*]] = memref.alloc() : memref<256x256xf32>
// CHECK: %[[D:.*]] = memref.alloc() : memref<256xf32>
// CHECK: memref.dealloc %[[A]]
// CHECK: memref.dealloc %[[B]]
// CHECK: memref.dealloc %[[C]]
// CHECK: memref.dealloc %[[D]]
// CHECK: return
func.func @large_tiles(%rows: index) {
  %s = memref.alloca() : memref<256x256xf32>
  %p = memref.alloca() : memref<256x256xf32>
  %acc = memref.alloca() : memref<256x256xf32>
  %max = memref.alloca() : memref<256xf32>
  %sum = memref.alloca() : memref<256xf32>
  %alpha = memref.alloca() : memref<256xf32>
  attn.tile.init rows(%rows) normalizer<softmax> into %max, %sum, %acc : memref<256xf32>, memref<256xf32>, memref<256x256xf32>
  attn.tile.normalize %s rows(%rows) normalizer<softmax> scale(1.0) into %p, %max, %sum, %alpha : memref<256x256xf32>, memref<256x256xf32>, memref<256xf32>, memref<256xf32>, memref<256xf32>
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
  %qt = memref.alloca() : memref<32x64xf32>
  %s = memref.alloca() : memref<32x16xf32>
  %acc = memref.alloca() : memref<32x64xf32>
  %max = memref.alloca() : memref<32xf32>
  %sum = memref.alloca() : memref<32xf32>
  attn.tile.load_q %q into %qt : memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>, memref<32x64xf32>
  attn.tile.mask %s q(%q0) k(%k0) rows(%rows) cols(%cols) {group = 2 : i64} : memref<32x16xf32> {
  ^bb0(%i: index, %j: index):
    %visible = arith.cmpi sle, %j, %i : index
    attn.yield %visible : i1
  }
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> scale(1.0) : memref<32x64xf32>, memref<32xf32>, memref<32xf32>, memref<?x2x64xf32, strided<[?, ?, 1], offset: ?>>, memref<?x2xf32, strided<[?, ?], offset: ?>>
  return
}
