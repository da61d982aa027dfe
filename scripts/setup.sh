#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: installs what is missing,
# builds everything, and runs the main job on the default (CPU) target:
# compiling an example spec and printing its IR.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
build_dir=${BUILD_DIR:-build}
"$build_dir/bin/attn-compile" examples/gemma2_local.yaml --emit=mlir
