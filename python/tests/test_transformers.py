"""attn_implementation="attn" in small random Llama, Mistral, Qwen2 and
Gemma-2 models against transformers' eager attention, in float32: every
layer's output and the logits, with and without padding, and packed
sequences. No weights are downloaded."""

import copy

import pytest
import torch
from transformers import (AutoModelForCausalLM, Gemma2Config, LlamaConfig,
                          MistralConfig, Qwen2Config)

import attn.torch
import attn.transformers

attn.transformers.register()

COMMON = dict(vocab_size=128, hidden_size=64, intermediate_size=128,
              num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256)
CONFIGS = {
    "llama": LlamaConfig(**COMMON),
    "mistral": MistralConfig(sliding_window=8, **COMMON),
    "qwen2": Qwen2Config(use_sliding_window=True, sliding_window=8,
                         max_window_layers=1, **COMMON),
    "gemma2": Gemma2Config(head_dim=16, query_pre_attn_scalar=16,
                           sliding_window=8, attn_logit_softcapping=50.0,
                           final_logit_softcapping=30.0, **COMMON),
}


def models(name):
    torch.manual_seed(0)
    eager = AutoModelForCausalLM.from_config(copy.deepcopy(CONFIGS[name]),
                                             attn_implementation="eager")
    ours = AutoModelForCausalLM.from_config(copy.deepcopy(CONFIGS[name]),
                                            attn_implementation="attn")
    ours.load_state_dict(eager.state_dict())
    return eager.eval(), ours.eval()


@pytest.fixture
def specs(monkeypatch):
    """The specs the layers ran."""
    seen = []
    run = attn.torch.attention

    def spy(q, k, v, spec, **operands):
        seen.append(spec)
        return run(q, k, v, spec=spec, **operands)

    monkeypatch.setattr(attn.torch, "attention", spy)
    return seen


def compare(eager, ours, ids, keep, **kwargs):
    with torch.no_grad():
        want = eager(ids, output_hidden_states=True, **kwargs)
        got = ours(ids, output_hidden_states=True, **kwargs)
    assert len(want.hidden_states) == len(got.hidden_states)
    for layer, (a, b) in enumerate(zip(want.hidden_states, got.hidden_states)):
        torch.testing.assert_close(b[keep], a[keep], atol=1e-5, rtol=1e-5,
                                   msg=lambda m: f"layer {layer}: {m}")
    torch.testing.assert_close(got.logits[keep], want.logits[keep], atol=1e-5,
                               rtol=1e-5)


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("padding", [False, True], ids=["dense", "padded"])
def test_model_matches_eager(name, padding, specs):
    eager, ours = models(name)
    ids = torch.randint(0, 128, (2, 24), generator=torch.Generator()
                        .manual_seed(1))
    mask = torch.ones(2, 24, dtype=torch.long)
    if padding:
        mask[1, :5] = 0  # left padding
    compare(eager, ours, ids, mask.bool(), attention_mask=mask)

    # Each layer's kernel follows its configuration.
    assert len(specs) == 2
    for spec in specs:
        assert spec["heads"] == {"q": 4, "kv": 2}
        assert "causal" in spec["mask"]
        assert ("document" in spec["mask"]) == padding
    windows = [m for s in specs for m in s["mask"]
               if isinstance(m, dict) and "sliding_window" in m]
    # transformers' window of 8 is the query and the 7 keys before it.
    expected = {"llama": 0, "mistral": 2, "qwen2": 1, "gemma2": 1}[name]
    assert windows == [{"sliding_window": {"left": 7}}] * expected
    if name == "gemma2":
        assert all(s["score"] == [{"softcap": 50.0}] for s in specs)
        assert specs[0]["scale"] == 0.25


def test_packed_sequences_use_the_models_mask(specs):
    """Packed sequences (position ids restarting) change the model's mask:
    the full mask goes in as a bias."""
    eager, ours = models("llama")
    ids = torch.randint(0, 128, (1, 24), generator=torch.Generator()
                        .manual_seed(2))
    positions = torch.cat([torch.arange(10), torch.arange(14)])[None]
    compare(eager, ours, ids, torch.ones(1, 24, dtype=torch.bool),
            position_ids=positions, use_cache=False)
    assert all("bias" in str(s.get("score")) and "mask" not in s
               for s in specs)


def test_generation_with_a_cache_matches_eager():
    eager, ours = models("mistral")
    ids = torch.randint(0, 128, (1, 12), generator=torch.Generator()
                        .manual_seed(3))
    with torch.no_grad():
        want = eager.generate(ids, max_new_tokens=8, do_sample=False)
        got = ours.generate(ids, max_new_tokens=8, do_sample=False)
    assert torch.equal(got, want)


def test_training_is_refused():
    _, ours = models("llama")
    ours.train()
    ours.config.attention_dropout = 0.1
    for layer in ours.model.layers:
        layer.self_attn.attention_dropout = 0.1
    with pytest.raises(NotImplementedError, match="inference only"):
        ours(torch.zeros(1, 4, dtype=torch.long))


def test_other_mask_functions_come_whole():
    """Chunked, bidirectional or custom mask functions are taken as the
    model's full mask; causal and sliding ones as structure."""
    from transformers import masking_utils as mu
    common = dict(batch_size=1, q_length=6, kv_length=6)
    assert attn.transformers.mask(
        mask_function=mu.causal_mask_function, **common) is None
    assert attn.transformers.mask(
        mask_function=mu.sliding_window_causal_mask_function(3),
        **common) is None
    chunked = attn.transformers.mask(
        mask_function=mu.chunked_causal_mask_function(
            3, torch.zeros(1, dtype=torch.long)), **common)
    assert chunked.shape == (1, 1, 6, 6) and not chunked[0, 0, 4, 2]
    bidirectional = attn.transformers.mask(
        mask_function=mu.bidirectional_mask_function, **common)
    assert bool(bidirectional.all())
