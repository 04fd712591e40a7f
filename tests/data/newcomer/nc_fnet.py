"""A newcomer's FNet-style encoder (issue #69, third round): token mixing by a Fourier transform
instead of attention, `torch.fft.fft2(x).real` over the sequence and hidden axes, then LayerNorm and
a GELU feed-forward, two layers; (1, 16, 32) embeddings."""

import torch
from torch import nn

from models.api import ModelSpec


def dft_real_parts(n):
    """cos and sin of the n-point DFT's angles 2 pi j k / n: for real x, fft(x).real = C x and the
    imaginary part -S x; so fft2(x).real over (seq, dim) = C_seq x C_dim - S_seq x S_dim."""
    jk = torch.outer(torch.arange(n), torch.arange(n)).to(torch.float64) * (2 * torch.pi / n)
    return torch.cos(jk).float(), torch.sin(jk).float()


class FNetLayer(nn.Module):
    def __init__(self, dim=32, seq=16, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        if by_hand:  # the route docs/failures.md gives for `aten.fft_fft2`
            for name, n in (("seq", seq), ("dim", dim)):
                c, s = dft_real_parts(n)
                self.register_buffer(f"c_{name}", c)
                self.register_buffer(f"s_{name}", s)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        if self.by_hand:
            mixed = self.c_seq @ x @ self.c_dim - self.s_seq @ x @ self.s_dim
        else:
            mixed = torch.fft.fft2(x).real
        x = self.norm1(x + mixed)
        return self.norm2(x + self.ff(x))


class TinyFNet(nn.Module):
    def __init__(self, by_hand=False):
        super().__init__()
        self.layers = nn.Sequential(FNetLayer(by_hand=by_hand), FNetLayer(by_hand=by_hand))
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        return self.head(self.layers(x).mean(dim=1))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyFNet().eval(), (torch.randn(1, 16, 32),), atol=1e-4, rtol=1e-4)


def by_hand(seed=0):
    """The same model (the same weights) with the Fourier mixing as four matmuls by fixed DFT
    matrices."""
    torch.manual_seed(seed)
    return ModelSpec(TinyFNet(by_hand=True).eval(), (torch.randn(1, 16, 32),), atol=1e-4, rtol=1e-4)
