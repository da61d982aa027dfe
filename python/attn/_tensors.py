"""Array-type helpers: dtype names, output allocation, launch devices."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

_NUMPY = {"float32": "f32", "float16": "f16", "bfloat16": "bf16",
          "int32": "i32"}


def _torch():
    import torch
    return torch


def is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def as_array(x):
    """`x` itself when it is a NumPy array or a torch tensor; another DLPack
    producer as a zero-copy NumPy view (host memory) or torch tensor
    (device memory), so that shapes, dtypes and outputs have one type."""
    if isinstance(x, np.ndarray) or is_torch(x):
        return x
    device = getattr(x, "__dlpack_device__", None)
    if device is None or not hasattr(x, "__dlpack__"):
        return x  # the extension names what it is not
    if device()[0] == 1:  # kDLCPU
        return np.from_dlpack(x)
    try:
        torch = _torch()
    except ImportError:
        raise TypeError(f"a {type(x).__name__} on DLPack device {device()} "
                        "needs torch to be read; install torch") from None
    return torch.from_dlpack(x)


def dtype_name(x) -> Optional[str]:
    """The Attn dtype of `x` (f32, f16, bf16, i32), its own dtype's name when
    Attn has no kernels for it, None when it has no dtype we know."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return None
    if is_torch(x):
        name = str(dtype).removeprefix("torch.")
        return {"float32": "f32", "float16": "f16", "bfloat16": "bf16",
                "int32": "i32"}.get(name, name)
    if isinstance(x, np.ndarray):
        return _NUMPY.get(dtype.name, dtype.name)
    return None


def _torch_dtype(name: str):
    torch = _torch()
    return {"f32": torch.float32, "f16": torch.float16,
            "bf16": torch.bfloat16}[name]


def allocate(like, shape, dtype: str):
    """An uninitialized output of `shape` and Attn dtype `dtype` in the array
    type and on the device of `like`."""
    if is_torch(like):
        return _torch().empty(shape, dtype=_torch_dtype(dtype),
                              device=like.device)
    if isinstance(like, np.ndarray):
        if dtype == "bf16":
            return np.empty(shape, dtype=like.dtype)  # ml_dtypes' bfloat16
        return np.empty(shape, dtype={"f32": np.float32,
                                      "f16": np.float16}[dtype])
    raise TypeError(f"cannot allocate the output for a q of type "
                    f"{type(like).__name__}; pass out= (and lse=) yourself")


def launch_device(q) -> Tuple[int, int]:
    """The device ordinal and the stream (0: none) a launch on `q` uses:
    torch's current stream for CUDA tensors."""
    if is_torch(q) and q.device.type == "cuda":
        torch = _torch()
        index = q.device.index if q.device.index is not None else 0
        return index, torch.cuda.current_stream(q.device).cuda_stream
    device = getattr(q, "__dlpack_device__", None)
    if device is not None:
        kind, index = device()
        return int(index), 0
    return 0, 0
