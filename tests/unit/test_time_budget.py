"""The run stage's time budget (issue #97): `[benchmark] time_budget` cuts a slow function's timed
repetitions to a few seconds' worth (at least 3), the record and the report say how many, the
default matrix sets it, and the published, bench and advise matrices keep every repetition (and their
run keys)."""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from iree_matrix import stages
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import processes
from iree_matrix.execution.progress import Progress
from iree_matrix.findings import advice
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.plan import EnvSpec, Job
from iree_matrix.report import by_model, machine
from iree_matrix.stages import run
from iree_matrix.stages.base import Context
from iree_matrix.stages.benchmark_tool import (
    MIN_TIME_SECONDS,
    budgeted_repetitions,
    least_of,
    min_time,
    min_time_seconds,
)
from tests.unit.test_spec import _error, _load

MATRIX_DIR = Path(__file__).resolve().parents[2] / "matrix"


def test_a_slow_call_is_timed_three_times_a_fast_one_every_repetition() -> None:
    assert budgeted_repetitions(11.7, 5, 3.0) == 3  # the Whisper encoder on a 2-core Zen 3
    assert budgeted_repetitions(0.75, 5, 3.0) == 4  # 4 x 0.75 s fill the 3 s
    assert budgeted_repetitions(0.01, 5, 3.0) == 5  # a repetition lasts the 0.5-s min time: 6 would fit
    assert budgeted_repetitions(0.01, 50, 3.0) == 50  # each at 3/51 s: the pass fits the budget
    assert budgeted_repetitions(0.4, 5, 1.0) == 3  # 1/6-s repetitions, but a call lasts 0.4 s
    assert budgeted_repetitions(11.7, 2, 3.0) == 2  # never more than the matrix asks
    assert budgeted_repetitions(11.7, 5, 0.0) == 5  # no budget: every repetition


def test_fast_calls_repetitions_share_the_budget_and_a_3_s_budget_keeps_google_benchmarks_min_time(
    tmp_path: Path,
) -> None:
    """A budget bounds a pass of fast calls too: each repetition and the sizing pass its share, never
    more than Google Benchmark's own 0.5 s (so a 3-s budget of 5 times as before, by the same command)."""
    assert min_time(3.0, 5) == MIN_TIME_SECONDS and min_time(0.0, 5) == MIN_TIME_SECONDS
    assert min_time(1.0, 5) == pytest.approx(1 / 6) and min_time(12.0, 5) == MIN_TIME_SECONDS
    env, metrics = _timed(tmp_path, "time_budget = 1\n", checked_seconds=0.02)
    assert [a for argv in env.argvs for a in argv if "min_time" in a] == ["--benchmark_min_time=0.167"] * 2
    assert metrics["latency_ms"]["n"] == 5 and metrics["time_budget_seconds"] == 1.0
    env, _ = _timed(tmp_path, "time_budget = 3\n", checked_seconds=0.02)
    assert not [a for argv in env.argvs for a in argv if "min_time" in a]
    # the seconds no load stretches: two passes of 5 repetitions and the sizing one, at 1/6 s each
    assert min_time_seconds(metrics) == pytest.approx(2.0)
    assert min_time_seconds(metrics, MIN_TIME_SECONDS) == pytest.approx(6.0)  # as at Google Benchmark's


def test_a_pass_cut_by_the_budget_gives_its_repetitions_the_share_its_record_gives_back(
    tmp_path: Path,
) -> None:
    """A call the checked run says takes 0.3 s gets 4 repetitions of a 1-s budget, each at least
    1/5 s: the min time `least_of` reads back from the record's n, so its floor is the pass's own."""
    env, metrics = _timed(tmp_path, "time_budget = 1\n", checked_seconds=0.3)
    assert [a for argv in env.argvs for a in argv if "min_time" in a] == ["--benchmark_min_time=0.2"] * 2
    assert metrics["latency_ms"]["n"] == 4 and least_of(metrics) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "metrics",
    [{}, {"latency_ms": 5}, {"latency_ms": {"n": "5"}}, {"time_budget_seconds": "1", "latency_ms": None}],
)
def test_a_hand_made_run_record_reads_as_google_benchmarks_min_time(metrics: dict[str, Any]) -> None:
    assert least_of(metrics) == MIN_TIME_SECONDS and min_time_seconds(metrics) == 0.0


def test_the_default_matrix_has_a_budget_and_the_full_rounds_keep_none() -> None:
    """Only the first answer, advise's builds and the recipe search are budgeted (their runs only
    check, and time as the default does so that they reuse its jobs by key; advise's arms are timed
    by the sitting): what results/ publishes and the bench and search sittings keep every repetition."""
    for name in ("default.toml", advice.MATRIX, "export-recipes.toml"):
        assert spec_file.load(MATRIX_DIR / name).benchmark.time_budget == 1.0, name
    for name in ("bench.toml", "search.toml"):
        assert spec_file.load(MATRIX_DIR / name).benchmark.time_budget == 0.0, name
    budgeted = [
        path.name
        for path in MATRIX_DIR.glob("*.toml")
        if "time_budget" in tomllib.loads(path.read_text(encoding="utf-8")).get("benchmark", {})
    ]
    assert sorted(budgeted) == ["advise.toml", "default.toml", "export-recipes.toml"]


def test_a_budget_is_read_and_a_negative_one_is_one_line(tmp_path: Path) -> None:
    assert _load(tmp_path, "[benchmark]\ntime_budget = 2.5\n").benchmark.time_budget == 2.5
    assert _load(tmp_path, "[benchmark]\ntime_budget = 4\n").benchmark.time_budget == 4.0
    message = _error(tmp_path, "[benchmark]\ntime_budget = -1\n")
    assert "benchmark.time_budget" in message and "0 or more" in message, message


# --- the stage ---------------------------------------------------------------------------------


def _benchmark_json(ms: float, n: int) -> str:
    runs = [{"name": "BM_main", "run_type": "iteration", "real_time": ms, "cpu_time": ms, "time_unit": "ms"}]
    return json.dumps({"benchmarks": runs * n})


class _Env:
    """Runs iree-benchmark-module as a fake: each repetition it was asked for, at `ms` a call."""

    def __init__(self, ms: float) -> None:
        self.ms, self.argvs = ms, []  # type: ignore[var-annotated]

    def tool(self, name: str) -> str:
        return name

    def run(self, request: Any) -> processes.Completed:
        argv = list(request.argv)
        self.argvs.append(argv)
        (count,) = [int(a.split("=")[1]) for a in argv if a.startswith("--benchmark_repetitions=")]
        return processes.Completed(tuple(argv), 0, _benchmark_json(self.ms, count), "", 0.0)


def _timed(tmp_path: Path, budget: str, checked_seconds: float) -> tuple[_Env, dict[str, Any]]:
    matrix = _load(tmp_path, f"[benchmark]\nrepetitions = 5\n{budget}")
    ctx = Context(matrix, None, None, {}, 60.0, tmp_path / "log")  # type: ignore[arg-type]
    env = _Env(checked_seconds * 1000.0)
    call = types.SimpleNamespace(
        env=env,
        module=tmp_path / "m.vmfb",
        call=[],
        target=types.SimpleNamespace(gpu=None),
        found=None,
        device="local-task",
        run_on="local-task",
        mounts={},
    )
    done = processes.Completed(("iree-run-module",), 0, "", "", checked_seconds)
    return env, run._timed(call, ctx, done)[1]  # type: ignore[arg-type]


def test_a_slow_function_is_timed_within_the_budget_on_both_passes(tmp_path: Path) -> None:
    env, metrics = _timed(tmp_path, "time_budget = 3\n", checked_seconds=11.7)
    assert [a for argv in env.argvs for a in argv if "repetitions" in a] == ["--benchmark_repetitions=3"] * 2
    read = RunMetrics.read(RunMetrics.checked(metrics))
    assert read.time_budget_seconds == 3.0
    assert read.latency is not None and read.latency.n == 3
    assert read.cpu_time is not None and read.cpu_time.n == 3


def test_without_a_budget_or_for_a_fast_call_every_repetition(tmp_path: Path) -> None:
    env, metrics = _timed(tmp_path, "", checked_seconds=11.7)
    assert "--benchmark_repetitions=5" in env.argvs[0] and "time_budget_seconds" not in metrics
    env, metrics = _timed(tmp_path, "time_budget = 3\n", checked_seconds=0.02)
    assert "--benchmark_repetitions=5" in env.argvs[0] and metrics["latency_ms"]["n"] == 5


def _run_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, benchmark: str) -> str:
    matrix = _load(tmp_path, f"[benchmark]\n{benchmark}", compiler='"3.13.0"')
    job = next(j for j in stages.plan(matrix).jobs if j.stage == "run")
    entry = types.SimpleNamespace(record=None)
    deps = {"compile:x": entry, "export:x": entry, "install:x": entry}
    monkeypatch.setattr(run, "_module_digest", lambda record: "sha256:module")
    monkeypatch.setattr(run, "export_digest", lambda entry, name: "sha256:io")
    monkeypatch.setattr(Context, "env_key_inputs", lambda self: {"packages": "the same"})
    ctx = Context(matrix, None, None, deps, 60.0, tmp_path / "log")  # type: ignore[arg-type]
    return run.STAGE.key(job, ctx)


def test_the_budget_is_in_the_run_key_only_where_a_matrix_sets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    none = _run_key(tmp_path, monkeypatch, "repetitions = 5\n")
    assert _run_key(tmp_path, monkeypatch, "repetitions = 5\ntime_budget = 0\n") == none
    budgeted = _run_key(tmp_path, monkeypatch, "repetitions = 5\ntime_budget = 3\n")
    assert budgeted != none
    assert _run_key(tmp_path, monkeypatch, "repetitions = 5\ntime_budget = 6\n") not in (none, budgeted)


# --- the report -------------------------------------------------------------------------------


EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"
LABELS = {"model": "whisper_tiny.encoder", "source_model": "whisper_tiny", "exporter": EXPORTER}


def _record(metrics: dict[str, Any]) -> Record:
    labels = {**LABELS, "compiler": "3.13.0", "runtime": "3.13.0", "arch": "x86_64", "profile": "default"}
    job = f"run:whisper_tiny.encoder/{EXPORTER}/iree3.13.0/x86_64/default"
    return Record(
        job=job, stage="run", cell=job[4:], key="k", status=Status.OK, labels=labels, metrics=metrics
    )


def _figure(ms: float, n: int) -> dict[str, Any]:
    return {"median": ms, "min": ms, "max": ms, "n": n, "times": [ms] * n}


def test_a_budgeted_figure_says_how_many_calls_it_had_and_an_old_one_says_nothing() -> None:
    timed = {
        "matches": True,
        "timing": "native",
        "latency_ms": _figure(11700.0, 3),
        "cpu_ms": _figure(20000.0, 3),
    }
    budgeted = _record({**timed, "time_budget_seconds": 3.0})
    export = Record(
        job=f"export:whisper_tiny.encoder/{EXPORTER}",
        stage="export",
        cell="e",
        key="k",
        status=Status.OK,
        labels=LABELS,
        metrics={"eager_cpu_ms": _figure(9000.0, 5)},
    )
    assert budgeted.metric.of(RunMetrics).budgeted_n == 3
    assert "11.7 s (n=3)" in by_model.run_cell(types.SimpleNamespace(), budgeted)  # type: ignore[arg-type]
    (row,) = machine.rows([budgeted, export])
    assert row.iree is not None and row.iree.text() == "20.0 s (n=3)"
    assert row.eager is not None and row.eager.text() == "9.00 s"  # the budget was the run's only
    older = _record({**timed, "latency_ms": _figure(11700.0, 5)})  # no budget: every repetition, unsaid
    assert older.metric.of(RunMetrics).budgeted_n is None
    assert by_model.run_cell(types.SimpleNamespace(), older).endswith("11.7 s")  # type: ignore[arg-type]
    (row,) = machine.rows([older, export])
    assert row.iree is not None and row.iree.text() == "20.0 s"


def test_the_runs_console_line_says_how_many_calls_the_budget_left() -> None:
    timed = {"matches": True, "latency_ms": _figure(11700.0, 3), "time_budget_seconds": 3.0}
    out = io.StringIO()
    progress = Progress(1, out=out, heartbeat=0, live=False)
    job = Job("run", _record(timed).cell, (), {}, EnvSpec("runtime", "3.11", (), "r"))
    progress.finished(job, _record(timed))
    progress.finished(job, _record({**timed, "time_budget_seconds": None}))
    progress.close()
    budgeted, every = [line for line in out.getvalue().splitlines() if "/call" in line]
    assert budgeted.endswith("-> ok, 11.7 s/call (n=3)") and every.endswith("-> ok, 11.7 s/call")


# --- runs on the other release's runtime: checked, not timed (the default matrix) -------------------


def _cross_plan(tmp_path: Path, benchmark: str) -> tuple[Any, list[Job]]:
    matrix = _load(
        tmp_path, f"[benchmark]\n{benchmark}", compiler='["3.12.0", "3.13.0"]', runtime='["3.12.0", "3.13.0"]'
    )
    return matrix, [j for j in stages.plan(matrix).jobs if j.stage == "run"]


def test_only_the_default_matrix_leaves_cross_runtime_runs_untimed(tmp_path: Path) -> None:
    assert spec_file.load(MATRIX_DIR / "default.toml").benchmark.time_cross_runtime is False
    untimed = [
        path.name
        for path in MATRIX_DIR.glob("*.toml")  # what results/ publishes, bench, advise, cross: timed
        if "time_cross_runtime" in tomllib.loads(path.read_text(encoding="utf-8")).get("benchmark", {})
    ]
    assert untimed == ["default.toml"]
    matrix, runs = _cross_plan(tmp_path, "time_cross_runtime = false\n")
    checked = {j.cell.rsplit("/", 1)[-1] for j in runs if run.checked_only(j, matrix)}
    assert checked == {"rt3.12.0", "rt3.13.0"} and len(runs) == 4  # each module on its own runtime: timed
    matrix, runs = _cross_plan(tmp_path, "")
    assert not any(run.checked_only(j, matrix) for j in runs)
    message = _error(tmp_path, '[benchmark]\ntime_cross_runtime = "no"\n')
    assert "benchmark.time_cross_runtime" in message and "true or false" in message, message


def test_an_untimed_cross_runtime_run_has_its_own_key_and_the_others_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "_module_digest", lambda record: "sha256:module")
    monkeypatch.setattr(run, "export_digest", lambda entry, name: "sha256:io")
    monkeypatch.setattr(Context, "env_key_inputs", lambda self: {"packages": "the same"})
    entry = types.SimpleNamespace(record=None)
    deps = {"compile:x": entry, "export:x": entry, "install:x": entry}

    def keys(benchmark: str) -> dict[str, str]:
        matrix, runs = _cross_plan(tmp_path, benchmark)
        ctx = Context(matrix, None, None, deps, 60.0, tmp_path / "log")  # type: ignore[arg-type]
        return {j.cell: run.STAGE.key(j, ctx) for j in runs}

    timed, untimed = keys(""), keys("time_cross_runtime = false\n")
    assert {c for c in timed if timed[c] == untimed[c]} == {c for c in timed if "/rt" not in c}
    assert keys("time_cross_runtime = true\n") == timed


def test_an_untimed_runs_estimate_is_its_checked_call_not_the_published_timed_run() -> None:
    from iree_matrix.execution.eta import CHECKED_LEAST, CHECKED_SHARE, Estimates
    from iree_matrix.execution.stage_times import StageTimes

    env = EnvSpec("runtime", "3.11", (), "r")
    own, cross, short = (
        Job("run", c, (), {"model": "m"}, env) for c in ("own", "own/rt3.13.0", "s/rt3.13.0")
    )
    published = StageTimes({own.id: 111.0, cross.id: 112.0, short.id: 7.5}, {}, {"run": 7.5}, {short.id: 6.0})
    estimates = Estimates.of(
        [own, cross, short], {}, {"run"}, published=published, checked_only=lambda job: "/rt" in job.cell
    )
    assert estimates.expected(own.id) == 111.0  # timed as published
    assert estimates.expected(cross.id) == pytest.approx(CHECKED_SHARE * 112.0)
    assert estimates.expected(short.id) == CHECKED_LEAST  # no benchmark passes: no floor left
