"""A 1-D median filter over a feature sequence (`unfold`, then `median` of each window) before a
linear head (issue #69, the op survey): IREE has no `aten.median`; `by_hand` sorts each window and
takes its middle element, as the hint says (`sort` compiles), and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec

WIDTH = 5


class MedianFilter(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.head = torch.nn.Linear(12, 4)

    def forward(self, x):  # (batch, 16)
        windows = x.unfold(-1, WIDTH, 1)  # (batch, 12, WIDTH)
        if self.by_hand:
            smooth = windows.sort(-1).values.select(-1, (WIDTH - 1) // 2)
        else:
            smooth = windows.median(-1).values
        return self.head(smooth)


def _spec(by_hand):
    return ModelSpec(MedianFilter(by_hand).eval(), (torch.randn(2, 16),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
