"""Array-type helpers: dtype names, output allocation, launch devices."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

# Attn's dtype names by the name NumPy and torch give the dtype.
_ATTN_NAMES = {"float32": "f32", "float16": "f16", "bfloat16": "bf16",
               "int32": "i32"}
_FRAMEWORK_NAMES = {attn: name for name, attn in _ATTN_NAMES.items()}


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
        return torch_dtype_name(dtype)
    if isinstance(x, np.ndarray):
        return _ATTN_NAMES.get(dtype.name, dtype.name)
    return None


def torch_dtype_name(dtype) -> str:
    """The Attn name of a torch dtype, or torch's own for other dtypes."""
    name = str(dtype).removeprefix("torch.")
    return _ATTN_NAMES.get(name, name)


def allocate(like, shape, dtype: str):
    """An uninitialized output of `shape` and Attn dtype `dtype` in the array
    type and on the device of `like`."""
    if is_torch(like):
        torch = _torch()
        return torch.empty(shape, dtype=getattr(torch, _FRAMEWORK_NAMES[dtype]),
                           device=like.device)
    if isinstance(like, np.ndarray):
        if dtype == "bf16":
            return np.empty(shape, dtype=like.dtype)  # ml_dtypes' bfloat16
        return np.empty(shape, dtype=_FRAMEWORK_NAMES[dtype])
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
