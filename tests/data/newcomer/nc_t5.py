"""A newcomer's T5 encoder (issue #69, second round): transformers' T5EncoderModel from a tiny config
(relative position buckets, RMS norm), called with token ids only, random weights, no download."""

import torch

from models.api import ModelSpec

REQUIREMENTS = ("transformers==5.23.0",)


class Hidden(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(input_ids=ids).last_hidden_state


def build(seed=0):
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=128, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
        relative_attention_num_buckets=8, relative_attention_max_distance=16,
    )  # fmt: skip
    model = T5EncoderModel(config).eval()
    return ModelSpec(Hidden(model).eval(), (torch.randint(0, 128, (1, 12)),), atol=1e-4, rtol=1e-3)
