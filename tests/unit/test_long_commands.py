"""Long commands state their cost before they start, show progress with an ETA, and on Ctrl-C keep
and print what finished (issue #52): compare, and the steps helper the others share."""

from __future__ import annotations

import io
import json
import re
import time

from iree_matrix import cli
from iree_matrix.core.model import host_identity, stats
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.execution import abtest
from iree_matrix.execution.progress import Steps, cost


def test_steps_scale_the_rest_by_how_the_finished_ones_ran(monkeypatch):
    out = io.StringIO()
    steps = Steps([10.0, 10.0, 20.0], out=out)
    steps.start = steps._last = 0.0
    clock = iter([30.0, 31.0])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    steps.finished("a: slower")  # 30 s for a 10-s step
    assert steps.slowdown() == 3.0 and steps.left() == 90.0
    steps.finished("b: not comparable", learn=False)  # 1 s, says nothing of the slowdown
    assert steps.slowdown() == 3.0 and steps.left() == 60.0
    assert out.getvalue().splitlines() == [
        "[1/3 0:00:30 ETA 0:01:30] a: slower",
        "[2/3 0:00:31 ETA 0:01:00] b: not comparable",
    ]


def test_a_cost_line_says_jobs_time_load_and_how_to_make_it_cheaper():
    said = cost("compare 3.12.0 3.13.0", "10 function(s)", 500.0, "--rounds 6")
    assert said.startswith("compare 3.12.0 3.13.0: 10 function(s), about 0:08:20 on this machine now (load ")
    assert said.endswith("CPUs); cheaper: --rounds 6")


def _log(tmp_path, functions):
    log = ResultsLog(tmp_path / "results.jsonl")
    for model in functions:
        for release in ("3.12.0", "3.13.0"):
            labels = {"model": model, "exporter": "e", "compiler": release, "runtime": release,
                      "profile": "default"}  # fmt: skip
            job = f"run:{model}/e/iree{release}/x86_64/default"
            metrics = {"timing": "native", "latency_median": 2.0}
            log.append(Record(job=job, stage="run", cell=job[4:], status=Status.OK, key="k", labels=labels,
                              metrics=metrics, host=host_identity.here()))  # fmt: skip


def test_compare_states_its_cost_shows_progress_and_ctrl_c_prints_what_finished(
    tmp_path, monkeypatch, capsys
):
    _log(tmp_path, ["alpha", "beta", "gamma"])
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    monkeypatch.setattr(abtest, "arm_of", lambda record, name, caches: abtest.Arm(name, (), tmp_path))
    calls = []

    def compare(a, b, rounds, repetitions):
        calls.append(a)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the second function
        return abtest.Comparison("a", "b", (1.0,) * 8, (1.1,) * 8, stats.paired([1.0] * 8, [1.1] * 8))

    monkeypatch.setattr(abtest, "compare", compare)
    argv = ["compare", "3.12.0", "3.13.0", "--results-dir", str(tmp_path)]
    start = time.monotonic()
    assert cli.main(argv) == 130
    assert time.monotonic() - start < 2.0
    out, err = capsys.readouterr()  # the cost, progress and the interruption on stderr; the table on stdout
    first = err.splitlines()[0]
    assert first.startswith(
        "compare 3.12.0 3.13.0: 3 function(s) x 8 paired rounds x 2 arms x 3 repetitions, about "
    )
    assert "cheaper: --functions GLOB" in first
    assert re.search(r"^\[1/3 \d:\d\d:\d\d ETA \d:\d\d:\d\d\] alpha\b.*: ", err, re.MULTILINE)
    assert "| alpha" in out and "| beta" not in out  # the table of what finished
    assert "warning: interrupted: 1 of 3 functions compared" in err and "ETA" not in out
    kept = json.loads((tmp_path / "compare-3.12.0-3.13.0.json").read_text())
    assert len(kept["functions"]) == 1 and kept["functions"][0]["function"].startswith("alpha")
    assert kept["interrupted"] == "after 1 of 3 functions"


def test_compare_without_interruption_exits_0_with_every_row(tmp_path, monkeypatch, capsys):
    _log(tmp_path, ["alpha", "beta"])
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    monkeypatch.setattr(abtest, "arm_of", lambda record, name, caches: abtest.Arm(name, (), tmp_path))
    monkeypatch.setattr(
        abtest, "compare",
        lambda a, b, rounds, repetitions: abtest.Comparison("a", "b", (1.0,) * 6, (1.0,) * 6,
                                                            stats.paired([1.0] * 6, [1.0] * 6)),
    )  # fmt: skip
    assert cli.main(["compare", "3.12.0", "3.13.0", "--results-dir", str(tmp_path), "--rounds", "6"]) == 0
    out, err = capsys.readouterr()
    assert "[2/2 " in err and "interrupted" not in out + err
    assert "| alpha" in out and "| beta" in out and "[2/2 " not in out


def test_compare_of_two_long_labels_keeps_its_file_under_the_name_limit(tmp_path, monkeypatch, capsys):
    """Two published picks with kernels (80-byte labels and more) made `compare-A-B.json` longer than a
    file name may be: the verdict printed, then "File name too long". Such a pair's file is named by a
    digest of the two; a short pair keeps its readable name (the test above)."""
    pick = "channels-last+data-tiling+im2col+loop-unrolling+loop-vectorization+slp-vectorization+vector-256"
    a, b = f"{pick}+k:depthwise3x3", f"{pick}+k:inverted_residual"
    log = ResultsLog(tmp_path / "results.jsonl")
    for profile in (a, b):
        labels = {
            "model": "alpha",
            "exporter": "e",
            "compiler": "3.13.0",
            "runtime": "3.13.0",
            "profile": profile,
        }
        job = f"run:alpha/e/iree3.13.0/x86_64/{profile}"
        metrics = {"timing": "native", "latency_median": 2.0}
        log.append(Record(job=job, stage="run", cell=job[4:], status=Status.OK, key="k", labels=labels,
                          metrics=metrics, host=host_identity.here()))  # fmt: skip
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    monkeypatch.setattr(abtest, "arm_of", lambda record, name, caches: abtest.Arm(name, (), tmp_path))
    same = abtest.Comparison("a", "b", (1.0,) * 6, (1.0,) * 6, stats.paired([1.0] * 6, [1.0] * 6))
    monkeypatch.setattr(abtest, "compare", lambda a, b, rounds, repetitions: same)
    assert cli.main(["compare", a, b, "--results-dir", str(tmp_path), "--rounds", "6"]) == 0
    (kept,) = tmp_path.glob("compare-*.json")
    assert len(kept.name) < 40 and json.loads(kept.read_text())["a"] == a
    assert "| alpha" in capsys.readouterr().out
