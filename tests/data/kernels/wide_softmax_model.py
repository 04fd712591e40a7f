"""A model the tool has never seen whose time is one wide softmax over the last axis (IREE 3.11-3.13
take many times ONNX Runtime's time on such a softmax): `advise`'s gap names `softmax`, and the kernel
library's softmax (kernels/softmax, `op_kinds = ["softmax"]`) is tried against it unasked."""

import torch

from models.api import ModelSpec


class WideSoftmax(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x * 2.0, dim=-1)


def wide_softmax(seed: int = 0) -> ModelSpec:
    x = torch.randn(512, 2048, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(WideSoftmax().eval(), (x,), atol=1e-5, rtol=1e-4)
