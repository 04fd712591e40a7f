"""An audio front end's centring (issue #69, fourth round): a reflect padding of the last axis by
64 samples, as `torch.stft(center=True)` pads, then a strided Conv1d. IREE 3.10.0-3.13.0 fail to
compile a 1-D reflect padding by 16 or more (a dispatch that reads the input backwards: "'linalg.
generic' op inferred input/output operand #0 has shape's dimension #0 to be greater than or equal
to 64, but found 57"); `by_hand` pads by slices and flips, as the hint says, and matches torch."""

import torch
from _factories import seeded
from torch.nn import functional as F

from models.api import ModelSpec

PAD = 64


class Centred(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.conv = torch.nn.Conv1d(1, 4, 128, stride=32)

    def forward(self, x):  # (batch, 1, samples)
        if self.by_hand:
            x = torch.cat([x[..., 1 : PAD + 1].flip(-1), x, x[..., -PAD - 1 : -1].flip(-1)], dim=-1)
        else:
            x = F.pad(x, (PAD, PAD), mode="reflect")
        return self.conv(x)


def _spec(by_hand):
    return ModelSpec(Centred(by_hand).eval(), (torch.randn(1, 1, 400),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
