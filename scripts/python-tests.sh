#!/usr/bin/env bash
# The Python package's tests: installs the package from this checkout into
# a virtual environment beside the build ($BUILD_DIR/venv) as a user would
# (pip install ./python), with NumPy, PyTorch (CPU use), transformers and
# pytest from PyPI, then runs python/tests. Needs the main build
# (scripts/build.sh). PYTEST_ARGS passes options to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=$(realpath "${BUILD_DIR:-build}")
venv="$build_dir/venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
# The test dependencies; pip skips what is already installed.
"$venv/bin/pip" install -q -r python/requirements-test.txt
# The package itself, built against this build's libAttnC.
ATTN_BUILD_DIR="$build_dir" "$venv/bin/pip" install -q --force-reinstall \
  --no-deps ./python
# From the repository root: python/ on sys.path would shadow the installed
# package with its sources.
ATTN_BUILD_DIR="$build_dir" "$venv/bin/python" -m pytest -q \
  -p no:cacheprovider python/tests ${PYTEST_ARGS:-}
