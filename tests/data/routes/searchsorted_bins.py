"""Hierarchical sampling as NeRF writes it (issue #69, fifth round): a piecewise-constant pdf from a
small MLP's weights, its CDF by `cumsum`, fixed quantiles inverted by `torch.searchsorted` (right=True)
and two `gather`s. IREE has no `aten.searchsorted` and no recipe decomposes it; `by_hand` counts the
CDF values at or below each quantile, `(cdf.unsqueeze(-2) <= u.unsqueeze(-1)).sum(-1)`, as the hint
says: the same indices, and it matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


class Resample(torch.nn.Module):
    def __init__(self, by_hand=False, bins=8, samples=6):
        super().__init__()
        self.by_hand, self.samples = by_hand, samples
        self.score = torch.nn.Linear(4, bins)
        self.register_buffer("edges", torch.linspace(0.0, 1.0, bins + 1))

    def forward(self, x):  # (batch, 4)
        w = torch.nn.functional.softplus(self.score(x)) + 1e-3
        cdf = torch.cat([torch.zeros_like(w[..., :1]), torch.cumsum(w / w.sum(-1, keepdim=True), -1)], -1)
        u = torch.linspace(0.05, 0.95, self.samples).expand(x.shape[0], self.samples).contiguous()
        if self.by_hand:
            above = (cdf.unsqueeze(-2) <= u.unsqueeze(-1)).sum(-1)
        else:
            above = torch.searchsorted(cdf, u, right=True)
        above = above.clamp(max=cdf.shape[-1] - 1)
        below = (above - 1).clamp(min=0)
        lo, hi = cdf.gather(-1, below), cdf.gather(-1, above)
        edges = self.edges.expand(x.shape[0], -1)
        left, right = edges.gather(-1, below), edges.gather(-1, above)
        return left + (u - lo) / (hi - lo) * (right - left)


def _spec(by_hand):
    return ModelSpec(Resample(by_hand).eval(), (torch.randn(3, 4),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
