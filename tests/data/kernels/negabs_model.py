"""Tiny models for the kernel tests: `negabs` computes -|a * b| over 16 floats (what the negabs
kernel replaces), `plain_add` a + b (which it does not: its compile is "not applied"), and
`matmul_negabs` -|(a @ W) * b|: a matmul (a dispatch of IREE's own, `vecmat_16x16_f32`) before the
negabs ops, so the kernel's executable is one of several (a spec whose executable broke beside
other dispatches passed on `negabs` alone); `negabs_then_reads` -|a * b| + (a - b), an op after the
kernel that reads its operands again."""

import torch

from models.api import ModelSpec


class NegAbs(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.neg(torch.abs(a * b))


class PlainAdd(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class MatmulNegAbs(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(16, 16, generator=torch.Generator().manual_seed(7)))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.neg(torch.abs((a @ self.weight) * b))


class NegAbsThenReads(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.neg(torch.abs(a * b)) + (a - b)


def _inputs(seed: int) -> tuple:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(16, generator=generator), torch.randn(16, generator=generator))


def negabs(seed: int = 0) -> ModelSpec:
    return ModelSpec(NegAbs().eval(), _inputs(seed), atol=1e-6, rtol=1e-6)


def plain_add(seed: int = 0) -> ModelSpec:
    return ModelSpec(PlainAdd().eval(), _inputs(seed), atol=1e-6, rtol=1e-6)


def matmul_negabs(seed: int = 0) -> ModelSpec:
    return ModelSpec(MatmulNegAbs().eval(), _inputs(seed), atol=1e-5, rtol=1e-5)


def negabs_then_reads(seed: int = 0) -> ModelSpec:
    return ModelSpec(NegAbsThenReads().eval(), _inputs(seed), atol=1e-6, rtol=1e-6)
