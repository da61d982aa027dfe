"""Every example spec through the Python API on the CPU, against the float64
reference: attn-run makes valid random inputs and operands and the
reference (--check --save), and the Python kernel runs on those arrays."""

import json
import subprocess

import numpy as np
import pytest
import torch

import attn
from conftest import ROOT, relative_error

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_example_matches_reference(spec, attn_run, tmp_path):
    text = spec.read_text()
    args = [str(attn_run), str(spec), "--check", "--save", str(tmp_path),
            "--batch", "2"]
    if "neighborhood" not in text:  # a grid pins the length
        args += ["--q-len", "80", "--kv-len", "96"]
    subprocess.run(args, check=True, capture_output=True)

    kernel = attn.compile(tmp_path / "spec.yaml")
    dtypes = {p["name"]: p["dtype"] for p in kernel.manifest["params"]}
    tensors = {}
    for name in kernel.params:
        if name in ("out", "lse"):
            continue
        array = np.load(tmp_path / f"{name}.npy")
        if dtypes[name] == "bf16":  # saved as float32, exactly
            tensors[name] = torch.from_numpy(array).to(torch.bfloat16)
        else:
            tensors[name] = array
    result = kernel(**tensors)
    out, lse = result if kernel.returns_lse else (result, None)

    tolerance = float((tmp_path / "tolerance.txt").read_text())
    as_f64 = lambda t: (t.double().numpy() if isinstance(t, torch.Tensor)
                        else np.asarray(t, dtype=np.float64))
    assert relative_error(as_f64(out), np.load(
        tmp_path / "reference_out.npy")) <= tolerance
    if lse is not None:
        assert relative_error(as_f64(lse), np.load(
            tmp_path / "reference_lse.npy")) <= tolerance
    # The output is in the input's array type.
    assert isinstance(out, type(tensors["q"]))
