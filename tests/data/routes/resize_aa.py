"""A model that resizes its input image down with `F.interpolate(..., antialias=True)` before a
convolution (as torchvision's Resize does by default; issue #69, the op survey): IREE has no
`aten._upsample_bilinear2d_aa`, and `fx+decompose` keeps it; `plain` resizes without antialiasing,
as the hint says (other numbers than antialiasing gives: torch's own for that model), and matches."""

import torch
from _factories import seeded
from torch.nn import functional as F

from models.api import ModelSpec


class Resized(torch.nn.Module):
    def __init__(self, antialias=True):
        super().__init__()
        self.antialias = antialias
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, image):  # (1, 3, 32, 32) -> 16 x 16
        small = F.interpolate(image, size=(16, 16), mode="bilinear", antialias=self.antialias)
        return self.conv(small).relu().mean((2, 3))


def _spec(antialias):
    return ModelSpec(Resized(antialias).eval(), (torch.randn(1, 3, 32, 32),), atol=1e-5, rtol=1e-4)


build, plain = seeded(_spec, build=True, plain=False)
