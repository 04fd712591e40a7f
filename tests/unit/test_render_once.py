"""A report reads its records once and renders them without the pipeline (issue #40 item 4): a log is
parsed once per process while it is unchanged, and COMPATIBILITY.md is rendered without loading the
stage registry (the command hands it the stages' order)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from iree_matrix.core.model import results
from iree_matrix.core.model.results import Record, ResultsLog, Status


def _record(job: str) -> Record:
    return Record(job, job.split(":")[0], job.split(":", 1)[1], "k", Status.OK, {"model": "m"}, {})


def test_a_log_is_parsed_once_until_it_changes(tmp_path: Path, monkeypatch) -> None:
    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(_record("export:m/a"))
    parsed = []
    real = ResultsLog._parse
    monkeypatch.setattr(ResultsLog, "_parse", staticmethod(lambda line: parsed.append(1) or real(line)))
    first = results.read_log(log.path)
    assert results.read_log(log.path) is first and parsed == [1]  # the second read is the first's
    log.append(_record("compile:m/a"))
    appended = results.read_log(log.path)  # a new size: read again
    assert [r.job for r in appended] == ["export:m/a", "compile:m/a"]
    assert results.read_log(tmp_path / "none.jsonl") == ()


def test_compatibility_renders_without_loading_the_stages() -> None:
    code = (
        "import sys\n"
        "from iree_matrix.core.model.results import Record, Status\n"
        "from iree_matrix.report.compatibility import render_compatibility\n"
        "r = Record('compile:m/a', 'compile', 'm/a', 'k', Status.FAIL, {'model': 'm'}, {}, 'x', 'no')\n"
        "assert render_compatibility([r]).startswith('#')\n"
        "print(sorted(m for m in sys.modules if m.startswith('iree_matrix.stages')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
