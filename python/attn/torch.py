"""Attn as a PyTorch operator.

    import attn.torch
    out = attn.torch.attention(q, k, v, spec="examples/causal.yaml")

`attention` is the custom op `torch.ops.attn.attention` (torch.library) with
a fake implementation, so it runs in eager mode and under
`torch.compile(fullgraph=True)`. Kernels are compiled once per spec, dtype
and device and kept for the process. The spec's layout says how q, k, v are
laid out (`bhsd` is what SDPA and FlexAttention take); its dtype is replaced
by the tensors' dtype, so one spec serves float32 and bfloat16 models. CPU
tensors run on the CPU target, CUDA tensors on the GPU target (compiled for
the device's chip, launched on the current stream). Forward only.

`from_flex` turns FlexAttention's mask_mod/score_mod and BlockMask into a
spec and operands (see attn/flex.py).
"""

from __future__ import annotations

import functools
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

import attn as _attn
from attn._spec import SpecSource, spec_text
from attn._tensors import torch_dtype_name

__all__ = ["attention", "kernel_for", "from_flex"]

def kernel_for(spec: str, device: torch.device, dtype: torch.dtype):
    """The kernel of `spec` (YAML text) for tensors of `dtype` on `device`."""
    name = torch_dtype_name(dtype)
    if name not in ("f32", "f16", "bf16"):
        raise TypeError(f"operand 'q' has dtype {dtype}; attn.torch runs "
                        "float32, float16 and bfloat16")
    if device.type == "cpu":
        return _attn.compile(spec, "cpu", dtype=name)
    if device.type == "cuda":
        index = device.index if device.index is not None else \
            torch.cuda.current_device()
        return _attn.compile(spec, "cuda", device=index, dtype=name)
    raise ValueError(f"operand 'q' is on {device}; attn.torch runs on the CPU "
                     "and on CUDA devices")


@torch.library.custom_op("attn::attention", mutates_args=())
def _attention(q: Tensor, k: Tensor, v: Tensor, spec: str, names: str,
               operands: List[Tensor]) -> Tuple[Tensor, Tensor]:
    # `names`: the operands' names, comma-separated (a schema has no str[]).
    kernel = kernel_for(spec, q.device, q.dtype)
    result = kernel(q, k, v, **dict(zip(names.split(",") if names else [],
                                        operands)))
    return result if kernel.returns_lse else (result, _no_lse(q))


def _no_lse(q: Tensor) -> Tensor:
    """The op's lse when the spec has none: rank 1 (a real lse has rank 2
    or 3), which attention() tests to return out alone."""
    return q.new_empty((0,), dtype=torch.float32)


@_attention.register_fake
def _(q, k, v, spec, names, operands):
    # The outputs' shapes are the same on every target: meta tensors ask the
    # CPU kernel.
    device = torch.device("cpu") if q.device.type == "meta" else q.device
    kernel = kernel_for(spec, device, q.dtype)
    out = q.new_empty(kernel.output_shape("out", q.shape))
    if not kernel.returns_lse:
        return out, _no_lse(q)
    return out, q.new_empty(kernel.output_shape("lse", q.shape),
                            dtype=torch.float32)


def _setup_context(ctx, inputs, output):
    pass


def _backward(ctx, grad_out, grad_lse):
    raise RuntimeError(
        "attn.torch.attention is forward-only: Attn compiles no backward "
        "kernels yet. Run it under torch.no_grad() or torch.inference_mode(), "
        "or train with a differentiable attention (SDPA, FlexAttention).")


_attention.register_autograd(_backward, setup_context=_setup_context)


@functools.lru_cache(maxsize=256)
def _checked(text: str, name: str) -> str:
    """`text`, after importing it under its own name, so that a spec error
    points at the file (or `<dict>`) rather than at the op's string."""
    _attn._attn.compile_ir(text, name, "cpu", 0, None, 0, "mlir")
    return text


@torch.compiler.assume_constant_result
def _text(spec) -> str:
    return _checked(*spec_text(spec))


def attention(q: Tensor, k: Tensor, v: Tensor, spec: SpecSource,
              **operands: Tensor):
    """Attention of `spec` (a YAML path, YAML text or a dict) on q, k, v and
    the spec's operands by name (docs/spec.md, "Operands"): out, or
    (out, lse) when the spec's outputs list lse."""
    text = spec if isinstance(spec, str) and "\n" in spec else _text(spec)
    # The spec's dtype becomes the tensors' (kernel_for), and the bias
    # operand, which has the spec's dtype, follows.
    bias = operands.get("bias")
    if bias is not None and bias.is_floating_point() and bias.dtype != q.dtype:
        operands = dict(operands, bias=bias.to(q.dtype))
    names = sorted(operands)
    out, lse = torch.ops.attn.attention(q, k, v, text, ",".join(names),
                                        [operands[n] for n in names])
    if lse.dim() == 1:
        return out
    return out, lse


def from_flex(*args, **kwargs):
    """See attn.flex.from_flex."""
    from attn.flex import from_flex as convert
    return convert(*args, **kwargs)
