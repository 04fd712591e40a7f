"""A newcomer's Qwen2 (issue #69): transformers' Qwen2Model from a tiny config, called with token ids
as a user first writes it, no download."""

import torch

from models.api import ModelSpec

REQUIREMENTS = ("transformers==5.23.0",)


class Hidden(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(input_ids=ids, use_cache=False).last_hidden_state


def build(seed=0):
    from transformers import Qwen2Config, Qwen2Model

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
    )  # fmt: skip
    model = Qwen2Model(config).eval()
    return ModelSpec(Hidden(model).eval(), (torch.randint(0, 128, (1, 12)),), atol=1e-4, rtol=1e-3)
