"""The process-heavy part of tests/unit/test_peers.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import json

import pytest

from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()

import peers  # noqa: E402


@pytest.mark.torch
@pytest.mark.heavy
def test_eager_op_profile_on_tiny_cnn(tmp_path):
    pytest.importorskip("torch")
    argv = ["--module", "models.tiny_cnn", "--import-root", str(SCRIPTS), "--threads", "1", "--op-profile"]
    argv += ["--warmup", "1", "--repetitions", "2", "--peers", "eager", "--out", str(tmp_path)]
    assert peers.main(argv) == 0
    profile = json.loads((tmp_path / "peers.json").read_text())["peers"]["eager"]["op_profile"]
    assert profile["calls"] == 2
    convs = [r for r in profile["ops"] if "conv" in r["op"] and r["weight_shape"]]
    assert convs, profile["ops"][:5]  # the convolutions, with the weight shape that classifies them
    assert all(len(r["weight_shape"]) == 4 for r in convs)
    assert profile["sum_ms"] > 0
