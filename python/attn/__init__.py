"""Attn: compile attention specs into fused kernels and run them.

    import attn, numpy as np
    kernel = attn.compile("examples/causal.yaml")      # or YAML text, a dict
    out = kernel(q, k, v)                              # NumPy, torch, DLPack

See docs/python.md. `attn.torch` holds the PyTorch operator and the
FlexAttention bridge.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Optional

import numpy as np

from . import _attn
from ._spec import SpecSource, spec_text, to_yaml
from ._tensors import (allocate, as_array, dtype_name, is_torch,
                       launch_device)

__all__ = ["compile", "Kernel", "CompileError", "version", "to_yaml"]

#: A spec that does not compile; the message is the located diagnostic
#: (`<dict>:3:8: error: 'scale' must be > 0 ...` and the source line).
CompileError = _attn.CompileError

def version() -> str:
    """The compiler's identity: version, commit, source hash, LLVM."""
    return _attn.version()


class Kernel:
    """A compiled kernel. Call it with q, k, v and the spec's operands by
    name; it returns out, or (out, lse) when the spec lists lse."""

    def __init__(self, artifact, text: str, name: str, options: Dict[str, Any]):
        self._artifact = artifact
        self._loaded = None
        self._load_lock = threading.Lock()
        self._text = text
        self._name = name
        self._options = options
        #: The manifest (docs/runtime.md) as a dict.
        self.manifest: Dict[str, Any] = json.loads(artifact.manifest)
        #: The parameters a caller passes, in call order.
        self.params = [p["name"] for p in self.manifest["params"]
                       if not p.get("internal")]
        self._dtypes = {p["name"]: p["dtype"] for p in self.manifest["params"]}
        self._ranks = {p["name"]: len(p["shape"])
                       for p in self.manifest["params"]}
        #: The spec hash (the cache key).
        self.spec_hash: str = artifact.spec_hash
        #: Whether the artifact came from the on-disk cache.
        self.from_cache: bool = artifact.from_cache

    @property
    def _kernel(self):
        """The loaded kernel: loaded at the first use (a call, a check,
        output_shape, explain), so that a GPU kernel compiles and saves on a
        machine without a GPU."""
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._artifact.load()
            return self._loaded

    def save(self, path) -> None:
        """Writes the artifact to `path` and its manifest to `path`.json, as
        attn-compile does (the runtime C API and attn-gpu-check load them)."""
        path = os.fspath(path)
        with open(path, "wb") as f:
            f.write(self._artifact.data)
        with open(path + ".json", "w", encoding="utf-8") as f:
            f.write(self._artifact.manifest)

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def target(self) -> str:
        """`cpu` or `cuda`."""
        return self.manifest["target"]

    @property
    def returns_lse(self) -> bool:
        return "lse" in self.params

    @property
    def spec(self) -> str:
        """The spec's YAML text."""
        return self._text

    def __repr__(self) -> str:
        return (f"<attn.Kernel {self.name} for {self.target} "
                f"({self.manifest['target_detail']}): "
                f"{', '.join(self.params)}>")

    # Shapes -----------------------------------------------------------------

    def output_shape(self, name: str, q_shape) -> tuple:
        """The shape of output `name` ("out", "lse") for a q of `q_shape`;
        works on symbolic sizes (torch.SymInt) too."""
        q_shape = tuple(q_shape)
        if len(q_shape) != self._ranks["q"]:
            raise ValueError(f"operand 'q' has rank {len(q_shape)}, expected "
                             f"{self._ranks['q']}")
        return tuple(q_shape[-1 - d] if d < 0 else d
                     for d in self._kernel.output_dims(name))

    # Calls ------------------------------------------------------------------

    def __call__(self, q, k, v, *, out=None, lse=None, num_threads: int = 0,
                 stream: Optional[int] = None, **operands):
        tensors = self._arguments(q, k, v, out, lse, operands)
        # The caller's own outputs are returned as given (not detached).
        out = tensors["out"] if out is None else out
        lse = tensors.get("lse") if lse is None else lse
        device_id, default_stream = launch_device(tensors["q"])
        self._kernel.launch(tensors,
                            stream=default_stream if stream is None else stream,
                            device_id=device_id, num_threads=num_threads)
        return (out, lse) if self.returns_lse else out

    def validate(self, q, k, v, *, out=None, lse=None, **operands) -> None:
        """Checks the arguments as a call would, without running (missing
        outputs are allocated for the check)."""
        self._kernel.validate(self._arguments(q, k, v, out, lse, operands))

    def _arguments(self, q, k, v, out, lse, operands):
        """The tensors of a call by name, outputs allocated when missing."""
        tensors = {"q": q, "k": k, "v": v, **operands}
        tensors = {name: _detached(as_array(t)) for name, t in tensors.items()}
        self._check_dtypes(tensors)
        q = tensors["q"]
        if out is None:
            out = allocate(q, self.output_shape("out", _shape(q)),
                           self._dtypes["out"])
        tensors["out"] = _detached(as_array(out))
        if self.returns_lse:
            if lse is None:
                lse = allocate(q, self.output_shape("lse", _shape(q)), "f32")
            tensors["lse"] = _detached(as_array(lse))
        elif lse is not None:
            raise ValueError(f"kernel '{self.name}' returns no lse (its spec's "
                             "outputs do not list it)")
        self._check_dtypes(tensors)
        return tensors

    def explain(self, q, k, v, *, batch: int = 0, head: int = 0,
                **operands) -> Dict[str, Any]:
        """How the mask tiles this call's problem, for batch entry `batch`
        and query head `head` (the arguments as for a call, on the host;
        nothing runs): the kernel's tile (`block_q` query positions by
        `block_kv` keys), `tiles` (a q_tiles x kv_tiles uint8 array: 0
        empty, skipped; 1 full, no mask computed; 2 partial, masked per
        element), their `counts` and the fraction `skipped`."""
        tensors = self._host_arguments(q, k, v, operands)
        q_tiles, kv_tiles, kinds = self._kernel.tile_kinds(tensors, batch,
                                                           head)
        tiles = np.frombuffer(kinds, dtype=np.int32).astype(np.uint8).reshape(
            q_tiles, kv_tiles)
        counts = {name: int((tiles == kind).sum())
                  for kind, name in enumerate(("empty", "full", "partial"))}
        return {"mask": self.manifest["mask"], "batch": batch, "head": head,
                "block_q": self.manifest["tile"]["query_positions"],
                "block_kv": self.manifest["tile"]["keys"],
                "tiles": tiles, "counts": counts,
                "skipped": counts["empty"] / tiles.size if tiles.size else 0.0}

    def mask_svg(self, q, k, v, *, batch: int = 0, head: int = 0,
                 **operands) -> str:
        """The mask of batch entry `batch`, query head `head` as an SVG:
        visible pairs dark, tiles tinted (full green, partial orange)."""
        return self._kernel.mask_svg(self._host_arguments(q, k, v, operands),
                                     batch, head)

    def _host_arguments(self, q, k, v, operands):
        """A call's arguments in host memory (the mask reads the operands'
        values there): device tensors are copied."""
        def host(t):
            t = as_array(t)
            return t.cpu() if is_torch(t) and t.device.type != "cpu" else t
        return self._arguments(host(q), host(k), host(v), None, None,
                               {n: host(t) for n, t in operands.items()})

    def _check_dtypes(self, tensors) -> None:
        for name, tensor in tensors.items():
            want = self._dtypes.get(name)
            got = dtype_name(tensor)
            if want is not None and got is not None and got != want:
                raise TypeError(f"operand '{name}' has dtype {got}, expected "
                                f"{want}")

    # Looking inside -----------------------------------------------------------

    def ir(self, level: str = "mlir") -> str:
        """The spec lowered to `level`: mlir (attn IR), tile (the flash loop
        of one work item), kernel (the target's kernel in the LLVM dialect),
        llvm (LLVM IR, CPU) or ptx (GPU)."""
        o = self._options
        return _attn.compile_ir(self._text, self._name, o["target"],
                                o["device"], o["dtype"], o["split_kv"], level)


def _shape(tensor) -> tuple:
    return tuple(tensor.shape)


def _detached(tensor):
    """torch tensors that require grad cannot cross DLPack; the kernel reads
    their data only."""
    detach = getattr(tensor, "detach", None)
    if detach is not None and type(tensor).__module__.startswith("torch"):
        return detach()
    return tensor


_kernels: Dict[tuple, Kernel] = {}
_kernels_lock = threading.Lock()


def compile(spec: SpecSource, target: str = "cpu", *, device: int = 0,
            dtype: Optional[str] = None, split_kv: Optional[int] = None,
            cache_dir: Optional[str] = None, cache: bool = True) -> Kernel:
    """Compiles `spec` (a YAML path, YAML text or a dict in the spec format,
    docs/spec.md) for `target`: "cpu" (the host), "cuda" (the chip of CUDA
    device `device`), or a chip ("sm_80", "sm_86", "sm_89", "sm_90",
    "sm_90a"). `dtype` and `split_kv` replace the spec's. Artifacts are
    cached on disk (`cache_dir`, default $ATTN_CACHE_DIR or ~/.cache/attn)
    unless `cache` is false, and kernels in the process: the same spec and
    options give the same Kernel.

    Raises CompileError (the located diagnostic) for a spec that does not
    compile, ValueError for bad options, FileNotFoundError for a missing
    file."""
    text, name = spec_text(spec)
    if split_kv is not None and (not isinstance(split_kv, int)
                                 or isinstance(split_kv, bool)):
        raise TypeError("split_kv must be an int")
    options = {"target": target, "device": int(device), "dtype": dtype,
               "split_kv": split_kv or 0}
    key = (text, name, tuple(options.values()), cache_dir, cache)
    with _kernels_lock:
        kernel = _kernels.get(key)
    if kernel is not None:
        return kernel
    artifact = _attn.compile(text, name, target, options["device"], dtype,
                             options["split_kv"], cache_dir, not cache)
    kernel = Kernel(artifact, text, name, options)
    with _kernels_lock:
        return _kernels.setdefault(key, kernel)
