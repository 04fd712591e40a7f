"""A newcomer's DLRM-style recommender (issue #69, fourth round): three sparse features, each a bag
of int64 ids pooled by `nn.EmbeddingBag` (sum, mean, max) with `offsets` (a batch of 4 bags of
varying length), a bottom MLP on 8 dense features, the pairwise dot-product interaction of the four
16-wide vectors (`bmm` + the upper triangle by fixed indices), a top MLP to a click probability."""

import torch
from torch import nn

from models.api import ModelSpec

BATCH = 4
TABLES = ((100, "sum"), (60, "mean"), (40, "max"))


def bag_by_hand(bag, ids, offsets):
    """`bag(ids, offsets)` for a mean or max `nn.EmbeddingBag` written out (the route
    docs/failures.md gives: IREE lowers only mode "sum"): each id's bag from the offsets, a (bags,
    ids) membership mask, then a matmul (sum), divided by the bag sizes (mean), or a masked amax."""
    position = torch.arange(ids.shape[0], device=ids.device)
    bag_of = (position.unsqueeze(1) >= offsets.unsqueeze(0)).sum(1) - 1  # (ids,)
    member = bag_of.unsqueeze(0) == torch.arange(offsets.shape[0], device=ids.device).unsqueeze(1)
    rows = bag.weight[ids]  # (ids, dim)
    if bag.mode == "max":
        return rows.unsqueeze(0).masked_fill(~member.unsqueeze(-1), float("-inf")).amax(1)
    summed = member.to(rows.dtype) @ rows
    if bag.mode == "mean":
        return summed / member.sum(1, keepdim=True).clamp(min=1).to(rows.dtype)
    return summed


class TinyDLRM(nn.Module):
    def __init__(self, dense=8, dim=16, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.bags = nn.ModuleList(nn.EmbeddingBag(rows, dim, mode=mode) for rows, mode in TABLES)
        self.bottom = nn.Sequential(nn.Linear(dense, 32), nn.ReLU(), nn.Linear(32, dim), nn.ReLU())
        features = len(TABLES) + 1
        rows, cols = torch.triu_indices(features, features, offset=1)
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)
        self.top = nn.Sequential(nn.Linear(dim + rows.numel(), 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, dense, ids0, off0, ids1, off1, ids2, off2):
        z = self.bottom(dense)
        pooled = [
            bag_by_hand(bag, i, o) if self.by_hand and bag.mode != "sum" else bag(i, o)
            for bag, i, o in zip(self.bags, (ids0, ids1, ids2), (off0, off1, off2))
        ]
        t = torch.stack([z, *pooled], dim=1)  # (batch, 4, dim)
        dots = torch.bmm(t, t.transpose(1, 2))[:, self.rows, self.cols]
        return torch.sigmoid(self.top(torch.cat([z, dots], dim=1)))


def bag_inputs(rows, lengths, generator):
    ids = torch.randint(0, rows, (sum(lengths),), generator=generator, dtype=torch.int64)
    offsets = torch.tensor([0, *torch.tensor(lengths).cumsum(0)[:-1].tolist()], dtype=torch.int64)
    return ids, offsets


def build(seed=0, by_hand=False):
    torch.manual_seed(seed)
    model = TinyDLRM(by_hand=by_hand).eval()
    g = torch.Generator().manual_seed(seed + 1)
    inputs = [torch.randn(BATCH, 8)]
    for (rows, _), lengths in zip(TABLES, ((3, 1, 4, 2), (2, 2, 2, 2), (1, 5, 2, 3))):
        inputs.extend(bag_inputs(rows, lengths, g))
    return ModelSpec(model, tuple(inputs), atol=1e-5, rtol=1e-4)


def by_hand(seed=0):
    """The same model (the same weights, the same inputs) with the mean and max bags written out."""
    return build(seed, by_hand=True)
