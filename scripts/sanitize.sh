#!/usr/bin/env bash
# Builds everything with clang 22, AddressSanitizer and
# UndefinedBehaviorSanitizer (plus libFuzzer's coverage, so that the same
# build fuzzes) in build-sanitize/, runs the test suite there (lit,
# GoogleTest, the CPU integration tests, whose generated kernels run inside
# the sanitized tools), then every fuzzer for FUZZ_SECONDS (default 60).
# SKIP_TESTS=1 only builds. SANITIZE_BUILD_DIR and JOBS as elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
dir=${SANITIZE_BUILD_DIR:-build-sanitize}
jobs=${JOBS:-$(nproc)}
if [[ ! -f "$dir/build.ninja" ]]; then
  CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    "-DATTN_USE_SANITIZER=Address;Undefined" -DATTN_ENABLE_FUZZERS=ON
fi
cmake --build "$dir" -j "$jobs" -- all attn-doc
if [[ "${SKIP_TESTS:-0}" == 1 ]]; then
  exit 0
fi

source scripts/sanitizer-env.sh
status=0
# The format check is the same in every build; the main build runs it.
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -E '^format$' || status=1
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}" || status=1
exit $status
