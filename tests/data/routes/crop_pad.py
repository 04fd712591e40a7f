"""A route model (issue #69, eighth session): a crop written as a padding by a negative amount,
`F.pad(y, (0, 0, 0, -1))`, the last row dropped. IREE 3.13.0 refuses to compile it ("slice along
dimension 0 runs out-of-bounds", lowered from torch.aten.pad; hint `negative-pad`, named by the
compile's message); `by_hand` slices the row off, the same values in torch, and matches."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec


class Crop(nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.proj = nn.Linear(8, 8)

    def forward(self, x):  # (batch, 7, 8)
        y = self.proj(x)
        if self.by_hand:  # hint negative-pad's route
            return y[:, :-1]
        return F.pad(y, (0, 0, 0, -1))


def _spec(by_hand):
    torch.manual_seed(0)
    x = torch.randn(1, 7, 8, generator=torch.Generator().manual_seed(0))
    return ModelSpec(Crop(by_hand).eval(), (x,), atol=1e-4, rtol=1e-4)


def build(seed=0):
    return _spec(False)


def by_hand(seed=0):
    return _spec(True)
