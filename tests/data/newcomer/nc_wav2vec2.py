"""A newcomer's wav2vec2 (issue #69): transformers' Wav2Vec2Model from a tiny config (its positional
convolution is weight-normed), no download."""

import torch
from _wrapped import wrapped

REQUIREMENTS = ("transformers==5.23.0",)


def build(seed=0):
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(seed)
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3),
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
    )  # fmt: skip
    return wrapped(Wav2Vec2Model(config), torch.randn(1, 1600), "input_values", "last_hidden_state")
