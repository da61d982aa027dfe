#!/usr/bin/env bash
# Checks that every C and C++ source of the tree is formatted as
# .clang-format says, with LLVM's own clang-format from Debian's packages
# (clang-format-22). Prints the files that are not and exits 1; run
# `clang-format-22 -i FILE` to fix one.
set -euo pipefail
cd "$(dirname "$0")/.."
format=${CLANG_FORMAT:-clang-format-22}
if ! command -v "$format" >/dev/null; then
  echo "error: $format not found; scripts/install-deps.sh installs it" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.cpp' '*.h')
else
  mapfile -t files < <(find dialects examples include lib runtime tools \
    unittests bench -name '*.c' -o -name '*.cpp' -o -name '*.h' | sort)
fi
bad=()
for file in "${files[@]}"; do
  if ! "$format" --dry-run --Werror "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done
if ((${#bad[@]})); then
  echo "not formatted (${#bad[@]} of ${#files[@]} files):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "format: ${#files[@]} files formatted"
