#!/usr/bin/env bash
# Prepares a GPU check run on this machine (which has the compiler): for
# each case, compiles the spec to PTX for $CHIP (default sm_90a) and writes
# the inputs and the float64 reference of a CPU run (attn-run --check
# --save) into bench/gpu/.work/cases/<case>/. Also copies the runtime's one
# build dependency (nlohmann_json) there, since the GPU machine has no
# LLVM/MLIR and only what travels with the run. Then run
#   device: bash bench/gpu/device.sh   (carry: bench/gpu/.work)
# Usage: bash bench/gpu/prepare.sh [case-filter-regex]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${ATTN_BIN:-$root/build/bin}
work=$root/bench/gpu/.work
chip=${CHIP:-sm_90a}
filter=${1:-.}
# Only this script's part of .work: bench_prepare.sh's bench/ stays.
rm -rf "$work/cases" "$work/cases.tar.gz" "$work/deps"
mkdir -p "$work/cases" "$work/deps/include" "$work/deps/share/cmake"
cp -r /usr/include/nlohmann "$work/deps/include/"
cp -r /usr/share/cmake/nlohmann_json "$work/deps/share/cmake/"

# case NAME SPEC DTYPE [attn-run options...]
case_() {
  local name=$1 spec=$2 dtype=$3
  shift 3
  [[ $name =~ $filter ]] || return 0
  local dir=$work/cases/$name
  mkdir -p "$dir"
  if ! "$bin/attn-compile" "$root/examples/$spec" --target="$chip" \
      --dtype="$dtype" --emit=ptx -o "$dir/kernel.ptx" \
      --manifest "$dir/kernel.json" 2> "$dir/compile.txt"; then
    echo "$name: not compiled: $(grep -m1 error "$dir/compile.txt")"
    rm -f "$dir/kernel.ptx"
    return 0
  fi
  if ! "$bin/attn-run" "$root/examples/$spec" --dtype "$dtype" --check \
      --save "$dir" "$@" > "$dir/cpu.txt" 2>&1; then
    echo "$name: the CPU run failed: $(tail -1 "$dir/cpu.txt")"
  fi
}

# Small shapes (everything travels, at most 64 MiB): lengths that are not
# tile multiples, q_len != kv_len, decode, both dtypes.
case_ causal_70 causal.yaml bf16 --batch 1 --q-len 70
case_ causal_33_130_f16 causal.yaml f16 --batch 1 --q-len 33 --kv-len 130
case_ causal_decode causal.yaml bf16 --batch 1 --q-len 1 --kv-len 200
case_ gqa gqa.yaml bf16 --batch 1 --q-len 40
case_ mqa mqa.yaml bf16 --batch 1 --q-len 7 --kv-len 150
case_ sliding_window sliding_window.yaml bf16 --batch 1 --q-len 90
case_ sinks_window sinks_window.yaml bf16 --batch 1 --q-len 90
case_ softcap softcap.yaml bf16 --batch 1 --q-len 70
case_ alibi alibi.yaml bf16 --batch 1 --q-len 70
case_ bias bias.yaml bf16 --batch 1 --q-len 50
case_ document_ids document_ids.yaml bf16 --batch 1 --q-len 100
case_ prefix_lm prefix_lm.yaml bf16 --batch 1 --q-len 100
case_ chunked chunked.yaml bf16 --batch 1 --q-len 100
case_ lse lse.yaml bf16 --batch 1 --q-len 65
case_ sigmoid sigmoid.yaml bf16 --batch 1 --q-len 65
case_ softmax_with_sink softmax_with_sink.yaml bf16 --batch 1 --q-len 65
case_ softmax_off_by_one softmax_off_by_one.yaml bf16 --batch 1 --q-len 65
case_ linear_none linear_none.yaml bf16 --batch 1 --q-len 65
case_ bhsd_layout bhsd_layout.yaml bf16 --batch 1 --q-len 65
case_ mla_head_dims mla_head_dims.yaml bf16 --batch 1 --q-len 33
case_ paged_kv paged_kv.yaml bf16 --batch 2 --q-len 1 --kv-len 150
case_ ragged ragged.yaml bf16 --batch 2 --q-len 60
case_ block_sparse block_sparse.yaml bf16 --batch 1 --q-len 256
case_ vertical_slash vertical_slash.yaml bf16 --batch 1 --q-len 130
case_ expr expr.yaml bf16 --batch 1 --q-len 50
case_ not_mask not_mask.yaml bf16 --batch 1 --q-len 50
# The CPU kernel's outputs do not travel (the check writes its own).
rm -f "$work"/cases/*/out.npy "$work"/cases/*/lse.npy
tar -C "$work" -czf "$work/cases.tar.gz" cases
rm -rf "$work/cases"
du -sh "$work" "$work/cases.tar.gz"
