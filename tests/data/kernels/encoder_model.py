"""kernels/whisper_encoder's test model: Whisper's encoder in small, its two Conv1d stems (kernel 3,
padding 1, stride 1 then 2, each with the GELU on the forward's line, at Whisper's module paths
`encoder.conv1` and `encoder.conv2`) and one block's self-attention at `encoder.blocks.0.attn`, two
heads of 64, written as whisper_tiny@decomposed writes it: Whisper's query/key/value/out Linears (the
key without a bias) and `qkv_attention` set on the instance as matmul, softmax over the last axis,
matmul (a method torch.export's traces leave out: scripts/mlir_where.py joins its ops to the module)."""

import types

import torch
import torch.nn.functional as F

from models.api import ModelSpec


class Attention(torch.nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.n_head = heads
        self.query = torch.nn.Linear(width, width)
        self.key = torch.nn.Linear(width, width, bias=False)
        self.value = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.qkv_attention(self.query(x), self.key(x), self.value(x)))


def decomposed(self: Attention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    k = k.view(*k.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    v = v.view(*v.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
    a = torch.softmax((q @ k.transpose(-1, -2)) * 0.125, dim=-1) @ v
    return a.permute(0, 2, 1, 3).flatten(start_dim=2)


class Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = Attention(128, 2)
        self.attn.qkv_attention = types.MethodType(decomposed, self.attn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attn(x)


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv1d(8, 128, kernel_size=3, padding=1)
        self.conv2 = torch.nn.Conv1d(128, 128, kernel_size=3, stride=2, padding=1)
        self.blocks = torch.nn.ModuleList([Block()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x)).transpose(1, 2)  # [1, 100, 128]
        for block in self.blocks:
            x = block(x)
        return x


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
