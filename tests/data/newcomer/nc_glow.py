"""A newcomer's Glow flow step (issue #69, sixth round): actnorm (a learned per-channel scale and
shift), an invertible 1x1 convolution whose log-determinant is `torch.slogdet` of its weight, and an
affine coupling (half the channels, through a small conv net, give the other half's log-scale, by
`tanh`, and shift); the step's log-determinant summed with `log`/`sum`. The forward returns a dict,
{"z": the transformed 8x8x8 image, "logdet": per sample}, as flow libraries do. `by_hand`: the
log-determinant by `torch.linalg.slogdet`, as hint `det-alias` says (the same values in torch)."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

C, H = 8, 8


class TinyGlowStep(nn.Module):
    def __init__(self, width=32, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        self.an_scale = nn.Parameter(torch.rand(1, C, 1, 1) + 0.5)
        self.an_shift = nn.Parameter(torch.randn(1, C, 1, 1) * 0.1)
        q, _ = torch.linalg.qr(torch.randn(C, C))
        self.weight = nn.Parameter(q)
        self.net = nn.Sequential(
            nn.Conv2d(C // 2, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, C, 3, padding=1)
        )

    def forward(self, x):  # (batch, C, H, H)
        pixels = x.shape[2] * x.shape[3]
        x = (x + self.an_shift) * self.an_scale
        logdet = pixels * torch.log(self.an_scale.abs()).sum()
        x = F.conv2d(x, self.weight.view(C, C, 1, 1))
        slogdet = torch.linalg.slogdet if self.by_hand else torch.slogdet
        logdet = logdet + pixels * slogdet(self.weight)[1]
        xa, xb = x.chunk(2, dim=1)
        log_s, t = self.net(xa).chunk(2, dim=1)
        log_s = torch.tanh(log_s)
        z = torch.cat([xa, xb * torch.exp(log_s) + t], dim=1)
        return {"z": z, "logdet": logdet + log_s.flatten(1).sum(1)}


def build(seed=0, by_hand=False):
    torch.manual_seed(seed)
    x = torch.randn(2, C, H, H, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyGlowStep(by_hand=by_hand).eval(), (x,), atol=1e-4, rtol=1e-4)


def by_hand(seed=0):
    return build(seed, by_hand=True)
