"""The process-heavy part of tests/unit/test_toy_peer.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.test_toy_peer import TOY, _scripts_copy


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of scripts/ with the toy peer's module added: the only file written."""
    yield from _scripts_copy(tmp_path, monkeypatch, toy=True)


@pytest.mark.torch
@pytest.mark.processes
def test_the_worker_runs_the_toy_after_eager_and_checks_it(scripts: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "out"
    argv = [sys.executable, str(scripts / "peers.py"), "--module", "models.tiny_cnn", "--import-root",
            str(scripts), "--threads", "1", "--warmup", "1", "--repetitions", "2",
            "--peers", f"{TOY},eager", "--out", str(out)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / "peers.json").read_text())
    assert list(result["peers"]) == ["eager", TOY]  # the peers' order: eager, the reference, first
    entry = result["peers"][TOY]
    assert entry["status"] == "ok" and entry["matches"] is True, entry
    assert entry["latency_ms"]["n"] == 2 and entry["cpu_ms"]["threads"] == 1


@pytest.mark.heavy
@pytest.mark.parametrize("published", [Path("results/bench-rocketlake"), Path("results/first-run")], ids=str)
def test_with_the_toy_a_published_set_re_renders_byte_identical(
    scripts: Path, published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every peer ran in the one set, ONNX Runtime alone in the other: neither names the toy."""
    from tests.processes import test_published_renders

    test_published_renders.test_a_published_set_re_renders_byte_identical(published, tmp_path, monkeypatch)
