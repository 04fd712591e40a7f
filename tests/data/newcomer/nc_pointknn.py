"""A newcomer's point-cloud block (issue #69, third round): for 64 points in 3-D, the k = 8 nearest
neighbours by torch.cdist + torch.topk, their features by torch.gather, an EdgeConv-style MLP on
(neighbour - centre, centre) with a max over neighbours, then a scatter_add into 4 voxel cells
chosen by a cumsum-ranked height, pooled to 6 classes."""

import torch
from torch import nn

from models.api import ModelSpec


class PointKNN(nn.Module):
    def __init__(self, k=8, dim=32, cells=4, classes=6, cdist_by_hand=False):
        super().__init__()
        self.k, self.cells, self.cdist_by_hand = k, cells, cdist_by_hand
        self.embed = nn.Linear(3, dim)
        self.edge = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.head = nn.Linear(cells * dim, classes)

    def forward(self, pts):  # pts: (batch, points, 3)
        b, n, _ = pts.shape
        f = self.embed(pts)  # (b, n, dim)
        if self.cdist_by_hand:  # the route docs/failures.md gives for `aten.cdist`
            dist = (pts.unsqueeze(2) - pts.unsqueeze(1)).square().sum(-1)  # squared: the same order
        else:
            dist = torch.cdist(pts, pts)  # (b, n, n)
        idx = dist.topk(self.k, dim=-1, largest=False).indices  # (b, n, k)
        nb = torch.gather(
            f.unsqueeze(1).expand(b, n, n, f.shape[-1]),
            2,
            idx.unsqueeze(-1).expand(b, n, self.k, f.shape[-1]),
        )
        centre = f.unsqueeze(2).expand_as(nb)
        h = self.edge(torch.cat([nb - centre, centre], dim=-1)).amax(dim=2)  # (b, n, dim)
        # a cell per point from its height's rank: the share of points lower than it, by cumsum
        order = pts[..., 2].argsort(dim=1)
        rank = torch.ones_like(order).cumsum(dim=1) - 1
        cell = torch.zeros_like(order).scatter(1, order, rank) * self.cells // n  # (b, n)
        pooled = torch.zeros(b, self.cells, h.shape[-1], dtype=h.dtype)
        pooled = pooled.scatter_add(1, cell.unsqueeze(-1).expand_as(h), h)
        return self.head(pooled.flatten(1))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(PointKNN().eval(), (torch.randn(1, 64, 3),), atol=1e-5, rtol=1e-4)


def by_hand(seed=0):
    """The same model with the distances written out, as the hint for `aten.cdist` says."""
    torch.manual_seed(seed)
    return ModelSpec(PointKNN(cdist_by_hand=True).eval(), (torch.randn(1, 64, 3),), atol=1e-5, rtol=1e-4)
