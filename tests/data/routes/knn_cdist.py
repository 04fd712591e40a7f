"""A point-cloud k-nearest-neighbour block (issue #69, third round): torch.cdist, then topk and a
gather of the neighbours' features, max-pooled. IREE has no `aten.cdist`; `~fx+decompose` exports it
through torch's own decomposition, and `by_hand` writes the (squared) distances out, as the hint
says: both match torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


class KNNBlock(torch.nn.Module):
    def __init__(self, by_hand=False, k=4):
        super().__init__()
        self.by_hand, self.k = by_hand, k
        self.embed = torch.nn.Linear(3, 16)

    def forward(self, pts):  # (batch, points, 3)
        if self.by_hand:
            dist = (pts.unsqueeze(-2) - pts.unsqueeze(-3)).square().sum(-1)
        else:
            dist = torch.cdist(pts, pts)
        idx = dist.topk(self.k, dim=-1, largest=False).indices  # (b, n, k)
        f = self.embed(pts)
        b, n, c = f.shape
        nb = torch.gather(f.unsqueeze(1).expand(b, n, n, c), 2, idx.unsqueeze(-1).expand(b, n, self.k, c))
        return (nb - f.unsqueeze(2)).amax(dim=2)


def _spec(by_hand):
    return ModelSpec(KNNBlock(by_hand).eval(), (torch.randn(1, 32, 3),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
