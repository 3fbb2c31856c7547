"""The blocked self-attention bf16 encoders use (assistant.index.attention): the same outputs as
torch's kernel on every token, padding ignored, and only the models that should use it do."""

from __future__ import annotations

import pytest
import torch

from assistant.index import attention
from assistant.index.precision import apply


class _Module(torch.nn.Module):
    """What transformers passes as ``module``: only ``training`` and ``is_causal`` are read."""

    is_causal = False


def _inputs(lengths: list[int], heads: int = 3, dim: int = 8, dtype: torch.dtype = torch.float32):
    generator = torch.Generator().manual_seed(len(lengths) * 1000 + max(lengths))
    shape = (len(lengths), heads, max(lengths), dim)
    q, k, v = (torch.randn(shape, generator=generator).to(dtype) for _ in range(3))
    mask = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
    return q, k, v, mask


def _torch_kernel(q, k, v, mask):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :]).transpose(1, 2)


@pytest.mark.parametrize("lengths", [[300], [400, 263, 399], [attention.SDPA_TOKENS + 1, 5]])
def test_long_texts_attend_as_torch_does_on_every_token_and_padding_rows_are_zero(lengths) -> None:
    q, k, v, mask = _inputs(lengths)
    assert q.shape[2] > attention.SDPA_TOKENS  # the blocked path, not torch's kernel
    got, weights = attention.attention(_Module().eval(), q, k, v, mask, scaling=0.3)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :],
                                                            scale=0.3).transpose(1, 2)
    assert weights is None and got.shape == want.shape
    assert torch.allclose(got[mask], want[mask], atol=1e-5)
    assert not got[~mask].any()


def test_without_a_mask_every_position_is_a_token() -> None:
    q, k, v, mask = _inputs([300, 300])
    got, _ = attention.attention(_Module().eval(), q, k, v, None)
    assert torch.allclose(got, _torch_kernel(q, k, v, mask), atol=1e-5)


def test_in_bf16_the_blocks_stay_as_close_to_fp32_as_torchs_kernel_does() -> None:
    q, k, v, mask = _inputs([420, 300])
    exact = _torch_kernel(q, k, v, mask)[mask]
    blocked, _ = attention.attention(_Module().eval(), *(x.bfloat16() for x in (q, k, v)), mask)
    kernel = _torch_kernel(*(x.bfloat16() for x in (q, k, v)), mask)
    blocked_error = (blocked[mask].float() - exact).abs().max()
    kernel_error = (kernel[mask].float() - exact).abs().max()
    assert blocked_error < 0.05 and blocked_error < 3 * kernel_error


@pytest.mark.parametrize("case", ["short", "training", "left padding"])
def test_short_texts_training_and_left_padding_go_to_torchs_kernel(case: str) -> None:
    lengths = [attention.SDPA_TOKENS, 100] if case == "short" else [300, 280]
    q, k, v, mask = _inputs(lengths)
    module = _Module().train(case == "training")
    if case == "left padding":
        mask = mask.flip(-1)
    got, _ = attention.attention(module, q, k, v, mask, dropout=0.0)
    assert got.is_contiguous()  # torch's kernel's output, made contiguous; the blocks return their own
    assert torch.allclose(got, _torch_kernel(q, k, v, mask), atol=1e-5)


def _tiny_encoder():
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=64, max_position_embeddings=700)
    return XLMRobertaModel(config).eval()


def test_bf16_models_switch_to_the_blocks_and_give_the_same_hidden_states() -> None:
    model = _tiny_encoder()
    ids = torch.randint(5, 50, (2, 450), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[1, 300:] = 0
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
        assert model.config._attn_implementation == "sdpa"
        assert apply(model, "fp32").config._attn_implementation == "sdpa"  # fp32 keeps torch's kernel
        attention.use(model)
        got = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert model.config._attn_implementation == attention.NAME
    keep = mask.bool()
    assert torch.allclose(got[keep], want[keep], atol=1e-4)
    assert apply(_tiny_encoder(), "bf16").config._attn_implementation == attention.NAME
