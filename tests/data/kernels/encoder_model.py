"""kernels/whisper_encoder's test model: Whisper's encoder in small, its two Conv1d stems (kernel 3,
padding 1, stride 1 then 2, each with the GELU on the forward's line, at Whisper's module paths
`encoder.conv1` and `encoder.conv2`) and a self-attention written as Whisper's @decomposed export
writes it (matmul, softmax over the last axis, matmul), with a Linear after it (IREE's own)."""

import torch
import torch.nn.functional as F

from models.api import ModelSpec


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv1d(8, 16, kernel_size=3, padding=1)
        self.conv2 = torch.nn.Conv1d(16, 16, kernel_size=3, stride=2, padding=1)
        self.qkv = torch.nn.Linear(16, 48)
        self.out = torch.nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x)).transpose(1, 2)  # [1, 100, 16]
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        attention = torch.softmax(q @ k.transpose(1, 2) * 0.25, dim=-1)
        return self.out(attention @ v)


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


def encoder(seed: int = 0) -> ModelSpec:
    torch.manual_seed(seed)
    x = torch.randn(1, 8, 200, generator=torch.Generator().manual_seed(seed))
    return ModelSpec(Model().eval(), (x,), atol=1e-4, rtol=1e-4)
