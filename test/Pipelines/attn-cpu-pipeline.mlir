// RUN: attn-opt %s --attn-cpu-pipeline="vector-width=8" | FileCheck %s

// Everything ends in the LLVM dialect: the kernel and its C interface
// wrapper, with vector arithmetic and no math/scf/memref ops left.
// CHECK-LABEL: llvm.func @window(
// CHECK: llvm.intr.fma{{.*}}vector<8xf32>
// CHECK-LABEL: llvm.func @_mlir_ciface_window(
// CHECK-NOT: math.
// CHECK-NOT: scf.
// CHECK-NOT: memref.
func.func @window(%q: tensor<?x?x2x64xf32>, %k: tensor<?x?x2x64xf32>, %v: tensor<?x?x2x64xf32>) -> tensor<?x?x2x64xf32> {
  %out = attn.attention q(%q : tensor<?x?x2x64xf32>) k(%k : tensor<?x?x2x64xf32>) v(%v : tensor<?x?x2x64xf32>) mask(sliding_window<left = 128>) -> tensor<?x?x2x64xf32>
  return %out : tensor<?x?x2x64xf32>
}
