"""`iree-matrix bisect JOB` end to end on a real miscompile: tests/data/routes/token_shift.py's
`F.pad(x, (0, 0, 1, -1))`, which IREE 3.13.0 computes wrongly (a mismatch, no error). The matrix runs
the model's one cell (export, compile, run: a minute on a warm cache), then `bisect` reads that cell
from its records, runs scripts/bisect_outputs.py in the cell's exporter environment (sandboxed, as the
export runs model code) and must name the module that holds the pad: the model's own forward
(TokenShift), before it calls `proj`, whose input is the padded sum."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import REPO, iree_matrix, records, shared_cache

pytestmark = pytest.mark.integration

MODEL = REPO / "tests" / "data" / "routes" / "token_shift.py"
EXP = "py3.11-torch2.13.0-turbine3.9.0"
RUN = f"run:token_shift/{EXP}/iree3.13.0/x86_64/default"


def _bisect(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", "bisect", *args], capture_output=True, text=True, timeout=1200
    )
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    return done


def test_bisect_names_the_module_that_holds_the_negative_padding(tmp_path: Path) -> None:
    matrix = tmp_path / "shift.toml"
    matrix.write_text(
        f'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.13.0"]\n'
        f'runtime = "same"\narch = ["x86_64"]\nmodels = ["{MODEL}:build"]\nprofiles = ["default"]\n\n'
        "[benchmark]\nrepetitions = 1\n"
    )
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--select", "*iree3.13.0/x86_64/default", "--backend", "venv",
        cache=shared_cache(tmp_path / "cache"), results=results, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert records(results)[RUN].status is Status.MISMATCH

    done = _bisect(RUN, "--results-dir", str(results), "--out", str(tmp_path / "bisect"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    rows = {line.split()[1]: line for line in lines if line.strip()[:1].isdigit()}
    assert "DIFFERS" in rows["proj"] and "DIFFERS" in rows["output"], lines  # the input row is `proj (input)`
    assert lines[-1].startswith(
        "IREE leaves torch in the model's own forward (TokenShift), before it calls `proj` (Linear): "
        "that call's input differs"
    ), lines[-1]
    # what it compiled and ran is on disk: the wrapper's MLIR holds the model's pad
    assert "torch.aten.pad" in (tmp_path / "bisect" / "model.mlir").read_text()

    # a record that is not a mismatching run: refused in one line, no traceback
    refused = _bisect(RUN.replace("run:", "compile:"), "--results-dir", str(results))
    assert refused.returncode == 2 and "not a mismatch" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
