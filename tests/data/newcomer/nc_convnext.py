"""A newcomer's ConvNeXt (issue #69): transformers' ConvNextModel from a tiny config, no download."""

import torch
from _wrapped import wrapped

REQUIREMENTS = ("transformers==5.23.0",)


def build(seed=0):
    from transformers import ConvNextConfig, ConvNextModel

    torch.manual_seed(seed)
    config = ConvNextConfig(num_channels=3, hidden_sizes=[16, 32], depths=[1, 1], num_stages=2)
    return wrapped(ConvNextModel(config), torch.randn(1, 3, 64, 64), "pixel_values", "pooler_output")
