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

    It takes the memref form of the tile level (after `attn-bufferize-tile`
    and `canonicalize`). The micro-kernels compute in f32, so each Q, K, V
    and P tile buffer of a narrower dtype (or K, always) has an f32
    *shadow* at the kernel's entry, per role: the ops that write the tile
    write its shadow, the ops that read it read the shadow, and the
    bf16/f16 buffers themselves disappear. Such a tile buffer must be an
    alloca or alloc that only tile ops use (an error otherwise).

    - `load_q` converts the q rows into the Q shadow, zero-filling the rows
      up to the register blocking; `load_k` stages K^T, `load_v` V, in f32;
    - `qk` computes S = Q K^T with a register-blocked micro-kernel: up to 4
      rows of Q times up to 4 key vectors per step, one `vector.fma` each
      (each vector load serves every row, each broadcast every vector);
      columns from `cols` on become -inf;
    - `score_mod` and `mask` run their element region over the tile's rows
      and columns (scalar code);
    - `normalize` is vectorized over the keys (row max and sum through
      `vector.reduction`, `math.exp2` of an fma on vectors); a bf16/f16 P
      tile gets each weight rounded to its dtype (`arith.truncf` then
      `arith.extf`), the sum the unrounded weights;
    - `pv` scales each accumulator row by its alpha as it loads it, then
      accumulates P V with the same micro-kernel over the head dim;
    - `finalize` divides by the row sum (the sink logit joins it for the
      sink normalizers) and writes out and lse.

    Vectors have the widest power-of-two width up to `vector-width` that
    divides the dimension they run along. Tiles are stack buffers, moved to
    the heap when a kernel's scratch exceeds 512 KiB (worker threads have
    fixed-size stacks). An `attn.attention` left in the input is an error
    (run `attn-tile` first), and so is the tensor form (run
    `attn-bufferize-tile` first).
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
  let summary = "Replaces exp, exp2, log and tanh by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.exp2` (as `exp(x ln 2)`: MLIR has no
    polynomial for it), `math.log`, `math.tanh` (scalar or vector, f32)
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
