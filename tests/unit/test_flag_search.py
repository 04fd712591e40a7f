"""The flag search as one session (tasks/flag_search.py), its runs faked: batch 1, the descents and
the last sitting are each one run of the search's own matrix, re-measuring just that sitting's
cells; the walk ends at the fastest configuration; an interrupted search resumes after its last
finished batch, reusing batch 1's runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core.model.results import Record, Status, folder_log
from iree_matrix.execution import abtest, summary
from iree_matrix.findings import search_descent
from iree_matrix.tasks import flag_search

SPEED = {"O2": 0.9, "im2col": 0.8, "O3-stack": 1.05, "data-tiling": 0.95}  # each knob's factor


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _matrix(tmp_path: Path) -> Path:
    path = tmp_path / "search.toml"
    path.write_text(
        'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = ["3.13.0"]\n'
        'runtime = "same"\nmodels = ["tiny_cnn"]\n[benchmark]\nrepetitions = 5\n'
    )
    return path


def _fake_runs(monkeypatch, stop_at: int = 0) -> list[list[str]]:
    """Every run of a plan, timed by its profile's knobs (SPEED); each call's --retime kept; the
    `stop_at`-th run interrupted."""
    retimed: list[list[str]] = []

    def run_plan(loaded, options, cache, *, out):
        results = folder_log(loaded.results_dir)
        records = {}
        for job in loaded.plan.jobs:
            if job.stage != "run":
                continue
            ms = 10.0
            for knob in job.labels["profile"].split("+"):
                ms *= SPEED.get(knob, 1.0)
            times = [ms * (1 + 0.001 * i) for i in range(5)]
            metrics = {
                "latency_ms": {"median": times[2], "min": times[0], "max": times[-1], "n": 5, "times": times}
            }
            records[job.id] = Record(job.id, "run", job.cell, "k", Status.OK, dict(job.labels), metrics)
            results.append(records[job.id])
        retimed.append(sorted(options.retime))
        interrupted = len(retimed) == stop_at
        return (130 if interrupted else 0), summary.Summary(
            records=records, seconds=1.0, interrupted=interrupted
        )

    def not_here(*args, **kwargs):
        raise abtest.NotComparable("no module here")  # the sitting's intervals decide

    monkeypatch.setattr(flag_search, "run_plan", run_plan)
    monkeypatch.setattr(abtest, "arm_of", not_here)
    return retimed


def _search(tmp_path: Path) -> int:
    return cli.main([
        "search", "--matrix", str(_matrix(tmp_path)), "--results-dir", str(tmp_path / "r"),
        "--knobs", "O2,O3-stack,im2col,data-tiling", "--budget", "4", "--width", "2",
        "--descent-batches", "3",
    ])  # fmt: skip


def test_the_search_descends_to_the_fastest_and_re_measures_only_each_sittings_cells(
    tmp_path, monkeypatch, capsys
) -> None:
    retimed = _fake_runs(monkeypatch)
    assert _search(tmp_path) == 0
    assert "tiny_cnn on IREE 3.13.0: default → im2col → O2+data-tiling+im2col" in capsys.readouterr().out
    assert retimed[0] == ["run:*"]  # batch 1: every run measured again
    assert "run:tiny_cnn/*/iree3.13.0/*/im2col" in retimed[1]  # batch 2: the incumbent and its neighbours
    assert retimed[-1] == [  # the last sitting: the result beside default and the naive build
        f"run:tiny_cnn/*/iree3.13.0/*/{p}" for p in ("O2+data-tiling+im2col", "default", "generic")
    ]
    (descent,) = json.loads((tmp_path / "r" / search_descent.DESCENTS).read_text())["descents"]
    assert descent["result"] == "O2+data-tiling+im2col" and descent["spent"] == 4
    assert not (tmp_path / "r" / search_descent.PROGRESS).exists()  # finished: the next search starts afresh


def test_an_interrupted_search_resumes_after_its_last_batch_reusing_batch_one(
    tmp_path, monkeypatch, capsys
) -> None:
    retimed = _fake_runs(monkeypatch, stop_at=3)
    assert _search(tmp_path) == 130
    assert (tmp_path / "r" / search_descent.PROGRESS).is_file()
    capsys.readouterr()
    again = _fake_runs(monkeypatch)
    assert _search(tmp_path) == 0
    out, err = capsys.readouterr()
    assert "resuming after batch 2" in err and "default → im2col → O2+data-tiling+im2col" in out
    assert again[0] == [] and again[1] == retimed[2]  # batch 1 reused; the interrupted batch again
