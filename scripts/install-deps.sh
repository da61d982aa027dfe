#!/usr/bin/env bash
# Installs what Attn needs on Debian 12 (as root, or through sudo) and does
# nothing when everything is already there.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools  # LLVM/MLIR 22, lit, FileCheck
  clang-format-22                                         # the format check
  clang-22 libclang-rt-22-dev                             # sanitizers, libFuzzer
  cmake ninja-build g++ python3                           # build
  python3-dev python3-venv                                # the Python package
  googletest libgtest-dev                                 # unit tests
  nlohmann-json3-dev                                      # the runtime reads manifests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ "$(id -u)" != 0 ]]; then
  sudo=sudo
fi
echo "Installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
