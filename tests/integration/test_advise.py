"""`iree-matrix advise`: a real sitting (torch, IREE 3.13.0's compiler and runtime, ONNX Runtime, on
host venvs) makes this CPU's answer, and `query model` reads it back as this CPU's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.system import host
from iree_matrix.findings import advice
from tests.integration.conftest import iree_matrix

pytestmark = pytest.mark.integration


def test_advise_times_default_a_pick_the_naive_build_and_the_peers_in_one_sitting(
    warm_cache: Path, tmp_path: Path
):
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    results = tmp_path / "advise"
    done = iree_matrix(
        "advise", "tiny_cnn", "--picks", "im2col", "--fleet", "x86-64-v3",
        # One step of the proof: its neighbourhood built, checked and timed against the pick (the
        # search's further steps are the same code again, tested in tests/processes/test_advice.py).
        "--rounds", "6", "--repetitions", "1", "--proof-steps", "1", "--backend", "venv",
        cache=cache, results=results,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # its whole cost in one figure, before anything is built (issue 92 item 7)
    said = done.stderr.splitlines()
    total = next(i for i, line in enumerate(said) if line.startswith("cost: in all about "))
    assert ": the builds 0:" in said[total] and "; the proof 0:" in said[total], said[total]
    assert total < min(i for i, line in enumerate(said) if "] export " in line)
    # advise's matrix times as the default and the smoke store do, so tiny_cnn's stored export is
    # reused by key, not made again (advise re-exported what `nox -s matrix` had stored: issue 95)
    exports = [line for line in done.stderr.splitlines() if "] export " in line]
    assert exports and all(line.endswith("= ok (stored result)") for line in exports), exports
    (kept,) = results.glob("advice-tiny_cnn.*.json")  # one file per sitting, named by when it started
    sitting = json.loads(kept.read_text())
    arms = {a["name"]: a for f in sitting["functions"] for a in f["arms"]}
    assert {"default", "generic", "im2col", "onnxruntime", "eager", "im2col+cpu-x86-64-v3"} <= set(arms)
    for name in ("default", "generic", "onnxruntime", "eager"):
        assert len(arms[name].get("ms") or []) == 6, arms[name]
        assert all(ms > 0 for ms in arms[name]["ms"])
    assert arms["default"]["matches"] is True
    assert "--iree-llvmcpu-target-cpu=host" in arms["default"]["flags"]
    assert "--iree-llvmcpu-target-cpu=x86-64-v3" in arms["im2col+cpu-x86-64-v3"]["flags"]
    (proof,) = [f["proof"] for f in sitting["functions"]]
    (step,) = proof["steps"]  # at most the one step asked for
    assert step["centre"]["config"] and len(step["neighbours"]) >= 5
    assert all(len(n.get("ms") or []) == 6 for n in step["neighbours"] if n.get("matches")), step
    (answer,) = advice.derive(sitting)
    assert answer.identity.key == host.identity()
    assert answer.release == "3.13.0" and answer.flags
    assert answer.vs_peer is not None and answer.best_peer == "ONNX Runtime"
    assert answer.over_naive is not None
    assert "IREE 3.13.0" in done.stdout and "ONNX Runtime" in done.stdout
    # Every command the answer prints keeps this run's results folder and cache (issue 86 item 3)
    printed = [
        c for c in done.stdout.split("`") if c.startswith(("iree-matrix advise", "iree-matrix report"))
    ]
    assert printed, done.stdout
    assert all(f"--results-dir {results}" in c for c in printed), printed
    assert all(f"--cache {cache}" in c for c in printed if c.startswith("iree-matrix advise")), printed

    query = subprocess.run(
        [sys.executable, "-m", "iree_matrix", "query", "model", "tiny_cnn", "--results-dir", str(results)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert query.returncode == 0, query.stderr
    lines = query.stdout.strip().splitlines()
    assert "on this CPU" in lines[0] and "NEAREST" not in query.stdout
    pasted = "iree-compile model.mlir --iree-hal-target-backends=llvm-cpu"  # as printed: file in, module out
    assert any(line.strip().startswith(pasted) and line.endswith("-o model.vmfb") for line in lines)
    assert len(lines) <= 10
