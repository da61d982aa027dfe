//===- AttnBase.td - Attn dialect definition ---------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//
//
// The `attn` dialect: attention described once (masks, score modifiers,
// normalizers, heads, KV storage), lowered to fused kernels for CPU and GPU.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNBASE_TD
#define ATTN_DIALECT_ATTN_ATTNBASE_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention described once, compiled to fused kernels";
  let description = [{
    The `attn` dialect describes *what* an attention computes: the mask as a
    boolean algebra over structured primitives (causal, sliding windows,
    sinks, chunks, prefix-LM, documents, neighborhoods, block-sparse and
    vertical-slash layouts, per-head selections), the score modifiers
    (softcap, ALiBi, bias, custom `score_mod` code), the normalizer (softmax
    and its relatives), head grouping (GQA/MQA) and KV storage (contiguous,
    paged, ragged). Passes lower it through a tile-level flash loop to CPU
    and NVIDIA GPU code.

    Semantics follow `DESIGN.md` ("Semantics"): query positions are aligned
    bottom-right (`p = q + Lkv - Lq`) unless a primitive says `top_left`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTN_DIALECT_ATTN_ATTNBASE_TD
