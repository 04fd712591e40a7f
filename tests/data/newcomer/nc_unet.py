"""A newcomer's tiny UNet (issue #69, third round): two down steps by strided convolution, up by
nn.ConvTranspose2d and by a bilinear F.interpolate to the skip's size, skip connections joined
with torch.cat, BatchNorm and ReLU; a 1-channel mask out of a (1, 3, 32, 32) image."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


def block(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class TinyUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = block(3, 8)
        self.enc2 = block(8, 16, stride=2)
        self.enc3 = block(16, 32, stride=2)
        self.up2 = nn.ConvTranspose2d(32, 16, kernel_size=2, stride=2)
        self.dec2 = block(32, 16)
        self.dec1 = block(16 + 8, 8)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(s1)
        b = self.enc3(s2)
        d2 = self.dec2(torch.cat([self.up2(b), s2], dim=1))
        up1 = F.interpolate(d2, size=s1.shape[-2:], mode="bilinear", align_corners=False)
        d1 = self.dec1(torch.cat([up1, s1], dim=1))
        return torch.sigmoid(self.head(d1))


def build(seed=0):
    torch.manual_seed(seed)
    model = TinyUNet().eval()
    with torch.no_grad():  # non-trivial running statistics, as a trained network has
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return ModelSpec(model, (torch.randn(1, 3, 32, 32),), atol=1e-5, rtol=1e-4)
