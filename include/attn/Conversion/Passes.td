//===- Passes.td - Attn conversion passes ------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToCPUPass : Pass<"convert-attn-to-cpu", "mlir::ModuleOp"> {
  let summary = "Lowers attn.attention to a CPU kernel of one work item";
  let description = [{
    Rewrites every function whose body is one `attn.attention` on its
    arguments (what `attn-compile` imports from a spec) into a kernel on
    strided memrefs that computes one work item, a (batch, head, q-tile)
    triple numbered `((b * Hq) + h) * ceil(Lq / block_q) + q_tile`:

    ```mlir
    func.func @name(%q: memref<?x?x16x128xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                    %k: ..., %v: ..., <optional operands>..., %out: ...,
                    [%lse: ...,] %item: index)
        attributes {llvm.emit_c_interface}
    ```

    The kernel is a FlashAttention loop: the q tile is scaled and kept in
    f32; for each kv tile that the mask can leave visible (loop bounds for
    causal, sliding-window and chunked masks), S = Q K^T is computed with
    vector FMAs over the keys, the score modifiers and the mask are applied
    element by element on tiles that need them (partial tiles, edge tiles,
    tiles with modifiers), the online softmax state (row max, row sum,
    accumulator) is updated and P V is accumulated with vector FMAs over the
    head dim. The finalize step divides by the row sum (adding the sink logit
    for the sink normalizers), writes out and lse; rows with no visible key
    give 0 and -inf.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector operation (8 for AVX2, 16 for AVX-512)">,
    Option<"blockQ", "block-q", "int64_t", /*default=*/"128",
           "queries per work item, unless the op's schedule says otherwise">,
    Option<"blockKV", "block-kv", "int64_t", /*default=*/"64",
           "keys per tile, unless the op's schedule says otherwise">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def AttnApproximateMathPass : Pass<"attn-approximate-math"> {
  let summary = "Replaces exp, log and tanh by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.log`, `math.tanh` (scalar or vector, f32)
    into MLIR's polynomial approximations, so that the CPU kernels compute
    them in vector registers instead of calling libm per element. The
    approximations are accurate to a few ulp, inside the numerical contract
    (f32 kernels under 1e-5 relative error).

    ```mlir
    %e = math.exp %x : vector<8xf32>
    // becomes arith/vector code (range reduction + polynomial)
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTN_CONVERSION_PASSES_TD
