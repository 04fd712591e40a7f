"""A newcomer's Swin (issue #69, second round): transformers' SwinModel from a tiny config (shifted
windows: torch.roll and a window mask), random weights, no download."""

import torch

from models.api import ModelSpec

REQUIREMENTS = ("transformers==5.23.0",)


class Pooled(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixels):
        return self.model(pixel_values=pixels).pooler_output


def build(seed=0):
    from transformers import SwinConfig, SwinModel

    torch.manual_seed(seed)
    config = SwinConfig(
        image_size=32, patch_size=2, num_channels=3, embed_dim=16, depths=[2, 2], num_heads=[2, 4],
        window_size=4, mlp_ratio=2.0,
    )  # fmt: skip
    model = SwinModel(config).eval()
    return ModelSpec(Pooled(model).eval(), (torch.randn(1, 3, 32, 32),), atol=1e-4, rtol=1e-3)
