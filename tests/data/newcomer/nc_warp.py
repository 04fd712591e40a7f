"""A newcomer's image-restoration net (issue #69, second round): a spatial transformer
(affine_grid + grid_sample), a bilinear F.interpolate skip, and a pixel_shuffle 2x upsampler.
`build` as first written; `grid_by_hand` after the tool's hint (affine-grid): the sampling grid
built as a fixed base grid of pixel centres times theta, since IREE has no `aten.affine_grid_generator`;
`by_hand` after the hint's next failure: grid_sample by hand too (IREE's pads with zeros, not the
border), as docs/failures.md spells it."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


def _border(coord, size):
    """One axis of the sampling: the source position (align_corners=False) clamped into the image
    (border padding), its two neighbouring pixels and the weight of the second."""
    at = (((coord + 1) * size - 1) / 2).clamp(0, size - 1)
    low = at.floor()
    first = low.to(torch.int64)
    return first, (first + 1).clamp(max=size - 1), (at - low)[:, None]


def grid_sample_border(img, grid):
    """F.grid_sample(img, grid, "bilinear", padding_mode="border", align_corners=False) by hand, as
    docs/failures.md spells it, its two axes by one function: four gathers, weighted."""
    n, c, h, w = img.shape
    x0, x1, wx = _border(grid[..., 0], w)
    y0, y1, wy = _border(grid[..., 1], h)
    flat = img.reshape(n, c, h * w)

    def at(yi, xi):
        index = (yi * w + xi).reshape(n, 1, -1).expand(n, c, -1)
        return flat.gather(2, index).reshape(n, c, *yi.shape[1:])

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


class WarpUpsampler(nn.Module):
    def __init__(self, grid_by_hand=False, sample_by_hand=False):
        super().__init__()
        self.grid_by_hand, self.sample_by_hand = grid_by_hand, sample_by_hand
        xs = (torch.arange(16, dtype=torch.float32) * 2 + 1) / 16 - 1  # pixel centres, align_corners=False
        y, x = torch.meshgrid(xs, xs, indexing="ij")
        self.register_buffer("base", torch.stack((x, y, torch.ones_like(x)), -1).reshape(16 * 16, 3))
        self.loc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.theta = nn.Linear(8, 6)
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 12, 3, padding=1))

    def forward(self, img):  # img: (batch, 3, 16, 16) -> (batch, 3, 32, 32)
        theta = self.theta(torch.flatten(self.loc(img), 1)).view(-1, 2, 3)
        theta = theta * 0.1 + torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        if self.grid_by_hand:
            grid = (self.base @ theta.transpose(1, 2)).view(-1, 16, 16, 2)
        else:
            grid = F.affine_grid(theta, list(img.shape), align_corners=False)
        if self.sample_by_hand:
            warped = grid_sample_border(img, grid)
        else:
            warped = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)
        up = F.pixel_shuffle(self.body(warped), 2)
        return up + F.interpolate(warped, scale_factor=2.0, mode="bilinear", align_corners=False)


def build(seed=0, **by_hand):
    torch.manual_seed(seed)
    model = WarpUpsampler(**by_hand).eval()
    return ModelSpec(model, (torch.randn(1, 3, 16, 16),), atol=1e-4, rtol=1e-3)


def grid_by_hand(seed=0):
    return build(seed, grid_by_hand=True)


def by_hand(seed=0):
    return build(seed, grid_by_hand=True, sample_by_hand=True)
