// RUN: attn-opt %s --attn-tile -split-input-file -verify-diagnostics

// expected-error @+1 {{attn-tile expects a function whose body is one attn.attention on the function's arguments, returning its results}}
func.func @not_spec_shaped(%q: tensor<1x8x2x32xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32> {
  %out = attn.attention q(%q : tensor<1x8x2x32xf32>) k(%k : tensor<1x8x2x32xf32>) v(%v : tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32>
  %again = attn.attention q(%out : tensor<1x8x2x32xf32>) k(%k : tensor<1x8x2x32xf32>) v(%v : tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32>
  return %again : tensor<1x8x2x32xf32>
}

// -----

func.func @unscheduled(%q: tensor<1x8x2x32xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32> {
  // expected-error @+1 {{has no #attn.tiling; run attn-schedule before attn-tile}}
  %out = attn.attention q(%q : tensor<1x8x2x32xf32>) k(%k : tensor<1x8x2x32xf32>) v(%v : tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32>
  return %out : tensor<1x8x2x32xf32>
}
