"""A model that computes in float64 (`.double()`, as scientific code often does; issue #69, the op
survey): IREE demotes float64 to float32 by default and fails verifying the weights' constants
("'arith.constant' op failed to verify that all of {value, result} have same type");
`as_float32` makes it and its inputs float32, as the hint says, and matches torch."""

import torch
from _factories import seeded

from models.api import ModelSpec


def _spec(dtype):
    mlp = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)).to(dtype)
    return ModelSpec(mlp.eval(), (torch.randn(3, 6, dtype=dtype),), atol=1e-5, rtol=1e-4)


build, as_float32 = seeded(_spec, build=torch.float64, as_float32=torch.float32)
