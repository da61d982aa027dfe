// RUN: attn-opt %s --attn-schedule="rows=0" -verify-diagnostics

func.func @zero_block_q(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  // expected-error @+1 {{tile sizes must be positive, got rows 0 and block_kv 64}}
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}
