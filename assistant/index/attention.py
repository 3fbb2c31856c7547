"""Self-attention for the bf16 encoders on the CPU, registered with transformers' attention interface.

Why not only torch's own: e5-small has 12 heads of 32 dimensions. On this CPU torch's fused attention
kernel (``scaled_dot_product_attention``, flash attention on CPU) runs no faster in bf16 than in
fp32, so on long texts it becomes the larger part of a bf16 pass: with attention skipped, bf16 e5
would run 4.1 times fp32 on XQuAD paragraphs; with torch's kernel it runs 2.0-2.3 times. Written as
plain products over one text and 128 query rows at a time, the two matrix products run on the
CPU's bf16 units and the scores stay in cache; the softmax is torch's. Each text attends only over
its own tokens, so padding costs nothing and needs no mask. On XQuAD paragraphs of more than 256
tokens, e5 in bf16 runs 1.16-1.2 times as fast as on torch's kernel in batches sorted by length (as
indexing sends them), and 1.3-1.5 times when a batch mixes lengths; the vectors are the same (min
cosine to fp32 0.99996 either way). Up to 256 tokens torch's kernel is as fast, and it keeps them.
fp32 keeps torch's kernel, which this code does not beat. Figures: docs/precision.md.

Training, causal or cross attention, and padding that is not on the right go to torch's kernel.
"""

from __future__ import annotations

from typing import Any

#: The name a model's attention is switched to (:func:`use`).
NAME = "assistant_cpu_blocks"
#: Texts up to this many tokens (the batch's padded length) stay on torch's kernel: measured as fast.
SDPA_TOKENS = 256
#: Query rows per block of a long text: a block's scores (12 heads x 128 x 512 in bf16) fit in cache.
ROWS = 128


def attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, scaling: float | None = None,
              dropout: float = 0.0, **kwargs: Any) -> tuple[Any, None]:
    """transformers' attention signature: ``query``/``key``/``value`` [batch, heads, tokens, dim],
    ``attention_mask`` the 2-D padding mask (True or 1 = a token) or ``None``; returns [batch,
    tokens, heads, dim]. Rows of padding come back as zeros: no token attends to them, and pooling
    and span heads skip them."""
    import torch

    batch, heads, length, dim = query.shape
    scale = scaling if scaling is not None else dim ** -0.5
    tokens = None if attention_mask is None else attention_mask.bool()
    causal = bool(getattr(module, "is_causal", False))
    right_padded = tokens is None or not bool((tokens[:, 1:] > tokens[:, :-1]).any())
    if length <= SDPA_TOKENS or module.training or causal or key.shape[2] != length or not right_padded:
        mask = None if tokens is None else tokens[:, None, None, :]
        out = torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=mask, dropout_p=dropout if module.training else 0.0, scale=scale,
            is_causal=causal and mask is None and length > 1)
        return out.transpose(1, 2).contiguous(), None
    query = query * scale
    lengths = [length] * batch if tokens is None else tokens.sum(-1).tolist()
    out = torch.zeros(batch, length, heads, dim, dtype=query.dtype)
    for b, n in enumerate(lengths):
        keys, values = key[b, :, :n].transpose(-1, -2), value[b, :, :n]
        for start in range(0, n, ROWS):
            end = min(start + ROWS, n)
            probs = torch.softmax(torch.matmul(query[b, :, start:end], keys), -1)
            out[b, start:end] = torch.matmul(probs, values).transpose(0, 1)
    return out, None


def register() -> None:
    """Make :data:`NAME` known to transformers (idempotent). Its mask is the plain 2-D padding mask,
    as for flash attention, from which each text's length is read."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, flash_attention_mask

    AttentionInterface.register(NAME, attention)
    AttentionMaskInterface.register(NAME, flash_attention_mask)


def use(model: Any, name: str = NAME) -> Any:
    """``model`` (a transformers model, or a module holding one such as a SentenceTransformer) with
    its attention switched to ``name`` (``"sdpa"`` for torch's kernel); returned for chaining."""
    from transformers import PreTrainedModel

    register()
    for part in model.modules():
        if isinstance(part, PreTrainedModel):
            part.set_attn_implementation(name)
            break
    return model
