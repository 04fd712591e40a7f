"""A tiny Qwen2 decoder from a config (transformers 5.23.0, no weights downloaded; issue #69), called
three ways: `build` with input ids alone (transformers' masking_utils traces `aten.diff`, which IREE
has no lowering for), `mask2d` with the (batch, seq) padding mask (the library's own mask holds a
0-d boolean constant IREE's lowering leaves illegal), `mask4d` with a 4-D boolean (batch, 1, query,
key) mask made from the same padding mask and the causal triangle, as the hints spell it (the same
logits as `mask2d` in torch)."""

import torch

from models.api import ModelSpec

REQUIREMENTS = ("transformers==5.23.0",)
SEQ = 16


class Decoder(torch.nn.Module):
    def __init__(self, model, kind):
        super().__init__()
        self.model = model
        self.kind = kind

    def forward(self, ids, mask):
        if self.kind == "none":
            return self.model(input_ids=ids, use_cache=False).logits
        if self.kind == "2d":
            return self.model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        n = ids.shape[1]
        causal = torch.arange(n)[:, None] >= torch.arange(n)[None, :]
        full = (mask[:, None, None, :] * causal[None, None].to(mask.dtype)).bool()  # no aten.__and__
        return self.model(input_ids=ids, attention_mask=full, use_cache=False).logits


def _spec(seed, kind):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
    )  # fmt: skip
    model = Qwen2ForCausalLM(config).eval()
    ids = torch.randint(0, 256, (1, SEQ))
    mask = torch.ones(1, SEQ, dtype=torch.int64)
    mask[0, -3:] = 0  # three padding tokens
    return ModelSpec(Decoder(model, kind).eval(), (ids, mask), atol=1e-4, rtol=1e-3)


def build(seed=0):
    return _spec(seed, "none")


def mask2d(seed=0):
    return _spec(seed, "2d")


def mask4d(seed=0):
    return _spec(seed, "4d")
