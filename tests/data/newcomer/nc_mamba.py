"""A newcomer's Mamba-like selective state-space block (issue #69, third round): an input projection
split into x and a gate, a causal depthwise Conv1d (groups = channels, cut to length), SiLU, the
input-dependent step `dt` by softplus, A = -exp(A_log), the scan h = exp(dt A) h + dt B x written
as a Python loop over 16 time steps (unrolled by the export), y = C h + D x, an RMSNorm by hand,
the gate, and an output projection; (1, 16, 32) tokens."""

import torch
from torch import nn
from torch.nn import functional as F

from models.api import ModelSpec


class SelectiveSSM(nn.Module):
    def __init__(self, dim=32, inner=48, state=8, conv=4):
        super().__init__()
        self.inner, self.state = inner, state
        self.norm_w = nn.Parameter(torch.ones(dim))
        self.inp = nn.Linear(dim, 2 * inner, bias=False)
        self.conv = nn.Conv1d(inner, inner, conv, groups=inner, padding=conv - 1)
        self.x_proj = nn.Linear(inner, 1 + 2 * state, bias=False)
        self.dt_proj = nn.Linear(1, inner)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, state + 1, dtype=torch.float32)).repeat(inner, 1))
        self.D = nn.Parameter(torch.ones(inner))
        self.out = nn.Linear(inner, dim, bias=False)

    def forward(self, tokens):  # (batch, time, dim)
        b, t, _ = tokens.shape
        u = tokens * torch.rsqrt(tokens.pow(2).mean(-1, keepdim=True) + 1e-6) * self.norm_w
        x, gate = self.inp(u).chunk(2, dim=-1)
        x = F.silu(self.conv(x.transpose(1, 2))[..., :t].transpose(1, 2))  # causal: drop the tail
        dt_raw, B, C = torch.split(self.x_proj(x), [1, self.state, self.state], dim=-1)
        dt = F.softplus(self.dt_proj(dt_raw))  # (b, t, inner)
        A = -torch.exp(self.A_log)  # (inner, state)
        h = x.new_zeros(b, self.inner, self.state)
        ys = []
        for i in range(t):
            h = (
                torch.exp(dt[:, i, :, None] * A) * h
                + (dt[:, i, :, None] * B[:, i, None, :]) * x[:, i, :, None]
            )
            ys.append(torch.einsum("bns,bs->bn", h, C[:, i]))
        y = torch.stack(ys, dim=1) + x * self.D
        return tokens + self.out(y * F.silu(gate))


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(SelectiveSSM().eval(), (torch.randn(1, 16, 32),), atol=1e-5, rtol=1e-4)
