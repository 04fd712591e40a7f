"""A newcomer's ConvNeXt (issue #69): transformers' ConvNextModel from a tiny config, no download."""

import torch

from models.api import ModelSpec

REQUIREMENTS = ("transformers==5.23.0",)


class Features(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixels):
        return self.model(pixel_values=pixels).pooler_output


def build(seed=0):
    from transformers import ConvNextConfig, ConvNextModel

    torch.manual_seed(seed)
    config = ConvNextConfig(num_channels=3, hidden_sizes=[16, 32], depths=[1, 1], num_stages=2)
    model = ConvNextModel(config).eval()
    return ModelSpec(Features(model).eval(), (torch.randn(1, 3, 64, 64),), atol=1e-4, rtol=1e-3)
