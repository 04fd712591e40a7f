"""A newcomer's dynamically quantized MLP (issue #69, fifth round): a 3-layer MLP on 32 features,
`torch.ao.quantization.quantize_dynamic` on its `nn.Linear`s (int8 weights, activations quantized
per call), as a CPU deployment guide would do before shipping it; a batch of 4."""

import torch
from torch import nn

from models.api import ModelSpec


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))

    def forward(self, x):
        return self.net(x)


def build(seed=0):
    torch.manual_seed(seed)
    net = torch.ao.quantization.quantize_dynamic(MLP().eval(), {nn.Linear}, dtype=torch.qint8)
    return ModelSpec(net, (torch.randn(4, 32),), atol=1e-4, rtol=1e-4)


def float_model(seed=0):
    """The same MLP before quantize_dynamic (the route the quantized-op hint gives)."""
    torch.manual_seed(seed)
    return ModelSpec(MLP().eval(), (torch.randn(4, 32),), atol=1e-4, rtol=1e-4)
