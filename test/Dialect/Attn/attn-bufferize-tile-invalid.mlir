// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-bufferize-tile))' -split-input-file -verify-diagnostics

// Reading the old row max after normalize has replaced it would need a copy
// of the state: the tile level must use each state value once.
func.func @stale_state(%out: memref<?x16xf32>, %rows: index) {
  %row = tensor.empty() : tensor<8xf32>
  %acc0 = tensor.empty() : tensor<8x16xf32>
  %s0 = tensor.empty() : tensor<8x4xf32>
  %m, %l, %acc = attn.tile.init rows(%rows) normalizer<softmax> into %row, %row, %acc0 : tensor<8xf32>, tensor<8xf32>, tensor<8x16xf32> -> tensor<8xf32>, tensor<8xf32>, tensor<8x16xf32>
  // expected-error @+2 {{attn-bufferize-tile: this tile would need a copy: a value of the tile level is read after the op that replaces it; use each tile value once, in a straight chain}}
  // expected-error @+1 {{failed to bufferize op}}
  %p, %m2, %l2, %alpha = attn.tile.normalize %s0 rows(%rows) normalizer<softmax> scale(1.0) into %s0, %m, %l, %row : tensor<8x4xf32>, tensor<8x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<8x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  attn.tile.finalize %acc, %m, %l2 into %out normalizer<softmax> scale(1.0) : tensor<8x16xf32>, tensor<8xf32>, tensor<8xf32>, memref<?x16xf32>
  return
}
