#!/usr/bin/env bash
# Runs on the GPU machine (CUDA, CMake, ninja; no LLVM/MLIR), from the
# repository root, with bench/gpu/.work carried (bench/gpu/prepare.sh makes
# it): builds the runtime and attn-gpu-check with the compiler off, then
# checks every prepared case against its float64 reference. Writes the log
# to $OUT (or bench/gpu/.work) as gpu-check.txt. When bench/gpu/.work/bench
# exists (bench/gpu/bench_prepare.sh makes it), then runs the speed
# benchmark against the PyTorch peers, python3 bench/gpu/bench.py (it builds
# nothing; its table goes to $OUT/gpu-bench.md), with $ATTN_BENCH_ARGS as
# its arguments (e.g. "--budget 400 causal"). ATTN_SKIP_CHECKS=1 skips the
# checks; arguments of this script go to each attn-gpu-check of the checks.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/bench/gpu/.work
out=${OUT:-$work}
log=$out/gpu-check.txt
{
  echo "# attn-gpu-check, $(date -u +%F), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
  cmake -S "$root" -B "$root/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DATTN_ENABLE_COMPILER=OFF -DATTN_ENABLE_TESTS=OFF \
    -DCMAKE_PREFIX_PATH="$work/deps" > "$out/cmake.txt" 2>&1 ||
    { echo "cmake failed"; tail -20 "$out/cmake.txt"; exit 1; }
  ninja -C "$root/build-gpu" attn-gpu-check > "$out/ninja.txt" 2>&1 ||
    { echo "build failed"; tail -30 "$out/ninja.txt"; exit 1; }
  if [[ ${ATTN_SKIP_CHECKS:-0} != 1 && -f $work/cases.tar.gz ]]; then
    tar -C "$work" -xzf "$work/cases.tar.gz"
    pass=0 fail=0
    for dir in "$work"/cases/*/; do
      name=$(basename "$dir")
      if [[ ! -f $dir/kernel.ptx ]]; then
        echo "$name: SKIP (not compiled)"
        continue
      fi
      result=$("$root/build-gpu/bin/attn-gpu-check" --kernel "$dir" "$@" 2>&1)
      echo "$name: $(echo "$result" | tr '\n' ' ')"
      if echo "$result" | grep -q PASS; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    done
    echo "passed $pass, failed $fail"
  else
    echo "checks: skipped (ATTN_SKIP_CHECKS=1 or no cases.tar.gz)"
  fi
  if [[ -d $work/bench ]]; then
    echo "# speed benchmark: python3 bench/gpu/bench.py ${ATTN_BENCH_ARGS:-}"
    # shellcheck disable=SC2086 # the arguments split as words
    OUT=$out python3 "$root/bench/gpu/bench.py" ${ATTN_BENCH_ARGS:-} ||
      echo "bench.py failed (status $?)"
  fi
} 2>&1 | tee "$log"
