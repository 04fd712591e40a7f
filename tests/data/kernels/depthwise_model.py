"""A tiny model for kernels/depthwise3x3 beside other dispatches: a 1x1 convolution (IREE's own
dispatch) before a MobileNetV2-style depthwise 3x3 + BatchNorm + ReLU6 (the kernel's), and a 1x1
convolution after it."""

import torch

from models.api import ModelSpec


class DepthwiseBlock(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.expand = torch.nn.Conv2d(8, 32, 1)
        self.depthwise = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        self.norm = torch.nn.BatchNorm2d(32)
        self.norm.running_mean.uniform_(-0.5, 0.5)
        self.norm.running_var.uniform_(0.5, 1.5)
        self.act = torch.nn.ReLU6()
        self.project = torch.nn.Conv2d(32, 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.act(self.norm(self.depthwise(self.expand(x)))))


def depthwise_block(seed: int = 0) -> ModelSpec:
    generator = torch.Generator().manual_seed(seed)
    return ModelSpec(
        DepthwiseBlock().eval(), (torch.randn(1, 8, 12, 12, generator=generator),), atol=1e-4, rtol=1e-4
    )
