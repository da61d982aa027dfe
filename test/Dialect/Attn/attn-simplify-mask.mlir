// RUN: attn-opt %s --attn-simplify-mask | FileCheck %s
// RUN: attn-opt %s --attn-simplify-mask --attn-simplify-mask | FileCheck %s

// Nested `and`s are flattened into one.

// CHECK-LABEL: func.func @flatten_and(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, sinks<4>, chunked<8>, sliding_window<left = 2>>)
func.func @flatten_and(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<and<causal, sinks<4>>, chunked<8>, and<and<sliding_window<left = 2>>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// Nested `or`s are flattened into one, keeping the first occurrence of each operand.

// CHECK-LABEL: func.func @flatten_or(
// CHECK: attn.attention
// CHECK-SAME: mask(or<sinks<4>, sliding_window<left = 8>, prefix_lm<2>>)
func.func @flatten_or(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<or<sinks<4>, sliding_window<left = 8>>, or<prefix_lm<2>, sinks<4>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// An `or` inside an `and` (and the reverse) is a different node and stays.

// CHECK-LABEL: func.func @mixed_kinds_stay(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, or<sinks<4>, sliding_window<left = 8>, and<chunked<4>, not<sinks<1>>>>>)
func.func @mixed_kinds_stay(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, or<sinks<4>, or<sliding_window<left = 8>, and<chunked<4>, and<not<sinks<1>>>>>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// Repeated operands are dropped.

// CHECK-LABEL: func.func @drop_repeats(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, chunked<8>>)
func.func @drop_repeats(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, chunked<8>, causal, and<chunked<8>, causal>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// Primitives that differ only in a parameter are not repeats.

// CHECK-LABEL: func.func @different_parameters_kept(
// CHECK: attn.attention
// CHECK-SAME: mask(or<causal, causal<top_left>, sinks<4>, sinks<8>>)
func.func @different_parameters_kept(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<causal, causal<top_left>, sinks<4>, sinks<8>, causal<bottom_right>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// A single-operand `and`/`or` is replaced by its operand.

// CHECK-LABEL: func.func @unwrap_single_and(
// CHECK: attn.attention
// CHECK-SAME: mask(causal)
func.func @unwrap_single_and(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// CHECK-LABEL: func.func @unwrap_single_or(
// CHECK: attn.attention
// CHECK-SAME: mask(sliding_window<left = 4, right = 4>)
func.func @unwrap_single_or(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<sliding_window<left = 4, right = 4>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// Dropping repeats can leave a single operand, which is then unwrapped.

// CHECK-LABEL: func.func @unwrap_after_repeats(
// CHECK: attn.attention
// CHECK-SAME: mask(chunked<4>)
func.func @unwrap_after_repeats(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<chunked<4>, or<chunked<4>>, chunked<4>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// An unwrapped inner node is an ordinary operand of the outer one.

// CHECK-LABEL: func.func @unwrap_inner(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, sinks<4>>)
func.func @unwrap_inner(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<or<causal>, or<sinks<4>, sinks<4>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// A double `not` is removed.

// CHECK-LABEL: func.func @double_not(
// CHECK: attn.attention
// CHECK-SAME: mask(chunked<8>)
func.func @double_not(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(not<not<chunked<8>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// CHECK-LABEL: func.func @triple_not(
// CHECK: attn.attention
// CHECK-SAME: mask(not<chunked<8>>)
func.func @triple_not(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(not<not<not<chunked<8>>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// A single `not` stays; its operand is simplified.

// CHECK-LABEL: func.func @single_not(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, not<or<sinks<2>, chunked<4>>>>)
func.func @single_not(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, not<or<or<sinks<2>>, chunked<4>, sinks<2>>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// A double `not` around a node that simplifies to a `not`.

// CHECK-LABEL: func.func @double_not_of_unwrapped(
// CHECK: attn.attention
// CHECK-SAME: mask(causal)
func.func @double_not_of_unwrapped(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(not<and<not<causal>>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// `on_heads` lists its heads in increasing order; its mask is simplified.

// CHECK-LABEL: func.func @on_heads_sorted(
// CHECK: attn.attention
// CHECK-SAME: mask(on_heads<heads = [0, 1, 3, 5], mask = or<sinks<4>, sliding_window<left = 8>>>)
func.func @on_heads_sorted(%q: tensor<2x16x8x8xf32>, %k: tensor<2x16x8x8xf32>, %v: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x8x8xf32>) k(%k : tensor<2x16x8x8xf32>) v(%v : tensor<2x16x8x8xf32>) mask(on_heads<heads = [5, 0, 3, 1], mask = or<or<sinks<4>>, sliding_window<left = 8>>>) -> tensor<2x16x8x8xf32>
  return %0 : tensor<2x16x8x8xf32>
}

// CHECK-LABEL: func.func @on_heads_nested(
// CHECK: attn.attention
// CHECK-SAME: mask(and<causal, on_heads<heads = [2, 6], mask = chunked<4>>, on_heads<heads = [1, 7], mask = not<sinks<2>>>>)
func.func @on_heads_nested(%q: tensor<2x16x8x8xf32>, %k: tensor<2x16x8x8xf32>, %v: tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x8x8xf32>) k(%k : tensor<2x16x8x8xf32>) v(%v : tensor<2x16x8x8xf32>) mask(and<causal, and<on_heads<heads = [6, 2], mask = and<chunked<4>>>, on_heads<heads = [7, 1], mask = not<not<not<sinks<2>>>>>>>) -> tensor<2x16x8x8xf32>
  return %0 : tensor<2x16x8x8xf32>
}

// Masks already in normal form, and primitives, are left alone.

// CHECK-LABEL: func.func @already_simple(
// CHECK: attn.attention
// CHECK-SAME: mask(and<document, or<causal, prefix_lm<operand>>, neighborhood<grid = [4, 4], kernel = [3, 3]>>)
func.func @already_simple(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %len: tensor<2xi32>, %dq: tensor<2x16xi32>, %dkv: tensor<2x16xi32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) doc_q(%dq : tensor<2x16xi32>) doc_kv(%dkv : tensor<2x16xi32>) prefix_len(%len : tensor<2xi32>) mask(and<document, or<causal, prefix_lm<operand>>, neighborhood<grid = [4, 4], kernel = [3, 3]>>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// CHECK-LABEL: func.func @primitive(
// CHECK: attn.attention
// CHECK-SAME: mask(sliding_window<left = 128, right = 128, align = top_left>)
func.func @primitive(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(sliding_window<left = 128, right = 128, align = top_left>) -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// An op without a mask gets none; the rest of the op is untouched.

// CHECK-LABEL: func.func @no_mask(
// CHECK: attn.attention
// CHECK-NOT: mask(
// CHECK-SAME: score(softcap<3.000000e+01>) normalizer<sigmoid> {scale = 1.250000e-01 : f64}
func.func @no_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(softcap<30.0>) normalizer<sigmoid> {scale = 0.125 : f64} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// Every op of the function is simplified.

// CHECK-LABEL: func.func @several_ops(
// CHECK: attn.attention
// CHECK-SAME: mask(causal)
// CHECK: attn.attention
// CHECK-SAME: mask(or<sinks<4>, chunked<8>>)
func.func @several_ops(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> (tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) {
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, causal>) -> tensor<2x16x4x8xf32>
  %1 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<sinks<4>, or<chunked<8>>>) -> tensor<2x16x4x8xf32>
  return %0, %1 : tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>
}
