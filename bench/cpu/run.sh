#!/usr/bin/env bash
# bench/cpu: Attn against a plain loop nest and PyTorch's CPU SDPA.
# Installs PyTorch from PyPI into bench/cpu/.venv (this benchmark only; CI
# never runs it), builds the loop nest, and writes
# bench/results/cpu-<date>.md.  SIZES=512,2048 shortens the run.
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
out="$root/bench/results/cpu-$(date +%Y-%m-%d).md"
"$here/.venv/bin/python" "$here/bench.py" --attn-run "$build/bin/attn-run" \
  --naive "$here/.venv/naive" --out "$out" --sizes "${SIZES:-512,2048,8192}" \
  --command "bash bench/cpu/run.sh"
