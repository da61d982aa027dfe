#!/usr/bin/env bash
# Prepares the GPU speed benchmark on this machine (which has the
# compiler): for each case writes bench/gpu/.work/bench/<case>/ with the
# spec (spec.yaml), its PTX for $CHIP (default sm_90a) and manifest
# (kernel.ptx, kernel.json), what bench/gpu/bench.py needs to know about
# the case (case.json: sizes and mask, for the peers and the FLOP count)
# and the int32 operands the kernel takes (doc_q.npy, block_table.npy, ...).
# No q, k or v travel: attn-gpu-check --random makes them on the GPU
# machine. Also copies the runtime's build dependency (nlohmann_json) into
# bench/gpu/.work/deps when prepare.sh has not, so that device.sh can build
# attn-gpu-check from this alone. Run it after prepare.sh (which clears
# only its own part of .work). Then
#   device: bash bench/gpu/device.sh   (carry: bench/gpu/.work)
# Usage: bash bench/gpu/bench_prepare.sh [case-filter-regex]
# SCHEDULE='{block_q: 128, block_kv: 64}' adds that schedule to every
# case's spec (the default is the target's: attn-schedule's options), for
# tuning runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${ATTN_BIN:-$root/build/bin}
work=$root/bench/gpu/.work
chip=${CHIP:-sm_90a}
filter=${1:-.}
rm -rf "$work/bench"
mkdir -p "$work/bench"
if [[ ! -d $work/deps/include/nlohmann ]]; then
  mkdir -p "$work/deps/include" "$work/deps/share/cmake"
  cp -r /usr/include/nlohmann "$work/deps/include/"
  cp -r /usr/share/cmake/nlohmann_json "$work/deps/share/cmake/"
fi

failed=0
# case NAME KIND MASK B S KV HQ HKV D [PAGE_SIZE]
#   KIND: prefill or decode; MASK: full, causal, sliding_window (left 1024),
#   softcap (causal, cap 50) or document (causal, 8 equal documents).
case_() {
  local name=$1 kind=$2 mask=$3 b=$4 s=$5 kv=$6 hq=$7 hkv=$8 d=$9
  local page=${10:-0}
  [[ $name =~ $filter ]] || return 0
  local dir=$work/bench/$name
  mkdir -p "$dir"
  {
    echo "# Speed benchmark case $name ($kind): written by bench/gpu/bench_prepare.sh."
    echo "name: $name"
    echo "dtype: bf16"
    echo "head_dim: $d"
    if [[ $hq == "$hkv" ]]; then echo "heads: $hq"; else echo "heads: {q: $hq, kv: $hkv}"; fi
    echo "layout: bshd"
    case $mask in
      full) ;;
      causal) echo "mask: causal" ;;
      sliding_window) echo "mask: [causal, {sliding_window: {left: 1024}}]" ;;
      softcap) echo "mask: causal"; echo "score: {softcap: 50.0}" ;;
      document) echo "mask: [causal, document]" ;;
      *) echo "unknown mask $mask" >&2; exit 1 ;;
    esac
    if ((page > 0)); then echo "kv_storage: {paged: {page_size: $page}}"; fi
    if [[ -n ${SCHEDULE:-} ]]; then echo "schedule: $SCHEDULE"; fi
  } > "$dir/spec.yaml"
  cat > "$dir/case.json" <<EOF
{"name": "$name", "kind": "$kind", "mask": "$mask", "batch": $b, "q_len": $s, "kv_len": $kv, "heads_q": $hq, "heads_kv": $hkv, "head_dim": $d, "window": 1024, "softcap": 50.0, "docs": 8, "page_size": $page}
EOF
  echo "$name" >> "$work/bench/cases.txt"
  if ! "$bin/attn-compile" "$dir/spec.yaml" --target="$chip" --dtype=bf16 \
      --emit=ptx -o "$dir/kernel.ptx" --manifest "$dir/kernel.json" \
      2> "$dir/compile.txt"; then
    echo "$name: not compiled: $(grep -m1 error "$dir/compile.txt" || tail -1 "$dir/compile.txt")"
    rm -f "$dir/kernel.ptx"
    failed=$((failed + 1))
  fi
  # The int32 operands (standard-library Python: the .npy header by hand).
  python3 - "$dir" "$mask" "$b" "$s" "$kv" "$page" <<'EOF'
import random
import struct
import sys

d, mask, b, s, kv, page = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])


def npy(name, shape, values):
    dims = ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '<i4', 'fortran_order': False, 'shape': (%s), }" % dims
    # Magic, version 1.0, header length; the header padded to 64 bytes.
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(f"{d}/{name}.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack(f"<{len(values)}i", *values))


if mask == "document":
    # 8 equal documents per sequence: ids 0..7 in runs of s/8.
    per = s // 8
    npy("doc_q", [b, s], [i // per for _ in range(b) for i in range(s)])
    npy("doc_kv", [b, kv], [i // (kv // 8) for _ in range(b) for i in range(kv)])
if page:
    # Every sequence holds kv keys; its pages are a random permutation of
    # all b * kv / page pages.
    per = (kv + page - 1) // page
    pages = list(range(b * per))
    random.Random(0).shuffle(pages)
    npy("block_table", [b, per], pages)
    npy("cache_seqlens", [b], [kv] * b)
EOF
}

# Prefill: bf16, 16 heads, bshd, batch 16384 / S.
for d in 64 128; do
  for s in 1024 4096 16384; do
    for mask in full causal; do
      case_ "${mask}_d${d}_s${s}" prefill $mask $((16384 / s)) $s $s 16 16 $d
    done
  done
done
case_ sliding_window1024_d128_s4096 prefill sliding_window 4 4096 4096 16 16 128
case_ softcap50_d128_s4096 prefill softcap 4 4096 4096 16 16 128
case_ document8_d128_s4096 prefill document 4 4096 4096 16 16 128
# Decode: one query, batch 8, 32 query heads over 8 kv heads, D 128.
for kv in 8192 131072; do
  case_ "decode_kv${kv}" decode causal 8 1 $kv 32 8 128
  case_ "decode_paged64_kv${kv}" decode causal 8 1 $kv 32 8 128 64
done

echo "cases: $(wc -l < "$work/bench/cases.txt"), not compiled: $failed"
# What travels: the working tree (tracked and untracked, not ignored) and
# bench/gpu/.work, at most 64 MiB together.
tree=$(cd "$root" && git ls-files -z -co --exclude-standard |
  xargs -0 -r stat -c %s -- 2>/dev/null | awk '{s += $1} END {print s + 0}')
carry=$(du -sb "$work" | cut -f1)
total=$((tree + carry))
echo "travels: working tree $((tree / 1024)) KiB + .work $((carry / 1024)) KiB" \
  "= $((total / 1048576)) MiB (limit 64 MiB)"
if ((total > 64 * 1048576)); then
  echo "error: more than 64 MiB would travel" >&2
  exit 1
fi
