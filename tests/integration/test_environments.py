"""The MLIR form axis end to end on host venvs: real torch 2.13.0 + iree-turbine 3.9.0 export tiny_cnn
as MLIR text and as MLIR bytecode, and two real IREE compilers (the exporter's own release and a
newer one) compile both. Uses the smoke matrix's environments, so CI installs nothing new."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import EXPORTER, run_matrix_text

pytestmark = pytest.mark.integration

MATRIX = """
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = ["3.9.0", "3.13.0"]
models = "tiny_cnn"
forms = ["text", "bytecode"]

[benchmark]
repetitions = 3
"""


def test_text_and_bytecode_exports_each_compiled_by_two_compilers(cache: Path, tmp_path: Path) -> None:
    _, results, got = run_matrix_text(MATRIX, cache, tmp_path / "matrix.toml")

    export = got[f"export:tiny_cnn/{EXPORTER}"]
    assert export.status is Status.OK, export.message
    assert export.metrics["importer"] == "iree-base-compiler 3.9.0"  # turbine's importer: the pinned compiler
    assert (
        len(export.metrics["mlirbc_sha256"]) == 64
        and export.metrics["mlirbc_sha256"] != export.metrics["mlir_sha256"]
    )
    assert 0 < export.metrics["mlirbc_bytes"] < export.metrics["mlir_bytes"]

    for compiler in ("3.9.0", "3.13.0"):
        text = got[f"compile:tiny_cnn/{EXPORTER}/iree{compiler}/x86_64/default"]
        assert text.status is Status.OK, text.message
        bytecode = got[f"compile:tiny_cnn/{EXPORTER}/iree{compiler}/x86_64/default/mlirbc"]
        assert bytecode.labels["form"] == "bytecode"
        assert any(str(a).endswith("model.mlirbc") for a in bytecode.command)
        # The exporter's own compiler reads its bytecode; a newer one either reads it or says why.
        if compiler == "3.9.0":
            assert bytecode.status is Status.OK, bytecode.message
        else:
            assert bytecode.status is Status.OK or "error" in bytecode.message, bytecode.message
    assert not any(job.startswith("run:") and job.endswith("/mlirbc") for job in got)  # compiled, not re-run

    compat = json.loads((results / "compat.json").read_text())
    (env,) = compat["exporters"]["environments"]
    assert env["exporter"] == EXPORTER and "3.9.0" in env["bytecode"] and env["text"] == ["3.9.0", "3.13.0"]
    assert compat["exporters"]["distinct"] == [
        {"function": "tiny_cnn", "exporters": 1, "texts": 1, "bytecodes": 1}
    ]
    assert "## Exporter environments" in (results / "COMPATIBILITY.md").read_text()

    argv = [sys.executable, "-m", "iree_matrix", "query", "export", "--torch", "2.13.0", "--turbine", "3.9.0",
            "--python", "3.11", "--results-dir", str(results)]  # fmt: skip
    answer = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    assert "text (.mlir):       3.9.0, 3.13.0" in answer.stdout
    assert "bytecode (.mlirbc): " in answer.stdout and "evidence: compile:" in answer.stdout
