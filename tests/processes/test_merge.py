"""The process-heavy part of tests/unit/test_merge.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core.model.results import ResultsLog
from iree_matrix.findings.merge import merge
from tests.unit.test_merge import _rec, _write


@pytest.mark.heavy
def test_merge_renders_performance_where_the_records_hold_peers(tmp_path, capsys):
    """A merged set reads as `report --performance` renders it: PERFORMANCE.md beside the report
    when its records hold timed peers (merge once left it out, and the published set read stale)."""
    published = Path(__file__).resolve().parents[2] / "results" / "archive" / "bench-2026-11-22"
    out = tmp_path / "merged"
    assert cli.main(["merge", str(published), "--to", str(out)]) == 0
    assert (out / "PERFORMANCE.md").read_text() == (published / "PERFORMANCE.md").read_text()
    compat_only = _write(tmp_path / "shard", _rec("install:e"), _rec("run:m/e", key="r"))
    assert cli.main(["merge", str(compat_only), "--to", str(tmp_path / "plain")]) == 0
    assert not (tmp_path / "plain" / "PERFORMANCE.md").exists()


@pytest.mark.processes
def test_a_merge_waits_for_another_into_the_same_directory(tmp_path):
    """#51: two concurrent `merge --to OUT` each read OUT's log and wrote theirs: one's records were
    lost, both exited 0. A merge holds OUT's lock while it reads and writes; a second one waits."""
    import threading

    from iree_matrix.core.system.locks import results_lock

    one = _write(tmp_path / "one", _rec("install:a"))
    two = _write(tmp_path / "two", _rec("install:b"))
    out = tmp_path / "out"
    with results_lock(out, wait=True):  # another merge (or publish) holds OUT
        second = threading.Thread(target=merge, args=([two], out), kwargs={"wait": True})  # --wait
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive() and not (out / "results.jsonl").exists()  # it waits, writing nothing
        _write(out, *merge([one], tmp_path / "elsewhere").records)  # what the holder wrote meanwhile
    second.join(timeout=30)
    assert sorted(ResultsLog(out / "results.jsonl").latest()) == ["install:a", "install:b"]
