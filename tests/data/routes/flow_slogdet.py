"""A route model (issue #69, sixth round): a Glow-style invertible 1x1 convolution and its
log-determinant, `torch.slogdet` of the weight. IREE has no lowering for `aten.slogdet` (hint
`det-alias`); `linalg` calls `torch.linalg.slogdet`, the same values in torch, and matches for
x86-64-v3 and newer but differs compiled for a CPU without AVX2, `generic` (hint `det-no-avx2`);
`buffer` computes the log-determinant once as a buffer, and matches there too."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

C = 6


class InvConv(nn.Module):
    def __init__(self, linalg=False, buffer=False):
        super().__init__()
        self.linalg = linalg
        self.weight = nn.Parameter(torch.linalg.qr(torch.randn(C, C))[0] * 1.3)
        self.buffer = buffer
        if buffer:  # hint det-no-avx2's route: the weights' log-determinant, once
            self.register_buffer("logabsdet", torch.linalg.slogdet(self.weight.detach()).logabsdet)

    def forward(self, x):  # (batch, C, h, w)
        y = F.conv2d(x, self.weight.view(C, C, 1, 1))
        if self.buffer:
            logabsdet = self.logabsdet
        elif self.linalg:
            logabsdet = torch.linalg.slogdet(self.weight)[1]
        else:
            logabsdet = torch.slogdet(self.weight)[1]
        return y, x.shape[2] * x.shape[3] * logabsdet * torch.ones(x.shape[0])


def _spec(linalg, buffer=False):
    torch.manual_seed(0)
    x = torch.randn(2, C, 4, 4, generator=torch.Generator().manual_seed(0))
    return ModelSpec(InvConv(linalg, buffer).eval(), (x,), atol=1e-4, rtol=1e-4)


def build(seed=0):
    return _spec(False)


def linalg(seed=0):
    return _spec(True)


def buffer(seed=0):
    return _spec(False, buffer=True)
