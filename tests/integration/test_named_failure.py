"""A user's model with an op the compiler cannot lower (a 2-layer GRU classifier: IREE has no
`torch.aten.gru.input`), through real torch, turbine and iree-compile: the compile record carries
the compiler's first error, the op and the model's line it came from, and the report, the site and
`query model` name it uncut, pointing at the compile, not at the run it blocked (issue #30)."""

from __future__ import annotations

import html
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import SMOKE, iree_matrix, records

pytestmark = pytest.mark.integration

GRU_CLASSIFIER = """
import torch
from models.api import ModelSpec


class GruClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(16, 32, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(32, 4)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def build(seed=0):
    torch.manual_seed(seed)
    return ModelSpec(GruClassifier().eval(), (torch.randn(1, 20, 16),), atol=1e-5, rtol=1e-4)
"""

OP = "torch.aten.gru.input"
GRU_LINE = "        out, _ = self.gru(x)"
FIRST_ERROR = "failed to legalize operation 'torch.operator' that was explicitly marked illegal"


def test_an_unsupported_op_is_named_in_the_record_report_site_and_query(cache: Path, tmp_path: Path) -> None:
    models = tmp_path / "models-dir"
    models.mkdir(mode=0o755)
    (models / "gru_clf.py").write_text(GRU_CLASSIFIER)
    (models / "gru_clf.py").chmod(0o644)
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(SMOKE), "--backend", "venv", "--select", "*/iree3.13.0/x86_64/default",
        "--model", f"{models / 'gru_clf.py'}:build", cache=cache, results=results,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)
    base = "gru_clf/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default"
    compiled = got[f"compile:{base}"]
    assert compiled.status is Status.FAIL and compiled.error_class == "compile-error"
    assert compiled.metrics["first_error"] == FIRST_ERROR
    assert compiled.metrics["failing_op"] == OP
    assert got[f"run:{base}"].status is Status.NOT_RUN
    assert f"compile-error: {FIRST_ERROR} (op: {OP})" in done.stdout  # the progress line and summary
    # the model's own line, from the locations turbine's importer gave the op (the export's
    # model.where.json): where to rewrite, said in the record and the summary
    line = f"gru_clf.py:{GRU_CLASSIFIER.splitlines().index(GRU_LINE) + 1}: {GRU_LINE.strip()}"
    assert compiled.metrics["source_line"] == line
    assert f"(op: {OP}), at {line}" in done.stdout

    report = (results / "COMPATIBILITY.md").read_text()
    assert f"First error: `{FIRST_ERROR}`, on `{OP}`. In the model: `{line}`." in report

    page = html.unescape((results / "site" / "models" / "gru_clf.html").read_text())
    assert f"{FIRST_ERROR} (op: {OP})" in page

    query = [sys.executable, "-m", "iree_matrix", "query", "model", "gru_clf", "--results-dir", str(results)]
    asked = subprocess.run(query, capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    assert f"fails:  3.13.0: compile: {FIRST_ERROR} (op: {OP})" in asked.stdout
    assert f"evidence: compile:{base}" in asked.stdout and f"run:{base}" not in asked.stdout
