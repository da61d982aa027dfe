// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

//===----------------------------------------------------------------------===//
// Mask primitives
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @no_mask(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: -> tensor<2x128x8x64xf16>
func.func @no_mask(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @causal(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x8x64xf16>
func.func @causal(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @causal_bottom_right(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x8x64xf16>
func.func @causal_bottom_right(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal<bottom_right>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @causal_top_left(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x64x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal<top_left>) -> tensor<2x64x8x64xf16>
func.func @causal_top_left(%q: tensor<2x64x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x64x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x64x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal<top_left>) -> tensor<2x64x8x64xf16>
  return %0 : tensor<2x64x8x64xf16>
}

// CHECK-LABEL: func.func @sliding_window_left(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xbf16>) k(%arg1 : tensor<2x128x8x64xbf16>) v(%arg2 : tensor<2x128x8x64xbf16>)
// CHECK-SAME: mask(sliding_window<left = 4096>) -> tensor<2x128x8x64xbf16>
func.func @sliding_window_left(%q: tensor<2x128x8x64xbf16>, %k: tensor<2x128x8x64xbf16>, %v: tensor<2x128x8x64xbf16>) -> tensor<2x128x8x64xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xbf16>) k(%k : tensor<2x128x8x64xbf16>) v(%v : tensor<2x128x8x64xbf16>) mask(sliding_window<left = 4096>) -> tensor<2x128x8x64xbf16>
  return %0 : tensor<2x128x8x64xbf16>
}

// CHECK-LABEL: func.func @sliding_window_right(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xbf16>) k(%arg1 : tensor<2x128x8x64xbf16>) v(%arg2 : tensor<2x128x8x64xbf16>)
// CHECK-SAME: mask(sliding_window<left = 128, right = 64>) -> tensor<2x128x8x64xbf16>
func.func @sliding_window_right(%q: tensor<2x128x8x64xbf16>, %k: tensor<2x128x8x64xbf16>, %v: tensor<2x128x8x64xbf16>) -> tensor<2x128x8x64xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xbf16>) k(%k : tensor<2x128x8x64xbf16>) v(%v : tensor<2x128x8x64xbf16>) mask(sliding_window<left = 128, right = 64>) -> tensor<2x128x8x64xbf16>
  return %0 : tensor<2x128x8x64xbf16>
}

// CHECK-LABEL: func.func @sliding_window_align(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xbf16>) k(%arg1 : tensor<2x128x8x64xbf16>) v(%arg2 : tensor<2x128x8x64xbf16>)
// CHECK-SAME: mask(sliding_window<left = 128, right = 128, align = top_left>) -> tensor<2x128x8x64xbf16>
func.func @sliding_window_align(%q: tensor<2x128x8x64xbf16>, %k: tensor<2x128x8x64xbf16>, %v: tensor<2x128x8x64xbf16>) -> tensor<2x128x8x64xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xbf16>) k(%k : tensor<2x128x8x64xbf16>) v(%v : tensor<2x128x8x64xbf16>) mask(sliding_window<left = 128, right = 128, align = top_left>) -> tensor<2x128x8x64xbf16>
  return %0 : tensor<2x128x8x64xbf16>
}

// CHECK-LABEL: func.func @sliding_window_align_only(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xbf16>) k(%arg1 : tensor<2x128x8x64xbf16>) v(%arg2 : tensor<2x128x8x64xbf16>)
// CHECK-SAME: mask(sliding_window<left = 0, align = top_left>) -> tensor<2x128x8x64xbf16>
func.func @sliding_window_align_only(%q: tensor<2x128x8x64xbf16>, %k: tensor<2x128x8x64xbf16>, %v: tensor<2x128x8x64xbf16>) -> tensor<2x128x8x64xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xbf16>) k(%k : tensor<2x128x8x64xbf16>) v(%v : tensor<2x128x8x64xbf16>) mask(sliding_window<left = 0, align = top_left>) -> tensor<2x128x8x64xbf16>
  return %0 : tensor<2x128x8x64xbf16>
}

// CHECK-LABEL: func.func @sliding_window_defaults(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xbf16>) k(%arg1 : tensor<2x128x8x64xbf16>) v(%arg2 : tensor<2x128x8x64xbf16>)
// CHECK-SAME: mask(sliding_window<left = 16>) -> tensor<2x128x8x64xbf16>
func.func @sliding_window_defaults(%q: tensor<2x128x8x64xbf16>, %k: tensor<2x128x8x64xbf16>, %v: tensor<2x128x8x64xbf16>) -> tensor<2x128x8x64xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xbf16>) k(%k : tensor<2x128x8x64xbf16>) v(%v : tensor<2x128x8x64xbf16>) mask(sliding_window<left = 16, right = 0, align = bottom_right>) -> tensor<2x128x8x64xbf16>
  return %0 : tensor<2x128x8x64xbf16>
}

// CHECK-LABEL: func.func @sinks(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(or<sinks<4>, sliding_window<left = 1024>>) -> tensor<2x128x8x64xf16>
func.func @sinks(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(or<sinks<4>, sliding_window<left = 1024>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @chunked(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(and<causal, chunked<8192>>) -> tensor<2x128x8x64xf16>
func.func @chunked(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(and<causal, chunked<8192>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @prefix_lm_const(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(or<causal, prefix_lm<32>>) -> tensor<2x128x8x64xf16>
func.func @prefix_lm_const(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(or<causal, prefix_lm<32>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @prefix_lm_operand(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: prefix_len(%arg3 : tensor<2xi32>)
// CHECK-SAME: mask(or<causal, prefix_lm<operand>>) -> tensor<2x128x8x64xf16>
func.func @prefix_lm_operand(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %len: tensor<2xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) prefix_len(%len : tensor<2xi32>) mask(or<causal, prefix_lm<operand>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @document_ids(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: doc_q(%arg3 : tensor<2x128xi32>) doc_kv(%arg4 : tensor<2x256xi32>)
// CHECK-SAME: mask(and<causal, document>) -> tensor<2x128x8x64xf16>
func.func @document_ids(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %dq: tensor<2x128xi32>, %dkv: tensor<2x256xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) doc_q(%dq : tensor<2x128xi32>) doc_kv(%dkv : tensor<2x256xi32>) mask(and<causal, document>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @document_ids_explicit(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: doc_q(%arg3 : tensor<2x128xi32>) doc_kv(%arg4 : tensor<2x128xi32>)
// CHECK-SAME: mask(document) -> tensor<2x128x8x64xf16>
func.func @document_ids_explicit(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %dq: tensor<2x128xi32>, %dkv: tensor<2x128xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) doc_q(%dq : tensor<2x128xi32>) doc_kv(%dkv : tensor<2x128xi32>) mask(document<ids>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @document_cu_seqlens(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: cu_seqlens_q(%arg3 : tensor<2x5xi32>) cu_seqlens_kv(%arg4 : tensor<2x5xi32>)
// CHECK-SAME: mask(document<cu_seqlens>) -> tensor<2x128x8x64xf16>
func.func @document_cu_seqlens(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %cq: tensor<2x5xi32>, %ckv: tensor<2x5xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) cu_seqlens_q(%cq : tensor<2x5xi32>) cu_seqlens_kv(%ckv : tensor<2x5xi32>) mask(document<cu_seqlens>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @neighborhood_1d(
// CHECK: %out = attn.attention q(%arg0 : tensor<1x128x4x32xf32>) k(%arg1 : tensor<1x128x4x32xf32>) v(%arg2 : tensor<1x128x4x32xf32>)
// CHECK-SAME: mask(neighborhood<grid = [128], kernel = [7]>) -> tensor<1x128x4x32xf32>
func.func @neighborhood_1d(%q: tensor<1x128x4x32xf32>, %k: tensor<1x128x4x32xf32>, %v: tensor<1x128x4x32xf32>) -> tensor<1x128x4x32xf32> {
  %0 = attn.attention q(%q : tensor<1x128x4x32xf32>) k(%k : tensor<1x128x4x32xf32>) v(%v : tensor<1x128x4x32xf32>) mask(neighborhood<grid = [128], kernel = [7]>) -> tensor<1x128x4x32xf32>
  return %0 : tensor<1x128x4x32xf32>
}

// CHECK-LABEL: func.func @neighborhood_2d(
// CHECK: %out = attn.attention q(%arg0 : tensor<1x1024x4x32xf32>) k(%arg1 : tensor<1x1024x4x32xf32>) v(%arg2 : tensor<1x1024x4x32xf32>)
// CHECK-SAME: mask(neighborhood<grid = [32, 32], kernel = [7, 7], dilation = [2, 3]>) -> tensor<1x1024x4x32xf32>
func.func @neighborhood_2d(%q: tensor<1x1024x4x32xf32>, %k: tensor<1x1024x4x32xf32>, %v: tensor<1x1024x4x32xf32>) -> tensor<1x1024x4x32xf32> {
  %0 = attn.attention q(%q : tensor<1x1024x4x32xf32>) k(%k : tensor<1x1024x4x32xf32>) v(%v : tensor<1x1024x4x32xf32>) mask(neighborhood<grid = [32, 32], kernel = [7, 7], dilation = [2, 3]>) -> tensor<1x1024x4x32xf32>
  return %0 : tensor<1x1024x4x32xf32>
}

// CHECK-LABEL: func.func @neighborhood_3d(
// CHECK: %out = attn.attention q(%arg0 : tensor<1x2048x4x32xf32>) k(%arg1 : tensor<1x2048x4x32xf32>) v(%arg2 : tensor<1x2048x4x32xf32>)
// CHECK-SAME: mask(neighborhood<grid = [8, 16, 16], kernel = [3, 5, 5], dilation = [1, 2, 2], causal = [true, false, false]>) -> tensor<1x2048x4x32xf32>
func.func @neighborhood_3d(%q: tensor<1x2048x4x32xf32>, %k: tensor<1x2048x4x32xf32>, %v: tensor<1x2048x4x32xf32>) -> tensor<1x2048x4x32xf32> {
  %0 = attn.attention q(%q : tensor<1x2048x4x32xf32>) k(%k : tensor<1x2048x4x32xf32>) v(%v : tensor<1x2048x4x32xf32>) mask(neighborhood<grid = [8, 16, 16], kernel = [3, 5, 5], dilation = [1, 2, 2], causal = [true, false, false]>) -> tensor<1x2048x4x32xf32>
  return %0 : tensor<1x2048x4x32xf32>
}

// CHECK-LABEL: func.func @neighborhood_causal_only(
// CHECK: %out = attn.attention q(%arg0 : tensor<1x256x4x32xf32>) k(%arg1 : tensor<1x256x4x32xf32>) v(%arg2 : tensor<1x256x4x32xf32>)
// CHECK-SAME: mask(neighborhood<grid = [16, 16], kernel = [5, 5], causal = [true, true]>) -> tensor<1x256x4x32xf32>
func.func @neighborhood_causal_only(%q: tensor<1x256x4x32xf32>, %k: tensor<1x256x4x32xf32>, %v: tensor<1x256x4x32xf32>) -> tensor<1x256x4x32xf32> {
  %0 = attn.attention q(%q : tensor<1x256x4x32xf32>) k(%k : tensor<1x256x4x32xf32>) v(%v : tensor<1x256x4x32xf32>) mask(neighborhood<grid = [16, 16], kernel = [5, 5], causal = [true, true]>) -> tensor<1x256x4x32xf32>
  return %0 : tensor<1x256x4x32xf32>
}

// CHECK-LABEL: func.func @block_sparse(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: kv_num_blocks(%arg3 : tensor<2x8x2xi32>) kv_indices(%arg4 : tensor<2x8x2x4xi32>)
// CHECK-SAME: mask(block_sparse<block_q = 64, block_kv = 64>) -> tensor<2x128x8x64xf16>
func.func @block_sparse(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %n: tensor<2x8x2xi32>, %i: tensor<2x8x2x4xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) kv_num_blocks(%n : tensor<2x8x2xi32>) kv_indices(%i : tensor<2x8x2x4xi32>) mask(block_sparse<block_q = 64, block_kv = 64>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @block_sparse_broadcast(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x100x8x64xf16>) k(%arg1 : tensor<2x100x8x64xf16>) v(%arg2 : tensor<2x100x8x64xf16>)
// CHECK-SAME: kv_num_blocks(%arg3 : tensor<1x1x4xi32>) kv_indices(%arg4 : tensor<1x8x4x2xi32>)
// CHECK-SAME: mask(block_sparse<block_q = 32, block_kv = 64>) -> tensor<2x100x8x64xf16>
func.func @block_sparse_broadcast(%q: tensor<2x100x8x64xf16>, %k: tensor<2x100x8x64xf16>, %v: tensor<2x100x8x64xf16>, %n: tensor<1x1x4xi32>, %i: tensor<1x8x4x2xi32>) -> tensor<2x100x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x100x8x64xf16>) k(%k : tensor<2x100x8x64xf16>) v(%v : tensor<2x100x8x64xf16>) kv_num_blocks(%n : tensor<1x1x4xi32>) kv_indices(%i : tensor<1x8x4x2xi32>) mask(block_sparse<block_q = 32, block_kv = 64>) -> tensor<2x100x8x64xf16>
  return %0 : tensor<2x100x8x64xf16>
}

// CHECK-LABEL: func.func @vertical_slash(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: vertical(%arg3 : tensor<2x8x16xi32>) slash(%arg4 : tensor<1x8x32xi32>)
// CHECK-SAME: mask(and<causal, vertical_slash>) -> tensor<2x128x8x64xf16>
func.func @vertical_slash(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %vert: tensor<2x8x16xi32>, %sl: tensor<1x8x32xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) vertical(%vert : tensor<2x8x16xi32>) slash(%sl : tensor<1x8x32xi32>) mask(and<causal, vertical_slash>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

//===----------------------------------------------------------------------===//
// Mask combinators
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @and_single(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(and<causal>) -> tensor<2x128x8x64xf16>
func.func @and_single(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(and<causal>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @or_three(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(or<sinks<4>, sliding_window<left = 256>, prefix_lm<16>>) -> tensor<2x128x8x64xf16>
func.func @or_three(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(or<sinks<4>, sliding_window<left = 256>, prefix_lm<16>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @not(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(and<causal, not<chunked<64>>>) -> tensor<2x128x8x64xf16>
func.func @not(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(and<causal, not<chunked<64>>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @on_heads(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(and<causal, on_heads<heads = [0, 3, 5], mask = or<sinks<4>, sliding_window<left = 256>>>>) -> tensor<2x128x8x64xf16>
func.func @on_heads(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(and<causal, on_heads<heads = [0, 3, 5], mask = or<sinks<4>, sliding_window<left = 256>>>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @nested(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: doc_q(%arg4 : tensor<2x128xi32>) doc_kv(%arg5 : tensor<2x128xi32>) prefix_len(%arg3 : tensor<2xi32>)
// CHECK-SAME: mask(and<document, or<causal, prefix_lm<operand>>, not<on_heads<heads = [7, 1], mask = not<and<sinks<2>, chunked<32>>>>>>) -> tensor<2x128x8x64xf16>
func.func @nested(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %len: tensor<2xi32>, %dq: tensor<2x128xi32>, %dkv: tensor<2x128xi32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) doc_q(%dq : tensor<2x128xi32>) doc_kv(%dkv : tensor<2x128xi32>) prefix_len(%len : tensor<2xi32>) mask(and<document, or<causal, prefix_lm<operand>>, not<on_heads<heads = [7, 1], mask = not<and<sinks<2>, chunked<32>>>>>>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

//===----------------------------------------------------------------------===//
// Score modifiers
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @softcap(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x16x256xbf16>) k(%arg1 : tensor<2x128x8x256xbf16>) v(%arg2 : tensor<2x128x8x256xbf16>)
// CHECK-SAME: mask(and<causal, sliding_window<left = 4096>>) score(softcap<5.000000e+01>) {scale = 6.250000e-02 : f64} -> tensor<2x128x16x256xbf16>
func.func @softcap(%q: tensor<2x128x16x256xbf16>, %k: tensor<2x128x8x256xbf16>, %v: tensor<2x128x8x256xbf16>) -> tensor<2x128x16x256xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x16x256xbf16>) k(%k : tensor<2x128x8x256xbf16>) v(%v : tensor<2x128x8x256xbf16>) mask(and<causal, sliding_window<left = 4096>>) score(softcap<50.0>) {scale = 0.0625 : f64} -> tensor<2x128x16x256xbf16>
  return %0 : tensor<2x128x16x256xbf16>
}

// CHECK-LABEL: func.func @softcap_fraction(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: score(softcap<1.000000e-01>) -> tensor<2x128x8x64xf16>
func.func @softcap_fraction(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) score(softcap<0.1>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @alibi(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) score(alibi) -> tensor<2x128x8x64xf16>
func.func @alibi(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) score(alibi) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @alibi_standard(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: score(alibi) -> tensor<2x128x8x64xf16>
func.func @alibi_standard(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) score(alibi<standard>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @alibi_operand(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: alibi_slopes(%arg3 : tensor<8xf32>)
// CHECK-SAME: mask(causal) score(alibi<operand>) -> tensor<2x128x8x64xf16>
func.func @alibi_operand(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %slopes: tensor<8xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) alibi_slopes(%slopes : tensor<8xf32>) mask(causal) score(alibi<operand>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_bhqk(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<2x8x128x256xf16>)
// CHECK-SAME: score(bias<[b, h, q, k]>) -> tensor<2x128x8x64xf16>
func.func @bias_bhqk(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<2x8x128x256xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<2x8x128x256xf16>) score(bias<[b, h, q, k]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_broadcast(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<1x8x1x256xf32>)
// CHECK-SAME: score(bias<[b, h, q, k]>) -> tensor<2x128x8x64xf16>
func.func @bias_broadcast(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<1x8x1x256xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<1x8x1x256xf32>) score(bias<[b, h, q, k]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_hqk(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<8x128x256xf32>)
// CHECK-SAME: score(bias<[h, q, k]>) -> tensor<2x128x8x64xf16>
func.func @bias_hqk(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<8x128x256xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<8x128x256xf32>) score(bias<[h, q, k]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_qk(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<128x256xf16>)
// CHECK-SAME: score(bias<[q, k]>) -> tensor<2x128x8x64xf16>
func.func @bias_qk(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<128x256xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<128x256xf16>) score(bias<[q, k]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_bk(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<2x256xf32>)
// CHECK-SAME: score(bias<[b, k]>) -> tensor<2x128x8x64xf16>
func.func @bias_bk(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<2x256xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<2x256xf32>) score(bias<[b, k]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @bias_h(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x256x8x64xf16>) v(%arg2 : tensor<2x256x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<8xf32>)
// CHECK-SAME: score(bias<[h]>) -> tensor<2x128x8x64xf16>
func.func @bias_h(%q: tensor<2x128x8x64xf16>, %k: tensor<2x256x8x64xf16>, %v: tensor<2x256x8x64xf16>, %bias: tensor<8xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x256x8x64xf16>) v(%v : tensor<2x256x8x64xf16>) bias(%bias : tensor<8xf32>) score(bias<[h]>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @score_mod(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) score(score_mod) score_mod {
// CHECK-NEXT: ^bb0(%arg3: f32, %arg4: index, %arg5: index, %arg6: index, %arg7: index):
// CHECK-NEXT: %0 = arith.subi %arg6, %arg7 : index
// CHECK-NEXT: %1 = arith.index_cast %0 : index to i64
// CHECK-NEXT: %2 = arith.sitofp %1 : i64 to f32
// CHECK-NEXT: %3 = arith.subf %arg3, %2 : f32
// CHECK-NEXT: attn.yield %3 : f32
// CHECK-NEXT: } -> tensor<2x128x8x64xf16>
func.func @score_mod(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %d = arith.subi %qi, %ki : index
    %i = arith.index_cast %d : index to i64
    %f = arith.sitofp %i : i64 to f32
    %r = arith.subf %s, %f : f32
    attn.yield %r : f32
  } -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @score_mod_head_params(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: head_params(%arg3 : tensor<8x2xf32>)
// CHECK-SAME: mask(causal) score(softcap<3.000000e+01>, score_mod, alibi) score_mod {
// CHECK-NEXT: ^bb0(%arg4: f32, %arg5: index, %arg6: index, %arg7: index, %arg8: index, %arg9: f32, %arg10: f32):
// CHECK-NEXT: %0 = arith.mulf %arg4, %arg9 : f32
// CHECK-NEXT: %1 = arith.addf %0, %arg10 : f32
// CHECK-NEXT: attn.yield %1 : f32
// CHECK-NEXT: } -> tensor<2x128x8x64xf16>
func.func @score_mod_head_params(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %hp: tensor<8x2xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) head_params(%hp : tensor<8x2xf32>) mask(causal) score(softcap<30.0>, score_mod, alibi) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index, %p0: f32, %p1: f32):
    %m = arith.mulf %s, %p0 : f32
    %a = arith.addf %m, %p1 : f32
    attn.yield %a : f32
  } -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @all_score_mods(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: bias(%arg3 : tensor<8x128x128xf16>) alibi_slopes(%arg4 : tensor<8xf32>)
// CHECK-SAME: score(bias<[h, q, k]>, alibi<operand>, softcap<2.000000e+01>) -> tensor<2x128x8x64xf16>
func.func @all_score_mods(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %bias: tensor<8x128x128xf16>, %slopes: tensor<8xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) bias(%bias : tensor<8x128x128xf16>) alibi_slopes(%slopes : tensor<8xf32>) score(bias<[h, q, k]>, alibi<operand>, softcap<20.0>) -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

//===----------------------------------------------------------------------===//
// Normalizers and the lse result
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @softmax(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: normalizer<softmax> -> tensor<2x128x8x64xf16>
func.func @softmax(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) normalizer<softmax> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @softmax_with_sink(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: sink(%arg3 : tensor<8xf32>)
// CHECK-SAME: mask(sliding_window<left = 128>) normalizer<softmax_with_sink> -> tensor<2x128x8x64xf16>
func.func @softmax_with_sink(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %sink: tensor<8xf32>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) sink(%sink : tensor<8xf32>) mask(sliding_window<left = 128>) normalizer<softmax_with_sink> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @softmax_off_by_one(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: normalizer<softmax_off_by_one> -> tensor<2x128x8x64xf16>
func.func @softmax_off_by_one(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) normalizer<softmax_off_by_one> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @sigmoid(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: normalizer<sigmoid> -> tensor<2x128x8x64xf16>
func.func @sigmoid(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) normalizer<sigmoid> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @sigmoid_bias(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: normalizer<sigmoid, bias = -8.000000e+00> -> tensor<2x128x8x64xf16>
func.func @sigmoid_bias(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) normalizer<sigmoid, bias = -8.0> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @sigmoid_zero_bias(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: normalizer<sigmoid> -> tensor<2x128x8x64xf16>
func.func @sigmoid_zero_bias(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) normalizer<sigmoid, bias = 0.0> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @normalizer_none(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) normalizer<none> -> tensor<2x128x8x64xf16>
func.func @normalizer_none(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) normalizer<none> -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @lse(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
func.func @lse(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> (tensor<2x128x8x64xf16>, tensor<2x8x128xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) -> tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
  return %0, %1 : tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
}

// CHECK-LABEL: func.func @lse_sink(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: sink(%arg3 : tensor<8xf32>)
// CHECK-SAME: normalizer<softmax_with_sink> -> tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
func.func @lse_sink(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %sink: tensor<8xf32>) -> (tensor<2x128x8x64xf16>, tensor<2x8x128xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) sink(%sink : tensor<8xf32>) normalizer<softmax_with_sink> -> tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
  return %0, %1 : tensor<2x128x8x64xf16>, tensor<2x8x128xf32>
}

// CHECK-LABEL: func.func @lse_off_by_one_dynamic(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<?x?x8x64xf16>) k(%arg1 : tensor<?x?x8x64xf16>) v(%arg2 : tensor<?x?x8x64xf16>)
// CHECK-SAME: normalizer<softmax_off_by_one> -> tensor<?x?x8x64xf16>, tensor<?x8x?xf32>
func.func @lse_off_by_one_dynamic(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> (tensor<?x?x8x64xf16>, tensor<?x8x?xf32>) {
  %0, %1 = attn.attention q(%q : tensor<?x?x8x64xf16>) k(%k : tensor<?x?x8x64xf16>) v(%v : tensor<?x?x8x64xf16>) normalizer<softmax_off_by_one> -> tensor<?x?x8x64xf16>, tensor<?x8x?xf32>
  return %0, %1 : tensor<?x?x8x64xf16>, tensor<?x8x?xf32>
}

//===----------------------------------------------------------------------===//
// Layouts
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @layout_bshd(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x8x64xf16>
func.func @layout_bshd(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) {layout = #attn.layout<bshd>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @layout_bhsd(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<2x8x128x64xf16>) k(%arg1 : tensor<2x2x256x64xf16>) v(%arg2 : tensor<2x2x256x32xf16>)
// CHECK-SAME: bias(%arg3 : tensor<8x128x256xf32>)
// CHECK-SAME: mask(causal) score(bias<[h, q, k]>) {layout = #attn.layout<bhsd>} -> tensor<2x8x128x32xf16>, tensor<2x8x128xf32>
func.func @layout_bhsd(%q: tensor<2x8x128x64xf16>, %k: tensor<2x2x256x64xf16>, %v: tensor<2x2x256x32xf16>, %bias: tensor<8x128x256xf32>) -> (tensor<2x8x128x32xf16>, tensor<2x8x128xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x8x128x64xf16>) k(%k : tensor<2x2x256x64xf16>) v(%v : tensor<2x2x256x32xf16>) bias(%bias : tensor<8x128x256xf32>) mask(causal) score(bias<[h, q, k]>) {layout = #attn.layout<bhsd>} -> tensor<2x8x128x32xf16>, tensor<2x8x128xf32>
  return %0, %1 : tensor<2x8x128x32xf16>, tensor<2x8x128xf32>
}

// CHECK-LABEL: func.func @layout_bhsd_neighborhood(
// CHECK: %out = attn.attention q(%arg0 : tensor<1x4x64x32xf32>) k(%arg1 : tensor<1x4x64x32xf32>) v(%arg2 : tensor<1x4x64x32xf32>)
// CHECK-SAME: mask(neighborhood<grid = [8, 8], kernel = [3, 3]>) {layout = #attn.layout<bhsd>} -> tensor<1x4x64x32xf32>
func.func @layout_bhsd_neighborhood(%q: tensor<1x4x64x32xf32>, %k: tensor<1x4x64x32xf32>, %v: tensor<1x4x64x32xf32>) -> tensor<1x4x64x32xf32> {
  %0 = attn.attention q(%q : tensor<1x4x64x32xf32>) k(%k : tensor<1x4x64x32xf32>) v(%v : tensor<1x4x64x32xf32>) mask(neighborhood<grid = [8, 8], kernel = [3, 3]>) {layout = #attn.layout<bhsd>} -> tensor<1x4x64x32xf32>
  return %0 : tensor<1x4x64x32xf32>
}

//===----------------------------------------------------------------------===//
// KV storage
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @contiguous_explicit(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: -> tensor<2x128x8x64xf16>
func.func @contiguous_explicit(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) {kv_storage = #attn.kv_storage<contiguous>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @paged(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<4x1x32x128xbf16>) k(%arg1 : tensor<1024x16x8x128xbf16>) v(%arg2 : tensor<1024x16x8x128xbf16>)
// CHECK-SAME: block_table(%arg3 : tensor<4x64xi32>) cache_seqlens(%arg4 : tensor<4xi32>)
// CHECK-SAME: mask(causal) {kv_storage = #attn.kv_storage<paged>} -> tensor<4x1x32x128xbf16>, tensor<4x32x1xf32>
func.func @paged(%q: tensor<4x1x32x128xbf16>, %k: tensor<1024x16x8x128xbf16>, %v: tensor<1024x16x8x128xbf16>, %bt: tensor<4x64xi32>, %lens: tensor<4xi32>) -> (tensor<4x1x32x128xbf16>, tensor<4x32x1xf32>) {
  %0, %1 = attn.attention q(%q : tensor<4x1x32x128xbf16>) k(%k : tensor<1024x16x8x128xbf16>) v(%v : tensor<1024x16x8x128xbf16>) block_table(%bt : tensor<4x64xi32>) cache_seqlens(%lens : tensor<4xi32>) mask(causal) {kv_storage = #attn.kv_storage<paged>} -> tensor<4x1x32x128xbf16>, tensor<4x32x1xf32>
  return %0, %1 : tensor<4x1x32x128xbf16>, tensor<4x32x1xf32>
}

// CHECK-LABEL: func.func @paged_dynamic(
// CHECK: %out = attn.attention q(%arg0 : tensor<?x?x32x128xbf16>) k(%arg1 : tensor<?x16x8x128xbf16>) v(%arg2 : tensor<?x16x8x128xbf16>)
// CHECK-SAME: block_table(%arg3 : tensor<?x?xi32>) cache_seqlens(%arg4 : tensor<?xi32>)
// CHECK-SAME: mask(sliding_window<left = 1024>) score(softcap<3.000000e+01>) {kv_storage = #attn.kv_storage<paged>, scale = 0.088388347648318447 : f64} -> tensor<?x?x32x128xbf16>
func.func @paged_dynamic(%q: tensor<?x?x32x128xbf16>, %k: tensor<?x16x8x128xbf16>, %v: tensor<?x16x8x128xbf16>, %bt: tensor<?x?xi32>, %lens: tensor<?xi32>) -> tensor<?x?x32x128xbf16> {
  %0 = attn.attention q(%q : tensor<?x?x32x128xbf16>) k(%k : tensor<?x16x8x128xbf16>) v(%v : tensor<?x16x8x128xbf16>) block_table(%bt : tensor<?x?xi32>) cache_seqlens(%lens : tensor<?xi32>) mask(sliding_window<left = 1024>) score(softcap<30.0>) {kv_storage = #attn.kv_storage<paged>, scale = 0.08838834764831845 : f64} -> tensor<?x?x32x128xbf16>
  return %0 : tensor<?x?x32x128xbf16>
}

// CHECK-LABEL: func.func @ragged(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<300x8x64xf16>) k(%arg1 : tensor<500x2x64xf16>) v(%arg2 : tensor<500x2x64xf16>)
// CHECK-SAME: cu_seqlens_q(%arg3 : tensor<3xi32>) cu_seqlens_kv(%arg4 : tensor<3xi32>)
// CHECK-SAME: mask(causal) {kv_storage = #attn.kv_storage<ragged>} -> tensor<300x8x64xf16>, tensor<8x300xf32>
func.func @ragged(%q: tensor<300x8x64xf16>, %k: tensor<500x2x64xf16>, %v: tensor<500x2x64xf16>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) -> (tensor<300x8x64xf16>, tensor<8x300xf32>) {
  %0, %1 = attn.attention q(%q : tensor<300x8x64xf16>) k(%k : tensor<500x2x64xf16>) v(%v : tensor<500x2x64xf16>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) mask(causal) {kv_storage = #attn.kv_storage<ragged>} -> tensor<300x8x64xf16>, tensor<8x300xf32>
  return %0, %1 : tensor<300x8x64xf16>, tensor<8x300xf32>
}

// CHECK-LABEL: func.func @ragged_dynamic_documents(
// CHECK: %out = attn.attention q(%arg0 : tensor<?x8x64xf16>) k(%arg1 : tensor<?x8x64xf16>) v(%arg2 : tensor<?x8x64xf16>)
// CHECK-SAME: cu_seqlens_q(%arg3 : tensor<?xi32>) cu_seqlens_kv(%arg4 : tensor<?xi32>)
// CHECK-SAME: mask(sliding_window<left = 64, right = 64>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<?x8x64xf16>
func.func @ragged_dynamic_documents(%q: tensor<?x8x64xf16>, %k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf16>, %cq: tensor<?xi32>, %ckv: tensor<?xi32>) -> tensor<?x8x64xf16> {
  %0 = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>) cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_kv(%ckv : tensor<?xi32>) mask(sliding_window<left = 64, right = 64>) {kv_storage = #attn.kv_storage<ragged>, layout = #attn.layout<bshd>} -> tensor<?x8x64xf16>
  return %0 : tensor<?x8x64xf16>
}

//===----------------------------------------------------------------------===//
// Schedule
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @schedule(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: mask(causal) {schedule = #attn.schedule<block_q = 128, block_kv = 64, split_kv = 2>} -> tensor<2x128x8x64xf16>
func.func @schedule(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) mask(causal) {schedule = #attn.schedule<block_q = 128, block_kv = 64, split_kv = 2>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// CHECK-LABEL: func.func @schedule_split_kv(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x1x8x64xf16>) k(%arg1 : tensor<2x4096x8x64xf16>) v(%arg2 : tensor<2x4096x8x64xf16>)
// CHECK-SAME: {schedule = #attn.schedule<block_kv = 128, split_kv = 16>} -> tensor<2x1x8x64xf16>
func.func @schedule_split_kv(%q: tensor<2x1x8x64xf16>, %k: tensor<2x4096x8x64xf16>, %v: tensor<2x4096x8x64xf16>) -> tensor<2x1x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x1x8x64xf16>) k(%k : tensor<2x4096x8x64xf16>) v(%v : tensor<2x4096x8x64xf16>) {schedule = #attn.schedule<block_q = 0, block_kv = 128, split_kv = 16>} -> tensor<2x1x8x64xf16>
  return %0 : tensor<2x1x8x64xf16>
}

// CHECK-LABEL: func.func @schedule_empty(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x8x64xf16>) k(%arg1 : tensor<2x128x8x64xf16>) v(%arg2 : tensor<2x128x8x64xf16>)
// CHECK-SAME: {schedule = #attn.schedule<>} -> tensor<2x128x8x64xf16>
func.func @schedule_empty(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) {schedule = #attn.schedule<>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

//===----------------------------------------------------------------------===//
// Shapes: dynamic dims, GQA/MQA, unequal head dims
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @dynamic(
// CHECK: %out = attn.attention q(%arg0 : tensor<?x?x?x?xf32>) k(%arg1 : tensor<?x?x?x?xf32>) v(%arg2 : tensor<?x?x?x?xf32>)
// CHECK-SAME: mask(causal) {scale = 1.250000e-01 : f64} -> tensor<?x?x?x?xf32>
func.func @dynamic(%q: tensor<?x?x?x?xf32>, %k: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %0 = attn.attention q(%q : tensor<?x?x?x?xf32>) k(%k : tensor<?x?x?x?xf32>) v(%v : tensor<?x?x?x?xf32>) mask(causal) {scale = 0.125 : f64} -> tensor<?x?x?x?xf32>
  return %0 : tensor<?x?x?x?xf32>
}

// CHECK-LABEL: func.func @dynamic_mixed(
// CHECK: %out = attn.attention q(%arg0 : tensor<?x128x8x64xf32>) k(%arg1 : tensor<2x?x8x64xf32>) v(%arg2 : tensor<?x256x8x?xf32>)
// CHECK-SAME: -> tensor<2x?x8x?xf32>
func.func @dynamic_mixed(%q: tensor<?x128x8x64xf32>, %k: tensor<2x?x8x64xf32>, %v: tensor<?x256x8x?xf32>) -> tensor<2x?x8x?xf32> {
  %0 = attn.attention q(%q : tensor<?x128x8x64xf32>) k(%k : tensor<2x?x8x64xf32>) v(%v : tensor<?x256x8x?xf32>) -> tensor<2x?x8x?xf32>
  return %0 : tensor<2x?x8x?xf32>
}

// CHECK-LABEL: func.func @gqa(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x32x128xbf16>) k(%arg1 : tensor<2x128x8x128xbf16>) v(%arg2 : tensor<2x128x8x128xbf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x32x128xbf16>
func.func @gqa(%q: tensor<2x128x32x128xbf16>, %k: tensor<2x128x8x128xbf16>, %v: tensor<2x128x8x128xbf16>) -> tensor<2x128x32x128xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x32x128xbf16>) k(%k : tensor<2x128x8x128xbf16>) v(%v : tensor<2x128x8x128xbf16>) mask(causal) -> tensor<2x128x32x128xbf16>
  return %0 : tensor<2x128x32x128xbf16>
}

// CHECK-LABEL: func.func @mqa(
// CHECK: %out = attn.attention q(%arg0 : tensor<2x128x32x128xbf16>) k(%arg1 : tensor<2x128x1x128xbf16>) v(%arg2 : tensor<2x128x1x128xbf16>)
// CHECK-SAME: mask(causal) -> tensor<2x128x32x128xbf16>
func.func @mqa(%q: tensor<2x128x32x128xbf16>, %k: tensor<2x128x1x128xbf16>, %v: tensor<2x128x1x128xbf16>) -> tensor<2x128x32x128xbf16> {
  %0 = attn.attention q(%q : tensor<2x128x32x128xbf16>) k(%k : tensor<2x128x1x128xbf16>) v(%v : tensor<2x128x1x128xbf16>) mask(causal) -> tensor<2x128x32x128xbf16>
  return %0 : tensor<2x128x32x128xbf16>
}

// CHECK-LABEL: func.func @unequal_head_dims(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<2x128x16x192xbf16>) k(%arg1 : tensor<2x128x16x192xbf16>) v(%arg2 : tensor<2x128x16x128xbf16>)
// CHECK-SAME: mask(causal) {scale = 0.072168783648703216 : f64} -> tensor<2x128x16x128xbf16>, tensor<2x16x128xf32>
func.func @unequal_head_dims(%q: tensor<2x128x16x192xbf16>, %k: tensor<2x128x16x192xbf16>, %v: tensor<2x128x16x128xbf16>) -> (tensor<2x128x16x128xbf16>, tensor<2x16x128xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x128x16x192xbf16>) k(%k : tensor<2x128x16x192xbf16>) v(%v : tensor<2x128x16x128xbf16>) mask(causal) {scale = 0.07216878364870322 : f64} -> tensor<2x128x16x128xbf16>, tensor<2x16x128xf32>
  return %0, %1 : tensor<2x128x16x128xbf16>, tensor<2x16x128xf32>
}

//===----------------------------------------------------------------------===//
// Everything at once
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @everything(
// CHECK: %out, %lse = attn.attention q(%arg0 : tensor<2x8x128x64xbf16>) k(%arg1 : tensor<2x2x128x64xbf16>) v(%arg2 : tensor<2x2x128x32xbf16>)
// CHECK-SAME: bias(%arg3 : tensor<2x1x128x128xbf16>) doc_q(%arg4 : tensor<2x128xi32>) doc_kv(%arg5 : tensor<2x128xi32>) prefix_len(%arg6 : tensor<2xi32>) alibi_slopes(%arg7 : tensor<8xf32>) sink(%arg8 : tensor<8xf32>) head_params(%arg9 : tensor<8x1xf32>)
// CHECK-SAME: mask(and<document, or<causal, prefix_lm<operand>>, on_heads<heads = [0, 1], mask = or<sinks<4>, sliding_window<left = 32>>>>) score(bias<[b, h, q, k]>, alibi<operand>, score_mod, softcap<5.000000e+01>) normalizer<softmax_with_sink> score_mod {
// CHECK-NEXT: ^bb0(%arg10: f32, %arg11: index, %arg12: index, %arg13: index, %arg14: index, %arg15: f32):
// CHECK-NEXT: %0 = arith.mulf %arg10, %arg15 : f32
// CHECK-NEXT: attn.yield %0 : f32
// CHECK-NEXT: } {layout = #attn.layout<bhsd>, scale = 1.250000e-01 : f64, schedule = #attn.schedule<block_q = 64, block_kv = 64, split_kv = 4>} -> tensor<2x8x128x32xbf16>, tensor<2x8x128xf32>
func.func @everything(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x2x128x64xbf16>, %v: tensor<2x2x128x32xbf16>, %bias: tensor<2x1x128x128xbf16>, %dq: tensor<2x128xi32>, %dkv: tensor<2x128xi32>, %len: tensor<2xi32>, %slopes: tensor<8xf32>, %sink: tensor<8xf32>, %hp: tensor<8x1xf32>) -> (tensor<2x8x128x32xbf16>, tensor<2x8x128xf32>) {
  %0, %1 = attn.attention q(%q : tensor<2x8x128x64xbf16>) k(%k : tensor<2x2x128x64xbf16>) v(%v : tensor<2x2x128x32xbf16>) bias(%bias : tensor<2x1x128x128xbf16>) doc_q(%dq : tensor<2x128xi32>) doc_kv(%dkv : tensor<2x128xi32>) prefix_len(%len : tensor<2xi32>) alibi_slopes(%slopes : tensor<8xf32>) sink(%sink : tensor<8xf32>) head_params(%hp : tensor<8x1xf32>) mask(and<document, or<causal, prefix_lm<operand>>, on_heads<heads = [0, 1], mask = or<sinks<4>, sliding_window<left = 32>>>>) score(bias<[b, h, q, k]>, alibi<operand>, score_mod, softcap<50.0>) normalizer<softmax_with_sink> score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index, %p: f32):
    %r = arith.mulf %s, %p : f32
    attn.yield %r : f32
  } {layout = #attn.layout<bhsd>, scale = 0.125 : f64, schedule = #attn.schedule<block_q = 64, block_kv = 64, split_kv = 4>} -> tensor<2x8x128x32xbf16>, tensor<2x8x128xf32>
  return %0, %1 : tensor<2x8x128x32xbf16>, tensor<2x8x128xf32>
}

//===----------------------------------------------------------------------===//
// The tile level
//===----------------------------------------------------------------------===//

// The tensor form, as attn-tile emits it: each op returns the tiles it
// writes.
// CHECK-LABEL: func.func @tile_ops(
// CHECK: %[[QT:.*]] = attn.tile.load_q %{{.*}} into %{{.*}} : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<32x64xbf16> -> tensor<32x64xbf16>
// CHECK: %[[ST:.*]]:3 = attn.tile.init rows(%{{.*}}) normalizer<softmax> into %{{.*}}, %{{.*}}, %{{.*}} : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
// CHECK: %[[KT:.*]] = attn.tile.load_k %{{.*}} into %{{.*}} : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<16x64xbf16> -> tensor<16x64xbf16>
// CHECK: %[[S:.*]] = attn.tile.qk %[[QT]], %[[KT]] rows(%{{.*}}) cols(%{{.*}}) into %{{.*}} : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x16xf32> -> tensor<32x16xf32>
// CHECK: %[[S2:.*]] = attn.tile.score_mod %[[S]] q(%{{.*}}) k(%{{.*}}) rows(%{{.*}}) cols(%{{.*}}) : tensor<32x16xf32> -> tensor<32x16xf32> {
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: index, %{{.*}}: index):
// CHECK: attn.yield %{{.*}} : f32
// CHECK: %[[S3:.*]] = attn.tile.mask %[[S2]] q(%{{.*}}) k(%{{.*}}) rows(%{{.*}}) cols(%{{.*}}) : tensor<32x16xf32> -> tensor<32x16xf32> {
// CHECK: attn.yield %{{.*}} : i1
// CHECK: %[[N:.*]]:4 = attn.tile.normalize %[[S3]] rows(%{{.*}}) normalizer<softmax> scale(1.250000e-01) into %{{.*}}, %[[ST]]#0, %[[ST]]#1, %{{.*}} : tensor<32x16xf32>, tensor<32x16xbf16>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<32x16xbf16>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
// CHECK: %[[VT:.*]] = attn.tile.load_v
// CHECK: %[[ACC:.*]] = attn.tile.pv %[[N]]#0, %[[VT]] rescale(%[[N]]#3 : tensor<32xf32>) rows(%{{.*}}) cols(%{{.*}}) into %[[ST]]#2 : tensor<32x16xbf16>, tensor<16x64xbf16>, tensor<32x64xf32> -> tensor<32x64xf32>
// CHECK: attn.tile.finalize %[[ACC]], %[[N]]#1, %[[N]]#2 into %{{.*}} lse(%{{.*}}) sink(%{{.*}}) normalizer<softmax_with_sink> scale(1.250000e-01)
// CHECK: attn.tile.finalize %[[ACC]], %[[N]]#1, %[[N]]#2 into %{{.*}} normalizer<none> scale(1.000000e+00) : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>{{$}}
func.func @tile_ops(%q: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                    %k: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                    %out: memref<?x64xbf16, strided<[?, 1], offset: ?>>,
                    %lse: memref<?xf32, strided<[?], offset: ?>>,
                    %rows: index, %q0: index, %k0: index, %cols: index,
                    %z: f32) {
  %qe = tensor.empty() : tensor<32x64xbf16>
  %ke = tensor.empty() : tensor<16x64xbf16>
  %se = tensor.empty() : tensor<32x16xf32>
  %pe = tensor.empty() : tensor<32x16xbf16>
  %acce = tensor.empty() : tensor<32x64xf32>
  %re = tensor.empty() : tensor<32xf32>
  %qt = attn.tile.load_q %q into %qe : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<32x64xbf16> -> tensor<32x64xbf16>
  %m, %l, %acc = attn.tile.init rows(%rows) normalizer<softmax> into %re, %re, %acce : tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32> -> tensor<32xf32>, tensor<32xf32>, tensor<32x64xf32>
  %kt = attn.tile.load_k %k into %ke : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<16x64xbf16> -> tensor<16x64xbf16>
  %s = attn.tile.qk %qt, %kt rows(%rows) cols(%cols) into %se : tensor<32x64xbf16>, tensor<16x64xbf16>, tensor<32x16xf32> -> tensor<32x16xf32>
  %s2 = attn.tile.score_mod %s q(%q0) k(%k0) rows(%rows) cols(%cols) : tensor<32x16xf32> -> tensor<32x16xf32> {
  ^bb0(%x: f32, %i: index, %j: index):
    attn.yield %x : f32
  }
  %s3 = attn.tile.mask %s2 q(%q0) k(%k0) rows(%rows) cols(%cols) : tensor<32x16xf32> -> tensor<32x16xf32> {
  ^bb0(%i: index, %j: index):
    %visible = arith.cmpi sle, %j, %i : index
    attn.yield %visible : i1
  }
  %p, %m2, %l2, %alpha = attn.tile.normalize %s3 rows(%rows) normalizer<softmax> scale(0.125) into %pe, %m, %l, %re : tensor<32x16xf32>, tensor<32x16xbf16>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<32x16xbf16>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
  %vt = attn.tile.load_v %k into %ke : memref<?x64xbf16, strided<[?, 1], offset: ?>>, tensor<16x64xbf16> -> tensor<16x64xbf16>
  %acc2 = attn.tile.pv %p, %vt rescale(%alpha : tensor<32xf32>) rows(%rows) cols(%cols) into %acc : tensor<32x16xbf16>, tensor<16x64xbf16>, tensor<32x64xf32> -> tensor<32x64xf32>
  attn.tile.finalize %acc2, %m2, %l2 into %out lse(%lse) sink(%z) normalizer<softmax_with_sink> scale(0.125) : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>
  attn.tile.finalize %acc2, %m2, %l2 into %out normalizer<none> scale(1.0) : tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, memref<?x64xbf16, strided<[?, 1], offset: ?>>
  return
}

// The memref form, as attn-bufferize-tile leaves it: no results.
// CHECK-LABEL: func.func @tile_ops_memref(
// CHECK: attn.tile.qk %{{.*}}, %{{.*}} rows(%{{.*}}) cols(%{{.*}}) into %{{.*}} : memref<32x64xf32>, memref<16x64xf32>, memref<32x16xf32>{{$}}
// CHECK: attn.tile.pv %{{.*}}, %{{.*}} rows(%{{.*}}) cols(%{{.*}}) into %{{.*}} : memref<32x16xf32>, memref<16x64xf32>, memref<32x64xf32>{{$}}
func.func @tile_ops_memref(%qt: memref<32x64xf32>, %kt: memref<16x64xf32>,
                           %s: memref<32x16xf32>, %acc: memref<32x64xf32>,
                           %rows: index, %cols: index) {
  attn.tile.qk %qt, %kt rows(%rows) cols(%cols) into %s : memref<32x64xf32>, memref<16x64xf32>, memref<32x16xf32>
  attn.tile.pv %s, %kt rows(%rows) cols(%cols) into %acc : memref<32x16xf32>, memref<16x64xf32>, memref<32x64xf32>
  return
}

// The schedule's record parses and prints back.
// CHECK-LABEL: func.func @tiling(
// CHECK: {tiling = #attn.tiling<rows = 128, head_group = 2, block_kv = 64, kv_tiles = bounds, split_kv = 1>} -> tensor<2x128x8x64xf16>
func.func @tiling(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x4x64xf16>, %v: tensor<2x128x4x64xf16>) -> tensor<2x128x8x64xf16> {
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x4x64xf16>) v(%v : tensor<2x128x4x64xf16>) mask(causal) {tiling = #attn.tiling<rows = 128, head_group = 2, block_kv = 64, kv_tiles = bounds, split_kv = 1>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}
