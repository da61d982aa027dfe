// RUN: attn-opt %s --attn-simplify-mask -verify-diagnostics

func.func @scheduled(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  // expected-error @+1 {{has a tiling decided for its mask as written; simplify the mask before attn-schedule}}
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) mask(not<not<causal>>) {tiling = #attn.tiling<rows = 16, head_group = 1, block_kv = 16, kv_tiles = tile_table, split_kv = 1>} -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}
