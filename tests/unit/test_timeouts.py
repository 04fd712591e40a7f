"""Timeouts (issue #52): one `--timeout` option over the matrix file's [timeouts]; a model that does
not return is told so in a user's words with what to do; and a timeout's seconds, its limit, never
teach the estimate how fast this host is."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.cli import main
from iree_matrix.commands import options
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import outcome
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import processes
from iree_matrix.execution import progress as progress_module
from iree_matrix.execution import workflow
from iree_matrix.execution.eta import Estimates
from iree_matrix.execution.progress import Progress
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.execution.stage_times import StageTimes as Times
from iree_matrix.iree import hints
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.plan import EnvSpec, Job

SMOKE = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"


def test_one_number_is_every_stages_limit_and_a_named_stage_wins():
    every = options.parse_timeouts("600")
    assert set(every) == set(stages.names()) and set(every.values()) == {600.0}
    assert options.parse_timeouts("export=300,run=120") == {"export": 300.0, "run": 120.0}
    both = options.parse_timeouts("600, run=120")
    assert both["run"] == 120.0 and both["compile"] == 600.0


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("exprt=300", "unknown stage 'exprt' (known: runtime-build, install, export, "),
        ("run=-1", "'run=-1' is not a positive number of seconds"),
        ("soon", "'soon' is not a positive number of seconds; e.g. --timeout 600"),
        ("run=inf", "'run=inf' is not a positive number"),
    ],
)
def test_a_bad_timeout_is_a_one_line_error_naming_it(given, says):
    with pytest.raises(UserError, match="^--timeout ") as info:
        options.parse_timeouts(given)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_the_option_overrides_the_matrix_files_timeouts_stage_by_stage(tmp_path):
    matrix = spec_file.load(SMOKE)
    plain = workflow.PlanSettings(matrix=SMOKE, results_dir=tmp_path, cache=tmp_path, listing=True)
    timeouts = options.parse_timeouts("export=300,run=120")
    loaded = workflow.load_plan(dataclasses.replace(plain, timeouts=timeouts))
    given = loaded.matrix  # the matrix each stage's context carries
    assert stages.timeout(given, "export") == 300.0 and stages.timeout(given, "run") == 120.0
    assert stages.timeout(given, "compile") == stages.timeout(matrix, "compile")  # untouched
    said = {s.name: s.source for s in loaded.settings}
    assert said["timeout of run"] == "--timeout" and "timeout of compile" not in said
    assert workflow.load_plan(plain).matrix.timeouts == matrix.timeouts


def test_the_cli_takes_it_on_every_matrix_command_and_refuses_a_bad_one(tmp_path, capsys):
    where = ["--matrix", str(SMOKE), "--list", "--results-dir", str(tmp_path)]
    assert main(["matrix", *where, "--timeout", "export=300"]) == 0
    assert main(["matrix", *where, "--timeout", "export=never"]) == 2
    assert "--timeout 'export=never': 'export=never' is not a positive number" in capsys.readouterr().err


def test_a_model_that_does_not_return_is_told_so_with_what_to_do():
    hung = processes.Timeout(["/venv/bin/python", "export_worker.py"], 180.0, "tracing forward()")
    said = outcome.from_exception(hung, "export")
    assert said.status is Status.TIMEOUT and not said.cacheable
    assert said.message.startswith("your model did not return within 180 s, the export stage's limit")
    assert "python did not finish" not in said.message and "tracing forward()" in said.message
    found = hints.find(said.message, "export")
    assert found is not None and found.hint.name == "model-timeout"
    assert "forward()" in found.advice and "--timeout export=SECONDS" in found.advice


def test_a_compiled_model_and_a_tool_that_time_out_are_named_with_their_stages_limit():
    run = outcome.from_exception(processes.Timeout(["iree-benchmark-module"], 120.0, ""), "run")
    assert run.message == "your compiled model did not return within 120 s, the run stage's limit"
    assert "--timeout run=SECONDS" in hints.find(run.message, "run").advice
    compile_ = outcome.from_exception(processes.Timeout(["/x/iree-compile"], 900.0, ""), "compile")
    assert compile_.message == "iree-compile did not finish within 900 s, the compile stage's limit"
    assert "--timeout compile=SECONDS" in hints.find(compile_.message, "compile").advice
    # Without a stage (armv6-smoke's own steps): the tool's words, as before.
    assert (
        outcome.from_exception(processes.Timeout(["gcc"], 5.0, "")).message == "gcc did not finish within 5 s"
    )


ENV = EnvSpec("exporter", "3.11", (), "e")


def _job(stage: str, model: str) -> Job:
    return Job(stage, f"{model}/e", (), {"model": model}, ENV)


def _record(job: Job, seconds: float, status: Status) -> Record:
    return Record(job.id, job.stage, job.cell, "k", status, {"model": job.labels["model"]}, seconds=seconds)


def test_a_timeout_never_enters_the_host_factor(monkeypatch):
    monkeypatch.setattr(
        progress_module, "load_factor", lambda: 1.0
    )  # a quiet machine, whatever this one's load
    hung, ok, pending = _job("export", "hangs"), _job("export", "tiny"), _job("export", "other")
    published = StageTimes({}, {}, {"export": 16.0})
    estimates = Estimates.of([hung, ok, pending], {}, published=published)
    progress = Progress(3, out=io.StringIO(), heartbeat=0, estimates=estimates, live=False)
    progress.started(hung)
    progress.finished(hung, _record(hung, 180.0, Status.TIMEOUT))  # 11x its basis: its limit
    assert estimates.factor.samples == 0 and estimates.expected(pending.id) == 16.0
    progress.started(ok)
    progress.finished(ok, _record(ok, 24.0, Status.OK))
    # what a stage that finished says, weighed 1 to 1 (one job) against the load as exports feel it (1)
    assert estimates.factor.of("export") == pytest.approx(1.5**0.5)
    progress.close()


def test_a_logged_timeout_stands_for_its_own_job_only():
    hung, ok = _job("export", "hangs"), _job("export", "tiny")
    times = Times.of([_record(hung, 180.0, Status.TIMEOUT), _record(ok, 20.0, Status.OK)])
    assert times.by_job[hung.id] == 180.0  # it may time out again
    assert times.by_stage["export"] == 20.0 and ("export", "hangs") not in times.by_model
