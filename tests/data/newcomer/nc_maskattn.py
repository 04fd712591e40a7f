"""A newcomer's masked-attention encoder (issue #69, second round): a padding mask given as a
boolean input, einsum projections, F.scaled_dot_product_attention with that mask, LayerNorm, GELU."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


class MaskedEncoder(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Parameter(torch.randn(3, heads, dim, dim // heads) / dim**0.5)
        self.out = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x, keep):  # x: (batch, seq, dim); keep: (batch, seq) bool, False = padding
        q, k, v = torch.einsum("bsd,thde->tbhse", self.norm1(x), self.qkv)
        mask = keep[:, None, None, :]  # (batch, 1, 1, key): each query sees the real tokens
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.out(a.transpose(1, 2).flatten(2))
        return x + self.ff(self.norm2(x))


def build(seed=0):
    torch.manual_seed(seed)
    keep = torch.ones(1, 10, dtype=torch.bool)
    keep[:, 7:] = False
    return ModelSpec(MaskedEncoder().eval(), (torch.randn(1, 10, 32), keep), atol=1e-5, rtol=1e-4)
