// RUN: attn-opt %s --attn-schedule="target=sm_90a rows=64 block-kv=64 split-kv=1" --attn-tile --convert-attn-to-nvvm | FileCheck %s

// A causal bf16 kernel (D 128) as a tensor-core kernel: one CTA of 4 warps
// per work item (the block index), Q, K and V tiles in dynamic shared memory
// (16 KiB each, filled by cp.async; K one tile ahead), ldmatrix + mma.sync
// m16n8k16 for Q K^T and P V, the mask on
// fragments only under the partial-tile test, quad shuffles for the row
// reductions, exp2 as ex2.approx.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @attn_kernels {
// CHECK: gpu.func @causal(
// CHECK-SAME: %{{[a-z0-9]+}}: index) kernel attributes {
// CHECK-SAME: attn.interface =
// CHECK-SAME: attn.launch = {block = array<i64: 128, 1, 1>, shared_bytes = 49152 : i64}
// CHECK-SAME: attn.tiling = #attn.tiling<rows = 64, head_group = 1, block_kv = 64, kv_tiles = bounds, split_kv = 1>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: %[[ITEM:.*]] = gpu.block_id  x
// CHECK: %[[TID:.*]] = gpu.thread_id  x
// CHECK: %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// load_q: a 16-byte cp.async per thread and step, zero-filling the rows
// past the view's; one commit group per tile.
// CHECK: %[[QS:.*]] = memref.view %[[SMEM]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x128xbf16, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_copy %{{.*}}, %[[QS]][%{{.*}}, %{{.*}}], 8, %{{.*}} {bypassL1} : memref<?x128xbf16, strided<[?, 1], offset: ?>> to memref<64x128xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// Q's A fragments are loaded once, before the kv loop (head dim <= 128).
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-8: nvgpu.ldmatrix %[[QS]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<64x128xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// The kv loop's prologue issues the first K tile (when there is one) into
// its own shared tile.
// CHECK: %[[KS:.*]] = memref.view %[[SMEM]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x128xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: arith.cmpi
// CHECK-NEXT: scf.if %{{.*}} {
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_copy %{{.*}}, %[[KS]]
// CHECK: nvgpu.device_async_create_group
// The kv loop carries the row state (2 rows per thread) and the
// accumulator (64 elements per thread) in registers.
// CHECK: scf.for %[[KT:.*]] = %{{.*}} to %[[UPPER:.*]] step %[[STEP:.*]] iter_args({{.*}}) -> (vector<2xf32>, vector<2xf32>, vector<64xf32>)
// V is issued at the top; Q K^T waits for K only, with V's copy still in
// flight, and reads K's fragments.
// CHECK-NOT: nvgpu.device_async_copy %{{.*}}, %[[KS]]
// CHECK: nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: nvgpu.ldmatrix %[[QS]]
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<64x128xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// Only a tile cut short by the kv length tests its columns.
// CHECK: %[[SHORT:.*]] = arith.cmpi ult, %{{.*}}, %c64 : index
// CHECK-NEXT: scf.if %[[SHORT]] -> (vector<32xf32>) {
// CHECK-COUNT-32: arith.select
// CHECK: scf.if %{{.*}} -> (vector<32xf32>) {
// CHECK: arith.cmpi sle
// The row max is the quad's (two shuffles per row); the weights need no
// select for masked keys (ex2.approx(-inf) is 0) and round in pairs.
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK-NOT: gpu.shuffle
// CHECK: %[[W:[0-9]+]] = llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%{{[0-9]+}}) : (f32) -> f32{{[[:space:]]+}}%{{[0-9]+}} = arith.addf %[[W]], %cst
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// P V waits for V; every warp is then past Q K^T, so the next K tile's
// copy (without another barrier) lands while P V runs.
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: %[[NEXT:.*]] = arith.addi %[[KT]], %[[STEP]] : index
// CHECK-NEXT: %[[MORE:.*]] = arith.cmpi slt, %[[NEXT]], %[[UPPER]] : index
// CHECK-NEXT: scf.if %[[MORE]] {
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.device_async_copy %{{.*}}, %[[KS]]
// CHECK: nvgpu.device_async_create_group
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK: nvvm.mma.sync
// CHECK: scf.yield {{.*}} : vector<2xf32>, vector<2xf32>, vector<64xf32>
// finalize: the row sums are the lanes' partial sums until here, where the
// quad adds them; one lane per row writes the lse.
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: arith.addf
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK: arith.addf
// CHECK: memref.store {{.*}} : memref<?x128xbf16, strided<[?, 1], offset: ?>>
// CHECK: gpu.return
// CHECK-NOT: func.func
func.func @causal(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> (tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x?x8x128xbf16>) k(%k : tensor<?x?x8x128xbf16>) v(%v : tensor<?x?x8x128xbf16>) mask(causal) -> tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>
  return %out, %lse : tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>
}
