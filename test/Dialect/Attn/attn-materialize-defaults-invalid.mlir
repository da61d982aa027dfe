// RUN: attn-opt %s --attn-materialize-defaults -split-input-file -verify-diagnostics

// Without a static q/k head dim the default scale 1/sqrt(d_qk) is unknown.

func.func @dynamic_head_dim(%q: tensor<2x16x4x?xf32>, %k: tensor<2x16x4x?xf32>, %v: tensor<2x16x4x64xf32>) -> tensor<2x16x4x64xf32> {
  // expected-error @+1 {{'attn.attention' op has a dynamic head dim, so the default scale 1/sqrt(d_qk) is unknown; set 'scale'}}
  %0 = attn.attention q(%q : tensor<2x16x4x?xf32>) k(%k : tensor<2x16x4x?xf32>) v(%v : tensor<2x16x4x64xf32>) mask(causal) -> tensor<2x16x4x64xf32>
  return %0 : tensor<2x16x4x64xf32>
}

// -----

// q's head dim is what counts, even when k's is static.

func.func @dynamic_q_head_dim(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  // expected-error @+1 {{has a dynamic head dim, so the default scale 1/sqrt(d_qk) is unknown; set 'scale'}}
  %0 = attn.attention q(%q : tensor<?x?x?x?xbf16>) k(%k : tensor<?x?x?x128xbf16>) v(%v : tensor<?x?x?x128xbf16>) normalizer<softmax> -> tensor<?x?x?x128xbf16>
  return %0 : tensor<?x?x?x128xbf16>
}
