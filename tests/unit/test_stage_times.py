"""The progress estimate's published basis ships as a small summary (execution/stage_times.json), not as
the published logs (issue #40 item 5): it is current with results/, and the estimate reads it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from iree_matrix.core.results import ResultsLog
from iree_matrix.execution import progress, stage_times

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_summary_is_current_with_the_published_results():
    made = stage_times.render(stage_times.of_published(REPO / "results"))
    assert stage_times.SUMMARY.read_text() == made, (
        "execution/stage_times.json is stale: regenerate it with `nox -s stage_times` "
        "(python -m iree_matrix.execution.stage_times results) after publishing"
    )


def test_the_estimate_reads_the_summary_not_the_published_logs(monkeypatch):
    def no_log(self):
        raise AssertionError(f"the estimate read {self.path}")

    monkeypatch.setattr(ResultsLog, "__iter__", no_log)
    job_id, seconds = next(iter(stage_times.published().by_job.items()))
    stage = job_id.split(":", 1)[0]
    job = SimpleNamespace(id=job_id, stage=stage, label=SimpleNamespace(model="?"))
    times = progress.published_times()
    assert times.exact(job) == seconds and (times.stage(job) or 0) > 0  # type: ignore[arg-type]
    assert stage_times.SUMMARY.stat().st_size < 1_000_000  # the published logs: ~12 MB
