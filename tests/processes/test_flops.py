"""scripts/flops.py (torch's FlopCounterMode, per ATen op) on ops whose counts are known by hand:
a matmul, a convolution, a depthwise convolution, plus the bytes they move. Heavy, each of them: the
first count in a process imports torch._dynamo, seconds of CPU, whichever test it falls to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()

pytestmark = [pytest.mark.torch, pytest.mark.heavy]
torch = pytest.importorskip("torch")

import flops  # noqa: E402  (scripts/ is on sys.path now)


def _one(result: dict, op_part: str) -> dict:
    (found,) = [o for o in result["ops"] if op_part in o["op"] and o["flops"]]
    return found


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


def test_a_convolution_counts_every_input_channel_and_tap() -> None:
    conv = torch.nn.Conv2d(16, 32, 3, padding=1, bias=False)
    result = flops.count(conv, (torch.ones(1, 16, 28, 28),))
    assert result["flops"] == 2 * 32 * 28 * 28 * 16 * 3 * 3
    assert _one(result, "conv")["weight_shape"] == [32, 16, 3, 3]
    assert result["parameters_bytes"] == 4 * 32 * 16 * 3 * 3


def test_a_depthwise_convolution_counts_one_input_channel_per_output() -> None:
    conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
    result = flops.count(conv, (torch.ones(1, 32, 28, 28),))
    assert result["flops"] == 2 * 32 * 28 * 28 * 3 * 3
    assert _one(result, "conv")["weight_shape"] == [32, 1, 3, 3]


def test_views_move_nothing_and_elementwise_ops_move_their_tensors() -> None:
    class Shuffle(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x.view(8, 8).t()) + 1.0

    result = flops.count(Shuffle(), (torch.ones(64),))
    assert result["flops"] == 0
    moved = {o["op"]: o["bytes"] for o in result["ops"]}
    assert moved["view"] == 0 and moved["t"] == 0
    assert moved["relu"] == 2 * 64 * 4 and moved["add"] == 2 * 64 * 4


def test_the_worker_takes_the_stage_arguments_and_writes_flops_json(tmp_path: Path) -> None:
    argv = ["--module", "models.tiny_cnn", "--import-root", str(SCRIPTS), "--seed", "0",
            "--repetitions", "5", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert flops.main(argv) == 0
    written = json.loads((tmp_path / "flops.json").read_text())
    assert written["flops"] > 0 and any("conv" in o["op"] for o in written["ops"])
