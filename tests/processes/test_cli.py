"""The process-heavy part of tests/unit/test_cli.py (each test's marker says why); the rest there runs
in the fast tier. Here, a run's report rendered five times over: over a second of CPU, even with no
published results to relate it to."""

from __future__ import annotations

import pytest

from iree_matrix.core.model.results import ResultsLog
from iree_matrix.report import documents


@pytest.mark.heavy
def test_a_runs_report_is_not_rendered_again_when_nothing_it_reads_changed(tmp_path, no_published):
    """Issue #39 item 5: a no-op re-run spent most of its time re-rendering identical pages."""
    from iree_matrix.findings import compat
    from iree_matrix.report import site
    from tests.unit.test_answers import _compile, _run

    assert documents.REPORT_FILES == ("COMPATIBILITY.md", compat.FILENAME, f"{site.SITE_DIR}/index.html")
    log = ResultsLog(tmp_path / "results.jsonl")
    for record in (_compile("tiny", "3.9.0"), _run("tiny", "3.9.0")):
        log.append(record)
    said: list[str] = []
    documents.write_report(tmp_path, said.append, if_changed=True)
    assert any(line.startswith("site:") for line in said)
    said.clear()
    documents.write_report(tmp_path, said.append, if_changed=True)
    assert said == [
        f"report: {tmp_path / 'COMPATIBILITY.md'} and the site unchanged (same records, same renderer)"
    ]
    log.append(_compile("tiny", "3.10.0"))  # a new record: rendered again
    said.clear()
    documents.write_report(tmp_path, said.append, if_changed=True)
    assert (
        any(line.startswith("site:") for line in said)
        and "3.10.0" in (tmp_path / "COMPATIBILITY.md").read_text()
    )
    (tmp_path / "site" / "index.html").unlink()  # an output gone: rendered again
    said.clear()
    documents.write_report(tmp_path, said.append, if_changed=True)
    assert (tmp_path / "site" / "index.html").is_file()
    (tmp_path / "COMPATIBILITY.md").write_text("rendered by another version\n")  # rendered over since
    said.clear()
    documents.write_report(tmp_path, said.append, if_changed=True)
    assert "3.10.0" in (tmp_path / "COMPATIBILITY.md").read_text()
    said.clear()
    documents.write_report(tmp_path, said.append)  # `iree-matrix report` always renders
    assert any(line.startswith("site:") for line in said)
