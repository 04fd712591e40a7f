"""A route model (issue #69, sixth round): an RWKV-style token shift, each token mixed with the one
before it by `F.pad(x, (0, 0, 1, -1))` (a padding by a negative amount). IREE compiles it and its
outputs differ from torch (hint `negative-pad`, named by the run's mismatch); `by_hand` pads by the
positive amount and slices the last token off, the same values in torch, and matches."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

DIM, SEQ = 16, 8


class TokenShift(nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.mix = nn.Parameter(torch.rand(DIM))
        self.proj = nn.Linear(DIM, DIM)

    def forward(self, x):  # (batch, SEQ, DIM)
        if self.by_hand:  # hint negative-pad's route
            prev = F.pad(x, (0, 0, 1, 0))[:, :-1]
        else:
            prev = F.pad(x, (0, 0, 1, -1))
        return self.proj(x * self.mix + prev * (1 - self.mix))


def _spec(by_hand):
    torch.manual_seed(0)
    x = torch.randn(2, SEQ, DIM, generator=torch.Generator().manual_seed(0))
    return ModelSpec(TokenShift(by_hand).eval(), (x,), atol=1e-4, rtol=1e-4)


def build(seed=0):
    return _spec(False)


def by_hand(seed=0):
    return _spec(True)
