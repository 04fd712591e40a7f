"""The newcomer's model for the generated-spec test: one Linear (IREE's own dispatch), then
torch.nn.Hardswish, which tests/data/kernels/hswish replaces by naming the module (`act`)."""

import torch

from models.api import ModelSpec


class LinearHardswish(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(16, 16)
        self.act = torch.nn.Hardswish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x))


def hswish(seed: int = 0) -> ModelSpec:
    torch.manual_seed(seed)
    x = torch.randn(4, 16, generator=torch.Generator().manual_seed(seed)) * 4
    return ModelSpec(LinearHardswish().eval(), (x,), atol=1e-5, rtol=1e-5)
