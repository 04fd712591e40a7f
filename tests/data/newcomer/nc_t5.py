"""A newcomer's T5 encoder (issue #69, second round): transformers' T5EncoderModel from a tiny config
(relative position buckets, RMS norm), called with token ids only, random weights, no download."""

import torch
from _wrapped import wrapped

REQUIREMENTS = ("transformers==5.23.0",)


def build(seed=0):
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=128, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2,
        relative_attention_num_buckets=8, relative_attention_max_distance=16,
    )  # fmt: skip
    return wrapped(T5EncoderModel(config), torch.randint(0, 128, (1, 12)), "input_ids", "last_hidden_state")
