// RUN: attn-opt %s --attn-approximate-math | FileCheck %s

// exp, exp2 (as exp(x ln 2)), log and tanh become MLIR's polynomial approximations (fma chains on
// the same vectors), so the CPU kernels never call libm per element; other
// math ops are left alone, and f16 is computed in f32.
// CHECK-LABEL: func.func @approximate(
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.tanh
// CHECK: math.fma {{.*}} : vector<8xf32>
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: math.exp
// CHECK: return
func.func @approximate(%x: vector<8xf32>, %s: f32, %h: f16) -> (vector<8xf32>, vector<8xf32>, f32, f32, f32, f16) {
  %e = math.exp %x : vector<8xf32>
  %e2 = math.exp2 %x : vector<8xf32>
  %l = math.log %s : f32
  %t = math.tanh %s : f32
  %q = math.sqrt %s : f32
  %eh = math.exp %h : f16
  return %e, %e2, %l, %t, %q, %eh : vector<8xf32>, vector<8xf32>, f32, f32, f32, f16
}
