"""attn.compile and kernels: spec sources, outputs, strides, IR, errors."""

import json
import pathlib

import numpy as np
import pytest
import torch

import attn
from conftest import ROOT

SPEC = {"name": "gqa_causal", "head_dim": 16, "heads": {"q": 4, "kv": 2},
        "mask": "causal", "outputs": ["out", "lse"]}


def reference(q, k, v, causal=True, scale=None):
    """float64 attention on bshd arrays with GQA; (out, lse)."""
    q, k, v = (np.asarray(t, dtype=np.float64) for t in (q, k, v))
    group = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, group, axis=2), np.repeat(v, group, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = np.einsum("bqhd,bkhd->bhqk", q, k) * scale
    if causal:  # bottom-right aligned
        lq, lk = q.shape[1], k.shape[1]
        visible = np.arange(lk)[None, :] <= np.arange(lq)[:, None] + lk - lq
        s = np.where(visible, s, -np.inf)
    m = s.max(-1, keepdims=True)
    p = np.exp(s - m)
    out = np.einsum("bhqk,bkhd->bqhd", p / p.sum(-1, keepdims=True), v)
    return out, (m[..., 0] + np.log(p.sum(-1)))


def inputs(b=2, lq=37, lk=45, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((b, lq, 4, 16), dtype=np.float32),
            rng.standard_normal((b, lk, 2, 16), dtype=np.float32),
            rng.standard_normal((b, lk, 2, 16), dtype=np.float32))


def test_dict_text_and_path_give_one_kernel(tmp_path):
    kernel = attn.compile(SPEC)
    assert attn.compile(dict(SPEC)) is kernel  # cached in the process
    text = attn.to_yaml(SPEC)
    assert text.splitlines()[2] == "heads: {q: 4, kv: 2}"
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    for source in (text, str(path), path):
        other = attn.compile(source)
        assert other.spec_hash == kernel.spec_hash
    assert kernel.params == ["q", "k", "v", "out", "lse"]
    assert kernel.manifest["heads"] == {"q": 4, "kv": 2}
    assert kernel.target == "cpu" and kernel.returns_lse
    assert "gqa_causal" in repr(kernel)


def test_numpy_call_matches_reference():
    kernel = attn.compile(SPEC)
    q, k, v = inputs()
    out, lse = kernel(q, k, v)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.shape == (2, 37, 4, 16) and lse.shape == (2, 4, 37)
    want_out, want_lse = reference(q, k, v)
    np.testing.assert_allclose(out, want_out, atol=2e-6)
    np.testing.assert_allclose(lse, want_lse, atol=2e-5)


def test_strided_views_are_read_in_place():
    """Slices and transposes with a unit last stride run without copies."""
    kernel = attn.compile(SPEC)
    q, k, v = inputs(lq=64, lk=64)
    big = np.zeros((2, 64, 8, 32), np.float32)
    big[:, :, 2:6, 8:24] = q
    q_view = big[:, :, 2:6, 8:24]  # strided in every axis but the last
    assert not q_view.flags.c_contiguous
    k_view = np.ascontiguousarray(k.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    out = np.full((2, 64, 4, 16), np.nan, np.float32)
    lse = np.full((2, 4, 64), np.nan, np.float32)
    got_out, got_lse = kernel(q_view, k_view, v, out=out, lse=lse)
    assert got_out is out and got_lse is lse  # written in place
    np.testing.assert_allclose(out, reference(q, k, v)[0], atol=2e-6)


def test_torch_tensors_in_torch_tensors_out():
    kernel = attn.compile(SPEC)
    q, k, v = (torch.from_numpy(t) for t in inputs())
    q.requires_grad_(True)  # the kernel reads the data only
    out, lse = kernel(q, k, v)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), reference(q.detach(), k, v)[0],
                               atol=2e-6)


def test_bf16_through_torch():
    kernel = attn.compile(SPEC, dtype="bf16")
    assert kernel.manifest["dtype"] == "bf16"
    q, k, v = (torch.from_numpy(t).bfloat16() for t in inputs())
    out, _ = kernel(q, k, v)
    assert out.dtype == torch.bfloat16
    want = reference(q.float(), k.float(), v.float())[0]
    assert np.abs(out.float().numpy() - want).max() < 2e-2


def test_ir_levels():
    kernel = attn.compile(SPEC)
    assert "attn.attention" in kernel.ir()
    assert "scf.for" in kernel.ir("tile")
    assert "llvm.func" in kernel.ir("kernel")
    assert "define" in kernel.ir("llvm")
    with pytest.raises(ValueError, match="level must be mlir, tile, kernel, "
                       "llvm or ptx, got 'asm'"):
        kernel.ir("asm")
    gpu = attn.compile(dict(SPEC, head_dim=64), target="sm_90a", dtype="bf16")
    assert ".target sm_90a" in gpu.ir("ptx")


def test_gpu_kernels_compile_without_a_gpu(tmp_path):
    """A GPU kernel compiles and saves anywhere; it loads where a driver is."""
    gpu = attn.compile(dict(SPEC, head_dim=64), target="sm_90a", dtype="bf16")
    assert gpu.target == "cuda" and gpu.manifest["launch"]["chip"] == "sm_90a"
    assert gpu.params == ["q", "k", "v", "out", "lse"]
    gpu.save(tmp_path / "k.cubin")
    assert (tmp_path / "k.cubin").read_bytes()[:4] == b"\x7fELF"
    assert json.loads((tmp_path / "k.cubin.json").read_text())["name"] == \
        "gqa_causal"


def test_compile_errors_are_located():
    with pytest.raises(attn.CompileError) as info:
        attn.compile(dict(SPEC, scale=-1.0))
    message = str(info.value)
    assert message.startswith("<dict>:6:8: error: 'scale'"), message
    assert message.endswith("scale: -1.0\n       ^")
    with pytest.raises(attn.CompileError, match=r"^<string>:2:7: error"):
        attn.compile("name: x\nmask: casual\nhead_dim: 8\nheads: 1\n")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        attn.compile("no/such/spec.yaml")
    with pytest.raises(ValueError, match="unknown target 'sm_70'"):
        attn.compile(SPEC, target="sm_70")
    with pytest.raises(ValueError, match="dtype must be f32, f16 or bf16"):
        attn.compile(SPEC, dtype="f64")
    with pytest.raises(ValueError, match=r"split_kv must be in \[1, 256\]"):
        attn.compile(SPEC, split_kv=1000)
    with pytest.raises(TypeError, match="spec field 'scale' is a complex"):
        attn.compile(dict(SPEC, scale=1j))
    with pytest.raises(TypeError, match="not a int"):
        attn.compile(3)


def test_argument_errors_name_the_argument():
    kernel = attn.compile(SPEC)
    q, k, v = inputs()
    with pytest.raises(TypeError, match="operand 'q' has dtype float64, "
                       "expected f32"):
        kernel(q.astype(np.float64), k, v)
    with pytest.raises(TypeError, match="operand 'k' has dtype bf16, "
                       "expected f32"):
        kernel(q, torch.from_numpy(k).bfloat16(), v)
    with pytest.raises(ValueError, match=r"operand 'k' has shape \[2, 45, 1, "
                       r"16\], expected \[\?, \?, 2, 16\]"):
        kernel(q, k[:, :, :1], v)
    with pytest.raises(ValueError, match="operand 'v' must be contiguous in "
                       "its last dimension"):
        kernel(q, k, np.asfortranarray(v))
    with pytest.raises(ValueError, match="'bias' is not a parameter of kernel "
                       "'gqa_causal'"):
        kernel(q, k, v, bias=q)
    with pytest.raises(TypeError, match="operand 'v' is a list, not an array"):
        kernel(q, k, v.tolist())
    with pytest.raises(ValueError, match="operand 'q' has rank 3, expected 4"):
        kernel(q[0], k, v)
    with pytest.raises(ValueError, match="operand 'out' has shape"):
        kernel(q, k, v, out=np.empty((2, 37, 4, 8), np.float32))
    with pytest.raises(TypeError, match="operand 'out' is a ndarray, not an "
                       "array Attn can write"):
        out = np.empty((2, 37, 4, 16), np.float32)
        out.flags.writeable = False
        kernel(q, k, v, out=out)
    no_lse = attn.compile(dict(SPEC, outputs=["out"]))
    with pytest.raises(ValueError, match="returns no lse"):
        no_lse(q, k, v, lse=np.empty((2, 4, 37), np.float32))
    doc = attn.compile(dict(SPEC, mask="document"))
    with pytest.raises(ValueError, match="operand 'doc_q' is missing"):
        doc(q, k, v)


def test_version():
    assert "+llvm.22" in attn.version()


def test_explain_and_mask_svg():
    kernel = attn.compile(dict(SPEC, mask={"sliding_window": {"left": 100}}))
    q, k, v = inputs(b=1, lq=512, lk=512)
    info = kernel.explain(q, k, v)
    assert info["mask"] == "#attn.sliding_window<left = 100>"
    bq, bk = info["block_q"], info["block_kv"]
    assert info["tiles"].shape == (512 // bq, 512 // bk)
    counts = info["counts"]
    assert counts["empty"] + counts["full"] + counts["partial"] == \
        info["tiles"].size
    assert counts["empty"] > 0 and counts["partial"] > 0
    # The tile left of the diagonal by more than the window is empty.
    assert info["tiles"][-1, 0] == 0 and info["tiles"][0, 0] == 2
    svg = kernel.mask_svg(q, k, v)
    assert svg.startswith("<svg") and "sliding_window" in svg
    # Operand-dependent masks are classified per batch entry.
    doc = attn.compile(dict(SPEC, mask="document"))
    ids = np.repeat(np.arange(4, dtype=np.int32), 128)[None].repeat(2, 0)
    q2, k2, v2 = inputs(b=2, lq=512, lk=512)
    tiles = doc.explain(q2, k2, v2, batch=1, doc_q=ids, doc_kv=ids)["tiles"]
    assert (tiles == 0).sum() > 0
    with pytest.raises(ValueError, match="batch entry 2, head 0 is outside "
                       "the launch"):
        doc.explain(q2, k2, v2, batch=2, doc_q=ids, doc_kv=ids)
    with pytest.raises(ValueError, match="operand 'doc_q' is missing"):
        doc.mask_svg(q2, k2, v2)
    # No mask: every tile is full.
    dense = attn.compile(dict(SPEC, mask=None))
    assert (dense.explain(*inputs())["tiles"] == 1).all()


class Producer:
    """A DLPack producer that is neither NumPy nor torch."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, **kwargs):
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


def test_other_dlpack_producers_are_read_in_place():
    kernel = attn.compile(SPEC)
    q, k, v = inputs()
    out = np.zeros((2, 37, 4, 16), np.float32)
    got, lse = kernel(Producer(q), Producer(k), Producer(v),
                      out=Producer(out))
    assert isinstance(lse, np.ndarray)
    np.testing.assert_allclose(out, reference(q, k, v)[0], atol=2e-6)


def test_compiles_and_calls_from_several_threads(tmp_path):
    """Each compile has its own MLIR context; calls on one kernel queue."""
    from concurrent.futures import ThreadPoolExecutor
    q, k, v = inputs()

    def work(i):
        kernel = attn.compile(dict(SPEC, name=f"thread{i % 3}", scale=0.25),
                              cache_dir=str(tmp_path))
        out, _ = kernel(q, k, v)
        return kernel, out

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(8)))
    for kernel, out in results:
        np.testing.assert_allclose(out, reference(q, k, v, scale=0.25)[0],
                                   atol=2e-6)
    assert len({id(kernel) for kernel, _ in results}) == 3


def test_tile_tables_follow_the_operands():
    """The runtime keeps the last table of an operand-dependent mask with
    the values it read: a launch with other document ids gets its own."""
    kernel = attn.compile(dict(SPEC, mask=["causal", "document"],
                               outputs=["out"]))
    q, k, v = inputs(b=2, lq=200, lk=200)
    pos = np.arange(200)

    def check(bounds):
        ids = np.searchsorted(bounds, pos, side="right").astype(np.int32)
        ids = np.stack([ids, ids[::-1].copy()])  # two packings
        got = kernel(q, k, v, doc_q=ids, doc_kv=ids)
        for b in range(2):
            want = np.empty_like(got[b], dtype=np.float64)
            for d in np.unique(ids[b]):
                at = np.nonzero(ids[b] == d)[0]
                want[at] = reference(q[b:b + 1, at], k[b:b + 1, at],
                                     v[b:b + 1, at])[0][0]
            assert np.abs(got[b] - want).max() < 1e-4
    # A repeat reuses the table; every other change classifies again.
    for bounds in ([64, 128], [64, 128], [70, 130, 190], [64, 128], [1, 199]):
        check(np.array(bounds))
