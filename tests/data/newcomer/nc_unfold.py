"""A newcomer's local (patch) attention block (issue #69, fifth round): each pixel of an (8, 16, 16)
feature map attends over its 3x3 neighbourhood, the neighbours' keys and values gathered by
`nn.Unfold` (im2col, zero padding), a softmax over the 9, then an overlapping 4x4 patch projection
with stride 2 (`F.unfold`) whose outputs are summed back into the image by `F.fold` (col2im) and
divided by the overlap count (`F.fold` of ones); (1, 3, 16, 16) in."""

import torch
import torch.nn.functional as F
from torch import nn

from models.api import ModelSpec


class LocalAttention(nn.Module):
    def __init__(self, dim=8, k=3):
        super().__init__()
        self.k = k
        self.qkv = nn.Conv2d(dim, 3 * dim, 1)
        self.unfold = nn.Unfold(kernel_size=k, padding=k // 2)
        self.out = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=1)
        keys = self.unfold(k).view(b, c, self.k * self.k, h * w)  # (b, c, 9, hw)
        vals = self.unfold(v).view(b, c, self.k * self.k, h * w)
        score = (q.view(b, c, 1, h * w) * keys).sum(1, keepdim=True) * c**-0.5  # (b, 1, 9, hw)
        att = score.softmax(dim=2)
        return x + self.out((att * vals).sum(2).view(b, c, h, w))


class PatchMix(nn.Module):
    """Overlapping 4x4 patches, stride 2, each projected by a linear map and folded back."""

    def __init__(self, dim=8, patch=4, stride=2, size=16):
        super().__init__()
        self.patch, self.stride, self.size = patch, stride, size
        self.proj = nn.Linear(dim * patch * patch, dim * patch * patch)
        ones = torch.ones(1, patch * patch, ((size - patch) // stride + 1) ** 2)
        self.register_buffer("overlap", F.fold(ones, size, patch, stride=stride))

    def forward(self, x):
        cols = F.unfold(x, self.patch, stride=self.stride)  # (b, c*p*p, L)
        cols = self.proj(cols.transpose(1, 2)).transpose(1, 2)
        return x + F.fold(cols, self.size, self.patch, stride=self.stride) / self.overlap


class TinyLocalNet(nn.Module):
    def __init__(self, dim=8, classes=5):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 3, padding=1)
        self.att = LocalAttention(dim)
        self.mix = PatchMix(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.mix(self.att(torch.relu(self.stem(x))))
        return self.head(x.mean((2, 3)))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(TinyLocalNet().eval(), (torch.randn(1, 3, 16, 16),), atol=1e-4, rtol=1e-4)
