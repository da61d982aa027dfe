// RUN: attn-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// q, k, v: element types, ranks, layout
//===----------------------------------------------------------------------===//

func.func @mixed_element_types(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'attn.attention' op q, k and v must share one element type, got 'f32', 'f16' and 'f32'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @unsupported_element_type(%q: tensor<2x16x4x8xi8>, %k: tensor<2x16x4x8xi8>, %v: tensor<2x16x4x8xi8>) {
  // expected-error @+1 {{element type 'i8' is not supported; use f32, f16 or bf16}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xi8>) k(%k : tensor<2x16x4x8xi8>) v(%v : tensor<2x16x4x8xi8>) -> tensor<2x16x4x8xi8>
  return
}

// -----

func.func @q_rank(%q: tensor<16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'q' must have rank 4 [batch, seq, heads, head_dim] for contiguous storage, got 'tensor<16x4x8xf32>'}}
  %0 = attn.attention q(%q : tensor<16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<16x4x8xf32>
  return
}

// -----

func.func @k_rank_bhsd(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8x1xf32>, %v: tensor<2x4x16x8xf32>) {
  // expected-error @+1 {{'k' must have rank 4 [batch, heads, seq, head_dim] for contiguous storage}}
  %0 = attn.attention q(%q : tensor<2x4x16x8xf32>) k(%k : tensor<2x4x16x8x1xf32>) v(%v : tensor<2x4x16x8xf32>) {layout = #attn.layout<bhsd>} -> tensor<2x4x16x8xf32>
  return
}

// -----

func.func @v_rank_ragged(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<2x32x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{'v' must have rank 3 [tokens, heads, head_dim] for ragged storage}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<2x32x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

func.func @ragged_bhsd(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{ragged storage packs tokens as [tokens, heads, head_dim]; set layout to bshd}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) {kv_storage = #attn.kv_storage<ragged>, layout = #attn.layout<bhsd>} -> tensor<32x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Heads, head dims, batch and sequence
//===----------------------------------------------------------------------===//

func.func @kv_heads_differ(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{k and v must have the same number of heads (2 vs 4)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @heads_not_dividing(%q: tensor<2x16x6x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the number of query heads (6) must be a multiple of the number of kv heads (4) for GQA/MQA}}
  %0 = attn.attention q(%q : tensor<2x16x6x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x6x8xf32>
  return
}

// -----

func.func @zero_kv_heads(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x0x8xf32>, %v: tensor<2x16x0x8xf32>) {
  // expected-error @+1 {{the number of kv heads must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x0x8xf32>) v(%v : tensor<2x16x0x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @head_dim_mismatch(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x16xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{q and k must have the same head dim (8 vs 16)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x16xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @zero_head_dim(%q: tensor<2x16x4x0xf32>, %k: tensor<2x16x4x0xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the q/k head dim must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x0xf32>) k(%k : tensor<2x16x4x0xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @batch_q_k(%q: tensor<2x16x4x8xf32>, %k: tensor<3x16x4x8xf32>, %v: tensor<3x16x4x8xf32>) {
  // expected-error @+1 {{q and k must have the same batch size (2 vs 3)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<3x16x4x8xf32>) v(%v : tensor<3x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @batch_q_v(%q: tensor<2x16x4x8xf32>, %k: tensor<?x16x4x8xf32>, %v: tensor<3x16x4x8xf32>) {
  // expected-error @+1 {{q and v must have the same batch size (2 vs 3)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<?x16x4x8xf32>) v(%v : tensor<3x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @seq_k_v(%q: tensor<2x16x4x8xf32>, %k: tensor<2x32x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{k and v must have the same sequence length (32 vs 16)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x32x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @seq_k_v_bhsd(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x32x8xf32>, %v: tensor<2x4x16x8xf32>) {
  // expected-error @+1 {{k and v must have the same sequence length (32 vs 16)}}
  %0 = attn.attention q(%q : tensor<2x4x16x8xf32>) k(%k : tensor<2x4x32x8xf32>) v(%v : tensor<2x4x16x8xf32>) {layout = #attn.layout<bhsd>} -> tensor<2x4x16x8xf32>
  return
}

// -----

func.func @paged_k_v_shape(%q: tensor<2x1x4x8xf32>, %k: tensor<64x16x4x8xf32>, %v: tensor<64x32x4x8xf32>, %bt: tensor<2x8xi32>, %lens: tensor<2xi32>) {
  // expected-error @+1 {{k and v must have the same shape but for the head dim (16 vs 32)}}
  %0 = attn.attention q(%q : tensor<2x1x4x8xf32>) k(%k : tensor<64x16x4x8xf32>) v(%v : tensor<64x32x4x8xf32>) block_table(%bt : tensor<2x8xi32>) cache_seqlens(%lens : tensor<2xi32>) {kv_storage = #attn.kv_storage<paged>} -> tensor<2x1x4x8xf32>
  return
}

// -----

func.func @ragged_k_v_tokens(%q: tensor<32x4x8xf32>, %k: tensor<40x4x8xf32>, %v: tensor<48x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{k and v must have the same shape but for the head dim (40 vs 48)}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<40x4x8xf32>) v(%v : tensor<48x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

func.func @out_element_type(%q: tensor<2x16x4x8xf16>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf16>) {
  // expected-error @+1 {{'out' must have element type 'f16' like q, got 'f32'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf16>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf16>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @out_shape(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x32xf32>) {
  // expected-error @+1 {{'out' must have shape [2, 16, 4, 32] (q's shape with v's head dim), got 'tensor<2x16x4x8xf32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x32xf32>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @out_rank(%q: tensor<?x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'out' must have shape [?, 16, 4, 8] (q's shape with v's head dim), got 'tensor<16x4x8xf32>'}}
  %0 = attn.attention q(%q : tensor<?x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<16x4x8xf32>
  return
}

// -----

func.func @lse_with_sigmoid(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{normalizer 'sigmoid' has no log-sum-exp; drop the lse result}}
  %0, %1 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<sigmoid> -> tensor<2x16x4x8xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @lse_with_none(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{normalizer 'none' has no log-sum-exp; drop the lse result}}
  %0, %1 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<none> -> tensor<2x16x4x8xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @lse_shape(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'lse' must be f32 with shape [2, 4, 16], got 'tensor<2x16x4xf32>'}}
  %0, %1 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>, tensor<2x16x4xf32>
  return
}

// -----

func.func @lse_element_type(%q: tensor<2x16x4x8xf16>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf16>) {
  // expected-error @+1 {{'lse' must be f32 with shape [2, 4, 16], got 'tensor<2x4x16xf16>'}}
  %0, %1 = attn.attention q(%q : tensor<2x16x4x8xf16>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf16>) -> tensor<2x16x4x8xf16>, tensor<2x4x16xf16>
  return
}

// -----

func.func @lse_ragged_shape(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{'lse' must be f32 with shape [4, ?], got 'tensor<32x4xf32>'}}
  %0, %1 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>, tensor<32x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Scale
//===----------------------------------------------------------------------===//

func.func @scale_zero(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{scale must be a positive finite number, got 0.000000e+00}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {scale = 0.0 : f64} -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @scale_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{scale must be a positive finite number, got -5.000000e-01}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {scale = -0.5 : f64} -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Optional operands: presence
//===----------------------------------------------------------------------===//

func.func @missing_prefix_len(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'#attn.prefix_lm<operand>' reads operand 'prefix_len', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<causal, prefix_lm<operand>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_doc_kv(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %dq: tensor<2x16xi32>) {
  // expected-error @+1 {{'#attn.document' reads operand 'doc_kv', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) doc_q(%dq : tensor<2x16xi32>) mask(document) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_kv_indices(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %n: tensor<2x4x1xi32>) {
  // expected-error @+1 {{'#attn.block_sparse<block_q = 16, block_kv = 16>' reads operand 'kv_indices', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) kv_num_blocks(%n : tensor<2x4x1xi32>) mask(block_sparse<block_q = 16, block_kv = 16>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_slash(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %vert: tensor<2x4x3xi32>) {
  // expected-error @+1 {{'#attn.vertical_slash' reads operand 'slash', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) vertical(%vert : tensor<2x4x3xi32>) mask(vertical_slash) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_bias(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'#attn.bias<[q, k]>' reads operand 'bias', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(bias<[q, k]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_alibi_slopes(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'#attn.alibi<operand>' reads operand 'alibi_slopes', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(alibi<operand>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_sink(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'#attn.normalizer<softmax_with_sink>' reads operand 'sink', which is missing}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<softmax_with_sink> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @missing_block_table(%q: tensor<2x1x4x8xf32>, %k: tensor<64x16x4x8xf32>, %v: tensor<64x16x4x8xf32>, %lens: tensor<2xi32>) {
  // expected-error @+1 {{'#attn.kv_storage<paged>' reads operand 'block_table', which is missing}}
  %0 = attn.attention q(%q : tensor<2x1x4x8xf32>) k(%k : tensor<64x16x4x8xf32>) v(%v : tensor<64x16x4x8xf32>) cache_seqlens(%lens : tensor<2xi32>) {kv_storage = #attn.kv_storage<paged>} -> tensor<2x1x4x8xf32>
  return
}

// -----

func.func @missing_cu_seqlens(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>) {
  // expected-error @+1 {{'#attn.kv_storage<ragged>' reads operand 'cu_seqlens_q', which is missing}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

func.func @unused_sink(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %sink: tensor<4xf32>) {
  // expected-error @+1 {{operand 'sink' is not read by any mask, score modifier, normalizer or storage kind; remove it}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) sink(%sink : tensor<4xf32>) normalizer<softmax> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @unused_head_params(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %hp: tensor<4x2xf32>) {
  // expected-error @+1 {{operand 'head_params' is not read by any mask, score modifier, normalizer or storage kind; remove it}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) head_params(%hp : tensor<4x2xf32>) score(softcap<20.0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @unused_cu_seqlens_contiguous(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %cq: tensor<2x3xi32>, %ckv: tensor<2x3xi32>) {
  // expected-error @+1 {{operand 'cu_seqlens_q' is not read by any mask, score modifier, normalizer or storage kind; remove it}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) cu_seqlens_q(%cq : tensor<2x3xi32>) cu_seqlens_kv(%ckv : tensor<2x3xi32>) mask(causal) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @document_cu_seqlens_ragged(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{'document<cu_seqlens>' cannot be combined with ragged storage, which already separates sequences by cu_seqlens; use document ids}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) mask(document<cu_seqlens>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Optional operands: element types, ranks and sizes
//===----------------------------------------------------------------------===//

func.func @prefix_len_element_type(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %len: tensor<2xi64>) {
  // expected-error @+1 {{operand 'prefix_len' must have element type 'i32', got 'i64'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) prefix_len(%len : tensor<2xi64>) mask(prefix_lm<operand>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @sink_element_type(%q: tensor<2x16x4x8xf16>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf16>, %sink: tensor<4xf16>) {
  // expected-error @+1 {{operand 'sink' must have element type 'f32', got 'f16'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf16>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf16>) sink(%sink : tensor<4xf16>) normalizer<softmax_with_sink> -> tensor<2x16x4x8xf16>
  return
}

// -----

func.func @doc_q_rank(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %dq: tensor<32xi32>, %dkv: tensor<2x16xi32>) {
  // expected-error @+1 {{operand 'doc_q' must have rank 2, got 'tensor<32xi32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) doc_q(%dq : tensor<32xi32>) doc_kv(%dkv : tensor<2x16xi32>) mask(document) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @document_cu_seqlens_rank(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %cq: tensor<3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{operand 'cu_seqlens_q' must have rank 2, got 'tensor<3xi32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) mask(document<cu_seqlens>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @ragged_cu_seqlens_rank(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>, %cq: tensor<1x3xi32>, %ckv: tensor<3xi32>) {
  // expected-error @+1 {{operand 'cu_seqlens_q' must have rank 1, got 'tensor<1x3xi32>'}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) cu_seqlens_q(%cq : tensor<1x3xi32>) cu_seqlens_kv(%ckv : tensor<3xi32>) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

func.func @doc_kv_length(%q: tensor<2x16x4x8xf32>, %k: tensor<2x32x4x8xf32>, %v: tensor<2x32x4x8xf32>, %dq: tensor<2x16xi32>, %dkv: tensor<2x16xi32>) {
  // expected-error @+1 {{operand 'doc_kv' dimension 1 must be 32, got 'tensor<2x16xi32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x32x4x8xf32>) v(%v : tensor<2x32x4x8xf32>) doc_q(%dq : tensor<2x16xi32>) doc_kv(%dkv : tensor<2x16xi32>) mask(document) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @alibi_slopes_heads(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x2x8xf32>, %slopes: tensor<2xf32>) {
  // expected-error @+1 {{operand 'alibi_slopes' dimension 0 must be 4, got 'tensor<2xf32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x2x8xf32>) alibi_slopes(%slopes : tensor<2xf32>) score(alibi<operand>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @vertical_heads(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %vert: tensor<2x3x5xi32>, %sl: tensor<2x4x5xi32>) {
  // expected-error @+1 {{operand 'vertical' dimension 1 must be 4 or 1, got 'tensor<2x3x5xi32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) vertical(%vert : tensor<2x3x5xi32>) slash(%sl : tensor<2x4x5xi32>) mask(vertical_slash) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @kv_num_blocks_q_blocks(%q: tensor<2x100x4x8xf32>, %k: tensor<2x100x4x8xf32>, %v: tensor<2x100x4x8xf32>, %n: tensor<2x4x3xi32>, %i: tensor<2x4x4x2xi32>) {
  // expected-error @+1 {{operand 'kv_num_blocks' dimension 2 must be 4, got 'tensor<2x4x3xi32>'}}
  %0 = attn.attention q(%q : tensor<2x100x4x8xf32>) k(%k : tensor<2x100x4x8xf32>) v(%v : tensor<2x100x4x8xf32>) kv_num_blocks(%n : tensor<2x4x3xi32>) kv_indices(%i : tensor<2x4x4x2xi32>) mask(block_sparse<block_q = 32, block_kv = 64>) -> tensor<2x100x4x8xf32>
  return
}

// -----

func.func @kv_indices_kv_blocks(%q: tensor<2x100x4x8xf32>, %k: tensor<2x100x4x8xf32>, %v: tensor<2x100x4x8xf32>, %n: tensor<1x1x4xi32>, %i: tensor<1x1x4x1xi32>) {
  // expected-error @+1 {{operand 'kv_indices' dimension 3 must be 2, got 'tensor<1x1x4x1xi32>'}}
  %0 = attn.attention q(%q : tensor<2x100x4x8xf32>) k(%k : tensor<2x100x4x8xf32>) v(%v : tensor<2x100x4x8xf32>) kv_num_blocks(%n : tensor<1x1x4xi32>) kv_indices(%i : tensor<1x1x4x1xi32>) mask(block_sparse<block_q = 32, block_kv = 64>) -> tensor<2x100x4x8xf32>
  return
}

// -----

func.func @block_table_batch(%q: tensor<2x1x4x8xf32>, %k: tensor<64x16x4x8xf32>, %v: tensor<64x16x4x8xf32>, %bt: tensor<3x8xi32>, %lens: tensor<2xi32>) {
  // expected-error @+1 {{operand 'block_table' dimension 0 must be 2, got 'tensor<3x8xi32>'}}
  %0 = attn.attention q(%q : tensor<2x1x4x8xf32>) k(%k : tensor<64x16x4x8xf32>) v(%v : tensor<64x16x4x8xf32>) block_table(%bt : tensor<3x8xi32>) cache_seqlens(%lens : tensor<2xi32>) {kv_storage = #attn.kv_storage<paged>} -> tensor<2x1x4x8xf32>
  return
}

// -----

func.func @bias_element_type(%q: tensor<2x16x4x8xf16>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf16>, %bias: tensor<16x16xbf16>) {
  // expected-error @+1 {{operand 'bias' must have element type f32 or 'f16', got 'bf16'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf16>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf16>) bias(%bias : tensor<16x16xbf16>) score(bias<[q, k]>) -> tensor<2x16x4x8xf16>
  return
}

// -----

func.func @bias_rank(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %bias: tensor<2x4x16x16xf32>) {
  // expected-error @+1 {{operand 'bias' must have rank 3, got 'tensor<2x4x16x16xf32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) bias(%bias : tensor<2x4x16x16xf32>) score(bias<[h, q, k]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @bias_dims(%q: tensor<2x16x4x8xf32>, %k: tensor<2x32x4x8xf32>, %v: tensor<2x32x4x8xf32>, %bias: tensor<4x16x16xf32>) {
  // expected-error @+1 {{operand 'bias' dimension 2 must be 32 or 1, got 'tensor<4x16x16xf32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x32x4x8xf32>) v(%v : tensor<2x32x4x8xf32>) bias(%bias : tensor<4x16x16xf32>) score(bias<[h, q, k]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Mask attributes
//===----------------------------------------------------------------------===//

func.func @unknown_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{unknown mask 'bidirectional'; expected one of causal, sliding_window, sinks, chunked, prefix_lm, document, neighborhood, block_sparse, vertical_slash, and, or, not, on_heads}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(bidirectional) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @unknown_nested_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{unknown mask 'window'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, window<4>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @not_a_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{is not a mask; expected one of causal, sliding_window, sinks}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(softcap<30.0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @mask_attr_not_a_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{attribute 'mask' failed to satisfy constraint: MaskAttrInterface instance}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {mask = #attn.softcap<30.0>} -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @sliding_window_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{sliding_window bounds must be non-negative (got left = -1, right = 0); use 0 for no keys on that side}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(sliding_window<left = -1>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @sliding_window_negative_right(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{sliding_window bounds must be non-negative (got left = 8, right = -2)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(sliding_window<left = 8, right = -2>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @sinks_zero(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{sinks count must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<sinks<0>, sliding_window<left = 4>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @chunked_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{chunked size must be positive, got -8}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(chunked<-8>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @prefix_lm_zero(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{prefix_lm length must be positive (at most 2147483647), got 0; use 'operand' for a per-batch length}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(prefix_lm<0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_rank(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood grid must have 1 to 3 dimensions, got 4}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [2, 2, 2, 2], kernel = [1, 1, 1, 1]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_kernel_rank(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood kernel has 1 dimensions but the grid has 2}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_dilation_rank(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood dilation has 3 dimensions but the grid has 2}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], dilation = [1, 1, 1]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_causal_rank(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood causal has 1 entries but the grid has 2 dimensions}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], causal = [true]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_grid_zero(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood grid dimension 1 must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [16, 0], kernel = [3, 3]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_kernel_zero(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood kernel dimension 0 must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [0, 3]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_dilation_zero(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood dilation dimension 1 must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], dilation = [1, 0]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_kernel_too_large(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood kernel 3 with dilation 2 spans more positions in dimension 1 than the grid's 4; shrink the kernel or the dilation}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], dilation = [1, 2]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_unknown_field(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{unknown neighborhood field 'stride'; expected dilation or causal}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], stride = [1, 1]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_causal_not_bool(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{expected 'true' or 'false'}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3], causal = [true, 1]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @neighborhood_query_length(%q: tensor<1x15x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood grid holds 16 tokens but the query length is 15; the sequence length must be the grid's product}}
  %0 = attn.attention q(%q : tensor<1x15x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [4, 4], kernel = [3, 3]>) -> tensor<1x15x4x8xf32>
  return
}

// -----

func.func @neighborhood_key_length(%q: tensor<1x?x4x8xf32>, %k: tensor<1x64x4x8xf32>, %v: tensor<1x64x4x8xf32>) {
  // expected-error @+1 {{neighborhood grid holds 16 tokens but the key length is 64}}
  %0 = attn.attention q(%q : tensor<1x?x4x8xf32>) k(%k : tensor<1x64x4x8xf32>) v(%v : tensor<1x64x4x8xf32>) mask(and<causal, neighborhood<grid = [4, 4], kernel = [3, 3]>>) -> tensor<1x?x4x8xf32>
  return
}

// -----

func.func @block_sparse_zero_block(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{block_sparse block sizes must be positive (at most 2147483647), got 16 x 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(block_sparse<block_q = 16, block_kv = 0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @and_empty(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'and' needs at least one mask operand}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @or_empty(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{'or' needs at least one mask operand}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(and<causal, or<>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @on_heads_empty(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{on_heads needs at least one head}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(on_heads<heads = [], mask = causal>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @on_heads_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{on_heads head index must be non-negative, got -1}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(on_heads<heads = [0, -1], mask = causal>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @on_heads_duplicate(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{on_heads lists head 2 twice}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(on_heads<heads = [2, 1, 2], mask = causal>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @on_heads_out_of_range(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{on_heads lists head 4 but there are only 4 query heads (valid: 0..3)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<causal, on_heads<heads = [0, 4], mask = sinks<4>>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Score modifiers
//===----------------------------------------------------------------------===//

func.func @unknown_score_modifier(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{unknown score modifier 'tanh'; expected one of softcap, alibi, bias, score_mod}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(tanh) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @not_a_score_modifier(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{is not a score modifier; expected one of softcap, alibi, bias, score_mod}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(causal) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @softcap_zero(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{softcap must be a positive finite number, got 0.000000e+00}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(softcap<0.0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @softcap_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{softcap must be a positive finite number, got -3.000000e+01}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(softcap<-30.0>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @bias_unknown_axis(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{unknown bias axis 'd'; expected b, h, q or k}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(bias<[q, d]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @bias_no_axes(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{bias needs at least one axis out of [b, h, q, k]}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(bias<[]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @bias_axes_order(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{bias axes must be a subset of [b, h, q, k] in that order, without repeats}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(bias<[k, q]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @bias_axes_repeat(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{bias axes must be a subset of [b, h, q, k] in that order, without repeats}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(bias<[h, h]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalizer and schedule
//===----------------------------------------------------------------------===//

func.func @unknown_normalizer(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{unknown normalizer 'relu'; expected softmax, softmax_with_sink, softmax_off_by_one, sigmoid or none}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<relu> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @normalizer_bias_not_sigmoid(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{only the sigmoid normalizer takes a bias; 'softmax' does not}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<softmax, bias = 1.0> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @normalizer_bias_infinite(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{normalizer bias must be finite}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) normalizer<sigmoid, bias = 0xFFF0000000000000> -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @schedule_not_power_of_two(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{schedule block_kv must be a power of two up to 1024 (or 0 to let the compiler choose), got 48}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {schedule = #attn.schedule<block_q = 64, block_kv = 48>} -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @schedule_negative(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{schedule split_kv must be in [1, 256] (or 0 to let the compiler choose), got -4}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {schedule = #attn.schedule<split_kv = -4>} -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// The score_mod region
//===----------------------------------------------------------------------===//

func.func @marker_without_region(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score list holds 'score_mod' but the op has no score_mod region; add one or remove the entry}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_without_marker(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the op has a score_mod region but its score list does not say where it applies; add 'score_mod' to score(...)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(softcap<30.0>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @two_markers(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score list holds 2 'score_mod' entries but the op has one region; merge the custom code into one region}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod, softcap<30.0>, score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_two_blocks(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must have exactly one block}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    cf.br ^bb1(%s : f32)
  ^bb1(%t: f32):
    attn.yield %t : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_arity(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), but it takes 3 argument(s)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %qi: index, %ki: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_arity_head_params(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %hp: tensor<4x2xf32>) {
  // expected-error @+1 {{the score_mod region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index) followed by 2 f32 per-head parameter(s), but it takes 5 argument(s)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) head_params(%hp : tensor<4x2xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_argument_type(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must take (score: f32, b: index, h: index, q_idx: index, kv_idx: index), but argument #3 is 'i32'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: i32, %ki: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @region_score_type(%q: tensor<2x16x4x8xf16>, %k: tensor<2x16x4x8xf16>, %v: tensor<2x16x4x8xf16>) {
  // expected-error @+1 {{but argument #0 is 'f16'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf16>) k(%k : tensor<2x16x4x8xf16>) v(%v : tensor<2x16x4x8xf16>) score(score_mod) score_mod {
  ^bb0(%s: f16, %b: index, %h: index, %qi: index, %ki: index):
    %f = arith.extf %s : f16 to f32
    attn.yield %f : f32
  } -> tensor<2x16x4x8xf16>
  return
}

// -----

func.func @region_head_param_type(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %hp: tensor<4x1xf32>) {
  // expected-error @+1 {{followed by 1 f32 per-head parameter(s), but argument #5 is 'index'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) head_params(%hp : tensor<4x1xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index, %p: index):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @yield_wrong_type(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must end in 'attn.yield' of exactly one f32 score}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %qi : index
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @yield_two_values(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must end in 'attn.yield' of exactly one f32 score}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s, %s : f32, f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @yield_nothing(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score_mod region must end in 'attn.yield' of exactly one f32 score}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @yield_outside_attention(%s: f32) {
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attention, attn.tile.score_mod, attn.tile.mask'}}
  attn.yield %s : f32
}

// -----

func.func @v_head_dim_zero(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x0xf32>) {
  // expected-error @+1 {{the v head dim must be positive, got 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x0xf32>) -> tensor<2x16x4x0xf32>
  return
}

// -----

func.func @two_bias_modifiers(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{the score list holds two bias modifiers but the op has one 'bias' operand; add the biases into one}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) bias(%b : tensor<4xf32>) score(bias<[q, k]>, bias<[h]>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @two_block_sizes(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %n: tensor<2x4x1xi32>, %i: tensor<2x4x1x1xi32>) {
  // expected-error @+1 {{block_sparse masks share the kv_num_blocks/kv_indices operands, so they must have one block size}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) kv_num_blocks(%n : tensor<2x4x1xi32>) kv_indices(%i : tensor<2x4x1x1xi32>) mask(or<block_sparse<block_q = 16, block_kv = 16>, block_sparse<block_q = 8, block_kv = 8>>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @dynamic_head_params(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>, %p: tensor<4x?xf32>) {
  // expected-error @+1 {{operand 'head_params' must have a static number of parameters (its dimension 1), got 'tensor<4x?xf32>'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) head_params(%p : tensor<4x?xf32>) score(score_mod) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index, %p0: f32):
    attn.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @empty_score_list(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{the score list is empty; remove 'score()'}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) score() -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @ragged_doc_ids_per_token(%q: tensor<32x4x8xf32>, %k: tensor<32x4x8xf32>, %v: tensor<32x4x8xf32>, %cq: tensor<3xi32>, %ck: tensor<3xi32>, %dq: tensor<2x16xi32>, %dk: tensor<32xi32>) {
  // expected-error @+1 {{operand 'doc_q' must have rank 1, got 'tensor<2x16xi32>'}}
  %0 = attn.attention q(%q : tensor<32x4x8xf32>) k(%k : tensor<32x4x8xf32>) v(%v : tensor<32x4x8xf32>) doc_q(%dq : tensor<2x16xi32>) doc_kv(%dk : tensor<32xi32>) cu_seqlens_q(%cq : tensor<3xi32>) cu_seqlens_kv(%ck : tensor<3xi32>) mask(document) {kv_storage = #attn.kv_storage<ragged>} -> tensor<32x4x8xf32>
  return
}

// -----

func.func @neighborhood_grid_overflow(%q: tensor<1x16x4x8xf32>, %k: tensor<1x16x4x8xf32>, %v: tensor<1x16x4x8xf32>) {
  // expected-error @+1 {{neighborhood kernel 4611686018427387904 with dilation 4 spans more positions in dimension 0 than the grid's 16}}
  %0 = attn.attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x4x8xf32>) v(%v : tensor<1x16x4x8xf32>) mask(neighborhood<grid = [16], kernel = [4611686018427387904], dilation = [4]>) -> tensor<1x16x4x8xf32>
  return
}

// -----

func.func @window_too_wide(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{sliding_window bounds must be at most 2147483647 (sequence lengths are 32-bit); leave the window out for an unbounded side, or use causal}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(sliding_window<left = 4, right = 9223372036854775807>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @sinks_too_many(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{sinks count must be at most 2147483647, got 4294967296}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(sinks<4294967296>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @chunk_too_big(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{chunked size must be at most 2147483647, got 4294967296}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(chunked<4294967296>) -> tensor<2x16x4x8xf32>
  return
}

// -----

func.func @prefix_too_long(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) {
  // expected-error @+1 {{prefix_lm length must be positive (at most 2147483647), got 4294967296}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(prefix_lm<4294967296>) -> tensor<2x16x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// The tile level
//===----------------------------------------------------------------------===//

func.func @tile_dynamic(%q: memref<?x64xf32>, %qs: memref<?x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_q' op the q tile must be a tile with a static shape, got 'memref<?x64xf32>'}}
  attn.tile.load_q %q into %qs : memref<?x64xf32>, memref<?x64xf32>
  return
}

// -----

func.func @tile_head_dim(%q: memref<?x32xf32>, %qs: memref<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_q' op dimension 1 of the q view (32) must equal dimension 1 of the q tile (64)}}
  attn.tile.load_q %q into %qs : memref<?x32xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_load_dtype(%q: memref<?x64xbf16>, %qs: memref<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_q' op the q view ('bf16') and the q tile ('f32') must have the same element type}}
  attn.tile.load_q %q into %qs : memref<?x64xbf16>, memref<16x64xf32>
  return
}

// -----

func.func @tile_load_k_rank(%k: memref<?x2x64xf32>, %kt: memref<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_k' op the k view must have rank 2, got 'memref<?x2x64xf32>'}}
  attn.tile.load_k %k into %kt : memref<?x2x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_result_type(%k: memref<?x64xf32>, %kt: tensor<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_k' op expected type of operand #1 ('tensor<16x64xf32>') to match type of corresponding result ('tensor<32x64xf32>')}}
  %r = attn.tile.load_k %k into %kt : memref<?x64xf32>, tensor<16x64xf32> -> tensor<32x64xf32>
  return
}

// -----

func.func @tile_missing_result(%k: memref<?x64xf32>, %kt: tensor<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_k' op expected the number of tensor results (0) to be equal to the number of output tensors (1)}}
  attn.tile.load_k %k into %kt : memref<?x64xf32>, tensor<16x64xf32>
  return
}

// -----

func.func @tile_mixed_forms(%max: tensor<16xf32>, %sum: memref<16xf32>, %acc: memref<16x64xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.init' op tiles must be all tensors or all memrefs; the row max is a tensor and the accumulator is not}}
  %m = attn.tile.init rows(%rows) normalizer<softmax> into %max, %sum, %acc : tensor<16xf32>, memref<16xf32>, memref<16x64xf32> -> tensor<16xf32>
  return
}

// -----

func.func @tile_state_rows(%acc: memref<16x64xf32>, %max: memref<8xf32>, %sum: memref<16xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.init' op dimension 0 of the row max (8) must equal dimension 0 of the accumulator (16)}}
  attn.tile.init rows(%rows) normalizer<softmax> into %max, %sum, %acc : memref<8xf32>, memref<16xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_qk_rows(%qs: memref<16x64xf32>, %k: memref<16x64xf32>, %s: memref<32x16xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.qk' op dimension 0 of the score tile (32) must equal dimension 0 of the q tile (16)}}
  attn.tile.qk %qs, %k rows(%rows) cols(%rows) into %s : memref<16x64xf32>, memref<16x64xf32>, memref<32x16xf32>
  return
}

// -----

func.func @tile_qk_dtypes(%qs: memref<16x64xf32>, %k: memref<16x64xbf16>, %s: memref<16x16xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.qk' op the q tile ('f32') and the k tile ('bf16') must have the same element type}}
  attn.tile.qk %qs, %k rows(%rows) cols(%rows) into %s : memref<16x64xf32>, memref<16x64xbf16>, memref<16x16xf32>
  return
}

// -----

func.func @tile_qk_cols(%qs: memref<16x64xf32>, %k: memref<128x64xf32>, %s: memref<16x64xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.qk' op dimension 1 of the score tile (64) must equal dimension 0 of the k tile (128)}}
  attn.tile.qk %qs, %k rows(%rows) cols(%rows) into %s : memref<16x64xf32>, memref<128x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_pv_keys(%p: memref<16x16xf32>, %v: memref<32x64xf32>, %acc: memref<16x64xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.pv' op dimension 1 of the weight tile (16) must equal dimension 0 of the v tile (32)}}
  attn.tile.pv %p, %v rows(%rows) cols(%rows) into %acc : memref<16x16xf32>, memref<32x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_pv_alpha(%p: memref<16x16xf32>, %v: memref<16x64xf32>, %alpha: memref<8xf32>, %acc: memref<16x64xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.pv' op dimension 0 of the rescale factors (8) must equal dimension 0 of the accumulator (16)}}
  attn.tile.pv %p, %v rescale(%alpha : memref<8xf32>) rows(%rows) cols(%rows) into %acc : memref<16x16xf32>, memref<16x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_normalize_weights(%s: memref<16x16xf32>, %p: memref<16x32xbf16>, %m: memref<16xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.normalize' op dimension 1 of the weight tile (32) must equal dimension 1 of the score tile (16)}}
  attn.tile.normalize %s rows(%rows) normalizer<softmax> scale(1.0) into %p, %m, %m, %m : memref<16x16xf32>, memref<16x32xbf16>, memref<16xf32>, memref<16xf32>, memref<16xf32>
  return
}

// -----

func.func @tile_normalize_scale(%s: memref<16x16xf32>, %p: memref<16x16xf32>, %m: memref<16xf32>, %rows: index) {
  // expected-error @+1 {{'attn.tile.normalize' op scale must be a positive finite number, got -1}}
  attn.tile.normalize %s rows(%rows) normalizer<softmax> scale(-1.0) into %p, %m, %m, %m : memref<16x16xf32>, memref<16x16xf32>, memref<16xf32>, memref<16xf32>, memref<16xf32>
  return
}

// -----

func.func @tile_mask_region(%s: memref<16x16xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile.mask' op region must end with attn.yield of one 'i1' value}}
  attn.tile.mask %s q(%i) k(%i) rows(%i) cols(%i) : memref<16x16xf32> {
  ^bb0(%q: index, %k: index):
    %c = arith.constant 1.0 : f32
    attn.yield %c : f32
  }
  return
}

// -----

func.func @tile_score_mod_args(%s: memref<16x16xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile.score_mod' op region must take 3 arguments of types ('f32', 'index', 'index'), got ('index', 'index')}}
  attn.tile.score_mod %s q(%i) k(%i) rows(%i) cols(%i) : memref<16x16xf32> {
  ^bb0(%q: index, %k: index):
    %c = arith.constant 1.0 : f32
    attn.yield %c : f32
  }
  return
}

// -----

func.func @tile_finalize_lse(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<?x64xf32>, %lse: memref<?xf32>) {
  // expected-error @+1 {{'attn.tile.finalize' op normalizer #attn.normalizer<sigmoid> defines no log-sum-exp; drop the lse view}}
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<sigmoid> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<?x64xf32>, memref<?xf32>
  return
}

// -----

func.func @tile_finalize_sink(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<?x64xf32>) {
  // expected-error @+1 {{'attn.tile.finalize' op softmax_with_sink needs a sink logit}}
  attn.tile.finalize %acc, %max, %sum into %out normalizer<softmax_with_sink> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<?x64xf32>
  return
}

// -----

func.func @tile_yield_parent(%x: f32) {
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attention, attn.tile.score_mod, attn.tile.mask'}}
  attn.yield %x : f32
}

// -----

func.func @tile_load_rows(%q: memref<32x64xf32>, %qs: memref<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_q' op the q view has 32 rows, more than the 16 of the q tile}}
  attn.tile.load_q %q into %qs : memref<32x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_finalize_lse_rows(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<8x64xf32>, %lse: memref<4xf32>) {
  // expected-error @+1 {{'attn.tile.finalize' op dimension 0 of the lse view (4) must equal dimension 0 of the output view (8)}}
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<8x64xf32>, memref<4xf32>
  return
}

// -----

func.func @tile_group_dynamic(%q: memref<?x?x64xf32>, %qs: memref<16x64xf32>) {
  // expected-error @+1 {{'attn.tile.load_q' op the q view packs a head group of dynamic size; dimension 1 must be static}}
  attn.tile.load_q %q into %qs : memref<?x?x64xf32>, memref<16x64xf32>
  return
}

// -----

func.func @tile_group_sink(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<?x2x64xf32>, %z: f32) {
  // expected-error @+1 {{'attn.tile.finalize' op a packed head group has one sink logit per head; a scalar sink needs a rank-2 output view}}
  attn.tile.finalize %acc, %max, %sum into %out sink(%z) normalizer<softmax_with_sink> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<?x2x64xf32>
  return
}

// -----

func.func @tile_group_zero(%s: memref<16x16xf32>, %i: index) {
  // expected-error @+1 {{'attn.tile.mask' op group must be positive, got 0}}
  attn.tile.mask %s q(%i) k(%i) rows(%i) cols(%i) {group = 0 : i64} : memref<16x16xf32> {
  ^bb0(%q: index, %k: index):
    %t = arith.constant true
    attn.yield %t : i1
  }
  return
}

// -----

func.func @tile_finalize_lse_rank(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<?x2x64xf32>, %lse: memref<?xf32>) {
  // expected-error @+1 {{'attn.tile.finalize' op the lse view must have one dimension less than the output view}}
  attn.tile.finalize %acc, %max, %sum into %out lse(%lse) normalizer<softmax> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<?x2x64xf32>, memref<?xf32>
  return
}

// -----

func.func @tile_finalize_stray_sink(%acc: memref<16x64xf32>, %max: memref<16xf32>, %sum: memref<16xf32>, %out: memref<?x64xf32>, %z: f32) {
  // expected-error @+1 {{'attn.tile.finalize' op only softmax_with_sink takes a sink logit}}
  attn.tile.finalize %acc, %max, %sum into %out sink(%z) normalizer<softmax> scale(1.0) : memref<16x64xf32>, memref<16xf32>, memref<16xf32>, memref<?x64xf32>
  return
}

// -----

func.func @tiling_rows_not_groups(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x2x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling rows (6) must be a multiple of head_group (4): a q tile holds whole groups of query heads}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x2x8xf32>) {tiling = #attn.tiling<rows = 6, head_group = 4, block_kv = 16, kv_tiles = bounds, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_zero_block_kv(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x2x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling block_kv must be in [1, 1024], got 0}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x2x8xf32>) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 0, kv_tiles = bounds, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_head_group_not_gqa(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x2x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling head_group 4 must be 1 or the GQA group (query heads / kv heads)}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x2x8xf32>) {tiling = #attn.tiling<rows = 16, head_group = 4, block_kv = 16, kv_tiles = bounds, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_listed_without_sparse(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling kv_tiles = listed_blocks needs a block_sparse mask whose blocks the tiles divide; use kv_tiles = tile_table}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(causal) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = listed_blocks, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_disjuncts_without_or(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling kv_tiles = disjuncts needs an 'or' of conjunctions of causal, sliding_window, sinks, chunked and constant prefix_lm masks; use kv_tiles = tile_table}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(causal) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = disjuncts, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_vertical_slash_without_mask(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling kv_tiles = vertical_slash needs a vertical_slash mask, alone or and-ed with causal, sliding_window, sinks, chunked and constant prefix_lm masks; use kv_tiles = tile_table}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = vertical_slash, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_crosses_page(%q: tensor<?x1x2x32xf32>, %k: tensor<?x16x2x32xf32>, %v: tensor<?x16x2x32xf32>, %bt: tensor<?x?xi32>, %sl: tensor<?xi32>) -> tensor<?x1x2x32xf32> {
  // expected-error @+1 {{tiling block_kv 32 must divide the page size 16, so that a kv tile never crosses a page}}
  %out = attn.attention q(%q : tensor<?x1x2x32xf32>) k(%k : tensor<?x16x2x32xf32>) v(%v : tensor<?x16x2x32xf32>) block_table(%bt : tensor<?x?xi32>) cache_seqlens(%sl : tensor<?xi32>) {kv_storage = #attn.kv_storage<paged>, tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 32, kv_tiles = bounds, split_kv = 1>} -> tensor<?x1x2x32xf32>
  return %out : tensor<?x1x2x32xf32>
}

// -----

func.func @tiling_negative_split(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling split_kv must be a chunk count in [1, 256], or 0 for one the runtime picks per launch; got -1}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = bounds, split_kv = -1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_disjuncts_unbounded(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling kv_tiles = disjuncts needs an 'or' of conjunctions of causal, sliding_window, sinks, chunked and constant prefix_lm masks; use kv_tiles = tile_table}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) mask(or<causal, not<sinks<4>>>) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = disjuncts, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @tiling_vertical_slash_under_or(%q: tensor<2x128x8x64xf16>, %k: tensor<2x128x8x64xf16>, %v: tensor<2x128x8x64xf16>, %vert: tensor<2x8x16xi32>, %sl: tensor<1x8x32xi32>) -> tensor<2x128x8x64xf16> {
  // expected-error @+1 {{tiling kv_tiles = vertical_slash needs a vertical_slash mask, alone or and-ed with}}
  %0 = attn.attention q(%q : tensor<2x128x8x64xf16>) k(%k : tensor<2x128x8x64xf16>) v(%v : tensor<2x128x8x64xf16>) vertical(%vert : tensor<2x8x16xi32>) slash(%sl : tensor<1x8x32xi32>) mask(or<causal, vertical_slash>) {tiling = #attn.tiling<rows = 64, head_group = 1, block_kv = 64, kv_tiles = vertical_slash, split_kv = 1>} -> tensor<2x128x8x64xf16>
  return %0 : tensor<2x128x8x64xf16>
}

// -----

func.func @tiling_head_group_with_alibi(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x2x8xf32>, %v: tensor<2x16x2x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{tiling head_group 2 packs query heads into one tile, but the op depends on the head (a per-head mask, ALiBi, a per-head bias or score_mod, or a sink); use head_group = 1}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x2x8xf32>) v(%v : tensor<2x16x2x8xf32>) mask(causal) score(alibi) {tiling = #attn.tiling<rows = 16, head_group = 2, block_kv = 16, kv_tiles = bounds, split_kv = 1>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @schedule_warps(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{schedule warps is not read by any target yet; remove it}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {schedule = #attn.schedule<warps = 4>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @schedule_too_many_splits(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  // expected-error @+1 {{schedule split_kv must be in [1, 256] (or 0 to let the compiler choose), got 4611686018427387904}}
  %0 = attn.attention q(%q : tensor<2x16x4x8xf32>) k(%k : tensor<2x16x4x8xf32>) v(%v : tensor<2x16x4x8xf32>) {schedule = #attn.schedule<split_kv = 4611686018427387904>} -> tensor<2x16x4x8xf32>
  return %0 : tensor<2x16x4x8xf32>
}

// -----

func.func @too_many_heads(%q: tensor<1x8x2048x8xf32>, %k: tensor<1x8x2048x8xf32>, %v: tensor<1x8x2048x8xf32>) -> tensor<1x8x2048x8xf32> {
  // expected-error @+1 {{has 2048 as its query heads, above the limit of 1024}}
  %0 = attn.attention q(%q : tensor<1x8x2048x8xf32>) k(%k : tensor<1x8x2048x8xf32>) v(%v : tensor<1x8x2048x8xf32>) -> tensor<1x8x2048x8xf32>
  return %0 : tensor<1x8x2048x8xf32>
}

// -----

func.func @head_dim_too_big(%q: tensor<1x8x1x2048xf32>, %k: tensor<1x8x1x2048xf32>, %v: tensor<1x8x1x8xf32>) -> tensor<1x8x1x8xf32> {
  // expected-error @+1 {{has 2048 as its qk head dim, above the limit of 1024}}
  %0 = attn.attention q(%q : tensor<1x8x1x2048xf32>) k(%k : tensor<1x8x1x2048xf32>) v(%v : tensor<1x8x1x8xf32>) -> tensor<1x8x1x8xf32>
  return %0 : tensor<1x8x1x8xf32>
}
