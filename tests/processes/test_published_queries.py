"""`query model` on a whole published set (results/pi-zero-older-torch): reading a published log and
its answers is seconds of CPU, so it runs in this tier, not the unit tier (issue 72)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.findings import query, results_folder

pytestmark = pytest.mark.heavy


def test_query_model_on_a_board_of_the_published_older_torch_set():
    records = results_folder.read(
        Path(__file__).resolve().parents[2] / "results/pi-zero-older-torch/results.jsonl"
    )
    default = query.model(records, "mobilenet_v2")
    pi4 = query.model(records, "mobilenet_v2", "pi4")
    assert default.lines[0].startswith("mobilenet_v2 on armv6-arm1176jzf-s (emulated")
    assert pi4.lines[0].startswith("mobilenet_v2 on aarch64-cortex-a72 (emulated")
    assert pi4.data is not None and pi4.data["passing"] == ["3.9.0", "3.13.0"]
    assert query.model(records, "mobilenet_v2", "aarch64").lines == pi4.lines  # a prefix that is one target
    with pytest.raises(query.UserError, match=r"--arch riscv: is not a target .* armv6-arm1176jzf-s"):
        query.model(records, "mobilenet_v2", "riscv")
