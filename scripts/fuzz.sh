#!/usr/bin/env bash
# Runs the fuzzers of tools/fuzzers (libFuzzer, ASan + UBSan) for SECONDS
# each (default 60), two at a time, from their seed corpora; fails on any
# crash, hang (an input over 30 s), or allocation over 4 GiB, and says where
# the input that did it is. Builds the sanitizer build first if it is not
# there (scripts/sanitize.sh's). For a long run: bash scripts/fuzz.sh 3600.
#
# usage: scripts/fuzz.sh [SECONDS] [FUZZER...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
fuzzers=("$@")
if ((${#fuzzers[@]} == 0)); then
  fuzzers=(attn-spec-fuzzer attn-expr-fuzzer attn-manifest-fuzzer
           attn-npy-fuzzer attn-capi-fuzzer)
fi
dir=${SANITIZE_BUILD_DIR:-build-sanitize}
if [[ ! -x "$dir/bin/attn-spec-fuzzer" ]]; then
  SKIP_TESTS=1 bash scripts/sanitize.sh
fi
source scripts/sanitizer-env.sh

# The seeds of each fuzzer (test/Fuzz/seed-corpora.test runs the same).
seeds() {
  case "$1" in
  attn-spec-fuzzer) echo examples test/Spec test/Spec/errors ;;
  attn-expr-fuzzer) echo test/Fuzz/Inputs/expr ;;
  attn-manifest-fuzzer) echo test/Fuzz/Inputs/manifest ;;
  attn-npy-fuzzer) echo test/Fuzz/Inputs/npy ;;
  attn-capi-fuzzer) echo test/Fuzz/Inputs/capi ;;
  *) echo "unknown fuzzer '$1'" >&2; exit 2 ;;
  esac
}

run() {
  local name=$1 work="$dir/fuzz/$1"
  mkdir -p "$work/corpus"
  local options=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096
                 -print_final_stats=1 -artifact_prefix="$work/")
  local dict=tools/fuzzers/$name/${name#attn-}
  dict=${dict%-fuzzer}.dict
  [[ -f "$dict" ]] && options+=(-dict="$dict")
  # The working corpus grows under the build; the seeds are only read.
  # shellcheck disable=SC2046
  if "$dir/bin/$name" "${options[@]}" "$work/corpus" $(seeds "$name") \
      > "$work/log" 2>&1; then
    echo "$name: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$') inputs in ${seconds} s, nothing found"
  else
    echo "$name: FAILED; the log is $work/log:"
    grep -E -A30 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$work/log" | head -60
    return 1
  fi
}

status=0
pids=()
for name in "${fuzzers[@]}"; do
  run "$name" &
  pids+=($!)
  if ((${#pids[@]} == 2)); then
    wait "${pids[0]}" || status=1
    pids=("${pids[1]}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
