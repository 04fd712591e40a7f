"""A newcomer's Kolmogorov-Arnold network (issue #69, fifth round), KAN layers as efficient-kan
writes them: each input's cubic B-spline basis on a fixed grid of 8 intervals (the degree-0 basis
by `torch.bucketize` of the input into the knots and `F.one_hot`, then the Cox-de Boor recursion),
a learned spline weight per (output, input, basis), plus a SiLU base branch; 3 layers, 8 -> 16 -> 16
-> 4, a batch of 32 points in [-1.2, 1.2] (some outside the grid)."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

GRID, ORDER = 8, 3


class KANLinear(nn.Module):
    def __init__(self, d_in, d_out, lo=-1.0, hi=1.0):
        super().__init__()
        h = (hi - lo) / GRID
        knots = torch.arange(-ORDER, GRID + ORDER + 1, dtype=torch.float32) * h + lo
        self.register_buffer("knots", knots)  # (GRID + 2 ORDER + 1,)
        self.base = nn.Linear(d_in, d_out)
        self.spline = nn.Parameter(torch.randn(d_out, d_in, GRID + ORDER) * 0.1)

    def basis(self, x):  # (b, d_in) -> (b, d_in, GRID + ORDER)
        g = self.knots
        cell = torch.bucketize(x, g, right=True) - 1  # the interval each x falls in, -1 / len past the ends
        inside = (cell >= 0) & (cell < g.numel() - 1)
        b = F.one_hot(cell.clamp(0, g.numel() - 2), g.numel() - 1).to(x.dtype) * inside.unsqueeze(-1)
        x = x.unsqueeze(-1)
        for k in range(1, ORDER + 1):
            left = (x - g[: -(k + 1)]) / (g[k:-1] - g[: -(k + 1)]) * b[..., :-1]
            right = (g[k + 1 :] - x) / (g[k + 1 :] - g[1:-k]) * b[..., 1:]
            b = left + right
        return b

    def forward(self, x):
        spline = torch.einsum("bik,oik->bo", self.basis(x), self.spline)
        return self.base(F.silu(x)) + spline


class TinyKAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(KANLinear(8, 16), KANLinear(16, 16), KANLinear(16, 4))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))  # keep each layer's input on the next one's grid
        return x


def build(seed=0):
    torch.manual_seed(seed)
    x = torch.rand(32, 8) * 2.4 - 1.2
    return ModelSpec(TinyKAN().eval(), (x,), atol=1e-4, rtol=1e-4)
