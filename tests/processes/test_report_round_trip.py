"""A run's COMPATIBILITY.md written from its log and related to the published bench: a full report
render and a published set read, more than a second of CPU, so this tier (issue 72)."""

from __future__ import annotations

import pytest

from iree_matrix.core.model.results import ResultsLog
from iree_matrix.report import render_compatibility, write_compatibility
from iree_matrix.report.sections import Setting
from tests.unit.test_report import fixture_records

pytestmark = pytest.mark.heavy


def test_write_compatibility_round_trips_through_the_log(tmp_path) -> None:
    results = tmp_path / "results" / "results.jsonl"
    log = ResultsLog(results)
    for record in fixture_records():
        log.append(record)
    out = tmp_path / "results" / "COMPATIBILITY.md"
    assert write_compatibility(results, out) == out
    text = out.read_text(encoding="utf-8")
    # A run's report relates its figures to the published ones (results/bench-rocketlake): the same
    # records and those render the same text.
    from iree_matrix.core import shipped
    from iree_matrix.findings import results_folder
    from iree_matrix.report.published import BENCH_SETS, PUBLISHED_SET

    tool = shipped.command()  # a run's report names the tool as its reader can run it
    speed = results_folder.load(results.parent).published_speed(BENCH_SETS, PUBLISHED_SET)
    setting = Setting(published=tuple(speed[0]), published_name=speed[1], tool=tool)
    assert text == render_compatibility(fixture_records(), results, setting)
    assert "✅ 12.3 ms" in text
    # The header names the log it was read from and the command that renders it again (issue #30).
    assert f"_Generated from `{results}` by `{tool} report --results-dir {results.parent}`" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["COMPATIBILITY.md", "results.jsonl"]
