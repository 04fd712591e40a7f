"""The process-heavy part of tests/unit/test_one_figure.py (each test's marker says why); the rest there
runs in the fast tier. Here, every published log read and each cross-checked against all the others:
seconds of CPU."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status, latest_by_job
from iree_matrix.findings import results_folder, runs_view

RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.mark.heavy
def test_no_two_unmarked_published_latencies_of_one_module_disagree():
    by_module: dict[tuple, list[tuple[str, runs_view.Timing]]] = {}
    for log in sorted(RESULTS.glob("**/results.jsonl")):
        for r in latest_by_job(results_folder.read(log)).values():
            t = runs_view.timing(r) if r.stage == "run" and r.status is Status.OK else None
            if t is not None and t.low is not None and not t.noisy:
                by_module.setdefault(runs_view._same_module(r), []).append((f"{log.parent.name}:{r.job}", t))
    assert by_module
    disagreeing = [
        (a, b)
        for figures in by_module.values()
        for (a, ta), (b, tb) in itertools.combinations(figures, 2)
        if ta.high < tb.low or tb.high < ta.low
    ]
    assert not disagreeing, disagreeing[:5]
