// RUN: attn-opt %s --convert-attn-to-cpu -split-input-file -verify-diagnostics
// RUN: not attn-opt %s --convert-attn-to-cpu="vector-width=0" 2>&1 | FileCheck %s --check-prefix=WIDTH
// WIDTH: error: convert-attn-to-cpu: vector-width must be positive, got 0

// The conversion takes the tile level: the spec-level op must be tiled first.
func.func @untiled(%q: tensor<1x8x2x32xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32> {
  // expected-error @+1 {{convert-attn-to-cpu lowers the tile level; run attn-tile first}}
  %out = attn.attention q(%q : tensor<1x8x2x32xf32>) k(%k : tensor<1x8x2x32xf32>) v(%v : tensor<1x8x2x32xf32>) -> tensor<1x8x2x32xf32>
  return %out : tensor<1x8x2x32xf32>
}

// -----

// The conversion takes the memref form: the tensor form is bufferized first.
func.func @tensor_form(%q: memref<?x64xf32, strided<[?, 1], offset: ?>>) {
  %e = tensor.empty() : tensor<32x64xf32>
  // expected-error @+1 {{convert-attn-to-cpu lowers the memref form of the tile level; run attn-bufferize-tile first}}
  %qt = attn.tile.load_q %q into %e : memref<?x64xf32, strided<[?, 1], offset: ?>>, tensor<32x64xf32> -> tensor<32x64xf32>
  return
}

// -----

// Q, K, V and P tiles live in f32 shadows: each must be a buffer of its own.
// expected-error @+1 {{convert-attn-to-cpu: a Q, K, V or P tile must be a buffer of its own (memref.alloca or memref.alloc), as attn-bufferize-tile and canonicalize leave it}}
func.func @argument_tile(%k: memref<?x64xbf16, strided<[?, 1], offset: ?>>, %kt: memref<16x64xbf16>) {
  attn.tile.load_k %k into %kt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<16x64xbf16>
  return
}

// -----

// ... that only tile ops use ...
func.func @foreign_use(%k: memref<?x64xbf16, strided<[?, 1], offset: ?>>) -> bf16 {
  %c0 = arith.constant 0 : index
  %kt = memref.alloca() : memref<16x64xbf16>
  attn.tile.load_k %k into %kt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<16x64xbf16>
  // expected-error @+1 {{'memref.load' op uses a Q, K, V or P tile buffer of the tile level; the CPU lowering keeps such tiles in f32 shadows that only the tile ops read}}
  %x = memref.load %kt[%c0, %c0] : memref<16x64xbf16>
  return %x : bf16
}

// -----

// ... and read in a role some tile op writes it in.
func.func @wrong_role(%k: memref<?x64xbf16, strided<[?, 1], offset: ?>>, %p: memref<32x16xbf16>, %acc: memref<32x64xf32>, %rows: index, %cols: index) {
  %kt = memref.alloca() : memref<16x64xbf16>
  attn.tile.load_k %k into %kt : memref<?x64xbf16, strided<[?, 1], offset: ?>>, memref<16x64xbf16>
  // expected-error @+1 {{'attn.tile.pv' op reads a tile buffer in a role (Q, K, V or P) that no tile op writes it in}}
  attn.tile.pv %p, %kt rows(%rows) cols(%cols) into %acc : memref<32x16xbf16>, memref<16x64xbf16>, memref<32x64xf32>
  return
}
