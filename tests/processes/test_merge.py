"""The process-heavy part of tests/unit/test_merge.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli
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
