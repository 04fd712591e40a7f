"""A newcomer's PixelCNN (issue #69, sixth round): masked convolutions (the weight multiplied by a
fixed mask buffer: type A for the first layer, B after), GroupNorm and InstanceNorm between them, a
gated activation (tanh times sigmoid) and a 1x1 head to 16 intensity levels per pixel of a 1x12x12
image; outputs the per-pixel log-probabilities (`log_softmax`)."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec

LEVELS = 16


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        mask = torch.ones(kh, kw)
        mask[kh // 2, kw // 2 + (mask_type == "B") :] = 0
        mask[kh // 2 + 1 :] = 0
        self.register_buffer("mask", mask[None, None])

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


class TinyPixelCNN(nn.Module):
    def __init__(self, width=24):
        super().__init__()
        self.first = MaskedConv2d("A", 1, 2 * width, 7, padding=3)
        self.gn = nn.GroupNorm(4, width)
        self.mid = MaskedConv2d("B", width, 2 * width, 3, padding=1)
        self.inorm = nn.InstanceNorm2d(width, affine=True)
        self.head = nn.Conv2d(width, LEVELS, 1)

    def gate(self, x):
        a, b = x.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)

    def forward(self, image):  # (batch, 1, 12, 12)
        h = self.gn(self.gate(self.first(image)))
        h = h + self.inorm(self.gate(self.mid(h)))
        return F.log_softmax(self.head(torch.relu(h)), dim=1)


def build(seed=0):
    torch.manual_seed(seed)
    image = torch.rand(2, 1, 12, 12, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(TinyPixelCNN().eval(), (image,), atol=1e-4, rtol=1e-4)
