// RUN: attn-opt %s -split-input-file --attn-schedule="target=sm_90a rows=64 block-kv=64 split-kv=1" --attn-tile --convert-attn-to-nvvm -verify-diagnostics

// The tensor cores take bf16/f16: f32 specs are refused with what to do.
// expected-error @+1 {{convert-attn-to-nvvm: the GPU target computes on bf16/f16 tensor cores; f32 specs need a TF32 path that does not exist yet (use dtype bf16 or f16)}}
func.func @f32(%q: tensor<?x?x2x64xf32>, %k: tensor<?x?x2x64xf32>, %v: tensor<?x?x2x64xf32>) -> tensor<?x?x2x64xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x64xf32>) k(%k : tensor<?x?x2x64xf32>) v(%v : tensor<?x?x2x64xf32>) -> tensor<?x?x2x64xf32>
  return %out : tensor<?x?x2x64xf32>
}

// -----

// Head dims must be multiples of 16 (the mma k and n steps).
// expected-error @+1 {{convert-attn-to-nvvm: the GPU target needs head dims that are multiples of 16 up to 256, got 40 and 40}}
func.func @head_dim(%q: tensor<?x?x2x40xbf16>, %k: tensor<?x?x2x40xbf16>, %v: tensor<?x?x2x40xbf16>) -> tensor<?x?x2x40xbf16> {
  %out = attn.attention q(%q : tensor<?x?x2x40xbf16>) k(%k : tensor<?x?x2x40xbf16>) v(%v : tensor<?x?x2x40xbf16>) -> tensor<?x?x2x40xbf16>
  return %out : tensor<?x?x2x40xbf16>
}
