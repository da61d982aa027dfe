#!/usr/bin/env bash
# A schedule sweep, Attn only. Here: prepare each variant with
#   SCHEDULE='{block_q: 16}' bash bench/gpu/bench_prepare.sh REGEX
#   mv bench/gpu/.work/bench bench/gpu/.work/tune-NAME
# (then bench_prepare.sh again for the default), and carry bench/gpu/.work.
# On the GPU machine, after bench/gpu/device.sh has built attn-gpu-check:
#   SPLITS="4 8" TUNE_FILTER=REGEX bash bench/gpu/tune.sh
# times every case (whose name matches $TUNE_FILTER) of every tune-*/
# folder (and of bench/ for reference)
# with the runtime's kv-split count and with each count of $SPLITS, and
# prints one line per run: variant, case, splits, mean ms, TFLOP/s or GB/s
# (as bench.py counts them).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/bench/gpu/.work
tool=$root/build-gpu/bin/attn-gpu-check
for dir in "$work"/bench "$work"/tune-*; do
  [[ -d $dir ]] || continue
  variant=$(basename "$dir")
  for case_dir in "$dir"/*/; do
    [[ -f $case_dir/kernel.ptx ]] || continue
    [[ $(basename "$case_dir") =~ ${TUNE_FILTER:-.} ]] || continue
    for splits in auto ${SPLITS:-}; do
      extra=()
      [[ $splits == auto ]] || extra=(--split-kv "$splits")
      python3 - "$tool" "$case_dir" "$variant" "$splits" "${extra[@]}" <<'PY'
import json, re, subprocess, sys
import os
tool, case_dir, variant, splits, *extra = sys.argv[1:]
c = json.load(open(os.path.join(case_dir, "case.json")))
sizes = f"batch={c['batch']},q_len={c['q_len']},kv_len={c['kv_len']}"
r = subprocess.run([tool, "--kernel", case_dir, "--random", sizes, "--bench",
                    "20", *extra], capture_output=True, text=True)
m = re.search(r"mean_ms=([0-9.eE+-]+)", r.stdout)
if not m:
    print(f"{variant} {c['name']} splits={splits}: failed: "
          f"{(r.stderr + r.stdout).strip().splitlines()[-1:]}")
    sys.exit(0)
ms = float(m.group(1))
if c["kind"] == "decode":
    gb = 2 * c["batch"] * c["kv_len"] * c["heads_kv"] * c["head_dim"] * 2
    rate = f"{gb / ms / 1e6:.1f} GB/s"
else:
    rate = ""
print(f"{variant} {c['name']} splits={splits}: {ms:.4f} ms {rate}")
PY
    done
  done
done
