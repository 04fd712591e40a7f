"""A newcomer's Swin (issue #69, second round): transformers' SwinModel from a tiny config (shifted
windows: torch.roll and a window mask), random weights, no download."""

import torch
from _wrapped import wrapped

REQUIREMENTS = ("transformers==5.23.0",)


def build(seed=0):
    from transformers import SwinConfig, SwinModel

    torch.manual_seed(seed)
    config = SwinConfig(
        image_size=32, patch_size=2, num_channels=3, embed_dim=16, depths=[2, 2], num_heads=[2, 4],
        window_size=4, mlp_ratio=2.0,
    )  # fmt: skip
    return wrapped(SwinModel(config), torch.randn(1, 3, 32, 32), "pixel_values", "pooler_output")
