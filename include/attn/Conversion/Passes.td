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

def ConvertAttnToNVVMPass : Pass<"convert-attn-to-nvvm", "mlir::ModuleOp"> {
  let summary = "Lowers the tile level to tensor-core kernels of a gpu.module";
  let description = [{
    Rewrites every kernel of the tile level (the tensor form that
    `attn-tile` builds; functions with `attn.tiling`) into a `gpu.func` of a
    `gpu.module @attn_kernels` for NVIDIA GPUs from sm_80 on: one CTA per
    work item (`gpu.block_id x`), one warp per 16 tile rows, and
    `mma.sync` m16n8k16 on bf16/f16 fragments with f32 accumulation. The
    kernel takes the tile-level kernel's arguments without the work item
    (the memrefs, which the NVVM lowering expands into descriptors, and the
    kv-chunk count).

    - `load_q`, `load_k`, `load_v` issue an asynchronous copy (`cp.async`,
      16 bytes per thread and step, unrolled when a row's 16-byte chunks
      divide the block's threads and the threads the tile's chunks, at
      most 16 per thread, one commit group per tile) of their
      view into a tile of dynamic shared memory (16-byte chunks
      XOR-swizzled with the row when a row holds 8 chunks or more),
      zero-filling the rows past the view's, after a barrier (the tile's
      previous readers are done); the op that first reads a tile waits for
      its group (`cp.async.wait_group` leaving the later groups in flight,
      so V's copy overlaps Q K^T and the softmax) and a barrier. A kv
      loop whose K view only the induction variable determines loads K one
      tile ahead: its prologue issues tile 0's copy, and `pv` issues tile
      j + 1's once it has waited for V j (every warp is past Q K^T j), so
      that the copy lands while P V runs;
    - `qk` and `pv` load fragments with `ldmatrix` (`.trans` for V) and
      multiply with `nvvm.mma.sync`; the weights' C fragments are `pv`'s A
      fragments without a trip through memory; only a tile cut short by
      the kv length (`cols` below the tile's keys) tests its columns;
    - scores, weights, the accumulator and the row state are per-thread
      vectors in the mma C-fragment layout (element e of n-tile nt of lane
      l in warp w: row 16 w + l / 4 + 8 (e / 2), column 8 nt + 2 (l % 4) +
      e % 2); `score_mod` and `mask` clone their region per element, under
      a test that the element is one of the tile's rows and keys;
    - `normalize` reduces the row max over the four lanes that hold a row
      (`gpu.shuffle xor` 1 and 2) and takes `exp2` as one `ex2.approx.ftz`
      (which is 0 at -inf, so masked keys need no select); each lane keeps
      the sum of its own columns, which `finalize` adds over the quad; the
      weights round to the input dtype in pairs (`cvt.rn.bf16x2.f32`);
      no math op is left to libdevice's calls (which are slow, and absent
      without a CUDA toolkit): exp, log, log1p and tanh become polynomials
      (as in `attn-approximate-math`), fma `llvm.intr.fma`;
    - `finalize` writes each thread's output elements and, from one lane
      per row, the lse.

    The function carries `attn.tiling`, `attn.interface` and `attn.launch`
    (`block`, `shared_bytes`) for the manifest. A kernel that can split its
    kv range gets its combine as a second kernel of the module (one CTA per
    work item, the same block), whose row loop (`attn.parallel_rows`) is
    spread over the threads; its loops over a row's head dim are
    unrolled, so that the row it accumulates stays in registers (no stack
    frame up to a head dim of 128; a row of 256 spills). Kernels out of
    reach (f32 specs, tile sizes or head dims that are not multiples of 16)
    are errors that say what to change.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
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
