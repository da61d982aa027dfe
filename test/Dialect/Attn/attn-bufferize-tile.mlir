// RUN: attn-opt %s --attn-schedule="rows=32 block-kv=16" --attn-tile --canonicalize --cse | attn-opt --pass-pipeline='builtin.module(func.func(attn-bufferize-tile),canonicalize)' | FileCheck %s

// The tensor form of a causal bf16 kernel bufferizes in place: every tile is
// one 64-byte aligned alloca at the entry (K and V each their own: both are
// loaded before Q K^T), the loop and the ifs carry nothing, and no copy or
// tensor is left.
// CHECK-LABEL: func.func @causal(
// CHECK-NOT: tensor.empty
// CHECK-DAG: %[[ACC:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x32xf32>
// CHECK-DAG: %[[P:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x16xbf16>
// CHECK-DAG: %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x16xf32>
// CHECK-DAG: memref.alloca() {alignment = 64 : i64} : memref<16x32xbf16>
// CHECK-DAG: memref.alloca() {alignment = 64 : i64} : memref<16x32xbf16>
// CHECK-DAG: %[[Q:.*]] = memref.alloca() {alignment = 64 : i64} : memref<32x32xbf16>
// CHECK: attn.tile.load_q %{{.*}} into %[[Q]] : memref<?x32xbf16, strided<[?, 1], offset: ?>>, memref<32x32xbf16>{{$}}
// CHECK: attn.tile.init rows(%{{.*}}) normalizer<softmax> into %[[M:[a-z0-9_]+]], %[[L:[a-z0-9_]+]], %[[ACC]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: attn.tile.load_k %{{.*}} into %[[K:[a-z0-9_]+]]
// CHECK: attn.tile.load_v %{{.*}} into %[[V:[a-z0-9_]+]]
// CHECK: attn.tile.qk %[[Q]], %[[K]] rows(%{{.*}}) cols(%{{.*}}) into %[[S]]
// CHECK: scf.if %{{.*}} {
// CHECK: attn.tile.mask %[[S]]
// CHECK: attn.tile.normalize %[[S]] rows(%{{.*}}) normalizer<softmax> scale({{.*}}) into %[[P]], %[[M]], %[[L]], %[[ALPHA:[a-z0-9_]+]]
// CHECK: attn.tile.pv %[[P]], %[[V]] rescale(%[[ALPHA]] : memref<32xf32>) rows(%{{.*}}) cols(%{{.*}}) into %[[ACC]]
// CHECK: attn.tile.finalize %[[ACC]], %[[M]], %[[L]] into
// CHECK-NOT: memref.copy
// CHECK-NOT: -> tensor
// CHECK-LABEL: func.func @causal_combine(
func.func @causal(%q: tensor<?x?x2x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>) -> tensor<?x?x2x32xbf16> {
  %out = attn.attention q(%q : tensor<?x?x2x32xbf16>) k(%k : tensor<?x?x2x32xbf16>) v(%v : tensor<?x?x2x32xbf16>) mask(causal) -> tensor<?x?x2x32xbf16>
  return %out : tensor<?x?x2x32xbf16>
}
