//===- Passes.td - Attn dialect passes ---------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnSimplifyMaskPass : Pass<"attn-simplify-mask"> {
  let summary = "Puts the mask algebra of every attn.attention in normal form";
  let description = [{
    Rewrites the `mask` of each `attn.attention` into an equivalent, simpler
    expression, so that analyses see one spelling of each mask:
    - nested `and` inside `and` (and `or` inside `or`) are flattened;
    - repeated operands of `and`/`or` are dropped (first occurrence kept);
    - `and`/`or` with one operand become that operand;
    - `not<not<m>>` becomes `m`;
    - `on_heads` with the same inner mask and heads merge into one (kept as
      written otherwise), and heads are sorted.

    Example:

    ```mlir
    // before
    mask(and<and<causal, causal>, not<not<sinks<4>>>>)
    // after
    mask(and<causal, sinks<4>>)
    ```
  }];
  let dependentDialects = [];
}

def AttnMaterializeDefaultsPass : Pass<"attn-materialize-defaults"> {
  let summary = "Writes the implied scale and normalizer of attn.attention out";
  let description = [{
    Sets the `scale` attribute to `1/sqrt(d_qk)` where it is absent (the head
    dim must be static) and the `normalizer` to `softmax` where it is absent,
    so later passes read every choice from the op.

    Example:

    ```mlir
    // before
    %o = attn.attention q(%q : tensor<1x128x8x64xf32>) ... -> tensor<1x128x8x64xf32>
    // after
    %o = attn.attention q(%q : tensor<1x128x8x64xf32>) ... normalizer<softmax>
        {scale = 1.250000e-01 : f64} -> tensor<1x128x8x64xf32>
    ```
  }];
  let dependentDialects = [];
}

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_PASSES_TD
