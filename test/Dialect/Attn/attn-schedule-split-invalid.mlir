// RUN: attn-opt %s --attn-schedule="split-kv=-2" -verify-diagnostics

func.func @negative_split(%q: tensor<?x?x2x32xf32>, %k: tensor<?x?x2x32xf32>, %v: tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32> {
  // expected-error @+1 {{split-kv must be a chunk count, or 0 for one the runtime picks per launch; got -2}}
  %out = attn.attention q(%q : tensor<?x?x2x32xf32>) k(%k : tensor<?x?x2x32xf32>) v(%v : tensor<?x?x2x32xf32>) -> tensor<?x?x2x32xf32>
  return %out : tensor<?x?x2x32xf32>
}
