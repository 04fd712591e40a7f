"""A KAN layer's degree-1 B-spline basis (issue #69, fifth round): each input's knot interval by
`torch.bucketize`, the in-grid mask `(cell >= 0) & (cell < n)`, `F.one_hot`, hat functions. IREE has
no `aten.__and__.Tensor` (the `&` of two booleans); `~fx+decompose` exports it as `bitwise_and`, and
`by_hand` writes `torch.logical_and`, as the hint says: both match torch."""

import torch
import torch.nn.functional as F
from _factories import seeded

from models.api import ModelSpec


class SplineBasis(torch.nn.Module):
    def __init__(self, by_hand=False, grid=6):
        super().__init__()
        self.by_hand = by_hand
        self.register_buffer("knots", torch.linspace(-1.0, 1.0, grid + 1))
        self.mix = torch.nn.Linear(4 * grid, 3)

    def forward(self, x):  # (batch, 4), some values outside [-1, 1]
        g = self.knots
        cell = torch.bucketize(x, g, right=True) - 1
        if self.by_hand:
            inside = torch.logical_and(cell >= 0, cell < g.numel() - 1)
        else:
            inside = (cell >= 0) & (cell < g.numel() - 1)
        onehot = F.one_hot(cell.clamp(0, g.numel() - 2), g.numel() - 1).to(x.dtype) * inside.unsqueeze(-1)
        t = (x.unsqueeze(-1) - g[:-1]) / (g[1:] - g[:-1])  # position inside each interval
        return self.mix((onehot * t).flatten(1))


def _spec(by_hand):
    return ModelSpec(SplineBasis(by_hand).eval(), (torch.rand(5, 4) * 2.4 - 1.2,), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
