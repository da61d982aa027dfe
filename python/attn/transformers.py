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


def mask(batch_size: int, q_length: int, kv_length: int, q_offset: int = 0,
         kv_offset: int = 0, mask_function=None, attention_mask=None,
         allow_is_causal_skip: bool = True, use_vmap: bool = False,
         **kwargs) -> Optional[torch.Tensor]:
    """The mask interface: None (the layer's causal or sliding mask alone),
    a [batch, kv_len] padding mask, or the model's full [batch, 1, q_len,
    kv_len] boolean mask when it is neither."""
    from transformers.masking_utils import prepare_padding_mask, sdpa_mask
    standard = allow_is_causal_skip and not use_vmap
    if not standard:
        # Packed sequences or extra mask functions: the exact mask.
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
        if getattr(module, "is_causal", True):
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
