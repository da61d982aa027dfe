"""Shared set-up: a fresh kernel cache per run and the checkout's tools."""

import os
import pathlib
import shutil
import tempfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Compiled kernels go to a fresh cache, never to ~/.cache (set before the
# first compile reads it).
_cache = tempfile.mkdtemp(prefix="attn-pytest-cache-")
os.environ["ATTN_CACHE_DIR"] = _cache


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_cache, ignore_errors=True)


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build_dir():
    return pathlib.Path(os.environ.get("ATTN_BUILD_DIR", ROOT / "build"))


@pytest.fixture(scope="session")
def attn_run(build_dir):
    path = build_dir / "bin" / "attn-run"
    if not path.exists():
        pytest.fail(f"{path} is missing: build Attn first (scripts/setup.sh)")
    return path


def relative_error(got, want):
    """attnrt::relativeError: the L2 error relative to the reference's norm,
    NaN in the reference (rows outside every sequence) skipped."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    keep = ~np.isnan(want)
    if np.isnan(got[keep]).any():
        return np.inf
    got, want = got[keep], want[keep]
    inf = np.isinf(want) | np.isinf(got)
    if (got[inf] != want[inf]).any():
        return np.inf
    num = np.sum((got[~inf] - want[~inf]) ** 2)
    den = np.sum(want[~inf] ** 2)
    return float(np.sqrt(num / den) if den > 0 else np.sqrt(num))
