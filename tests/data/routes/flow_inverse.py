"""A normalizing flow's invertible linear map run backwards, `x @ inv(W).T` with `torch.linalg.inv`
of its weight in `forward` (issue #69, the op survey): IREE has no `aten.linalg_inv` (nor solve,
cholesky, qr, eigh, svd); the matrix depends on the weights only, so `by_hand` inverts it once in the
factory, as a buffer, as the hint says, and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


class InverseStep(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.weight = torch.nn.Parameter(torch.eye(8) + 0.1 * torch.randn(8, 8))
        self.shift = torch.nn.Parameter(0.1 * torch.randn(8))
        self.register_buffer("inverse", torch.linalg.inv(self.weight.detach()))

    def forward(self, y):  # (batch, 8): the flow's output back to its input
        inverse = self.inverse if self.by_hand else torch.linalg.inv(self.weight)
        return (y - self.shift) @ inverse.T


def _spec(by_hand):
    return ModelSpec(InverseStep(by_hand).eval(), (torch.randn(4, 8),), atol=1e-4, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
