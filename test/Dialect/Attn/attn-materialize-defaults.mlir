// RUN: attn-opt %s --attn-materialize-defaults | FileCheck %s
// RUN: attn-opt %s --attn-materialize-defaults --attn-materialize-defaults | FileCheck %s

// With neither given, the normalizer becomes softmax and the scale 1/sqrt(d_qk).

// CHECK-LABEL: func.func @both_implied(
// CHECK: attn.attention
// CHECK-SAME: mask(causal) normalizer<softmax> {scale = 1.250000e-01 : f64} -> tensor<2x16x4x64xf32>
func.func @both_implied(%q: tensor<2x16x4x64xf32>, %k: tensor<2x16x4x64xf32>, %v: tensor<2x16x4x64xf32>) -> tensor<2x16x4x64xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x64xf32>) k(%k : tensor<2x16x4x64xf32>) v(%v : tensor<2x16x4x64xf32>) mask(causal) -> tensor<2x16x4x64xf32>
  return %0 : tensor<2x16x4x64xf32>
}

// CHECK-LABEL: func.func @head_dim_128(
// CHECK: attn.attention
// CHECK-SAME: normalizer<softmax> {scale = 0.088388347648318433 : f64}
func.func @head_dim_128(%q: tensor<1x8x2x128xbf16>, %k: tensor<1x8x2x128xbf16>, %v: tensor<1x8x2x128xbf16>) -> tensor<1x8x2x128xbf16> {
  %0 = attn.attention q(%q : tensor<1x8x2x128xbf16>) k(%k : tensor<1x8x2x128xbf16>) v(%v : tensor<1x8x2x128xbf16>) -> tensor<1x8x2x128xbf16>
  return %0 : tensor<1x8x2x128xbf16>
}

// The scale follows the q/k head dim, not v's.

// CHECK-LABEL: func.func @unequal_head_dims(
// CHECK: attn.attention
// CHECK-SAME: normalizer<softmax> {scale = 0.07216878364870323 : f64} -> tensor<2x16x4x128xf16>
func.func @unequal_head_dims(%q: tensor<2x16x4x192xf16>, %k: tensor<2x16x4x192xf16>, %v: tensor<2x16x4x128xf16>) -> tensor<2x16x4x128xf16> {
  %0 = attn.attention q(%q : tensor<2x16x4x192xf16>) k(%k : tensor<2x16x4x192xf16>) v(%v : tensor<2x16x4x128xf16>) -> tensor<2x16x4x128xf16>
  return %0 : tensor<2x16x4x128xf16>
}

// The head dim is found through the layout and the storage kind.

// CHECK-LABEL: func.func @layout_bhsd(
// CHECK: attn.attention
// CHECK-SAME: normalizer<softmax> {layout = #attn.layout<bhsd>, scale = 2.500000e-01 : f64}
func.func @layout_bhsd(%q: tensor<2x4x64x16xf32>, %k: tensor<2x4x64x16xf32>, %v: tensor<2x4x64x16xf32>) -> tensor<2x4x64x16xf32> {
  %0 = attn.attention q(%q : tensor<2x4x64x16xf32>) k(%k : tensor<2x4x64x16xf32>) v(%v : tensor<2x4x64x16xf32>) {layout = #attn.layout<bhsd>} -> tensor<2x4x64x16xf32>
  return %0 : tensor<2x4x64x16xf32>
}

// CHECK-LABEL: func.func @ragged(
// CHECK: attn.attention
// CHECK-SAME: normalizer<softmax> {kv_storage = #attn.kv_storage<ragged>, scale = 1.250000e-01 : f64}
func.func @ragged(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %cq: tensor<?xi32>, %ckv: tensor<?xi32>) -> tensor<?x4x64xf16> {
  %0 = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_kv(%ckv : tensor<?xi32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<?x4x64xf16>
  return %0 : tensor<?x4x64xf16>
}

// Dynamic sizes other than the q/k head dim do not matter.

// CHECK-LABEL: func.func @dynamic_except_head_dim(
// CHECK: attn.attention
// CHECK-SAME: normalizer<softmax> {scale = 1.250000e-01 : f64}
func.func @dynamic_except_head_dim(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %0 = attn.attention q(%q : tensor<?x?x?x64xf32>) k(%k : tensor<?x?x?x?xf32>) v(%v : tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// An explicit scale and normalizer are left alone.

// CHECK-LABEL: func.func @both_explicit(
// CHECK: attn.attention
// CHECK-SAME: normalizer<sigmoid, bias = -8.000000e+00> {scale = 5.000000e-01 : f64}
func.func @both_explicit(%q: tensor<2x16x4x64xf32>, %k: tensor<2x16x4x64xf32>, %v: tensor<2x16x4x64xf32>) -> tensor<2x16x4x64xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x64xf32>) k(%k : tensor<2x16x4x64xf32>) v(%v : tensor<2x16x4x64xf32>) normalizer<sigmoid, bias = -8.0> {scale = 0.5 : f64} -> tensor<2x16x4x64xf32>
  return %0 : tensor<2x16x4x64xf32>
}

// CHECK-LABEL: func.func @explicit_normalizer(
// CHECK: attn.attention
// CHECK-SAME: normalizer<none> {scale = 1.250000e-01 : f64}
func.func @explicit_normalizer(%q: tensor<2x16x4x64xf32>, %k: tensor<2x16x4x64xf32>, %v: tensor<2x16x4x64xf32>) -> tensor<2x16x4x64xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x64xf32>) k(%k : tensor<2x16x4x64xf32>) v(%v : tensor<2x16x4x64xf32>) normalizer<none> -> tensor<2x16x4x64xf32>
  return %0 : tensor<2x16x4x64xf32>
}

// CHECK-LABEL: func.func @explicit_softmax_with_sink(
// CHECK: attn.attention
// CHECK-SAME: sink(%{{.*}} : tensor<4xf32>) normalizer<softmax_with_sink> {scale = 1.250000e-01 : f64}
func.func @explicit_softmax_with_sink(%q: tensor<2x16x4x64xf32>, %k: tensor<2x16x4x64xf32>, %v: tensor<2x16x4x64xf32>, %sink: tensor<4xf32>) -> tensor<2x16x4x64xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x64xf32>) k(%k : tensor<2x16x4x64xf32>) v(%v : tensor<2x16x4x64xf32>) sink(%sink : tensor<4xf32>) normalizer<softmax_with_sink> -> tensor<2x16x4x64xf32>
  return %0 : tensor<2x16x4x64xf32>
}

// An explicit scale needs no head dim, so a dynamic one is fine.

// CHECK-LABEL: func.func @explicit_scale_dynamic_head_dim(
// CHECK: attn.attention
// CHECK-SAME: mask(causal) normalizer<softmax> {scale = 3.000000e-01 : f64}
func.func @explicit_scale_dynamic_head_dim(%q: tensor<?x?x?x?xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %0 = attn.attention q(%q : tensor<?x?x?x?xf32>) k(%k : tensor<?x?x?x?xf32>) v(%v : tensor<?x?x?x?xf32>) mask(causal) {scale = 0.3 : f64} -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// Other attributes, the lse result and the score_mod region stay as they are.

// CHECK-LABEL: func.func @keeps_the_rest(
// CHECK: %out, %lse = attn.attention
// CHECK-SAME: mask(or<sinks<4>, sliding_window<left = 8>>) score(softcap<3.000000e+01>, score_mod) normalizer<softmax> score_mod {
// CHECK-NEXT: ^bb0(%{{.*}}: f32, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index):
// CHECK-NEXT: attn.yield %{{.*}} : f32
// CHECK-NEXT: } {scale = 1.250000e-01 : f64, schedule = #attn.schedule<block_q = 64>} -> tensor<2x16x4x64xf32>, tensor<2x4x16xf32>
func.func @keeps_the_rest(%q: tensor<2x16x4x64xf32>, %k: tensor<2x16x4x64xf32>, %v: tensor<2x16x4x64xf32>) -> (tensor<2x16x4x64xf32>, tensor<2x4x16xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x16x4x64xf32>) k(%k : tensor<2x16x4x64xf32>) v(%v : tensor<2x16x4x64xf32>) mask(or<sinks<4>, sliding_window<left = 8>>) score(softcap<30.0>, score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } {schedule = #attn.schedule<block_q = 64>} -> tensor<2x16x4x64xf32>, tensor<2x4x16xf32>
  return %0, %1 : tensor<2x16x4x64xf32>, tensor<2x4x16xf32>
}
