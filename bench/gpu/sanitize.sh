#!/usr/bin/env bash
# On the GPU machine, after bench/gpu/device.sh has built attn-gpu-check and
# unpacked the check cases (bench/gpu/prepare.sh): runs compute-sanitizer's
# memcheck, racecheck and synccheck over a representative set of cases
# (arguments: case names; default below), each a full --check launch.
# Prints one line per case and tool and a summary; the full reports go to
# $OUT (or bench/gpu/.work)/sanitize-<case>-<tool>.txt.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/bench/gpu/.work
out=${OUT:-$work}
tool=$root/build-gpu/bin/attn-gpu-check
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
cases=("$@")
((${#cases[@]})) || cases=(causal_70 causal_33_130_f16 causal_decode gqa
  sliding_window softcap document_ids lse mla_head_dims paged_kv ragged
  block_sparse vertical_slash)
clean=0 dirty=0
for name in "${cases[@]}"; do
  dir=$work/cases/$name
  [[ -f $dir/kernel.ptx ]] || { echo "$name: not prepared"; continue; }
  for check in memcheck racecheck synccheck; do
    report=$out/sanitize-$name-$check.txt
    "$sanitizer" --tool "$check" --error-exitcode 3 "$tool" --kernel "$dir" \
      > "$report" 2>&1
    status=$?
    summary=$(grep -m1 -E "ERROR SUMMARY|RACECHECK SUMMARY" "$report")
    if ((status == 0)); then
      clean=$((clean + 1))
    else
      dirty=$((dirty + 1))
    fi
    echo "$name $check: status $status; ${summary:-no summary}; $(grep -m1 -oE 'PASS|FAIL' "$report")"
  done
done
echo "compute-sanitizer: $clean clean, $dirty with findings or failures"
