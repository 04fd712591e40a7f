"""A newcomer's temporal conv net (issue #69, third round): Conv1d blocks with dilations 1, 2, 4,
8, made causal by padding the left only (F.pad), GroupNorm, GELU, residual adds; a sensor
sequence (1, 6, 64) to a class per time step."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


class CausalBlock(nn.Module):
    def __init__(self, ch, dilation, kernel=3):
        super().__init__()
        self.left = (kernel - 1) * dilation
        self.conv = nn.Conv1d(ch, ch, kernel, dilation=dilation)
        self.norm = nn.GroupNorm(4, ch)

    def forward(self, x):
        return x + F.gelu(self.norm(self.conv(F.pad(x, (self.left, 0)))))


class TinyTCN(nn.Module):
    def __init__(self, cin=6, ch=32, classes=5):
        super().__init__()
        self.inp = nn.Conv1d(cin, ch, 1)
        self.blocks = nn.Sequential(*(CausalBlock(ch, d) for d in (1, 2, 4, 8)))
        self.head = nn.Conv1d(ch, classes, 1)

    def forward(self, x):  # x: (batch, channels, time)
        return self.head(self.blocks(self.inp(x)))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyTCN().eval(), (torch.randn(1, 6, 64),), atol=1e-5, rtol=1e-4)
