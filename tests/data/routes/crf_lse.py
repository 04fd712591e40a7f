"""A linear-chain CRF's forward algorithm (issue #69, fifth round): the log partition function by
`torch.logsumexp` over an unrolled loop of 5 steps. IREE cannot lower `aten.logsumexp`, and its
error names only a constant the op takes ("failed to legalize operation 'torch.constant.int'");
`~fx+decompose` exports torch's own decomposition, and `by_hand` writes it with `amax`, as the hint
says: both match torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


def _lse(x, d):
    m = x.amax(d, keepdim=True)
    return (x - m).exp().sum(d).log() + m.squeeze(d)


class ForwardAlgorithm(torch.nn.Module):
    def __init__(self, by_hand=False, tags=4):
        super().__init__()
        self.lse = _lse if by_hand else torch.logsumexp
        self.emit = torch.nn.Linear(6, tags)
        self.transitions = torch.nn.Parameter(torch.randn(tags, tags))

    def forward(self, x):  # (batch, steps, 6)
        e = self.emit(x)
        alpha = e[:, 0]
        for t in range(1, e.shape[1]):
            alpha = self.lse(alpha.unsqueeze(2) + self.transitions, 1) + e[:, t]
        return self.lse(alpha, 1)


def _spec(by_hand):
    return ModelSpec(ForwardAlgorithm(by_hand).eval(), (torch.randn(2, 5, 6),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
