"""Whisper's encoder stems in small (tests/integration/test_kernel_generated.py): two Conv1d of
kernel 3 and padding 1, stride 1 then 2, each followed by a GELU written on the same line (as
Whisper's forward does), then a Linear (IREE's own dispatch beside the kernel's). The module paths
are Whisper's, `encoder.conv1` and `encoder.conv2`, so kernels/conv1d_k3's declaration serves."""

import torch
import torch.nn.functional as F

from models.api import ModelSpec


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv1d(8, 16, kernel_size=3, padding=1)
        self.conv2 = torch.nn.Conv1d(16, 16, kernel_size=3, stride=2, padding=1)
        self.head = torch.nn.Linear(100, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        return self.head(x)


class Stems(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


def stems(seed: int = 0) -> ModelSpec:
    torch.manual_seed(seed)
    x = torch.randn(1, 8, 200, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(Stems().eval(), (x,), atol=1e-4, rtol=1e-4)
