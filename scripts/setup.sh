#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: installs what is missing,
# builds everything, and runs the main job on the default (CPU) target:
# compiling an example spec, then compiling it for the CPU, running it on
# random inputs and checking it against the float64 reference.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
"$build_dir/bin/attn-compile" examples/gemma2_local.yaml --emit=mlir
"$build_dir/bin/attn-run" examples/gemma2_local.yaml --check --explain \
  --batch 1 --q-len 1024
