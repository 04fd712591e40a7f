"""A tiny squeeze-excitation block for kernels/global_avg_pool beside other dispatches: a 1x1
convolution and ReLU (IREE's), the adaptive average pool to one pixel (the kernel's), and the scale
by the pool's sigmoid (IREE's)."""

import torch

from models.api import ModelSpec


class SqueezeExcite(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.expand = torch.nn.Conv2d(8, 32, 1)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.expand(x))
        return y * torch.sigmoid(self.pool(y))


def squeeze_excite(seed: int = 0) -> ModelSpec:
    generator = torch.Generator().manual_seed(seed)
    inputs = (torch.randn(1, 8, 12, 12, generator=generator),)
    return ModelSpec(SqueezeExcite().eval(), inputs, atol=1e-5, rtol=1e-5)
