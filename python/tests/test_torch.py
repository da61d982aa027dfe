"""attn.torch: the operator against SDPA and FlexAttention (float64, CPU),
the FlexAttention bridge, torch.compile, and the error paths."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import (BlockMask, create_block_mask,
                                               flex_attention)

import attn
import attn.torch
from attn.flex import from_flex

warnings.filterwarnings("ignore", message=".*flex_attention called without "
                        "torch.compile.*")

B, H, L, D = 2, 4, 96, 32


def qkv(heads=H, kv_heads=None, q_len=L, kv_len=None, dim=D, seed=0):
    g = torch.Generator().manual_seed(seed)
    kv_heads = kv_heads or heads
    kv_len = kv_len or q_len
    return (torch.randn(B, heads, q_len, dim, generator=g),
            torch.randn(B, kv_heads, kv_len, dim, generator=g),
            torch.randn(B, kv_heads, kv_len, dim, generator=g))


def flex64(q, k, v, **kwargs):
    """FlexAttention in float64: the reference."""
    return flex_attention(q.double(), k.double(), v.double(), **kwargs)


def close(got, want, tol=2e-5):
    err = (got.double() - want).norm() / want.norm()
    assert err <= tol, f"relative error {err:.3e} > {tol:.0e}"


def run(spec, q, k, v, **operands):
    return attn.torch.attention(q, k, v, spec=spec, **operands)


# --- dense attention against SDPA -------------------------------------------

def test_dense_and_causal_match_sdpa():
    q, k, v = qkv()
    spec = {"name": "dense", "head_dim": D, "heads": H, "layout": "bhsd"}
    close(run(spec, q, k, v), F.scaled_dot_product_attention(
        q.double(), k.double(), v.double()))
    causal = dict(spec, mask={"causal": {"align": "top_left"}})
    q2, k2, v2 = qkv(q_len=64, kv_len=96)
    close(run(causal, q2, k2, v2), F.scaled_dot_product_attention(
        q2.double(), k2.double(), v2.double(), is_causal=True))


def test_gqa_and_scale_match_sdpa():
    q, k, v = qkv(heads=8, kv_heads=2)
    spec = {"name": "gqa", "head_dim": D, "heads": {"q": 8, "kv": 2},
            "layout": "bhsd", "scale": 0.3, "mask": "causal"}
    close(run(spec, q, k, v), F.scaled_dot_product_attention(
        q.double(), k.double(), v.double(), is_causal=True, scale=0.3,
        enable_gqa=True))


def test_bshd_layout_and_lse():
    q, k, v = (t.transpose(1, 2) for t in qkv())  # [B, L, H, D] views
    spec = {"name": "bshd", "head_dim": D, "heads": H, "mask": "causal",
            "outputs": ["out", "lse"]}
    out, lse = run(spec, q, k, v)
    ref, ref_lse = flex64(q.transpose(1, 2), k.transpose(1, 2),
                          v.transpose(1, 2), return_lse=True,
                          block_mask=None, score_mod=lambda s, b, h, i, j:
                          torch.where(i >= j, s, -float("inf")))
    close(out.transpose(1, 2), ref)
    close(lse, ref_lse)


# --- the FlexAttention bridge against flex_attention -----------------------

def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def sliding(b, h, q_idx, kv_idx):
    return causal(b, h, q_idx, kv_idx) & (q_idx - kv_idx <= 20)


def sinks_window(b, h, q_idx, kv_idx):
    return (kv_idx < 4) | sliding(b, h, q_idx, kv_idx)


def chunked(b, h, q_idx, kv_idx):
    return (q_idx // 32 == kv_idx // 32) & (q_idx >= kv_idx)


def softcap(score, b, h, q_idx, kv_idx):
    return 20.0 * torch.tanh(score / 20.0)


SLOPES = torch.tensor([2.0 ** -(i + 1) for i in range(H)])


def alibi(score, b, h, q_idx, kv_idx):
    return score + SLOPES[h] * (kv_idx - q_idx)


def relative(score, b, h, q_idx, kv_idx):
    return torch.where(q_idx > kv_idx + 8, score - 1.5, score * 1.25)


@pytest.mark.parametrize("mask_mod,score_mod,want", [
    (causal, None, {"causal": {"align": "top_left"}}),
    (sliding, None, {"sliding_window": {"left": 20, "right": 0,
                                        "align": "top_left"}}),
    (sinks_window, None, None),
    (chunked, None, None),
    (None, softcap, None),
    (causal, alibi, None),
    (sliding, relative, None),
], ids=["causal", "sliding", "sinks_window", "chunked", "softcap", "alibi",
        "expr"])
def test_mask_and_score_mods_match_flex(mask_mod, score_mod, want):
    q, k, v = qkv()
    spec, operands = from_flex(mask_mod, score_mod, heads=H, head_dim=D,
                               q_len=L, kv_len=L)
    if want is not None:
        assert spec["mask"] == want
    if score_mod is softcap:
        assert spec["score"] == [{"softcap": 20.0}]
    block_mask = None if mask_mod is None else create_block_mask(
        mask_mod, None, None, L, L, device="cpu")
    close(run(spec, q, k, v, **operands),
          flex64(q, k, v, score_mod=score_mod, block_mask=block_mask))


def test_document_mask_matches_flex():
    q, k, v = qkv()
    doc = torch.tensor([0] * 30 + [1] * 50 + [2] * 16)

    def document_causal(b, h, q_idx, kv_idx):
        return (doc[q_idx] == doc[kv_idx]) & (q_idx >= kv_idx)

    spec, operands = from_flex(document_causal, heads=H, head_dim=D, batch=B)
    assert spec["mask"] == [{"causal": {"align": "top_left"}}, "document"]
    assert operands["doc_q"].shape == (B, L)
    close(run(spec, q, k, v, **operands), flex64(
        q, k, v, block_mask=create_block_mask(document_causal, None, None, L,
                                              L, device="cpu")))


def test_prefix_lm_matches_flex():
    q, k, v = qkv()
    prefix = torch.tensor([10, 57], dtype=torch.int32)

    def prefix_lm(b, h, q_idx, kv_idx):
        return (kv_idx < prefix[b]) | (q_idx >= kv_idx)

    spec, operands = from_flex(prefix_lm, heads=H, head_dim=D)
    assert spec["mask"] == {"any": [{"prefix_lm": "operand"},
                                    {"causal": {"align": "top_left"}}]}
    close(run(spec, q, k, v, **operands), flex64(
        q, k, v, block_mask=create_block_mask(prefix_lm, B, None, L, L,
                                              device="cpu")))


def test_bias_and_gqa_match_flex():
    q, k, v = qkv(heads=8, kv_heads=2)
    bias = torch.randn(B, 8, L, L)

    def add_bias(score, b, h, q_idx, kv_idx):
        return score + bias[b, h, q_idx, kv_idx]

    spec, operands = from_flex(None, add_bias, heads=8, kv_heads=2,
                               head_dim=D)
    assert spec["score"] == [{"bias": {"broadcast": ["b", "h", "q", "k"]}}]
    close(run(spec, q, k, v, **operands),
          flex64(q, k, v, score_mod=add_bias, enable_gqa=True))


def test_block_mask_full_blocks_join_the_sparse_ones():
    """A BlockMask of a causal mask has partial (diagonal) and full blocks."""
    q, k, v = qkv()
    block_mask = create_block_mask(causal, B, H, L, L, device="cpu",
                                   BLOCK_SIZE=32)
    assert block_mask.full_kv_num_blocks is not None
    spec, operands = from_flex(block_mask=block_mask, heads=H, head_dim=D)
    assert spec["mask"] == [{"causal": {"align": "top_left"}},
                            {"block_sparse": {"block": [32, 32]}}]
    close(run(spec, q, k, v, **operands), flex64(q, k, v,
                                                 block_mask=block_mask))


def test_block_sparse_block_mask_tensors_as_they_are():
    """A BlockMask built from its kv blocks: its tensors are the operands."""
    q, k, v = qkv()
    g = torch.Generator().manual_seed(1)
    n_blocks = L // 16
    num = torch.randint(1, n_blocks + 1, (B, H, n_blocks), generator=g,
                        dtype=torch.int32)
    idx = torch.stack([torch.randperm(n_blocks, generator=g)
                       for _ in range(B * H * n_blocks)]).reshape(
                           B, H, n_blocks, n_blocks).to(torch.int32)
    block_mask = BlockMask.from_kv_blocks(num, idx, BLOCK_SIZE=16,
                                          seq_lengths=(L, L))
    spec, operands = from_flex(block_mask=block_mask, heads=H, head_dim=D)
    assert spec["mask"] == {"block_sparse": {"block": [16, 16]}}
    assert operands["kv_indices"].data_ptr() == block_mask.kv_indices.data_ptr()
    # Eager flex_attention reads a BlockMask's mask_mod only (its blocks
    # take effect under torch.compile, which has no float64): the float64
    # reference gets the blocks as a mask_mod.
    dense = block_mask.to_dense().bool()

    def listed(b, h, q_idx, kv_idx):
        return dense[b, h, q_idx // 16, kv_idx // 16]

    close(run(spec, q, k, v, **operands), flex64(
        q, k, v, block_mask=create_block_mask(listed, B, H, L, L,
                                              device="cpu")))


@pytest.mark.parametrize("mask_mod,message", [
    (lambda b, h, q, k: q * 2 >= k, "tests 2 \\* q_idx"),
    (lambda b, h, q, k: q % 7 == k % 7, "q_idx % 7"),
    (lambda b, h, q, k: (q >= k) and (k < 4), "write it with &, | and ~"),
    (lambda b, h, q, k: h < 2, "computes with h"),
    (lambda b, h, q, k: torch.sin(q) > 0, "torch.sin"),
])
def test_untranslatable_mask_mods_name_the_construct(mask_mod, message):
    with pytest.raises(ValueError, match=message):
        from_flex(mask_mod, heads=H, head_dim=D)


def test_untranslatable_score_mods_name_the_construct():
    with pytest.raises(ValueError, match="score_mod uses //"):
        from_flex(None, lambda s, b, h, q, k: s + (q // 2), heads=H,
                  head_dim=D)
    with pytest.raises(ValueError, match="torch.erf"):
        from_flex(None, lambda s, b, h, q, k: torch.erf(s), heads=H,
                  head_dim=D)
    with pytest.raises(ValueError, match="finite numbers"):
        from_flex(None, lambda s, b, h, q, k: torch.where(q >= k, s,
                                                          -float("inf")),
                  heads=H, head_dim=D)


# --- torch.compile ------------------------------------------------------------

class Block(torch.nn.Module):
    """A pre-norm transformer block whose attention is Attn's."""

    def __init__(self, dim=64, heads=4):
        super().__init__()
        self.heads = heads
        self.norm = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 4 * dim),
                                       torch.nn.GELU(),
                                       torch.nn.Linear(4 * dim, dim))
        self.spec = {"name": "block", "head_dim": dim // heads,
                     "heads": heads, "layout": "bhsd", "mask": "causal"}

    def forward(self, x):
        b, l, d = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(
            b, l, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = attn.torch.attention(q, k, v, spec=self.spec)
        x = x + self.proj(y.transpose(1, 2).reshape(b, l, d))
        return x + self.mlp(x)


def test_torch_compile_fullgraph_block():
    torch.manual_seed(0)
    block = Block().eval()
    x = torch.randn(2, 50, 64)
    with torch.no_grad():
        eager = block(x)
        compiled = torch.compile(block, fullgraph=True)(x)
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=1e-5)
    # And against the same block with SDPA.
    with torch.no_grad():
        q, k, v = block.qkv(block.norm(x)).reshape(2, 50, 3, 4, 16).permute(
            2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        want = x + block.proj(y.transpose(1, 2).reshape(2, 50, 64))
        want = want + block.mlp(want)
    torch.testing.assert_close(eager, want, atol=1e-5, rtol=1e-5)


def test_meta_tensors_give_shapes():
    spec = {"name": "meta", "head_dim": D, "heads": {"q": H, "kv": 2},
            "layout": "bhsd", "outputs": ["out", "lse"]}
    q = torch.empty(3, H, 17, D, device="meta")
    k = v = torch.empty(3, 2, 40, D, device="meta")
    out, lse = run(spec, q, k, v)
    assert out.shape == (3, H, 17, D) and lse.shape == (3, H, 17)


# --- error paths -----------------------------------------------------------

SPEC = {"name": "errors", "head_dim": D, "heads": H, "layout": "bhsd"}


def test_bad_spec_raises_compile_error():
    q, k, v = qkv()
    with pytest.raises(attn.CompileError, match=r"<dict>:\d+:\d+: error: "
                       r"'mask': unknown mask 'casual'"):
        run(dict(SPEC, mask="casual"), q, k, v)


def test_wrong_dtype_and_shape():
    q, k, v = qkv()
    with pytest.raises(TypeError, match="operand 'q' has dtype torch.float64; "
                       "attn.torch runs float32, float16 and bfloat16"):
        run(SPEC, q.double(), k.double(), v.double())
    with pytest.raises(TypeError, match="operand 'k' has dtype bf16, "
                       "expected f32"):
        run(SPEC, q, k.bfloat16(), v)
    with pytest.raises(ValueError, match=r"operand 'k' has shape \[2, 4, 96, "
                       r"16\]"):
        run(SPEC, q, k[..., :16], v)
    with pytest.raises(ValueError, match="operand 'v' must be contiguous in "
                       "its last dimension"):
        run(SPEC, q, k, v.transpose(2, 3).contiguous().transpose(2, 3))


def test_cuda_without_a_gpu_says_so():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="target 'cuda' is the chip of CUDA "
                       "device 0, but .*name the chip instead"):
        attn.torch.kernel_for(attn.to_yaml(dict(SPEC, dtype="bf16")),
                              torch.device("cuda", 0), torch.bfloat16)


def test_backward_says_forward_only():
    q, k, v = qkv()
    q.requires_grad_(True)
    out = run(SPEC, q, k, v)
    assert out.requires_grad
    with pytest.raises(RuntimeError, match="forward-only"):
        out.sum().backward()


def test_and_masks_or_masks_and_abs_translate():
    from torch.nn.attention.flex_attention import and_masks, or_masks
    q, k, v = qkv()

    def window(b, h, q_idx, kv_idx):
        return q_idx - kv_idx <= 20

    def sink(b, h, q_idx, kv_idx):
        return kv_idx < 4

    def near(b, h, q_idx, kv_idx):
        return abs(q_idx - kv_idx) <= 5

    for mask_mod, want in [
            (and_masks(causal, window), {"sliding_window": {
                "left": 20, "right": 0, "align": "top_left"}}),
            (or_masks(sink, and_masks(causal, window)), None),
            (near, {"sliding_window": {"left": 5, "right": 5,
                                       "align": "top_left"}})]:
        spec, operands = from_flex(mask_mod, heads=H, head_dim=D)
        if want is not None:
            assert spec["mask"] == want
        close(run(spec, q, k, v, **operands), flex64(
            q, k, v, block_mask=create_block_mask(mask_mod, None, None, L, L,
                                                  device="cpu")))
    # A mask that holds everywhere is no mask.
    spec, _ = from_flex(lambda b, h, q, k: k >= 0, heads=H, head_dim=D)
    assert "mask" not in spec


def test_bias_used_with_score_twice_is_refused():
    bias = torch.randn(B, H, L, L)
    with pytest.raises(ValueError, match="adds a bias tensor other than"):
        from_flex(None, lambda s, b, h, q, k: torch.where(
            q > k, s + bias[b, h, q, k], s), heads=H, head_dim=D)
    # After the other modifiers, it is fine.
    spec, _ = from_flex(None, lambda s, b, h, q, k: 2.0 * s + bias[b, h, q, k],
                        heads=H, head_dim=D)
    assert spec["score"] == [{"expr": "(2.0 * score)"},
                             {"bias": {"broadcast": ["b", "h", "q", "k"]}}]


def test_chunked_needs_equal_lengths():
    with pytest.raises(ValueError, match="needs q_len == kv_len"):
        from_flex(chunked, heads=H, head_dim=D)
