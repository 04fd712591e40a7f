"""A recommender's pooled sparse features (issue #69, fourth round): three `nn.EmbeddingBag`s,
modes sum, mean and max, over int64 ids and offsets. IREE lowers `aten.embedding_bag` only in mode
"sum"; `by_hand` writes the mean and max bags out (a membership mask from the offsets, a matmul, a
masked amax), as the hint says, and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


def bag_by_hand(bag, ids, offsets):
    position = torch.arange(ids.shape[0])
    bag_of = (position.unsqueeze(1) >= offsets.unsqueeze(0)).sum(1) - 1
    member = bag_of.unsqueeze(0) == torch.arange(offsets.shape[0]).unsqueeze(1)
    rows = bag.weight[ids]
    if bag.mode == "max":
        return rows.unsqueeze(0).masked_fill(~member.unsqueeze(-1), float("-inf")).amax(1)
    return (member.float() @ rows) / member.sum(1, keepdim=True).clamp(min=1).float()


class Bags(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.bags = torch.nn.ModuleList(torch.nn.EmbeddingBag(50, 8, mode=m) for m in ("sum", "mean", "max"))

    def forward(self, ids, offsets):
        by_hand = [self.by_hand and b.mode != "sum" for b in self.bags]
        pooled = [bag_by_hand(b, ids, offsets) if h else b(ids, offsets) for b, h in zip(self.bags, by_hand)]
        return torch.cat(pooled, dim=1)


def _spec(by_hand):
    ids = torch.tensor([3, 17, 42, 8, 8, 0, 49, 21, 5, 30], dtype=torch.int64)
    offsets = torch.tensor([0, 3, 4, 8], dtype=torch.int64)
    return ModelSpec(Bags(by_hand).eval(), (ids, offsets), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
