"""A spatial transformer (issue #69, second round): a predicted affine transform, its sampling grid
by `F.affine_grid`, then `F.grid_sample` with border padding. IREE's torch lowering has no
`aten.affine_grid_generator`; `grid_by_hand` builds the same grid as a fixed base grid of pixel
centres times theta, which compiles, and runs into the next failure: IREE 3.13.0's `grid_sample`
pads with zeros whatever `padding_mode` says and is wrong where the grid leaves [-1, 1], so the
outputs differ from torch. `by_hand` also samples by hand (bilinear, border: four gathers), which
compiles and matches torch. `zeros` and `reflection` are `build` with those paddings and a wider
transform (more samples outside the image): exported `~fx+rewrite` (issue #86), `build` and `zeros`
match torch with no code of the user's; `reflection` is left as exported, and says so. `upsampled`
adds a 2x bilinear `F.interpolate(scale_factor=2.0)`, whose float scales IREE's import of the `fx`
route cannot take: `~fx+rewrite` decomposes it as turbine's export does."""

import torch
from torch.nn import functional as F

from models.api import ModelSpec


def base_grid(h, w):
    """(h*w, 3) rows (x, y, 1) of the pixel centres in [-1, 1], as affine_grid with
    align_corners=False spaces them."""
    xs = (torch.arange(w, dtype=torch.float32) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=torch.float32) * 2 + 1) / h - 1
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((x, y, torch.ones_like(x)), dim=-1).reshape(h * w, 3)


def grid_sample_border(img, grid):
    """F.grid_sample(img, grid, "bilinear", padding_mode="border", align_corners=False) by hand."""
    n, c, h, w = img.shape
    x = (((grid[..., 0] + 1) * w - 1) / 2).clamp(0, w - 1)
    y = (((grid[..., 1] + 1) * h - 1) / 2).clamp(0, h - 1)
    x0, y0 = x.floor(), y.floor()
    wx, wy = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.to(torch.int64), y0.to(torch.int64)
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    flat = img.reshape(n, c, h * w)

    def at(yi, xi):
        index = (yi * w + xi).reshape(n, 1, -1).expand(n, c, -1)
        return flat.gather(2, index).reshape(n, c, *yi.shape[1:])

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    return top * (1 - wy) + (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy


class Warp(torch.nn.Module):
    def __init__(self, grid_by_hand=False, sample_by_hand=False, padding="border", spread=0.1, up=False):
        super().__init__()
        self.grid_by_hand, self.sample_by_hand, self.up = grid_by_hand, sample_by_hand, up
        self.padding, self.spread = padding, spread
        self.theta = torch.nn.Linear(3 * 8 * 8, 6)
        self.register_buffer("base", base_grid(8, 8))

    def forward(self, img):
        n, c, h, w = img.shape
        theta = self.theta(img.flatten(1)).view(n, 2, 3) * self.spread + torch.eye(2, 3)
        if self.grid_by_hand:
            grid = (self.base @ theta.transpose(1, 2)).view(n, h, w, 2)
        else:
            grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
        if self.sample_by_hand:
            return grid_sample_border(img, grid)
        out = F.grid_sample(img, grid, mode="bilinear", padding_mode=self.padding, align_corners=False)
        return F.interpolate(out, scale_factor=2.0, mode="bilinear", align_corners=False) if self.up else out


def _spec(seed, **how):
    torch.manual_seed(seed)
    return ModelSpec(Warp(**how).eval(), (torch.randn(1, 3, 8, 8),), atol=1e-5, rtol=1e-4)


def build(seed=0):
    return _spec(seed)


def grid_by_hand(seed=0):
    return _spec(seed, grid_by_hand=True)


def by_hand(seed=0):
    return _spec(seed, grid_by_hand=True, sample_by_hand=True)


def zeros(seed=0):
    return _spec(seed, padding="zeros", spread=0.5)


def upsampled(seed=0):  # then 2x bilinear by a scale_factor, as a newcomer's super-resolution net
    return _spec(seed, up=True)


def reflection(seed=0):
    return _spec(seed, padding="reflection", spread=0.5)
