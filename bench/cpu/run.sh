#!/usr/bin/env bash
# bench/cpu: Attn against a plain loop nest and PyTorch's CPU SDPA, plus
# decode rows (bf16, GQA 32/8, kv 8k and 128k) with and without split-KV.
# Installs PyTorch from PyPI into bench/cpu/.venv (this benchmark only; CI
# never runs it), builds the loop nest, and writes
# bench/results/cpu-<date>.md.  SIZES=512,2048 shortens the prefill run;
# DECODE_KV=8192 shortens the decode run.  BASELINE=<git revision> also
# builds that revision's attn-run (in bench/cpu/.venv/baseline-<rev>, the
# compiler only) and reports before/after for every row in the same run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${BUILD_DIR:-$root/build}
if [[ ! -x "$build/bin/attn-run" ]]; then
  bash "$root/scripts/build.sh"
fi
if [[ ! -x "$here/.venv/bin/python" ]]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q torch numpy
fi
g++ -O3 -march=native -o "$here/.venv/naive" "$here/naive.cpp"

baseline_args=()
if [[ -n "${BASELINE:-}" ]]; then
  rev=$(git -C "$root" rev-parse --short "$BASELINE")
  tree="$here/.venv/baseline-$rev"
  if [[ ! -d "$tree" ]]; then
    git -C "$root" worktree add --detach "$tree" "$rev"
  fi
  if [[ ! -x "$tree/build/bin/attn-run" ]]; then
    cmake -G Ninja -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=Release \
      -DATTN_ENABLE_TESTS=OFF -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir
    cmake --build "$tree/build" -j "${JOBS:-$(nproc)}" --target attn-run
  fi
  baseline_args=(--baseline-attn-run "$tree/build/bin/attn-run"
                 --baseline-name "$rev")
fi

out="$root/bench/results/cpu-$(date +%Y-%m-%d).md"
"$here/.venv/bin/python" "$here/bench.py" --attn-run "$build/bin/attn-run" \
  --naive "$here/.venv/naive" --out "$out" --sizes "${SIZES:-512,2048,8192}" \
  --decode-kv "${DECODE_KV:-8192,131072}" "${baseline_args[@]}" \
  --command "${BASELINE:+BASELINE=$BASELINE }bash bench/cpu/run.sh"
