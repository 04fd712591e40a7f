"""FNet-style token mixing (issue #69, third round): `torch.fft.fft2(x).real` over (sequence, hidden).
IREE has no `aten.fft_fft2`; `by_hand` writes the real part of the 2-D DFT as four matmuls by fixed
cos and sin matrices, as the hint says, and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


def _dft(n):
    jk = torch.outer(torch.arange(n), torch.arange(n)).to(torch.float64) * (2 * torch.pi / n)
    return torch.cos(jk).float(), torch.sin(jk).float()


class FourierMix(torch.nn.Module):
    def __init__(self, by_hand=False, seq=8, dim=16):
        super().__init__()
        self.by_hand = by_hand
        self.proj = torch.nn.Linear(dim, dim)
        (self.cs, self.ss), (self.cd, self.sd) = _dft(seq), _dft(dim)

    def forward(self, x):  # (batch, seq, dim)
        if self.by_hand:
            mixed = self.cs @ x @ self.cd - self.ss @ x @ self.sd
        else:
            mixed = torch.fft.fft2(x).real
        return self.proj(torch.nn.functional.layer_norm(x + mixed, x.shape[-1:]))


def _spec(by_hand):
    return ModelSpec(FourierMix(by_hand).eval(), (torch.randn(1, 8, 16),), atol=1e-4, rtol=1e-4)


build, by_hand = seeded(_spec, build=False, by_hand=True)
