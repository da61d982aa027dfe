// RUN: attn-opt %s --attn-schedule="target=sm_90a rows=64 block-kv=64 split-kv=0" --attn-tile --convert-attn-to-nvvm | FileCheck %s

// A kernel that can split its kv range: its chunk is the block index modulo
// the kv-chunk count, it takes the partial buffers, and its combine is a
// second kernel of the module (one CTA per work item) whose rows are spread
// over the threads.
// CHECK: gpu.module @attn_kernels {
// CHECK: gpu.func @decode(
// CHECK-SAME: %[[SPLITS:[a-z0-9]+]]: index) kernel attributes {
// CHECK-SAME: combine = @decode_combine
// CHECK-SAME: split_kv = 0
// CHECK: %[[ITEM:.*]] = gpu.block_id  x
// CHECK: arith.remui %[[ITEM]], %[[SPLITS]] : index
// CHECK: arith.divui %[[ITEM]], %[[SPLITS]] : index
// CHECK: nvvm.mma.sync
// CHECK: gpu.return
// CHECK: gpu.func @decode_combine(
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: %[[TID:.*]] = gpu.thread_id  x
// CHECK: scf.for %{{.*}} = %[[TID]] to %{{.*}} step %c128
// CHECK: memref.load %{{.*}} : memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: gpu.return
func.func @decode(%q: tensor<?x1x32x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> (tensor<?x1x32x128xbf16>, tensor<?x32x1xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x1x32x128xbf16>) k(%k : tensor<?x?x8x128xbf16>) v(%v : tensor<?x?x8x128xbf16>) mask(causal) -> tensor<?x1x32x128xbf16>, tensor<?x32x1xf32>
  return %out, %lse : tensor<?x1x32x128xbf16>, tensor<?x32x1xf32>
}
