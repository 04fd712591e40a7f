"""Adding a stage is adding its module: CONTRIBUTING.md's example stage, written as a module into the
`stages` package (a temporary directory put on the package's path), is found, ordered, planned,
counted and timed out like the built-in ones, and a new stage's job runs through the executor — with
no edit to spec.py, plan.py or stages/__init__.py."""

from __future__ import annotations

import io
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.execution.execute import Executor, Options
from iree_matrix.matrix import plan, spec, spec_file
from tests.unit.builders import FakeBackend, plugged_in

REPO = Path(__file__).resolve().parents[2]


def _contributing_example() -> str:
    """The module CONTRIBUTING.md's "Adding a stage" shows, as it is written there."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    section = text[text.index("## Adding a stage") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")] + "\n"


# A stage that needs no other job's artifacts, to run one job through the executor.
ALONE = """
from pathlib import Path

from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Status
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.base import Context, Stage


class AloneStage(Stage):
    name = "alone"
    rank = 75
    optional = True
    timeout = 7.0

    def key(self, job: Job, ctx: Context) -> str:
        return "k-" + job.cell

    def execute(self, job: Job, ctx: Context, out: Path) -> Outcome:
        (out / "seen.txt").write_text(job.cell)
        return Outcome(Status.OK, metrics={"timeout": ctx.timeout})


STAGE = AloneStage()
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    plugins = {"toy": _contributing_example(), "alone": ALONE}
    yield from plugged_in(stages, tmp_path / "more_stages", plugins, monkeypatch)


def _matrix(tmp_path: Path, extra: str = "") -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = ["3.8.0", "3.9.0"]\n'
        'models = "tiny_cnn"\nprofiles = ["default", "O3"]\n' + extra
    )
    return spec_file.load(path)


def test_the_toy_module_is_a_stage_in_its_place(toy):
    names = stages.names()
    assert {"toy", "alone"} <= set(names)
    ranks = [stages.get(name).rank for name in names]
    assert ranks == sorted(ranks)  # in its place by rank: the toy (55) after run (50)
    assert names.index("toy") > names.index("run")
    assert stages.get("toy").timeout == 900.0  # Stage's


def test_a_plan_has_the_toy_stages_jobs_after_what_they_depend_on(toy, tmp_path):
    the_plan = stages.plan(_matrix(tmp_path))
    by_id = the_plan.by_id()
    toys = [job for job in the_plan.jobs if job.stage == "toy"]
    compiles = {job.id for job in the_plan.jobs if job.stage == "compile"}
    assert {dep for job in toys for dep in job.deps} == compiles and len(toys) == 4
    for job in toys:
        assert by_id[job.deps[0]].cell == job.cell and job.labels == by_id[job.deps[0]].labels
        assert job.model == "tiny_cnn" and job.function == "main"
    order = [job.stage for job in the_plan.jobs]
    assert order == sorted(order, key=stages.names().index)  # by rank: toys after the runs
    assert (
        stages.describe(the_plan).splitlines()[0] == "18 jobs: 5 install, 1 export, 4 compile, 4 run, 4 toy"
    )


def test_without_the_toy_module_the_same_plan_has_no_toy_jobs(tmp_path):
    the_plan = stages.plan(_matrix(tmp_path))
    assert "toy" not in stages.names() and not the_plan.count("toy")
    assert stages.describe(the_plan).splitlines()[0] == "14 jobs: 5 install, 1 export, 4 compile, 4 run"


def test_the_matrix_file_may_set_the_toy_stages_timeout(toy, tmp_path):
    matrix = _matrix(tmp_path, "\n[timeouts]\ntoy = 3\n")
    stages.plan(matrix)  # a known stage: no error
    assert stages.timeout(matrix, "toy") == 3.0
    assert stages.timeout(_matrix(tmp_path), "toy") == 900.0


def test_without_the_toy_module_its_timeout_is_an_unknown_key(tmp_path):
    matrix = _matrix(tmp_path, "\n[timeouts]\ntoy = 3\n")
    with pytest.raises(SpecError, match=r"unknown key 'timeouts\.toy' \(known: compile, dispatches, "):
        stages.plan(matrix)


def test_the_executor_runs_a_new_stages_job_with_its_own_timeout(toy, tmp_path):
    env = plan.EnvSpec("compiler", "3.11", (), "c", arch="x86_64")
    the_plan = plan.Plan((plan.Job("alone", "a-cell", (), {"model": "tiny_cnn"}, env),))
    log = ResultsLog(tmp_path / "results.jsonl")
    executor = Executor(
        types.SimpleNamespace(timeouts={}), the_plan, cache=tmp_path / "cache", results=log,
        backend=FakeBackend(), options=Options(), out=io.StringIO(),
    )  # fmt: skip
    assert executor.run().counts() == {"ok": 1}
    (record,) = list(log)
    assert record.job == "alone:a-cell" and record.status is Status.OK and record.metrics["timeout"] == 7.0
