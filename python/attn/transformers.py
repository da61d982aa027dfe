"""Attn as a Hugging Face transformers attention implementation.

    import attn.transformers
    attn.transformers.register()
    model = AutoModelForCausalLM.from_pretrained(..., attn_implementation="attn")

Each attention layer's kernel is chosen from the call: causal (the module's
`is_causal`), the layer's sliding window (transformers' `sliding_window: W`
lets a query see itself and the W - 1 keys before it: Attn's
`{sliding_window: {left: W - 1}}`), `softcap`, `scaling`, GQA from the head
counts, and padding from `attention_mask`. The mask interface registered
under the same name hands the attention a padding mask ([batch, kv_len],
True where a key is a token) when the model's mask is causal or sliding with
padding, nothing when it has no padding, and the full boolean mask when the
model changed it otherwise (packed sequences, or_mask/and_mask functions);
the full mask becomes an additive bias. Forward only (inference).
"""

from __future__ import annotations

from typing import Optional

import torch

import attn.torch as attn_torch

__all__ = ["register", "attention_forward", "mask"]

NAME = "attn"


def _known_window(mask_function) -> Optional[int]:
    """0 for transformers' causal mask function, W for its sliding-window
    causal one (and_masks(sliding_window_overlay(W), causal)), None for any
    other: those masks are taken whole."""
    from transformers import masking_utils as mu
    if mask_function is mu.causal_mask_function:
        return 0
    if getattr(mask_function, "__qualname__", "") != "and_masks.<locals>.and_mask":
        return None
    cells = dict(zip(mask_function.__code__.co_freevars,
                     (c.cell_contents for c in mask_function.__closure__ or ())))
    parts = cells.get("mask_functions", ())
    if len(parts) != 2 or parts[1] is not mu.causal_mask_function:
        return None
    overlay = parts[0]
    if not getattr(overlay, "__qualname__", "").startswith(
            "sliding_window_overlay."):
        return None
    inner = dict(zip(overlay.__code__.co_freevars,
                     (c.cell_contents for c in overlay.__closure__ or ())))
    window = inner.get("sliding_window")
    return window if isinstance(window, int) and window > 0 else None


def mask(batch_size: int, q_length: int, kv_length: int, q_offset: int = 0,
         kv_offset: int = 0, mask_function=None, attention_mask=None,
         allow_is_causal_skip: bool = True, use_vmap: bool = False,
         **kwargs) -> Optional[torch.Tensor]:
    """The mask interface: None (the layer's causal or sliding mask alone),
    a [batch, kv_len] padding mask, or the model's full [batch, 1, q_len,
    kv_len] boolean mask for any other mask function (chunked, packed
    sequences, or_mask/and_mask functions, bidirectional)."""
    from transformers.masking_utils import prepare_padding_mask, sdpa_mask
    standard = (allow_is_causal_skip and not use_vmap
                and _known_window(mask_function) is not None)
    if not standard:
        return sdpa_mask(batch_size=batch_size, q_length=q_length,
                         kv_length=kv_length, q_offset=q_offset,
                         kv_offset=kv_offset, mask_function=mask_function,
                         attention_mask=attention_mask,
                         allow_is_causal_skip=False, use_vmap=use_vmap,
                         **kwargs)
    if attention_mask is None:
        return None
    padding = prepare_padding_mask(attention_mask, kv_length, kv_offset)
    padding = padding[:, kv_offset:kv_offset + kv_length].to(torch.bool)
    return None if bool(padding.all()) else padding


def attention_forward(module: torch.nn.Module, query: torch.Tensor,
                      key: torch.Tensor, value: torch.Tensor,
                      attention_mask: Optional[torch.Tensor],
                      dropout: float = 0.0, scaling: Optional[float] = None,
                      sliding_window: Optional[int] = None,
                      softcap: Optional[float] = None, **kwargs):
    """The attention interface: query [B, Hq, Lq, D], key and value [B, Hkv,
    Lkv, D] (bhsd) to ([B, Lq, Hq, Dv], None)."""
    if dropout:
        raise NotImplementedError("attn_implementation='attn' runs inference "
                                  "only: attention dropout is not supported "
                                  "(call model.eval())")
    heads, kv_heads = query.shape[1], key.shape[1]
    dim, dim_v = query.shape[-1], value.shape[-1]
    spec = {"name": "hf_attention",
            "head_dim": dim if dim == dim_v else {"qk": dim, "v": dim_v},
            "heads": {"q": heads, "kv": kv_heads}, "layout": "bhsd"}
    if scaling is not None:
        spec["scale"] = float(scaling)
    masks, score, operands = [], [], {}
    dense = attention_mask is not None and attention_mask.dim() == 4
    if not dense:
        is_causal = kwargs.get("is_causal")
        if is_causal is None:
            is_causal = getattr(module, "is_causal", True)
        if is_causal:
            masks.append("causal")
        if sliding_window:
            masks.append({"sliding_window": {"left": int(sliding_window) - 1}})
        if attention_mask is not None:
            # Key padding as documents: every query is in document 0, a key
            # in 0 when it is a token and 1 when it is padding.
            batch, q_len, kv_len = query.shape[0], query.shape[2], key.shape[2]
            operands["doc_q"] = torch.zeros(batch, q_len, dtype=torch.int32,
                                            device=query.device)
            operands["doc_kv"] = (~attention_mask[:, :kv_len]).to(torch.int32)
            masks.append("document")
    if softcap:
        score.append({"softcap": float(softcap)})
    if dense:
        # The model's own mask as an additive bias, broadcast over heads.
        if attention_mask.dtype == torch.bool:
            bias = torch.zeros(attention_mask.shape, dtype=query.dtype,
                               device=query.device)
            bias.masked_fill_(~attention_mask, torch.finfo(query.dtype).min)
        else:
            bias = attention_mask.to(query.dtype)
        # [B, 1, Lq, Lkv]: one mask for every head.
        operands["bias"] = bias[:, 0, :, :key.shape[2]]
        score.append({"bias": {"broadcast": ["b", "q", "k"]}})
    if masks:
        spec["mask"] = masks
    if score:
        spec["score"] = score
    out = attn_torch.attention(query, key, value, spec=spec, **operands)
    return out.transpose(1, 2), None


def register(name: str = NAME) -> None:
    """Registers Attn as `attn_implementation=name` (attention and mask)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface
    AttentionInterface.register(name, attention_forward)
    AttentionMaskInterface.register(name, mask)
