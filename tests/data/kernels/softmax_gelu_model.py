"""Ops declared by what they compute (`replaces = { op = ... }`, kernels/softmax and
gelu_tanh): Linears (IREE's own dispatches), a tanh-GELU module, a bare torch.softmax over the last
axis (no module names it), and an exact GELU as a second output (an `aten.gelu` that a declaration
filtered on `approximate = "tanh"` leaves alone; of the softmax's exp's shape, so that a spec
matching it by name could not tell the two apart: kernel/iree/spec_gen.py refuses it)."""

import torch
import torch.nn.functional as F

from models.api import ModelSpec


class SoftmaxGelu(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(16, 32)
        self.act = torch.nn.GELU(approximate="tanh")
        self.head = torch.nn.Linear(32, 8)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.head(self.act(self.fc(x)))
        return torch.softmax(h, dim=-1), F.gelu(h)


def softmax_gelu(seed: int = 0) -> ModelSpec:
    torch.manual_seed(seed)
    x = torch.randn(4, 16, generator=torch.Generator().manual_seed(seed)) * 2
    return ModelSpec(SoftmaxGelu().eval(), (x,), atol=1e-4, rtol=1e-4)
