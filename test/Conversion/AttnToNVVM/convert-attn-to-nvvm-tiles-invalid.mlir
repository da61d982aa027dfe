// RUN: not attn-opt %s --attn-schedule="target=sm_90a rows=40 block-kv=64 split-kv=1" --attn-tile --convert-attn-to-nvvm 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: not attn-opt %s --attn-schedule="target=sm_90a rows=64 block-kv=24 split-kv=1" --attn-tile --convert-attn-to-nvvm 2>&1 | FileCheck %s --check-prefix=KEYS

// Tile sizes a warp layout cannot take are refused with the rule.
// ROWS: error: convert-attn-to-nvvm: the GPU tile rows (40) must be a multiple of 16 from 16 to 128 (one warp per 16); set the spec's schedule.block_q (rows, the GQA group's heads included) to one, or leave it out
// KEYS: error: convert-attn-to-nvvm: the GPU block_kv (24) must be a multiple of 16 from 16 to 128; set the spec's schedule.block_kv to one (a paged cache's page size must be a multiple of it)
func.func @tiles(%q: tensor<?x?x2x64xbf16>, %k: tensor<?x?x2x64xbf16>, %v: tensor<?x?x2x64xbf16>) -> tensor<?x?x2x64xbf16> {
  %out = attn.attention q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>) v(%v : tensor<?x?x2x64xbf16>) -> tensor<?x?x2x64xbf16>
  return %out : tensor<?x?x2x64xbf16>
}
