//===- Passes.td - Attn conversion passes ------------------*- tablegen -*-===//
//
// Part of the Attn project: an MLIR-based attention compiler.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToCPUPass : Pass<"convert-attn-to-cpu", "mlir::ModuleOp"> {
  let summary = "Lowers the tile level (attn.tile ops) to CPU vector code";
  let description = [{
    Lowers the `attn.tile.*` ops of the kernels that `attn-tile` builds to
    `scf`, `memref`, `vector`, `arith` and `math` ops, and marks each kernel
    `llvm.emit_c_interface` (the runtime calls `_mlir_ciface_<name>`):

    - `load_q` converts and scales the q rows into the f32 tile, zero-filling
      the rows up to the register blocking;
    - `qk` stages K^T in f32 and computes S = Q K^T with a register-blocked
      micro-kernel: up to 4 rows of Q times up to 4 key vectors per step,
      one `vector.fma` each (each vector load serves every row, each
      broadcast every vector); columns past an edge tile's keys become -inf;
    - `score_mod` and `mask` run their element region over the tile's rows
      and columns (scalar code);
    - `normalize` is vectorized over the keys (row max and sum through
      `vector.reduction`, `math.exp` on vectors);
    - `pv` stages V in f32 and accumulates P V with the same micro-kernel
      over the head dim;
    - `finalize` divides by the row sum (the sink logit joins it for the
      sink normalizers) and writes out and lse.

    Vectors have the widest power-of-two width up to `vector-width` that
    divides the dimension they run along. Tiles are stack buffers, moved to
    the heap when a kernel's scratch exceeds 512 KiB (worker threads have
    fixed-size stacks). An `attn.attention` left in the input is an error:
    run `attn-tile` first.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector operation (8 for AVX2, 16 for AVX-512)">
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
