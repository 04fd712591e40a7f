"""A newcomer's Qwen2 (issue #69): transformers' Qwen2Model from a tiny config, called with token ids
as a user first writes it, no download."""

import torch
from _wrapped import wrapped

REQUIREMENTS = ("transformers==5.23.0",)


def build(seed=0):
    from transformers import Qwen2Config, Qwen2Model

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
    )  # fmt: skip
    return wrapped(
        Qwen2Model(config), torch.randint(0, 128, (1, 12)), "input_ids", "last_hidden_state", use_cache=False
    )
