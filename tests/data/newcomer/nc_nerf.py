"""A newcomer's NeRF-style volume renderer (issue #69, fifth round): 16 rays (origins and unit
directions as two inputs), 8 stratified samples per ray from `torch.linspace`, a sin/cos positional
encoding, a small MLP to density (softplus) and colour, alpha compositing by `exp` and an exclusive
`torch.cumprod` of the transmittance, then hierarchical sampling: the coarse weights' CDF by
`cumsum`, 8 more depths by inverse transform with `torch.searchsorted` and `gather`, sorted with the
coarse ones, and the same MLP again on all 16; the fine colour and depth per ray."""

import torch
from torch import nn

from models.api import ModelSpec

NEAR, FAR = 2.0, 6.0
COARSE, FINE, FREQS = 8, 8, 4


def encode(x):
    """NeRF's positional encoding: x and sin/cos of 2^k x for k < FREQS."""
    scaled = x.unsqueeze(-1) * (2.0 ** torch.arange(FREQS, dtype=x.dtype))  # (..., 3, FREQS)
    return torch.cat([x, scaled.sin().flatten(-2), scaled.cos().flatten(-2)], -1)


class TinyNeRF(nn.Module):
    def __init__(self, width=48, by_hand=False):
        super().__init__()
        self.by_hand = by_hand
        d_in = 3 + 2 * 3 * FREQS
        self.trunk = nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.sigma = nn.Linear(width, 1)
        self.rgb = nn.Sequential(nn.Linear(width + 3, width // 2), nn.ReLU(), nn.Linear(width // 2, 3))

    def field(self, pts, dirs):
        h = self.trunk(encode(pts))
        sigma = nn.functional.softplus(self.sigma(h)).squeeze(-1)
        rgb = torch.sigmoid(self.rgb(torch.cat([h, dirs.unsqueeze(-2).expand_as(pts)], -1)))
        return sigma, rgb

    def render(self, origins, dirs, t):
        pts = origins.unsqueeze(-2) + dirs.unsqueeze(-2) * t.unsqueeze(-1)  # (b, rays, n, 3)
        sigma, rgb = self.field(pts, dirs)
        delta = torch.cat([t[..., 1:] - t[..., :-1], torch.full_like(t[..., :1], 1e10)], -1)
        alpha = 1.0 - torch.exp(-sigma * delta)
        trans = torch.cumprod(torch.cat([torch.ones_like(alpha[..., :1]), 1.0 - alpha + 1e-10], -1), -1)
        weights = alpha * trans[..., :-1]
        return (weights.unsqueeze(-1) * rgb).sum(-2), (weights * t).sum(-1), weights

    def forward(self, origins, dirs):  # (1, rays, 3) each
        t = torch.linspace(NEAR, FAR, COARSE).expand(*origins.shape[:-1], COARSE)
        _, _, weights = self.render(origins, dirs, t)
        # hierarchical sampling: inverse transform of the coarse weights' piecewise-constant pdf
        mids = 0.5 * (t[..., 1:] + t[..., :-1])  # (b, rays, COARSE - 1) bin edges
        w = weights[..., 1:-1] + 1e-5
        cdf = torch.cumsum(w / w.sum(-1, keepdim=True), -1)
        cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], -1).contiguous()  # (b, rays, COARSE - 1)
        u = torch.linspace(0.0, 1.0, FINE).expand(*cdf.shape[:-1], FINE).contiguous()
        if self.by_hand:  # the route docs/failures.md gives for `aten.searchsorted`: count
            above = (cdf.unsqueeze(-2) <= u.unsqueeze(-1)).sum(-1)
        else:
            above = torch.searchsorted(cdf, u, right=True)
        above = above.clamp(max=cdf.shape[-1] - 1)
        below = (above - 1).clamp(min=0)
        cdf_lo, cdf_hi = cdf.gather(-1, below), cdf.gather(-1, above)
        bin_lo, bin_hi = mids.gather(-1, below), mids.gather(-1, above)
        span = torch.where(cdf_hi - cdf_lo < 1e-5, torch.ones_like(cdf_hi), cdf_hi - cdf_lo)
        fine = bin_lo + (u - cdf_lo) / span * (bin_hi - bin_lo)
        t_all, _ = torch.sort(torch.cat([t, fine], -1), -1)
        rgb, depth, _ = self.render(origins, dirs, t_all)
        return rgb, depth


def _spec(by_hand):
    origins = torch.randn(1, 16, 3) * 0.1
    dirs = nn.functional.normalize(torch.randn(1, 16, 3) + torch.tensor([0.0, 0.0, 1.0]), dim=-1)
    return ModelSpec(TinyNeRF(by_hand=by_hand).eval(), (origins, dirs), atol=1e-4, rtol=1e-4)


def build(seed=0):
    torch.manual_seed(seed)
    return _spec(False)


def by_hand(seed=0):
    """The same model (the same weights and rays) with `searchsorted` as a count of the CDF values at
    or below each quantile."""
    torch.manual_seed(seed)
    return _spec(True)
