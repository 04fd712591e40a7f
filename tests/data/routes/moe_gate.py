"""A mixture-of-experts gate (issue #69, fourth round): `topk` routing, the gate made by
`zeros.scatter(-1, idx, weights)`. iree-compile crashes lowering torch's `AtenScatterSrcOp`;
`by_hand` makes the gate by a one-hot sum, as the hint says, and matches torch."""

import torch
from _factories import seeded
from torch.nn import functional as F

from models.api import ModelSpec

EXPERTS = 4


class Gate(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.router = torch.nn.Linear(16, EXPERTS)
        self.experts = torch.nn.Linear(16, 16 * EXPERTS)

    def forward(self, x):  # (tokens, 16)
        logits = self.router(x)
        top, idx = torch.topk(logits, 2, dim=-1)
        weights = torch.softmax(top, dim=-1)
        if self.by_hand:
            gate = (F.one_hot(idx, EXPERTS).to(weights.dtype) * weights.unsqueeze(-1)).sum(-2)
        else:
            gate = torch.zeros_like(logits).scatter(-1, idx, weights)
        out = self.experts(x).view(x.shape[0], EXPERTS, 16)
        return (gate.unsqueeze(-1) * out).sum(1)


def _spec(by_hand):
    return ModelSpec(Gate(by_hand).eval(), (torch.randn(8, 16),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
