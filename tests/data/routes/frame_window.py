"""An audio front end that frames a waveform and windows each frame with `torch.hann_window(n)` made
in `forward` (issue #69, the op survey): IREE has no `aten.hann_window`; `by_hand` builds the window
once, as a buffer, as the hint says, and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec

FRAME, HOP = 32, 16


class Frames(torch.nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.register_buffer("window", torch.hann_window(FRAME))
        self.proj = torch.nn.Linear(FRAME, 8)

    def forward(self, wave):  # (batch, samples)
        frames = wave.unfold(-1, FRAME, HOP)  # (batch, frames, FRAME)
        window = self.window if self.by_hand else torch.hann_window(FRAME)
        return self.proj(frames * window).relu().mean(1)


def _spec(by_hand):
    return ModelSpec(Frames(by_hand).eval(), (torch.randn(2, 256),), atol=1e-5, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
