// RUN: attn-opt %s --attn-schedule -split-input-file -verify-diagnostics

func.func @paged_block_kv(%q: tensor<?x1x2x32xf32>, %k: tensor<?x16x2x32xf32>, %v: tensor<?x16x2x32xf32>, %bt: tensor<?x?xi32>, %sl: tensor<?xi32>) -> tensor<?x1x2x32xf32> {
  // expected-error @+1 {{block_kv 32 must divide the page size 16, so that a kv tile never crosses a page}}
  %out = attn.attention q(%q : tensor<?x1x2x32xf32>) k(%k : tensor<?x16x2x32xf32>) v(%v : tensor<?x16x2x32xf32>) block_table(%bt : tensor<?x?xi32>) cache_seqlens(%sl : tensor<?xi32>) {kv_storage = #attn.kv_storage<paged>, schedule = #attn.schedule<block_kv = 32>} -> tensor<?x1x2x32xf32>
  return %out : tensor<?x1x2x32xf32>
}

// -----

func.func @paged_dynamic_page(%q: tensor<?x1x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>, %bt: tensor<?x?xi32>, %sl: tensor<?xi32>) -> tensor<?x1x2x32xf32> {
  // expected-error @+1 {{paged storage needs a static page size}}
  %out = attn.attention q(%q : tensor<?x1x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) block_table(%bt : tensor<?x?xi32>) cache_seqlens(%sl : tensor<?xi32>) {kv_storage = #attn.kv_storage<paged>} -> tensor<?x1x2x32xf32>
  return %out : tensor<?x1x2x32xf32>
}

// -----

func.func @dynamic_heads(%q: tensor<?x?x?x32xf32>, %k: tensor<?x?x?x32xf32>, %v: tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32> {
  // expected-error @+1 {{scheduling needs static head counts and head dims}}
  %out = attn.attention q(%q : tensor<?x?x?x32xf32>) k(%k : tensor<?x?x?x32xf32>) v(%v : tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32>
  return %out : tensor<?x?x?x32xf32>
}

// -----

func.func @not_normal_form(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  // expected-error @+1 {{attn-schedule needs the mask in normal form; run attn-simplify-mask first}}
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) mask(not<not<causal>>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}
