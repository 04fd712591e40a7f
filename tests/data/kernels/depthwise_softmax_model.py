"""A model the tool has never seen (no `models` entry names it) holding a depthwise 3x3 convolution
(Conv2d(C, C, 3, padding=1, groups=C, bias=False) + BatchNorm, as MobileNets write it) and a wide
softmax over the last axis of a rank-3 tensor: `advise`'s gap names `depthwise` and `softmax`, and
the library's kernels declared by op for those kinds (kernels/depthwise3x3_nchw, kernels/softmax)
are tried against it unasked."""

import torch

from models.api import ModelSpec


class DepthwiseSoftmax(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.depthwise = torch.nn.Conv2d(64, 64, 3, padding=1, groups=64, bias=False)
        self.norm = torch.nn.BatchNorm2d(64)
        self.norm.running_mean.uniform_(-0.5, 0.5)
        self.norm.running_var.uniform_(0.5, 1.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.norm(self.depthwise(x)).flatten(2), dim=-1)


def depthwise_softmax(seed: int = 0) -> ModelSpec:
    x = torch.randn(1, 64, 96, 96, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(DepthwiseSoftmax().eval(), (x,), atol=1e-5, rtol=1e-4)
