"""The date-versioned releases end to end on host venvs (issue #38): tiny_cnn from turbine 3.9.0,
lowered to linalg by IREE 20231113.707, compiled by IREE 20230209.425 (which has no torch dialect),
run on its own runtime against torch and refused by the 3.13.0 runtime in that runtime's words; then
`query load` answers with the evidence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import matrix_toml, run_matrix_text

pytestmark = pytest.mark.integration

MATRIX = matrix_toml(
    compiler="20230209.425",
    runtime=["same", "3.13.0"],
    forms=["linalg:20231113.707"],
    tables={"benchmark": {"repetitions": 3}},
)
CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0+linalg-iree20231113.707"


def test_a_2023_compiler_takes_the_lowered_export_and_3_13_refuses_its_module(
    cache: Path, tmp_path: Path
) -> None:
    _, results, got = run_matrix_text(MATRIX, cache, tmp_path / "matrix.toml")
    lower = got[f"lower:{CELL}"]
    assert lower.status is Status.OK, lower.message
    assert lower.metrics["lowered_by"] == "20231113.707"
    compiled = got[f"compile:{CELL}/iree20230209.425/x86_64/default"]
    assert compiled.status is Status.OK, compiled.message
    assert compiled.env["packages"]["iree-compiler"] == "20230209.425"
    own = got[f"run:{CELL}/iree20230209.425/x86_64/default"]
    assert own.status is Status.OK, own.message
    assert own.metrics["matches"] is True
    newest = got[f"run:{CELL}/iree20230209.425/x86_64/default/rt3.13.0"]
    assert newest.status is Status.FAIL and newest.error_class == "incompatible-module", newest.message
    assert "FlatBuffer verification failed" in (newest.message or "")

    argv = [sys.executable, "-m", "iree_matrix", "query", "load", "--compiler", "20230209.425",
            "--runtime", "3.13.0", "--results-dir", str(results)]  # fmt: skip
    answer = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "refuses: runtime 3.13.0 refuses modules from compiler 20230209.425" in answer.stdout
    assert f"run:{CELL}/iree20230209.425/x86_64/default/rt3.13.0" in answer.stdout
