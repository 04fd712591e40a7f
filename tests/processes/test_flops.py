"""The process-heavy part of tests/unit/test_flops.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.test_flops import _one, torch

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import flops  # noqa: E402  (scripts/ is on sys.path now)


@pytest.mark.heavy
def test_a_matmul_is_two_flops_per_multiply_add() -> None:
    a, b = torch.ones(64, 128), torch.ones(128, 32)

    class MatMul(torch.nn.Module):
        def forward(self, x, y):
            return x @ y

    result = flops.count(MatMul(), (a, b))
    assert result["flops"] == 2 * 64 * 128 * 32
    mm = _one(result, "mm")
    assert mm["calls"] == 1 and mm["weight_shape"] is None
    assert mm["bytes"] == 4 * (64 * 128 + 128 * 32 + 64 * 32)  # both operands read, the result written
    assert result["bytes_min"] == result["bytes_ops"] == mm["bytes"]  # no parameters, one op
