#!/usr/bin/env bash
# Builds everything and runs the whole test suite: lit (IR, spec, tool and
# docs tests), the GoogleTest unit tests, and a runtime-only build (no MLIR),
# all through ctest; the Python package's tests (scripts/python-tests.sh,
# with PyTorch and transformers from PyPI); then the same suite built with
# ASan + UBSan and a minute of each fuzzer (scripts/sanitize.sh).
# SKIP_SANITIZE=1 skips that.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

# The runtime must build and pass alone, as on a machine without LLVM/MLIR.
runtime_dir="$build_dir-runtime-only"
if [[ ! -f "$runtime_dir/build.ninja" ]]; then
  cmake -G Ninja -S . -B "$runtime_dir" -DCMAKE_BUILD_TYPE=Release \
    -DATTN_ENABLE_COMPILER=OFF
fi
cmake --build "$runtime_dir" -j "$jobs"

status=0
ctest --test-dir "$runtime_dir" --output-on-failure || status=1
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" || status=1
BUILD_DIR="$build_dir" bash scripts/python-tests.sh || status=1
if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  bash scripts/sanitize.sh || status=1
fi
exit $status
