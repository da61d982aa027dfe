// RUN: attn-opt %s --convert-attn-to-cpu -split-input-file -verify-diagnostics
// RUN: not attn-opt %s --convert-attn-to-cpu="vector-width=0" 2>&1 | FileCheck %s --check-prefix=WIDTH
// WIDTH: error: convert-attn-to-cpu: vector-width must be positive, got 0

// The conversion takes the tile level: the spec-level op must be tiled first.
func.func @untiled(%q: tensor<1x8x2x32xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32> {
  // expected-error @+1 {{convert-attn-to-cpu lowers the tile level; run attn-tile first}}
  %out = attn.attention q(%q : tensor<1x8x2x32xf32>) k(%k : tensor<1x8x2x32xf32>) v(%v : tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32>
  return %out : tensor<1x8x2x32xf32>
}
