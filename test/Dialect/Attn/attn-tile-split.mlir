// RUN: attn-opt %s --attn-schedule="rows=32 block-kv=16" --attn-tile | FileCheck %s

// A kernel that can split its kv range (split_kv = 0: the runtime picks the
// chunk count per launch) takes the partial-row buffers and the count; its
// item is (base item, chunk).
// CHECK-LABEL: func.func @off_by_one(
// CHECK-SAME: %[[PO:[a-z0-9]+]]: memref<?x?x32xf32, strided<[?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[PL:[a-z0-9]+]]: memref<?x?xf32, strided<[?, ?], offset: ?>>,
// CHECK-SAME: %[[S:[a-z0-9]+]]: index, %[[ITEM:[a-z0-9]+]]: index) attributes {
// CHECK-SAME: combine = @off_by_one_combine
// CHECK-SAME: {inner_contiguous = true, internal = true, name = "partial_out", type = tensor<?x?x32xf32>}
// CHECK-SAME: {inner_contiguous = false, internal = true, name = "partial_lse", type = tensor<?x?xf32>}
// CHECK-SAME: split_kv = 0>
// CHECK: %[[CHUNK:.*]] = arith.remui %[[ITEM]], %[[S]]
// CHECK: %[[BASE:.*]] = arith.divui %[[ITEM]], %[[S]]
// CHECK: arith.remsi %[[BASE]]
// Chunk c visits the kv tiles kt with kt % S == c: from the first one at
// or after the walk's lower bound lo, lo + (c + S - lo % S) % S, in steps
// of S, with no per-tile test.
// CHECK: %[[LOMOD:.*]] = arith.remui %[[LO:.*]], %[[S]]
// CHECK: %[[GAP:.*]] = arith.subi %[[S]], %[[LOMOD]]
// CHECK: %[[SUM:.*]] = arith.addi %[[CHUNK]], %[[GAP]]
// CHECK: %[[OFF:.*]] = arith.remui %[[SUM]], %[[S]]
// CHECK: %[[FIRST:.*]] = arith.addi %[[LO]], %[[OFF]]
// CHECK: scf.for %[[KT:.*]] = %[[FIRST]] to %{{.*}} step %[[S]]
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.muli %[[KT]]
// CHECK-NOT: scf.if
// CHECK: attn.tile.load_k
// CHECK: attn.tile.qk
// One chunk writes the output; a split writes the chunk's rows as a plain
// softmax (the off-by-one term joins once, in the combine).
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[S]], %c1
// CHECK: scf.if %[[ONE]] {
// CHECK: attn.tile.finalize {{.*}} normalizer<softmax_off_by_one> scale(
// CHECK: } else {
// CHECK: %[[ROWS:.*]] = memref.subview %[[PO]][%[[ITEM]], 0, 0]
// CHECK: %[[LROWS:.*]] = memref.subview %[[PL]][%[[ITEM]], 0]
// CHECK: attn.tile.finalize {{.*}} into %[[ROWS]] lse(%[[LROWS]]) normalizer<softmax> scale(
// The combine takes the same arguments; per row it weighs the chunks by
// e^(lse_c - lse) with lse = log(e^0 + sum_c e^(lse_c)).
// CHECK-LABEL: func.func @off_by_one_combine(
// CHECK-SAME: %{{[a-z0-9]+}}: index, %[[CITEM:[a-z0-9]+]]: index) {
// CHECK: %[[FIRST:.*]] = arith.muli %[[CITEM]], %{{.*}}
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: math.exp2
// CHECK: math.log
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: return
func.func @off_by_one(%q: tensor<?x?x2x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>) -> (tensor<?x?x2x32xbf16>, tensor<?x2x?xf32>) {
  %out, %lse = attn.attention q(%q : tensor<?x?x2x32xbf16>) k(%k : tensor<?x?x2x32xbf16>) v(%v : tensor<?x?x2x32xbf16>) mask(causal) normalizer<softmax_off_by_one> -> tensor<?x?x2x32xbf16>, tensor<?x2x?xf32>
  return %out, %lse : tensor<?x?x2x32xbf16>, tensor<?x2x?xf32>
}
