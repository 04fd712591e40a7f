"""A newcomer's super-resolution / style net (issue #69, fourth round): `nn.ReflectionPad2d` before
each convolution, `nn.InstanceNorm2d` (affine), residual blocks, `F.pad(mode="reflect")`, then ×2
upsampling by `nn.PixelShuffle`; a (1, 3, 24, 24) image to (1, 3, 48, 48)."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


class Residual(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch, affine=True), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch, affine=True),
        )  # fmt: skip

    def forward(self, x):
        return x + self.body(x)


class TinySuperRes(nn.Module):
    def __init__(self, ch=16, scale=2):
        super().__init__()
        self.head = nn.Conv2d(3, ch, 5)
        self.norm = nn.InstanceNorm2d(ch, affine=True)
        self.blocks = nn.Sequential(Residual(ch), Residual(ch))
        self.up = nn.Sequential(nn.Conv2d(ch, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        h = torch.relu(self.norm(self.head(F.pad(x, (2, 2, 2, 2), mode="reflect"))))
        return torch.sigmoid(self.up(self.blocks(h)))


def build(seed=0):
    torch.manual_seed(seed)
    model = TinySuperRes().eval()
    with torch.no_grad():  # affine parameters away from 1 and 0, so a lost scale or shift shows
        for m in model.modules():
            if isinstance(m, nn.InstanceNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return ModelSpec(model, (torch.rand(1, 3, 24, 24),), atol=1e-4, rtol=1e-4)
